"""Realistic parameter changes a POC requests; the services decide the areas that must sign and the notes."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

from obslab.demo.context import iso
from obslab.demo.observations import PlannedObservation
from obslab.demo.parameters import CCDS_I, CCDS_S, DITHER_DEFAULTS, HRC_SI_MODES

#: (name, rank, original, requested)
Edit = tuple[str, int, Any, Any]
ChangeMaker = Callable[[Random, PlannedObservation], list[Edit]]


def _edit(obs: PlannedObservation, name: str, new: Any, rank: int = 0) -> Edit:
    return (name, rank, obs.get(name, rank), new)


def offsets(rng: Random, obs: PlannedObservation) -> list[Edit]:
    y, z = round(rng.uniform(-2.5, 2.5), 2), round(rng.uniform(-1, 1), 2)
    return [_edit(obs, "y_det_offset", y), _edit(obs, "z_det_offset", z)]


def frame_time(rng: Random, obs: PlannedObservation) -> list[Edit]:
    new = rng.choice([value for value in (2.5, 2.8, 3.0, 3.2) if value != obs.get("frame_time")])
    return [_edit(obs, "frame_time", new)]


def bep_pack(rng: Random, obs: PlannedObservation) -> list[Edit]:
    return [_edit(obs, "bep_pack", "F" if obs.get("bep_pack") == "VF" else "VF")]


def roll(rng: Random, obs: PlannedObservation) -> list[Edit]:
    if obs.get("roll_flag") == "Y":
        return [_edit(obs, "roll_tolerance", round(rng.uniform(5, 40), 1), rank=1)]
    values = {"roll_constraint": "Y", "roll_180": "N", "roll": round(rng.uniform(0, 360), 1), "roll_tolerance": 10.0}
    return [_edit(obs, "roll_flag", "Y")] + [_edit(obs, name, value, rank=1) for name, value in values.items()]


def window(rng: Random, obs: PlannedObservation, anchor: datetime) -> list[Edit]:
    if obs.get("window_flag") == "Y":
        stop = datetime.fromisoformat(obs.get("tstop", 1)).replace(tzinfo=UTC) + timedelta(days=rng.randint(5, 20))
        return [_edit(obs, "tstop", iso(stop), rank=1)]
    start = anchor + timedelta(days=rng.randint(20, 120))
    values = {"window_constraint": "Y", "tstart": iso(start), "tstop": iso(start + timedelta(days=rng.randint(7, 30)))}
    return [_edit(obs, "window_flag", "Y")] + [_edit(obs, name, value, rank=1) for name, value in values.items()]


def coordinates(rng: Random, obs: PlannedObservation, shift_deg: float) -> list[Edit]:
    angle = rng.uniform(0, 2 * math.pi)
    dec = max(-89.9, min(89.9, obs.dec_deg + shift_deg * math.sin(angle)))
    return [
        _edit(obs, "ra", round((obs.ra_deg + shift_deg * math.cos(angle)) % 360, 6)),
        _edit(obs, "dec", round(dec, 6)),
    ]


def target_name(rng: Random, obs: PlannedObservation) -> list[Edit]:
    return [_edit(obs, "targname", f"{obs.target_name} (host of AT 20{rng.randint(24, 26)}{rng.choice('abcdefgh')}x)")]


def grating(rng: Random, obs: PlannedObservation) -> list[Edit]:
    """ACIS-S imaging becomes an HETG observation: grating, first-order rate and all six S chips."""
    edits = [
        _edit(obs, "grating", "HETG"),
        _edit(obs, "forder_cnt_rate", round((obs.get("est_cnt_rate") or 0.1) * 0.12, 4)),
    ]
    return edits + [_edit(obs, chip, "Y") for chip in CCDS_S if obs.get(chip) != "Y"]


def instrument(rng: Random, obs: PlannedObservation) -> list[Edit]:
    """ACIS-I to ACIS-S: same family, so only the chip selection follows."""
    chips = dict.fromkeys(CCDS_I, "N") | {"ccds2_on": "Y", "ccds3_on": "Y", "ccds4_on": "Y", "ccds1_on": "O1"}
    edits = [_edit(obs, chip, value) for chip, value in chips.items() if obs.get(chip) != value]
    return [_edit(obs, "instrument", "ACIS-S"), *edits]


def hrc_si_mode(rng: Random, obs: PlannedObservation) -> list[Edit]:
    other_modes = [mode for mode in HRC_SI_MODES[obs.instrument] if mode != obs.get("hrc_si_mode")]
    return [_edit(obs, "hrc_si_mode", rng.choice(other_modes))]


def text_change(name: str, choices: tuple[str, ...]) -> ChangeMaker:
    def change(rng: Random, obs: PlannedObservation) -> list[Edit]:
        return [_edit(obs, name, rng.choice([value for value in choices if value != obs.get(name)]))]

    return change


def dither(rng: Random, obs: PlannedObservation) -> list[Edit]:
    if obs.get("dither_flag") != "Y":
        defaults = DITHER_DEFAULTS["HRC" if obs.instrument.startswith("HRC") else "ACIS"]
        return [_edit(obs, "dither_flag", "Y")] + [_edit(obs, name, value) for name, value in defaults.items()]
    return [_edit(obs, name, round(obs.get(name) * 2, 6)) for name in ("y_amp", "z_amp")]


def eventfilter(rng: Random, obs: PlannedObservation) -> list[Edit]:
    return [
        _edit(obs, "eventfilter", "Y"),
        _edit(obs, "eventfilter_lower", 0.5),
        _edit(obs, "eventfilter_higher", 12.0),
    ]


def make_changes(rng: Random, obs: PlannedObservation, key: str, anchor: datetime) -> list[Edit]:
    """The edits of change ``key`` against the observation's current values."""
    makers: dict[str, ChangeMaker] = {
        "offsets": offsets,
        "frame_time": frame_time,
        "bep_pack": bep_pack,
        "roll": roll,
        "window": lambda r, o: window(r, o, anchor),
        "coords_small": lambda r, o: coordinates(r, o, r.uniform(0.002, 0.015)),
        "coords_large": lambda r, o: coordinates(r, o, r.uniform(0.15, 0.3)),
        "targname": target_name,
        "grating": grating,
        "instrument": instrument,
        "hrc_si_mode": hrc_si_mode,
        "comments": text_change("comments", ("PI confirmed the offsets by e-mail.", "Roll constraint agreed with MP.")),
        "remarks": text_change("remarks", ("Please coordinate with the NuSTAR visit.", "Do not split below 20 ks.")),
        "dither": dither,
        "eventfilter": eventfilter,
        "split": text_change("comments", ("Split into two visits of equal length, per the PI's request.",)),
    }
    return makers[key](rng, obs)
