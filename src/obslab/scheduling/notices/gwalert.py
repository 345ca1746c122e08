"""LVK gravitational-wave notices from Kafka's igwn.gwalert (JSON, base64 multi-order sky map) read as a `Notice`."""

from __future__ import annotations

import re
from typing import Any

from obslab.errors import InvalidInputError
from obslab.scheduling.notices import fields
from obslab.scheduling.notices.types import DEFAULT_CONTAINMENT, Notice, NoticeFormat, NoticeKind, SkyMap

TOPIC = "igwn.gwalert"
#: LVK's alert types and what each means for its superevent; schema 1.0 spelled EARLY_WARNING.
ALERT_TYPES = {
    "EARLYWARNING": NoticeKind.INITIAL,
    "PRELIMINARY": NoticeKind.INITIAL,
    "INITIAL": NoticeKind.UPDATE,
    "UPDATE": NoticeKind.UPDATE,
    "RETRACTION": NoticeKind.RETRACTION,
}
_SPELLINGS = {"EARLY_WARNING": "EARLYWARNING"}
#: S: a real superevent; MS: mock traffic (about hourly on the real topic); TS: a test.
SUPEREVENT = re.compile(r"^(S|MS|TS)[0-9]{6}[a-z]{1,3}$")
_COPIED = ("significant", "group", "pipeline", "search", "classification", "properties", "instruments")


def read_gwalert(payload: bytes, *, source: str = TOPIC, where: str | None = None) -> Notice:
    """Read one igwn.gwalert notice; the sky map is decoded from base64, its pixels left unread.

    ``superevent_id`` and ``alert_type`` are required; ``event`` is null on a retraction.  With an
    external coincidence, its combined map is the better localisation and becomes the position.
    """
    where = where or source
    data = fields.load_object(payload, where)
    superevent = fields.text(data, "superevent_id", where)
    if superevent is None or not SUPEREVENT.match(superevent):
        raise InvalidInputError(
            f"{where}: superevent_id", superevent, "a superevent id like S251117dq (MS... mock, TS... test)"
        )
    written = fields.text(data, "alert_type", where)
    alert_type = _SPELLINGS.get((written or "").upper(), (written or "").upper())
    if alert_type not in ALERT_TYPES:
        raise InvalidInputError(
            f"{where}: alert_type",
            written,
            "one of EARLYWARNING (or EARLY_WARNING), " + ", ".join(list(ALERT_TYPES)[1:]),
        )
    is_mock, is_test = superevent.startswith("MS"), superevent.startswith("TS")
    kind = ALERT_TYPES[alert_type]
    event = fields.mapping(data, "event", where)
    if kind is NoticeKind.RETRACTION:
        event = None
    elif event is None:
        raise InvalidInputError(f"{where}: event", None, f"the event's details in a {alert_type} notice")
    # Unified Schema's tense, so one policy predicate (tense = current) covers every format.
    significance: dict[str, Any] = {"tense": "test" if is_mock or is_test else "current"}
    trigger_time, skymap = None, None
    if event is not None:
        at = f"{where}: event"
        trigger_time = fields.time(event, "time", at)
        far = fields.number(event, "far", at, low=0.0)
        if far is not None:
            significance["far_hz"] = far
        fields.flag(event, "significant", at)
        significance.update({name: event[name] for name in _COPIED if event.get(name) is not None})
        skymap = _skymap(event, "skymap", at)
    external = fields.mapping(data, "external_coinc", where)
    if external is not None:
        combined = _skymap(external, "combined_skymap", f"{where}: external_coinc")
        significance["external_coinc"] = {k: v for k, v in external.items() if k != "combined_skymap"}
        skymap = combined or skymap
    urls = fields.mapping(data, "urls", where) or {}
    if isinstance(urls.get("gracedb"), str):
        significance["url"] = urls["gracedb"]
    return Notice(
        source=source,
        format=NoticeFormat.GWALERT,
        kind=NoticeKind.TEST if is_mock or is_test else kind,
        alert_type=alert_type,
        event_ids=(superevent,),
        record_number=None,
        created=fields.time(data, "time_created", where),
        trigger_time=trigger_time,
        position=skymap,
        payload=payload,
        skymap=skymap,
        significance=significance,
        is_test=is_test,
        is_mock=is_mock,
    )


def _skymap(data: dict[str, Any], name: str, where: str) -> SkyMap | None:
    raw = fields.fits_bytes(data, name, where)
    return SkyMap(fits=raw, containment=DEFAULT_CONTAINMENT) if raw is not None else None
