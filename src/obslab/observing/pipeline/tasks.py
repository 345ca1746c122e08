"""What a worker runs for one stage: read the inputs, call the pure stages, write products atomically, return a result.

A task is a plain dict (picklable, so any dask worker can take it) made by ``planning.py``; the result is a
plain dict the one writer (``writer.py``) applies. Workers never open the database.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from obslab.observing import optics
from obslab.observing.pipeline import measure, photometry, stages
from obslab.observing.pipeline.products import (
    calibration_path,
    exposure_folder,
    read_fits,
    read_provenance,
    write_bytes,
    write_fits,
    write_fits_table,
)
from obslab.observing.preview import preview_png
from obslab.observing.rawfits import read_frames

Task = dict[str, Any]
Result = dict[str, Any]


def run_task(task: Task) -> Result:
    """Run one stage of one exposure (or night); raises with a message people can read when it cannot."""
    return _RUNNERS[task["stage"]](task)


def _frames_of(paths: list[str]) -> np.ndarray:
    cubes = [read_frames(path) for path in paths]
    return cubes[0] if len(cubes) == 1 else np.concatenate(cubes)


def _product(kind: str, path: Path, checksum: str, provenance: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "path": str(path), "sha256": checksum, "provenance": provenance}


def _provenance(task: Task, **extra: Any) -> dict[str, Any]:
    return {**task["provenance"], "inputs": ",".join(Path(p).name for p in task.get("raw", [])), **extra}


def _calibration(task: Task) -> Result:
    products_dir, night = Path(task["products_dir"]), task["night"]
    made, darks, metrics = [], {}, {}
    for mode, paths in sorted(task["darks"].items()):
        dark = stages.master_dark(_frames_of(paths).astype(np.float32))
        darks[mode] = dark
        metrics[f"dark_level_adu:{mode}"] = float(np.median(dark))  # bias and dark current, per pixel per frame
        provenance = {**task["provenance"], "inputs": ",".join(Path(p).name for p in paths), "calib": "this night"}
        path = calibration_path(products_dir, night, "dark", mode)
        made.append(_product(f"dark_{mode}", path, write_fits(path, dark, provenance), provenance))
    for kind, key, source, source_night in task["copies"]:
        path = calibration_path(products_dir, night, kind, key)
        provenance = {**read_provenance(Path(source), ("obslabv", "stage", "stagev", "inputs"))}
        provenance["calib"] = f"copied from {source_night}"
        image = read_fits(Path(source))
        made.append(_product(f"{kind}_{key}", path, write_fits(path, image, provenance), provenance))
        if kind == "dark":
            darks[key] = image
    for filter_name, (mode, paths) in sorted(task["flats"].items()):
        dark = darks.get(mode)
        if dark is None:
            raise ValueError(f"no dark for camera mode {mode!r}, which the flats in {filter_name} were taken in")
        frames = _frames_of(paths).astype(np.float32)
        flat = stages.master_flat(frames, dark)
        metrics[f"flat_level_adu:{filter_name}"] = float(np.median(stages.flat_levels(frames, dark)))
        provenance = {**task["provenance"], "inputs": ",".join(Path(p).name for p in paths), "calib": "this night"}
        path = calibration_path(products_dir, night, "flat", filter_name)
        made.append(_product(f"flat_{filter_name}", path, write_fits(path, flat, provenance), provenance))
    # Only this night's own masters are measured: a copied one's levels are its night's, already recorded there.
    return {"products": made, "metrics": metrics}


def _stack(task: Task) -> Result:
    frames = _frames_of(task["raw"])
    dark, flat = read_fits(Path(task["dark"])), read_fits(Path(task["flat"]))
    result = stages.lucky_stack(frames, dark, flat, fraction=task["parameters"]["fraction"])
    folder = exposure_folder(Path(task["products_dir"]), task["night"], task["exposure"])
    calib = f"{Path(task['dark']).name},{Path(task['flat']).name}"
    provenance = _provenance(
        task, calib=calib, frames=int(frames.shape[0]), selected=int(result.selected.size), fraction=result.fraction
    )
    made = [
        _product(
            "stack_best", folder / "20p.fits", write_fits(folder / "20p.fits", result.best, provenance), provenance
        ),
        _product(
            "stack_all", folder / "100p.fits", write_fits(folder / "100p.fits", result.full, provenance), provenance
        ),
    ]
    registration = result.registration
    shifts = {
        "frame": np.arange(len(registration.quality), dtype=np.int32),
        "dy_px": registration.shifts[:, 0],
        "dx_px": registration.shifts[:, 1],
        "quality": registration.quality,
    }
    lock = {"locky": registration.lock_position[0], "lockx": registration.lock_position[1]}
    path = folder / "shifts.fits"
    checksum = write_fits_table(path, shifts, provenance, name="SHIFTS", header_extra=lock)
    made.append(_product("shifts", path, checksum, provenance))
    return {"products": made, "metrics": {"frames": float(frames.shape[0])}}


def _finite(value: float) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _strehl(task: Task) -> Result:
    telescope = optics.ROBO_AO_KPNO
    wavelength = optics.wavelength_of(task["filter"])
    best = measure.strehl(read_fits(Path(task["stack_best"])), telescope, wavelength)
    all_frames = read_fits(Path(task["stack_all"]))
    full = measure.strehl(all_frames, telescope, wavelength)
    folder = exposure_folder(Path(task["products_dir"]), task["night"], task["exposure"])
    provenance = {**task["provenance"], "inputs": "20p.fits,100p.fits", "flag": best.flag}
    stacks = (best, full)
    table = {
        "stack": np.array(["20p", "100p"]),
        "lock_y": np.array([r.lock_position[0] for r in stacks], dtype=np.int32),
        "lock_x": np.array([r.lock_position[1] for r in stacks], dtype=np.int32),
        "core_arcsec": np.array([r.core_arcsec for r in stacks], dtype=np.float64),
        "halo_arcsec": np.array([r.halo_arcsec for r in stacks], dtype=np.float64),
        "strehl_percent": np.array([100 * r.ratio for r in stacks], dtype=np.float64),
        "fwhm_arcsec": np.array([r.fwhm_arcsec for r in stacks], dtype=np.float64),
        "flag": np.array([r.flag for r in stacks]),
    }
    path = folder / "strehl.fits"
    # Photometry on the all-frames stack: every frame's light, so the most signal for sky and counts alike.
    parameters = task["parameters"]
    found = photometry.aperture_photometry(
        all_frames,
        telescope.pixel_scale_arcsec,
        aperture_arcsec=parameters["aperture_arcsec"],
        sky_inner_arcsec=parameters["sky_inner_arcsec"],
    )
    magnitude = photometry.instrumental_magnitude(
        found.counts_adu, task["frame_seconds"], task["filter"], parameters["zero_points"]
    )
    metrics = {
        "strehl_percent": _finite(100 * best.ratio),
        "strehl_all_percent": _finite(100 * full.ratio),
        "fwhm_arcsec": _finite(best.fwhm_arcsec),
        "core_arcsec": _finite(best.core_arcsec),
        "halo_arcsec": _finite(best.halo_arcsec),
        "quality_ok": 1.0 if best.flag == "OK" else 0.0,
        "sky_adu": _finite(found.sky_adu),
        "counts_adu": _finite(found.counts_adu),
        "magnitude": magnitude,
    }
    return {
        "products": [_product("strehl", path, write_fits_table(path, table, provenance, name="STREHL"), provenance)],
        "metrics": {k: v for k, v in metrics.items() if v is not None},
    }


def _preview(task: Task) -> Result:
    scale = optics.ROBO_AO_KPNO.pixel_scale_arcsec
    folder = exposure_folder(Path(task["products_dir"]), task["night"], task["exposure"])
    made = []
    for kind, source in (("preview_best", task["stack_best"]), ("preview_all", task["stack_all"])):
        path = folder / "preview" / f"{Path(source).stem}.png"
        provenance = {**task["provenance"], "inputs": Path(source).name}
        png = preview_png(
            read_fits(Path(source)),
            scale,
            scale_bar_arcsec=task["parameters"]["scale_bar_arcsec"],
            text={key: str(value) for key, value in provenance.items()},
        )
        made.append(_product(kind, path, write_bytes(path, png), provenance))
    return {"products": made, "metrics": {}}


#: The seeing table's columns, one row per seeing exposure (the verdict is "ok" or why the fit was rejected).
SEEING_COLUMNS = ("exposure", "started_utc", "filter", "seeing_gauss_arcsec", "seeing_moffat_arcsec", "verdict")


def _seeing(task: Task) -> Result:
    scale = optics.ROBO_AO_KPNO.pixel_scale_arcsec
    rows, per_exposure = [], {}
    for exposure in task["exposures"]:
        frames = stages.calibrate(
            _frames_of(exposure["raw"]).astype(np.float32),
            read_fits(Path(exposure["dark"])),
            read_fits(Path(exposure["flat"])),
        )
        found = measure.seeing(frames.mean(axis=0), scale)
        if found.accepted:
            per_exposure[exposure["name"]] = {
                "seeing_arcsec": found.seeing_arcsec,
                "seeing_moffat_arcsec": found.fwhm_moffat_arcsec,
            }
        verdict = "ok" if found.accepted else found.reason
        measured = (found.seeing_arcsec, found.fwhm_moffat_arcsec, verdict)
        rows.append((exposure["name"], exposure["started_at"], exposure["filter"], *measured))
    values = [m["seeing_arcsec"] for m in per_exposure.values()]
    path = Path(task["products_dir"]) / task["night"] / "summary" / f"seeing.{task['night']}.fits"
    table = {
        name: np.array(column, dtype=np.float64 if name.endswith("_arcsec") else str)
        for name, column in zip(SEEING_COLUMNS, zip(*rows, strict=True), strict=True)
    }
    entries = task["exposures"]
    provenance = {
        **task["provenance"],
        "inputs": ",".join(Path(p).name for exposure in entries for p in exposure["raw"]),
        "calib": ",".join(sorted({Path(exposure[kind]).name for exposure in entries for kind in ("dark", "flat")})),
    }
    return {
        "products": [_product("seeing", path, write_fits_table(path, table, provenance, name="SEEING"), provenance)],
        "metrics": {"seeing_median_arcsec": float(np.median(values))} if values else {},
        "exposure_metrics": per_exposure,
    }


_RUNNERS = {
    "calibration": _calibration,
    "stack": _stack,
    "strehl": _strehl,
    "preview": _preview,
    "seeing": _seeing,
}
