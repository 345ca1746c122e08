"""GCN Unified-Schema JSON notices (Swift BAT-GUANO, Einstein Probe, IceCube, MAXI, CHIME, ...) read as a `Notice`."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from obslab.errors import InvalidInputError
from obslab.scheduling.notices import fields
from obslab.scheduling.notices.types import (
    DEFAULT_CONTAINMENT,
    Circle,
    Ellipse,
    Notice,
    NoticeFormat,
    NoticeKind,
    Polygon,
    Position,
    SkyMap,
)

ALERT_TYPES = {
    "initial": NoticeKind.INITIAL,
    "subsequent": NoticeKind.UPDATE,
    "update": NoticeKind.UPDATE,
    "retraction": NoticeKind.RETRACTION,
}
TENSES = ("current", "archival", "planned", "injection", "commanded", "test")
#: Tenses that are not a real event on the sky: kept, never observed.
TEST_TENSES = ("test", "injection")
#: Unified Schema names copied into `Notice.significance` as they are (they feed the policies' predicates).
_COPIED = ("p_astro", "classification", "properties", "mission", "instrument", "pipeline", "messenger")


@dataclass(frozen=True)
class Quirks:
    """How one topic departs from the core schema."""

    #: The object holding the centre when it is not the notice itself.
    centre_at: str | None = None
    #: A list whose items' ``localization`` give the error when the centre has none.
    errors_from: str | None = None
    #: Fields naming the event when the notice has no ``id`` (read in order).
    id_fields: tuple[str, ...] = ()
    #: Every notice on the topic is test traffic.
    test_stream: bool = False


#: Per-topic departures, matched by the longest topic prefix.  Taken in the core path, without an entry:
#: Einstein Probe's notices have no alert_type or alert_tense (read as initial and current), CHIME's ``id``
#: is a string, Swift, CHIME and MAXI retractions and CHIME updates carry no position, MAXI gives
#: ``rectangular_error_corners``, GBM and SVOM write times without a zone.
QUIRKS: dict[str, Quirks] = {
    # Names the LVK superevent it searched around (ref_ID); the best direction and the neutrinos' own
    # localisations are nested.
    "gcn.notices.icecube.lvk_nu_track_search": Quirks(
        centre_at="most_probable_direction", errors_from="coincident_events", id_fields=("ref_ID",)
    ),
    "gcn.notices.icecube.test.": Quirks(test_stream=True),
}


def quirks_for(topic: str) -> Quirks:
    best = max((prefix for prefix in QUIRKS if topic.startswith(prefix)), key=len, default=None)
    return QUIRKS[best] if best is not None else Quirks()


def read_unified(payload: bytes, *, source: str, where: str | None = None) -> Notice:
    """Read one Unified-Schema notice from ``source`` (its topic or folder); bad fields are refused by name.

    Every field is optional.  The event is named by ``id`` (a string or a list), else ``event_name``,
    else the trigger time; a notice with none of them is its own event (named by its payload hash).
    """
    where = where or source
    data = fields.load_object(payload, where)
    quirks = quirks_for(source)
    alert_type = (fields.text(data, "alert_type", where) or "initial").lower()
    if alert_type not in ALERT_TYPES:
        raise InvalidInputError(f"{where}: alert_type", alert_type, "one of " + ", ".join(ALERT_TYPES))
    tense = (fields.text(data, "alert_tense", where) or "current").lower()
    if tense not in TENSES:
        raise InvalidInputError(f"{where}: alert_tense", tense, "one of " + ", ".join(TENSES))
    is_test = quirks.test_stream or tense in TEST_TENSES
    names = fields.ids(data, "event_name", where)
    event_ids = fields.ids(data, "id", where)
    for name in quirks.id_fields:
        event_ids = event_ids or fields.ids(data, name, where)
    trigger_time = fields.time(data, "trigger_time", where)
    if not event_ids:
        unnamed = trigger_time.isoformat() if trigger_time else "sha256:" + hashlib.sha256(payload).hexdigest()[:16]
        event_ids = names or (unnamed,)
    skymap = _skymap(data, where)
    position = _position(data, quirks, where) or skymap
    significance: dict[str, Any] = {"tense": tense}
    far = fields.number(data, "far", where, low=0.0)
    if far is not None:
        significance["far_hz"] = far
    significance.update({name: data[name] for name in _COPIED if data.get(name) is not None})
    if names:
        significance["event_name"] = names[0]
    return Notice(
        source=source,
        format=NoticeFormat.UNIFIED_JSON,
        kind=NoticeKind.TEST if is_test else ALERT_TYPES[alert_type],
        alert_type=alert_type,
        event_ids=event_ids,
        record_number=fields.record_number(data, "record_number", where),
        created=fields.time(data, "alert_datetime", where),
        trigger_time=trigger_time,
        position=position,
        payload=payload,
        skymap=skymap,
        significance=significance,
        is_test=is_test,
    )


def _containment(data: dict[str, Any], where: str) -> float:
    value = fields.number(data, "containment_probability", where, low=0.0, high=1.0)
    if value == 0.0:
        raise InvalidInputError(f"{where}: containment_probability", 0, "a probability above 0, up to 1")
    return DEFAULT_CONTAINMENT if value is None else value


def _centre(data: dict[str, Any], where: str) -> tuple[float, float] | None:
    ra = fields.number(data, "ra", where)
    dec = fields.number(data, "dec", where, low=-90.0, high=90.0)
    if (ra is None) != (dec is None):
        raise InvalidInputError(f"{where}: ra, dec", f"ra {ra}, dec {dec}", "both coordinates or neither")
    return (ra % 360.0, dec) if ra is not None and dec is not None else None


def _position(data: dict[str, Any], quirks: Quirks, where: str) -> Position | None:
    holder = data
    if quirks.centre_at is not None:
        holder = fields.mapping(data, quirks.centre_at, where) or {}
        where = f"{where}: {quirks.centre_at}"
    centre = _centre(holder, where)
    corners = holder.get("rectangular_error_corners")
    if corners is not None:
        return _polygon(holder, corners, centre, where)
    if centre is None:
        return None
    ra, dec = centre
    if quirks.errors_from is not None and holder.get("ra_dec_error") is None:
        return _nested_error(data, quirks.errors_from, ra, dec, where)
    error = holder.get("ra_dec_error")
    containment = _containment(holder, where)
    if error is None:
        return Circle(ra, dec, None, containment)
    if isinstance(error, list):
        if len(error) != 3:
            raise InvalidInputError(
                f"{where}: ra_dec_error", error, "a radius or [semi-major, semi-minor, PA] in degrees"
            )
        a, b, pa = (fields.checked_number(value, f"{where}: ra_dec_error", low=0.0) for value in error)
        return Ellipse(ra, dec, max(a, b), min(a, b), pa % 180.0, containment)
    radius = fields.checked_number(error, f"{where}: ra_dec_error", low=0.0, high=180.0)
    return Circle(ra, dec, radius, containment)


def _polygon(data: dict[str, Any], corners: Any, centre: tuple[float, float] | None, where: str) -> Polygon:
    field = f"{where}: rectangular_error_corners"
    if not isinstance(corners, list) or len(corners) < 3:
        raise InvalidInputError(field, corners, "at least three [ra, dec] corners in degrees")
    points: list[tuple[float, float]] = []
    for corner in corners:
        if not isinstance(corner, list) or len(corner) != 2:
            raise InvalidInputError(field, corner, "a corner as [ra, dec] in degrees")
        ra = fields.checked_number(corner[0], field)
        dec = fields.checked_number(corner[1], field, low=-90.0, high=90.0)
        points.append((ra % 360.0, dec))
    if centre is None:
        centre = _mean_direction(points)
    return Polygon(centre[0], centre[1], tuple(points), _containment(data, where))


def _nested_error(data: dict[str, Any], name: str, ra: float, dec: float, where: str) -> Circle:
    """A centre without an error: the largest error circle of the nested localisations, if any."""
    items = data.get(name) or []
    if not isinstance(items, list):
        raise InvalidInputError(f"{where}: {name}", items, "a list")
    radii: list[tuple[float, float]] = []
    for index, item in enumerate(items):
        local = fields.mapping(item, "localization", f"{where}: {name}[{index}]") if isinstance(item, dict) else None
        if local and local.get("ra_dec_error") is not None:
            field = f"{where}: {name}[{index}].localization"
            radius = fields.checked_number(local["ra_dec_error"], f"{field}: ra_dec_error", low=0.0, high=180.0)
            radii.append((radius, _containment(local, field)))
    if not radii:
        return Circle(ra, dec, None, DEFAULT_CONTAINMENT)
    radius, containment = max(radii)
    return Circle(ra, dec, radius, containment)


def _skymap(data: dict[str, Any], where: str) -> SkyMap | None:
    raw = fields.fits_bytes(data, "healpix_file", where)
    url = fields.text(data, "healpix_url", where)
    if raw is None and url is None:
        return None
    if url is not None and raw is None and not url.startswith(("https://", "http://")):
        raise InvalidInputError(f"{where}: healpix_url", url, "an http(s) URL")
    containment = _containment(data, where)
    return SkyMap(fits=raw, containment=containment) if raw is not None else SkyMap(url=url, containment=containment)


def _mean_direction(points: list[tuple[float, float]]) -> tuple[float, float]:
    x = y = z = 0.0
    for ra, dec in points:
        r, d = math.radians(ra), math.radians(dec)
        x, y, z = x + math.cos(d) * math.cos(r), y + math.cos(d) * math.sin(r), z + math.sin(d)
    return math.degrees(math.atan2(y, x)) % 360.0, math.degrees(math.atan2(z, math.hypot(x, y)))
