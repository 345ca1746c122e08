"""Demo instrument configuration history: a VIRUS-like focal plane over two years, and the Robo-AO-like camera."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random
from typing import Any

from sqlalchemy import select

from obslab.configs.fplane import PLACEHOLDER, nominal_position
from obslab.configs.models import ConfigurationItem, InstrumentConfiguration
from obslab.demo.context import DemoContext
from obslab.demo.people import TELESCOPE

VIRUS = "VIRUS"
ROBO_CAM = "ROBO-CAM"
#: Robo-AO filters; the camera's wheel holds them in this order from version 2 on.
FILTERS = ("Sg", "Sr", "Si", "Sz", "lp600", "c")
#: The non-VIRUS entries every VIRUS version carries, by IFUSLOT: the placeholder at 0,0 and the fibre feeds of the
#: other instruments around the centre seat (which holds the WFS). Their slots use column 00, never a VIRUS seat, so
#: they never meet an IFU; SPECID and SPECSLOT 900 mark them as not VIRUS, and the IFUID (900 up) tells which is which.
NON_VIRUS = {
    "000": ("placeholder", 0.0, 0.0),
    "001": ("LRS2-B", -50.0, -50.0),
    "002": ("LRS2-R", 50.0, -50.0),
    "003": ("HRS", -50.0, 50.0),
    "004": ("HPF", 50.0, 50.0),
}


@dataclass(frozen=True)
class PlannedConfiguration:
    instrument: str
    version_number: int
    valid_from: datetime
    recorded_at: datetime
    items: dict[str, dict[str, Any]]
    comment: str
    source: str = "tcs"
    valid_to: datetime | None = None
    superseded_at: datetime | None = None


def _ifu_seats(rng: Random) -> tuple[list[tuple[int, int]], list[int], list[str]]:
    """Seats in installation order, spectrograph ids and fibre-bundle ids, all drawn once per seed."""
    seats = [(x, y) for x in range(1, 11) for y in range(1, 10) if (x, y) != (5, 5)]  # the centre holds the WFS
    rng.shuffle(seats)
    return seats, rng.sample(range(1, 500), len(seats)), [f"{n:03d}" for n in rng.sample(range(1, 900), 120)]


def _with_non_virus(items: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The VIRUS items plus the non-VIRUS entries (see ``NON_VIRUS``)."""
    others = {
        slot: {
            "x_fp": x,
            "y_fp": y,
            "specid": PLACEHOLDER,
            "specslot": PLACEHOLDER,
            "ifuid": f"{PLACEHOLDER + n:03d}",
            "ifurot": 0.0,
            "platesc": 1.0,
        }
        for n, (slot, (_name, x, y)) in enumerate(NON_VIRUS.items())
    }
    return others | items


def virus_versions(ctx: DemoContext) -> list[PlannedConfiguration]:
    """Six records: IFUs installed and replaced over two years; record 4 was later corrected by record 5."""
    rng = ctx.rng("virus")
    seats, spec_ids, ifu_ids = _ifu_seats(rng)
    spare_ifus = iter(ifu_ids[len(seats) :])
    items: dict[str, dict[str, Any]] = {}

    def install(count: int) -> dict[str, dict[str, Any]]:
        for _ in range(count):
            index = len(items)
            x, y = seats[index]
            seat = f"{x:02d}{y}"
            nominal_x, nominal_y = nominal_position(seat)
            items[seat] = {
                "x_fp": round(nominal_x + rng.gauss(0, 0.15), 3),
                "y_fp": round(nominal_y + rng.gauss(0, 0.15), 3),
                "specid": spec_ids[index],
                "specslot": index + 1,
                "ifuid": ifu_ids[index],
                "ifurot": round(rng.choice([0.0, 180.0]) + rng.gauss(0, 0.1), 3),
                "platesc": 1.0,
            }
        return {key: dict(value) for key, value in items.items()}

    def replace_bundles(count: int) -> dict[str, dict[str, Any]]:
        for key in rng.sample(sorted(items), count):
            items[key]["ifuid"] = next(spare_ifus)
        return {key: dict(value) for key, value in items.items()}

    v1, v2, v3, v4 = install(40), install(12), replace_bundles(3), install(10)
    corrected = {key: dict(value) for key, value in v4.items()}
    first, second = rng.sample(sorted(corrected), 2)  # the TCS export had these two spectrographs swapped
    corrected[first]["specid"], corrected[second]["specid"] = v4[second]["specid"], v4[first]["specid"]
    items.clear()
    items.update(corrected)
    v6 = install(6)
    starts = [ctx.days(offset) + timedelta(hours=18) for offset in (-730, -540, -365, -180, -60)]
    recorded = [start + timedelta(hours=2) for start in starts]
    correction_at = ctx.days(-150)
    # Added last, after every draw, so the IFUs drawn for a seed stay what they were before these entries existed.
    v1, v2, v3, v4, corrected, v6 = (_with_non_virus(version) for version in (v1, v2, v3, v4, corrected, v6))
    return [
        PlannedConfiguration(VIRUS, 1, starts[0], recorded[0], v1, "Initial focal plane: 40 IFUs.", valid_to=starts[1]),
        PlannedConfiguration(VIRUS, 2, starts[1], recorded[1], v2, "12 IFUs installed.", valid_to=starts[2]),
        PlannedConfiguration(VIRUS, 3, starts[2], recorded[2], v3, "3 fibre bundles replaced.", valid_to=starts[3]),
        PlannedConfiguration(
            VIRUS, 4, starts[3], recorded[3], v4, "10 IFUs installed.", valid_to=starts[4], superseded_at=correction_at
        ),
        PlannedConfiguration(
            VIRUS,
            5,
            starts[3],
            correction_at,
            corrected,
            f"Correction of version 4: SPECID of IFU slots {first} and {second} were swapped.",
            source="manual",
            valid_to=starts[4],
        ),
        PlannedConfiguration(VIRUS, 6, starts[4], recorded[4], v6, "6 IFUs installed."),
    ]


def robo_cam_versions(ctx: DemoContext) -> list[PlannedConfiguration]:
    """Two camera records; the wheel was re-filled and the gain lowered two days ago, between nights."""
    camera = {"detector": "EMCCD", "pixel_scale_arcsec": 0.0351594, "field_of_view_arcsec": 36.0}
    old_wheel = ("Sg", "Sr", "Si", "Sz", "c", "lp600")

    def items(wheel: tuple[str, ...], gain: int) -> dict[str, dict[str, Any]]:
        slots = {f"wheel-{n}": {"filter": name} for n, name in enumerate(wheel, start=1)}
        return slots | {"camera": camera | {"em_gain": gain}}

    first, second = items(old_wheel, 300), items(FILTERS, 200)
    change = ctx.days(-2) + timedelta(hours=18)
    return [
        PlannedConfiguration(
            ROBO_CAM,
            1,
            ctx.days(-400),
            ctx.days(-400) + timedelta(minutes=5),
            first,
            "Commissioning configuration.",
            valid_to=change,
        ),
        PlannedConfiguration(
            ROBO_CAM, 2, change, change + timedelta(minutes=5), second, "Filter wheel re-filled; EM gain 200."
        ),
    ]


def ensure_configurations(ctx: DemoContext) -> None:
    """Insert the configuration records not there yet, by (instrument, version number)."""
    planned = virus_versions(ctx) + robo_cam_versions(ctx)
    query = select(InstrumentConfiguration.instrument, InstrumentConfiguration.version_number).where(
        InstrumentConfiguration.instrument.in_([VIRUS, ROBO_CAM])
    )
    existing = {tuple(row) for row in ctx.session.execute(query)}
    new = [plan for plan in planned if (plan.instrument, plan.version_number) not in existing]
    rows = [
        InstrumentConfiguration(
            instrument=plan.instrument,
            version_number=plan.version_number,
            valid_from=plan.valid_from,
            valid_to=plan.valid_to,
            recorded_at=plan.recorded_at,
            superseded_at=plan.superseded_at,
            recorded_by_id=ctx.user_id(TELESCOPE) if plan.source == "tcs" else None,
            source=plan.source,
            comment=plan.comment,
            updated_at=ctx.moment,
        )
        for plan in new
    ]
    ctx.add_with_children(
        list(zip(new, rows, strict=True)),
        ConfigurationItem,
        lambda plan, parent: (
            {"configuration_id": parent, "key": key, "attributes": attributes}
            for key, attributes in sorted(plan.items.items())
        ),
    )
