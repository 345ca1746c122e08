"""A parsed VOEvent (`voevent.py`) as a `Notice`, so VOEvents from a folder or Kafka take the notices' path."""

from __future__ import annotations

from obslab.scheduling.notices.types import Circle, Notice, NoticeFormat, NoticeKind
from obslab.scheduling.voevent import VOEvent, parse_voevent

#: GCN Classic's parameters that name the trigger, in the order they are tried.
TRIGGER_PARAMS = ("TrigID", "TrigId", "Trig_ID", "EventID")


def notice_from_voevent(event: VOEvent, payload: bytes, *, source: str) -> Notice:
    """The notice of a parsed packet: its IVORN stays its identity, its citations say update or retraction.

    A retraction citation makes a retraction, supersedes or followup an update, role test a test; the
    event is the trigger id GCN Classic names (TrigID), else the IVORN's local part.  Prediction and
    utility packets keep their role in ``significance`` for the ingester to refuse as it does today.
    """
    cited = {citation.kind for citation in event.citations}
    if event.role == "test":
        kind = NoticeKind.TEST
    elif "retraction" in cited:
        kind = NoticeKind.RETRACTION
    elif cited:
        kind = NoticeKind.UPDATE
    else:
        kind = NoticeKind.INITIAL
    trigger = next((event.parameters[name] for name in TRIGGER_PARAMS if event.parameters.get(name)), None)
    position = None
    if event.ra_deg is not None and event.dec_deg is not None:
        position = Circle(event.ra_deg, event.dec_deg, event.error_radius_deg)
    significance: dict[str, object] = {"role": event.role, "tense": "test" if event.role == "test" else "current"}
    if event.importance is not None:
        significance["importance"] = event.importance
    return Notice(
        source=source,
        format=NoticeFormat.VOEVENT,
        kind=kind,
        alert_type=next((c.kind for c in event.citations), event.role),
        event_ids=(trigger or event.ivorn.partition("#")[2] or event.ivorn,),
        record_number=None,
        created=None,
        trigger_time=event.event_time,
        position=position,
        payload=payload,
        significance=significance,
        is_test=event.role == "test",
        ivorn=event.ivorn,
        citations=tuple((c.kind, c.ivorn) for c in event.citations),
        details={"author": event.author, "parameters": dict(event.parameters)},
    )


def read_voevent(payload: bytes, *, source: str, where: str | None = None) -> Notice:
    """Parse a VOEvent packet (refused as `parse_voevent` refuses) and make its notice."""
    return notice_from_voevent(parse_voevent(payload, source=where or source), payload, source=source)
