"""The one internal notice above the transport: formats, kinds, positions and the `Notice` itself (pure)."""

from __future__ import annotations

import enum
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

#: The containment probability a producer means when it names none (GCN Unified Schema's default).
DEFAULT_CONTAINMENT = 0.9


class NoticeFormat(enum.StrEnum):
    """How the notice was written on the wire."""

    VOEVENT = "voevent"  # VOEvent 2.0 XML: GCN Classic over Kafka, SVOM, a watched folder
    UNIFIED_JSON = "unified_json"  # GCN's Unified Schema JSON: Swift BAT-GUANO, Einstein Probe, IceCube, ...
    GWALERT = "gwalert"  # LVK's igwn.gwalert JSON


class NoticeKind(enum.StrEnum):
    """What the notice means for its event.

    LVK's EARLYWARNING and PRELIMINARY are first sightings (initial); its INITIAL and UPDATE follow them
    (update); Unified Schema's ``subsequent`` is an update.  Test and mock traffic on real topics
    (``alert_tense`` test or injection, ``TS``/``MS`` superevents, VOEvent role test) is ``test`` whatever
    its alert type, which ``Notice.alert_type`` keeps.
    """

    INITIAL = "initial"
    UPDATE = "update"
    RETRACTION = "retraction"
    TEST = "test"


@dataclass(frozen=True)
class Circle:
    """A cone; ``radius_deg`` is None when the producer gave a position without an error."""

    ra: float
    dec: float
    radius_deg: float | None
    containment: float = DEFAULT_CONTAINMENT

    @property
    def error_radius_deg(self) -> float | None:
        return self.radius_deg


@dataclass(frozen=True)
class Ellipse:
    """An error ellipse: semi-axes ``a`` >= ``b`` in degrees, position angle ``pa`` east of north."""

    ra: float
    dec: float
    a: float
    b: float
    pa: float
    containment: float = DEFAULT_CONTAINMENT

    @property
    def error_radius_deg(self) -> float | None:
        """The circle that holds the ellipse."""
        return self.a


@dataclass(frozen=True)
class Polygon:
    """A region given by its corners as (ra, dec) in degrees, e.g. MAXI's error rectangle, and its centre."""

    ra: float
    dec: float
    corners: tuple[tuple[float, float], ...]
    containment: float = DEFAULT_CONTAINMENT

    @property
    def error_radius_deg(self) -> float | None:
        """The circle about the centre that holds every corner."""
        return max(separation_deg(self.ra, self.dec, ra, dec) for ra, dec in self.corners)


@dataclass(frozen=True)
class SkyMap:
    """A HEALPix probability map: the FITS bytes (multi-order or flat, perhaps gzipped) or where to fetch it.

    Reading the pixels is another module's business; this only carries the map.
    """

    fits: bytes | None = field(default=None, repr=False)
    url: str | None = None
    containment: float = DEFAULT_CONTAINMENT

    def __post_init__(self) -> None:
        if (self.fits is None) == (self.url is None):
            raise ValueError("a SkyMap holds either its FITS bytes or its URL")

    @property
    def error_radius_deg(self) -> float | None:
        return None


Position = Circle | Ellipse | Polygon | SkyMap


@dataclass(frozen=True)
class Notice:
    """One alert notice as obslab uses it, whatever the transport and format.

    ``significance`` holds what policies test, under these names when the notice has them: ``tense``
    (Unified Schema's ``alert_tense``; every reader sets it, ``test`` for mock and test traffic),
    ``significant`` (bool), ``far_hz``, ``p_astro``, ``classification`` and ``properties`` (name ->
    probability), ``group``, ``pipeline``, ``search``, ``instruments``, ``mission``, ``instrument``,
    ``event_name``, ``importance`` and ``role`` (VOEvent), ``url``, ``external_coinc`` (LVK).
    ``position`` is the region policies use: the point-like shape when the notice gives one, else its map;
    ``skymap`` is any map the notice carries (an IceCube notice has both a circle and a map URL).
    """

    source: str  # the Kafka topic, or the folder a file was dropped in
    format: NoticeFormat
    kind: NoticeKind
    alert_type: str  # the producer's word: initial, subsequent, PRELIMINARY, EARLYWARNING, ...
    event_ids: tuple[str, ...]  # the producer's ids in its order; the first is the primary
    record_number: int | None
    created: datetime | None  # aware UTC; when the producer wrote the notice, if it says
    trigger_time: datetime | None  # aware UTC
    position: Position | None
    payload: bytes = field(repr=False)
    skymap: SkyMap | None = None
    significance: Mapping[str, Any] = field(default_factory=dict)
    is_test: bool = False
    is_mock: bool = False
    ivorn: str | None = None  # VOEvent only: its own identity
    citations: tuple[tuple[str, str], ...] = ()  # VOEvent only: (followup | supersedes | retraction, IVORN)
    details: Mapping[str, Any] = field(default_factory=dict)  # VOEvent only: its author and <What> parameters

    def __post_init__(self) -> None:
        if not self.event_ids:
            raise ValueError("a Notice names its event: event_ids is empty")

    @property
    def event_id(self) -> str:
        return self.event_ids[0]

    @cached_property
    def payload_sha256(self) -> str:
        """The hash that recognises an exact repeat of the same bytes."""
        return hashlib.sha256(self.payload).hexdigest()

    @property
    def key(self) -> str:
        """The notice's stable identity: a VOEvent's IVORN, else topic, event, alert type and record.

        ``<source>#<event id>/<alert type>/<record number>``, the creation time standing in for a missing
        record number and the payload hash for a missing creation time too.
        """
        if self.ivorn:
            return self.ivorn
        if self.record_number is not None:
            record = str(self.record_number)
        elif self.created is not None:
            record = self.created.isoformat()
        else:
            record = "sha256:" + self.payload_sha256[:16]
        return f"{self.source}#{self.event_id}/{self.alert_type}/{record}"

    @property
    def error_radius_deg(self) -> float | None:
        return self.position.error_radius_deg if self.position is not None else None

    @property
    def ra_dec(self) -> tuple[float, float] | None:
        """The centre of a point-like position; None for a sky map or no position."""
        if isinstance(self.position, Circle | Ellipse | Polygon):
            return self.position.ra, self.position.dec
        return None


def separation_deg(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """Angle between two directions in degrees (haversine; exact enough for error regions)."""
    phi1, phi2 = math.radians(dec1), math.radians(dec2)
    h = math.sin((phi2 - phi1) / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(ra2 - ra1) / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(h))))
