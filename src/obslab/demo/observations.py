"""Demo catalog observations: ~600 Chandra-like observations, about a sixth of them on real bright stars."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from obslab.catalog.models import EDITABLE_STATUSES, Observation, ObservationParameter
from obslab.catalog.types import ObservationStatus
from obslab.demo.context import DemoContext
from obslab.demo.parameters import MIRRORED, Params, build_parameters
from obslab.demo.targets import MARKUP_TARGET, Target, bright_stars, generated_targets

FIRST_OBSID = 20001
OBSERVATION_COUNT = 600

PI_NAMES = (
    "Abernathy",
    "Baptiste",
    "Castellanos",
    "Dubois",
    "Eriksen",
    "Fitzgerald",
    "Gonzaga",
    "Hoffmann",
    "Ishikawa",
    "Jablonski",
    "Kariuki",
    "Lindgren",
    "Mahlangu",
    "Nakashima",
    "Okonkwo",
    "Petrakis",
    "Quispe",
    "Rasmussen",
    "Sato",
    "Tremblay",
    "Underwood",
    "Vasquez",
    "Wojcik",
    "Xu",
    "Yilmaz",
    "Zielinski",
    "Achterberg",
    "Bhattacharya",
    "Chakraborty",
    "Delacroix",
    "Esposito",
    "Fairweather",
    "Grünwald",
    "Haddad",
    "Iyer",
    "Jansen",
    "Kowalczyk",
    "Leclerc",
    "Moreno",
    "O'Donnell",
)


@dataclass
class PlannedObservation:
    """An observation as generated, before (and independent of) the database."""

    obsid: int
    sequence_number: str
    proposal_number: str
    pi_name: str
    target: Target
    target_name: str
    ra_deg: float
    dec_deg: float
    instrument: str
    grating: str
    obs_type: str
    status: str
    approved_exposure_ks: float
    remaining_ks: float
    scheduled_at: datetime | None
    planned_at: datetime | None
    on_active_list: bool
    approved: bool = False
    params: Params = field(default_factory=dict)

    @property
    def si_mode(self) -> str | None:
        return self.params.get(("si_mode", 0))

    @property
    def editable(self) -> bool:
        return ObservationStatus(self.status) in EDITABLE_STATUSES

    def get(self, name: str, rank: int = 0) -> Any:
        return self.params.get((name, rank))

    def set(self, name: str, rank: int, value: Any) -> None:
        """Change one parameter, keeping the mirrored summary column in step."""
        self.params[(name, rank)] = value
        if rank == 0 and name in MIRRORED:
            setattr(self, MIRRORED[name], value)


def _instrument_and_grating(rng: Any) -> tuple[str, str]:
    instrument = rng.choices(["ACIS-S", "ACIS-I", "HRC-I", "HRC-S"], weights=[45, 35, 10, 10])[0]
    if instrument == "ACIS-S":
        return instrument, rng.choices(["NONE", "HETG", "LETG"], weights=[70, 25, 5])[0]
    if instrument == "HRC-S":
        return instrument, rng.choices(["LETG", "NONE"], weights=[80, 20])[0]
    return instrument, "NONE"


def _status(rng: Any, obs_type: str) -> str:
    if obs_type == "TOO":
        return rng.choices(["untriggered", "triggered", "observed", "archived"], weights=[60, 10, 15, 15])[0]
    if obs_type == "DDT":
        return rng.choice(["scheduled", "observed"])
    return rng.choices(["unobserved", "scheduled", "observed", "archived", "canceled"], weights=[42, 30, 10, 13, 5])[0]


def _dates(rng: Any, status: str, anchor: datetime) -> tuple[datetime | None, datetime | None]:
    """(scheduled_at, planned_at): the short-term schedule date and the long-term plan date."""

    def day(offset: float) -> datetime:
        return (anchor + timedelta(days=offset)).replace(minute=0, second=0, microsecond=0)

    match status:
        case "scheduled":
            scheduled = day(rng.uniform(1, 10) if rng.random() < 0.25 else rng.uniform(10, 40))
            return scheduled, scheduled - timedelta(days=rng.randint(0, 14))
        case "unobserved":
            # A few long-term plan dates have already passed, and a few are close: both earn page warnings.
            return None, day(
                rng.choices([rng.uniform(-30, -1), rng.uniform(1, 10), rng.uniform(10, 330)], [3, 10, 87])[0]
            )
        case "triggered":
            return day(rng.uniform(1, 5)), None
        case "observed":
            return day(-rng.uniform(1, 60)), None
        case "archived":
            return day(-rng.uniform(60, 900)), None
    return None, None


def plan_observations(ctx: DemoContext, count: int = OBSERVATION_COUNT) -> list[PlannedObservation]:
    """Generate ``count`` observations: every bright star once, the rest generated from the seed."""
    rng = ctx.rng("observations")
    stars = list(bright_stars())
    targets = stars + generated_targets(rng, count - len(stars), today=ctx.today)
    rng.shuffle(targets)
    markup_at = next(i for i, target in enumerate(targets) if i >= 40 and not target.star)
    targets[markup_at] = Target(*MARKUP_TARGET)
    proposals = [
        (rng.choice(PI_NAMES), rng.choice([24, 25, 25, 26, 26, 26]), rng.randint(1, 9)) for _ in range(count // 3)
    ]
    planned = []
    for index, target in enumerate(targets):
        proposal = rng.randrange(len(proposals))
        pi_name, cycle, category = proposals[proposal]
        instrument, grating = _instrument_and_grating(rng)
        obs_type = rng.choices(["GO", "TOO", "GTO", "CAL", "DDT"], weights=[72, 10, 10, 5, 3])[0]
        status = _status(rng, obs_type)
        scheduled_at, planned_at = _dates(rng, status, ctx.anchor)
        exposure = round(min(200.0, max(1.0, rng.lognormvariate(3.0, 0.8))), 1)
        used = exposure * rng.uniform(0.93, 1.04) if status in ("observed", "archived") else 0.0
        obs = PlannedObservation(
            obsid=FIRST_OBSID + index,
            sequence_number=f"{category}{index * 7 + 123 + rng.randint(0, 6):05d}",
            proposal_number=f"{cycle}{category}0{proposal:04d}",
            pi_name=pi_name,
            target=target,
            target_name=target.name,
            ra_deg=target.ra_deg,
            dec_deg=target.dec_deg,
            instrument=instrument,
            grating=grating,
            obs_type=obs_type,
            status=status,
            approved_exposure_ks=exposure,
            remaining_ks=0.0 if status == "canceled" else round(exposure - used, 2),
            scheduled_at=scheduled_at,
            planned_at=planned_at,
            on_active_list=status == "triggered"
            or (
                status == "scheduled"
                and scheduled_at is not None
                and scheduled_at < ctx.days(14)
                and rng.random() < 0.9
            ),
        )
        # Each observation has its own stream, so its parameters do not shift when another's change.
        obs.params = build_parameters(ctx.rng("parameters", obs.obsid), obs, ctx.anchor)
        if instrument.startswith("ACIS") and status in ("unobserved", "scheduled") and rng.random() < 0.03:
            obs.params[("si_mode", 0)] = None  # no SI mode yet: approval must be refused
        planned.append(obs)
    return planned


def insert_observations(ctx: DemoContext, planned: list[PlannedObservation]) -> dict[int, int]:
    """Insert the observations (and their parameters) that are not there yet; return obsid -> row id for all."""
    existing = ctx.existing(Observation.obsid, (obs.obsid for obs in planned))
    new = [obs for obs in planned if obs.obsid not in existing]
    rows = [
        Observation(
            obsid=obs.obsid,
            sequence_number=obs.sequence_number,
            proposal_number=obs.proposal_number,
            target_name=obs.target_name,
            ra_deg=obs.ra_deg,
            dec_deg=obs.dec_deg,
            instrument=obs.instrument,
            grating=obs.grating,
            obs_type=obs.obs_type,
            status=ObservationStatus(obs.status),
            pi_name=obs.pi_name,
            si_mode=obs.si_mode,
            approved_exposure_ks=obs.approved_exposure_ks,
            scheduled_at=obs.scheduled_at,
            planned_at=obs.planned_at,
            on_active_list=obs.on_active_list,
            approved=obs.approved,
            created_at=ctx.moment,
            updated_at=ctx.moment,
        )
        for obs in new
    ]
    ctx.add_with_children(
        list(zip(new, rows, strict=True)),
        ObservationParameter,
        lambda obs, parent: (
            {"observation_id": parent, "name": name, "rank": rank, "value": value}
            for (name, rank), value in sorted(obs.params.items())
        ),
    )
    obsids = [obs.obsid for obs in planned]
    return dict(
        ctx.session.execute(select(Observation.obsid, Observation.id).where(Observation.obsid.in_(obsids))).all()
    )
