"""VOEvent 2.0 read safely (defusedxml, no DTDs or entities): identity, role, time, position, citations, parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element

from obslab.errors import InvalidInputError

#: Roles a VOEvent may declare (VOEvent 2.0 §2.2): only "observation" can become a telescope request.
ROLES = ("observation", "prediction", "utility", "test")
CITATION_KINDS = ("followup", "supersedes", "retraction")
#: The most a packet may weigh: real notices are a few kilobytes.
MAX_BYTES = 1_000_000
#: What the alerts table stores of an IVORN, of its stream part and of the author's IVORN.
MAX_IVORN, MAX_STREAM, MAX_AUTHOR = 512, 255, 255


@dataclass(frozen=True)
class Citation:
    ivorn: str
    kind: str  # followup, supersedes or retraction


@dataclass(frozen=True)
class VOEvent:
    """What obslab uses of one packet."""

    ivorn: str
    role: str
    author: str
    event_time: datetime | None
    ra_deg: float | None
    dec_deg: float | None
    error_radius_deg: float | None
    citations: tuple[Citation, ...]
    parameters: dict[str, str] = field(default_factory=dict)
    concepts: tuple[str, ...] = ()
    importance: float | None = None

    @property
    def stream(self) -> str:
        """The IVORN up to its local part: one publisher's stream, e.g. ivo://nasa.gsfc.gcn/SWIFT."""
        return self.ivorn.partition("#")[0]


def parse_voevent(data: bytes | str, *, source: str = "packet") -> VOEvent:
    """Read a VOEvent 2.0 packet; anything else (or anything hostile) is refused naming what is wrong."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise InvalidInputError(source, f"{len(raw):,} bytes", f"a VOEvent packet of at most {MAX_BYTES:,} bytes")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise InvalidInputError(
            source, type(error).__name__, "XML without DTDs, entities or external references"
        ) from None
    except ParseError as error:
        raise InvalidInputError(source, f"malformed XML ({error})", "a well-formed VOEvent 2.0 document") from None
    if _local(root.tag) != "VOEvent":
        raise InvalidInputError(source, f"<{_local(root.tag)}>", "a <VOEvent> root element")
    version = root.get("version", "")
    if version != "2.0":
        raise InvalidInputError(f"{source}: version", version or "(none)", "2.0")
    ivorn = (root.get("ivorn") or "").strip()
    if not ivorn.startswith("ivo://") or "#" not in ivorn:
        raise InvalidInputError(f"{source}: ivorn", ivorn or "(none)", "an IVORN like ivo://authority/stream#local-id")
    if len(ivorn) > MAX_IVORN or len(ivorn.partition("#")[0]) > MAX_STREAM:
        raise InvalidInputError(
            f"{source}: ivorn",
            ivorn[:80] + "...",
            f"at most {MAX_IVORN} characters, the stream part at most {MAX_STREAM}",
        )
    role = root.get("role", "observation")
    if role not in ROLES:
        raise InvalidInputError(f"{source}: role", role, "one of " + ", ".join(ROLES))
    time_text = _text(
        root, "WhereWhen", "ObsDataLocation", "ObservationLocation", "AstroCoords", "Time", "TimeInstant", "ISOTime"
    )
    ra = _number(root, source, "C1")
    dec = _number(root, source, "C2")
    if (ra is None) != (dec is None):
        raise InvalidInputError(f"{source}: position", f"RA {ra}, Dec {dec}", "both coordinates or neither")
    if dec is not None and not -90.0 <= dec <= 90.0:
        raise InvalidInputError(f"{source}: Dec", dec, "a declination from -90 to 90 degrees")
    citations = []
    for element in _all(root, "EventIVORN"):
        kind = element.get("cite", "")
        if kind not in CITATION_KINDS:
            raise InvalidInputError(f"{source}: citation", kind or "(none)", "one of " + ", ".join(CITATION_KINDS))
        citations.append(Citation((element.text or "").strip(), kind))
    why = next(_all(root, "Why"), None)
    author = _text(root, "Who", "AuthorIVORN") or ""
    if len(author) > MAX_AUTHOR:
        raise InvalidInputError(f"{source}: AuthorIVORN", author[:80] + "...", f"at most {MAX_AUTHOR} characters")
    return VOEvent(
        ivorn=ivorn,
        role=role,
        author=author,
        event_time=_when(time_text, source) if time_text else None,
        ra_deg=ra % 360.0 if ra is not None else None,
        dec_deg=dec,
        error_radius_deg=_number(root, source, "Error2Radius"),
        citations=tuple(citations),
        parameters={p.get("name", ""): p.get("value", "") for p in _all(root, "Param") if p.get("name")},
        concepts=tuple((c.text or "").strip() for c in _all(root, "Concept")),
        importance=float(why.get("importance")) if why is not None and why.get("importance") else None,
    )


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _all(root: Element, name: str) -> Any:
    return (element for element in root.iter() if _local(element.tag) == name)


def _text(root: Element, *path: str) -> str | None:
    element = next(_all(root, path[-1]), None)
    return (element.text or "").strip() if element is not None else None


def _number(root: Element, source: str, name: str) -> float | None:
    text = _text(root, name)
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInputError(f"{source}: {name}", text, "a number") from None


def _when(text: str, source: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{source}: ISOTime", text, "an ISO 8601 time, e.g. 2026-11-21T09:59:30") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
