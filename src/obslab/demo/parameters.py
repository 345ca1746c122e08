"""Chandra-like parameter sets: internally consistent values inside the Ocat value ranges (seed §1.3-1.4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from random import Random
from typing import Any

from obslab.demo.context import iso

#: (name, rank) -> JSON value; rank 0 for scalars, 1.. for the rows of a ranked table.
Params = dict[tuple[str, int], Any]

CCDS_I = tuple(f"ccdi{n}_on" for n in range(4))
CCDS_S = tuple(f"ccds{n}_on" for n in range(6))
ACIS_SCALARS = (
    "exp_mode",
    "bep_pack",
    "frame_time",
    "most_efficient",
    "primary_exp_time",
    "secondary_exp_count",
    "dropped_chip_count",
    *CCDS_I,
    *CCDS_S,
    "subarray",
    "subarray_start_row",
    "subarray_row_count",
    "subarray_frame_time",
    "duty_cycle",
    "onchip_sum",
    "onchip_row_count",
    "onchip_column_count",
    "eventfilter",
    "eventfilter_lower",
    "eventfilter_higher",
    "multiple_spectral_lines",
    "spectra_max_count",
    "spwindow_flag",
)
HRC_SCALARS = ("hrc_timing_mode", "hrc_zero_block", "hrc_si_mode")
DITHER = ("y_amp", "y_freq", "y_phase", "z_amp", "z_freq", "z_phase")
TIME_WINDOW = ("window_constraint", "tstart", "tstop")
ROLL_WINDOW = ("roll_constraint", "roll_180", "roll", "roll_tolerance")
ACIS_WINDOW = ("chip", "start_row", "start_column", "height", "width", "lower_threshold", "pha_range", "sample")

#: Parameters that mirror an observation's summary column (parameter -> attribute); edits keep both in step.
MIRRORED = {
    "targname": "target_name",
    "ra": "ra_deg",
    "dec": "dec_deg",
    "instrument": "instrument",
    "grating": "grating",
    "type": "obs_type",
}
#: Display-only parameters copied from the summary.
_READ_ONLY = {
    "seq_nbr": "sequence_number",
    "status": "status",
    "proposal_number": "proposal_number",
    "pi_name": "pi_name",
    "approved_exposure_time": "approved_exposure_ks",
    "rem_exp_time": "remaining_ks",
}

# Amplitudes in degrees (8" ACIS, 20" HRC); rates in degrees per second, as the Ocat stores them.
DITHER_DEFAULTS = {
    "ACIS": {
        "y_amp": 0.002222,
        "y_freq": 0.00036,
        "y_phase": 0.0,
        "z_amp": 0.002222,
        "z_freq": 0.000509,
        "z_phase": 0.0,
    },
    "HRC": {
        "y_amp": 0.005556,
        "y_freq": 0.000331,
        "y_phase": 0.0,
        "z_amp": 0.005556,
        "z_freq": 0.000468,
        "z_phase": 0.0,
    },
}
_SUBARRAY_FRAME_TIMES = {128: 0.4, 256: 0.8, 512: 1.7}
HRC_SI_MODES = {"HRC-I": ("HRCIS", "HRCIZB", "HRCITM"), "HRC-S": ("HRCSS", "HRCSZB", "HRCSTM")}
REMARKS = (
    "Coordinated with HST; please keep the window.",
    "Monitoring campaign: 5 visits at least 20 days apart.",
    "Avoid the Crab calibration week if possible.",
    "Target is bright in the optical; check the optical blocking filter.",
    "Joint with XMM-Newton; time-critical.",
)
COMMENTS = (
    "Offsets chosen so the nucleus avoids the chip gap.",
    "PI asked for VF mode to improve background rejection.",
    "Window widened after the PI's visibility check.",
)
_TOO_TRIGGERS = (
    "Trigger when the optical flux rises by > 2 mag within 24 h.",
    "Trigger on a Swift/BAT detection with position error < 3 arcmin.",
    "Trigger when the radio flare exceeds 10 mJy at 5 GHz.",
)


def _maybe(rng: Random, probability: float) -> bool:
    return rng.random() < probability


def general_parameters(rng: Random, obs: Any) -> Params:
    """General, dither-independent values: target, instrument choice, offsets, flags, rates, remarks."""
    target = obs.target
    extended = target.name.split()[0] in {"NGC", "IC", "Abell", "Cas", "Crab", "Perseus", "Tycho", "Orion", "E0102-72"}
    est_rate = round(rng.uniform(0.01, 2.0) if target.star else min(500.0, rng.lognormvariate(-1.5, 1.6)), 4)
    offset = lambda: 0.0 if _maybe(rng, 0.8) else round(rng.uniform(-3.0, 3.0), 2)  # noqa: E731
    p: Params = {(name, 0): getattr(obs, attribute) for name, attribute in MIRRORED.items()}
    p |= {
        ("y_det_offset", 0): offset(),
        ("z_det_offset", 0): offset(),
        ("trans_offset", 0): 0.0 if _maybe(rng, 0.85) else round(rng.uniform(-5.0, 5.0), 3),
        ("focus_offset", 0): rng.choices([None, 0.0, round(rng.uniform(-0.5, 0.5), 3)], weights=[70, 20, 10])[0],
        ("uninterrupt", 0): rng.choices(["N", "P", "Y"], weights=[85, 8, 7])[0],
        ("extended_src", 0): "Y" if extended and _maybe(rng, 0.8) else "N",
        ("obj_flag", 0): "NO" if _maybe(rng, 0.97) else "MT",
        ("object", 0): "NONE",
        ("photometry_flag", 0): "Y" if target.star and (target.vmag or 99) < 3 else "N",
        ("vmagnitude", 0): target.vmag,
        ("est_cnt_rate", 0): est_rate,
        ("forder_cnt_rate", 0): None if obs.grating == "NONE" else round(est_rate * rng.uniform(0.05, 0.3), 4),
        ("remarks", 0): rng.choice(REMARKS) if _maybe(rng, 0.2) else None,
        ("comments", 0): rng.choice(COMMENTS) if _maybe(rng, 0.1) else None,
        ("too_type", 0): rng.choice(["0-4", "4-15", "15-30", ">30"]) if obs.obs_type in ("TOO", "DDT") else None,
        ("too_trig", 0): rng.choice(_TOO_TRIGGERS) if obs.obs_type == "TOO" else None,
    }
    family = "HRC" if obs.instrument.startswith("HRC") else "ACIS"
    dither_on = _maybe(rng, 0.92)
    p[("dither_flag", 0)] = "Y" if dither_on else "N"
    for name, value in DITHER_DEFAULTS[family].items():
        wide = name.endswith("_amp") and _maybe(rng, 0.05)
        p[(name, 0)] = (round(value * 2, 6) if wide else value) if dither_on else None
    return p


def time_windows(rng: Random, obs: Any, anchor: datetime) -> Params:
    """Ranked time windows (none for untriggered TOOs); a scheduled date lies inside the first window."""
    if obs.status in ("untriggered", "archived", "canceled") or not _maybe(rng, 0.15):
        return {("window_flag", 0): "N"}
    p: Params = {("window_flag", 0): "Y"}
    start = (obs.scheduled_at or anchor + timedelta(days=rng.uniform(5, 200))) - timedelta(days=rng.uniform(1, 10))
    for rank in range(1, rng.randint(1, 3) + 1):
        stop = start + timedelta(days=rng.uniform(2, 30))
        p |= {("window_constraint", rank): rng.choice("YYP"), ("tstart", rank): iso(start), ("tstop", rank): iso(stop)}
        start = stop + timedelta(days=rng.uniform(20, 90))
    return p


def roll_windows(rng: Random) -> Params:
    """Ranked roll constraints for about one observation in seven."""
    if not _maybe(rng, 0.15):
        return {("roll_flag", 0): "N"}
    p: Params = {("roll_flag", 0): "Y"}
    for rank in range(1, rng.randint(1, 2) + 1):
        p |= {
            ("roll_constraint", rank): rng.choice("YYP"),
            ("roll_180", rank): rng.choice("NNY"),
            ("roll", rank): round(rng.uniform(0, 360), 1),
            ("roll_tolerance", rank): round(rng.uniform(2, 30), 1),
        }
    return p


def _chips(rng: Random, instrument: str, grating: str, exp_mode: str) -> dict[str, str]:
    chips = dict.fromkeys((*CCDS_I, *CCDS_S), "N")
    if instrument == "ACIS-I":
        chips |= dict.fromkeys(CCDS_I, "Y")
        chips |= {"ccds2_on": rng.choice(["N", "O1"]), "ccds3_on": rng.choice(["N", "O2"])}
    elif grating == "HETG":
        chips |= dict.fromkeys(CCDS_S, "Y")
    elif exp_mode == "CC":
        chips |= {"ccds2_on": "Y", "ccds3_on": "Y", "ccds4_on": "Y"}
    else:
        chips |= {
            "ccds1_on": rng.choice(["N", "O1"]),
            "ccds2_on": "Y",
            "ccds3_on": "Y",
            "ccds4_on": rng.choice(["Y", "O2"]),
        }
    return chips


def acis_parameters(rng: Random, obs: Any) -> Params:
    """ACIS set-up: mode, chips, subarray, duty cycle, event filter, spatial windows, SI mode."""
    exp_mode = "CC" if _maybe(rng, 0.1) else "TE"
    chips = _chips(rng, obs.instrument, obs.grating, exp_mode)
    p: Params = {(name, 0): None for name in ACIS_SCALARS}
    p |= {(name, 0): value for name, value in chips.items()}
    p |= {
        ("exp_mode", 0): exp_mode,
        ("bep_pack", 0): "F" if exp_mode == "CC" else rng.choice(["VF", "VF", "F"]),
        ("dropped_chip_count", 0): sum(value.startswith("O") for value in chips.values()),
        ("subarray", 0): "NONE",
        ("duty_cycle", 0): "N",
        ("onchip_sum", 0): "N",
        ("eventfilter", 0): "N",
        ("multiple_spectral_lines", 0): "N",
        ("spwindow_flag", 0): "N",
    }
    if exp_mode == "CC":
        p[("frame_time", 0)] = 0.00285
    elif obs.grating == "NONE" and _maybe(rng, 0.15):
        rows = rng.choice(list(_SUBARRAY_FRAME_TIMES))
        frame = _SUBARRAY_FRAME_TIMES[rows]
        p |= {("subarray", 0): "CUSTOM", ("subarray_row_count", 0): rows, ("frame_time", 0): frame}
        p |= {("subarray_start_row", 0): rng.randint(1, min(925, 1025 - rows)), ("subarray_frame_time", 0): frame}
    elif _maybe(rng, 0.3):
        p |= {("most_efficient", 0): "Y", ("primary_exp_time", 0): 3.2}
    else:
        p[("frame_time", 0)] = rng.choice([3.2, 3.2, 3.2, 3.0, 2.5])
        if _maybe(rng, 0.06):
            p |= {("duty_cycle", 0): "Y", ("secondary_exp_count", 0): rng.randint(1, 5)}
            p[("primary_exp_time", 0)] = round(rng.uniform(0.3, 3.0), 1)
    if exp_mode == "TE" and _maybe(rng, 0.03):
        p |= {("onchip_sum", 0): "Y", ("onchip_row_count", 0): 2, ("onchip_column_count", 0): 2}
    if _maybe(rng, 0.15):
        p |= {("eventfilter", 0): "Y", ("eventfilter_lower", 0): rng.choice([0.3, 0.5])}
        p[("eventfilter_higher", 0)] = float(rng.randint(8, 13))
    if obs.grating == "HETG" and _maybe(rng, 0.3):
        p |= {("multiple_spectral_lines", 0): "Y", ("spectra_max_count", 0): rng.randint(1000, 100000)}
    if _maybe(rng, 0.06):
        p.update(acis_windows(rng, [name for name, value in chips.items() if value == "Y"]))
    p[("si_mode", 0)] = f"{exp_mode}_{rng.randrange(0x20, 0xC00):04X}{rng.choice('ABCE')}"
    return p


def acis_windows(rng: Random, chips_on: list[str]) -> Params:
    """One or two ACIS spatial windows on chips that are switched on."""
    p: Params = {("spwindow_flag", 0): "Y"}
    for rank in range(1, rng.randint(1, 2) + 1):
        chip = rng.choice(chips_on)
        height, width = rng.choice([64, 128, 256, 512]), rng.choice([128, 256, 1024])
        p |= {
            ("chip", rank): ("I" if chip.startswith("ccdi") else "S") + chip[4],
            ("start_row", rank): rng.randint(1, 1025 - height) if height < 1024 else 1,
            ("start_column", rank): rng.randint(1, 1025 - width) if width < 1024 else 1,
            ("height", rank): height,
            ("width", rank): width,
            ("lower_threshold", rank): rng.choice([0.08, 0.3, 0.5]),
            ("pha_range", rank): rng.choice([10.0, 11.0, 13.0]),
            ("sample", rank): rng.choice([0, 0, 1]),
        }
    return p


def hrc_parameters(rng: Random, obs: Any) -> Params:
    """HRC set-up; every ACIS value is null, as after an ACIS to HRC switch."""
    timing, zero_block = rng.choice("NNNNY"), rng.choice("NNNNNNNNNY")
    modes = HRC_SI_MODES[obs.instrument]
    si_mode = modes[2] if timing == "Y" else modes[1] if zero_block == "Y" else modes[0]
    p: Params = {(name, 0): None for name in ACIS_SCALARS}
    p |= {("hrc_timing_mode", 0): timing, ("hrc_zero_block", 0): zero_block, ("hrc_si_mode", 0): si_mode}
    p[("si_mode", 0)] = si_mode
    return p


def readonly_parameters(obs: Any) -> Params:
    """The display-only values, copied from the observation's summary."""
    p: Params = {(name, 0): getattr(obs, attribute) for name, attribute in _READ_ONLY.items()}
    return p | {("soe_st_sched_date", 0): iso(obs.scheduled_at), ("lts_lt_plan", 0): iso(obs.planned_at)}


def build_parameters(rng: Random, obs: Any, anchor: datetime) -> Params:
    """The full parameter set of one planned observation (its summary fields are taken as given)."""
    p = readonly_parameters(obs) | general_parameters(rng, obs)
    p |= time_windows(rng, obs, anchor)
    p |= roll_windows(rng)
    if obs.instrument.startswith("HRC"):
        p |= hrc_parameters(rng, obs)
    else:
        p |= acis_parameters(rng, obs)
        p |= {(name, 0): None for name in HRC_SCALARS}
    return p
