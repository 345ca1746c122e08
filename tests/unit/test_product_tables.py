"""The table products (shifts, Strehl, seeing) read back, with astropy, as the values the stages computed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from obslab.observing import optics, synthetic
from obslab.observing.pipeline import measure, stages
from obslab.observing.pipeline.photometry import APERTURE_ARCSEC, SKY_INNER_ARCSEC, ZERO_POINTS
from obslab.observing.pipeline.products import PARTIAL, read_fits, read_provenance, write_fits, write_fits_table
from obslab.observing.pipeline.tasks import SEEING_COLUMNS, run_task
from obslab.observing.rawfits import read_frames

NIGHT = "20261205"
PROVENANCE = {"obslabv": "9.9", "stagev": "7", "fingerpr": "abc123"}
SHAPE = (128, 128)


def _raw(path: Path, frames: np.ndarray) -> str:
    fits.PrimaryHDU(frames).writeto(path)
    return str(path)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Raw science and seeing cubes, and master dark and flat written as the calibration stage writes them."""
    folder = tmp_path_factory.mktemp("night")
    dark, flat = synthetic.dark_current(31, SHAPE), synthetic.flat_field(31, SHAPE)
    calib = {"obslabv": "9.9", "stage": "calibration", "stagev": "2", "inputs": "dark.fits", "calib": "this night"}
    master_dark = stages.master_dark(synthetic.make_darks(32, 12, shape=SHAPE, dark=dark))
    master_flat = stages.master_flat(synthetic.make_flats(33, 6, shape=SHAPE, flat=flat, dark=dark), master_dark)
    calib_folder = folder / "products" / NIGHT / "calib"
    write_fits(calib_folder / "dark_0.fits", master_dark, calib)
    write_fits(calib_folder / "flat_Si.fits", master_flat, calib)
    # The seeing cube is larger, with a uniform dark (bias 100 + 2 e-) and a perfect flat: masters to match.
    write_fits(calib_folder / "dark_1.fits", np.full((200, 200), 102.0), calib)
    write_fits(calib_folder / "flat_Sg.fits", np.ones((200, 200)), calib)
    science = synthetic.make_cube(34, 40, shape=SHAPE, dark=dark, flat=flat)
    seeing = synthetic.make_seeing_cube(35, 6, shape=(200, 200), seeing_arcsec=1.1)
    return {
        "products": str(folder / "products"),
        "dark": str(calib_folder / "dark_0.fits"),
        "flat": str(calib_folder / "flat_Si.fits"),
        "seeing_dark": str(calib_folder / "dark_1.fits"),
        "seeing_flat": str(calib_folder / "flat_Sg.fits"),
        "science": _raw(folder / "science.fits", science.frames),
        "seeing": _raw(folder / "seeing.fits", seeing.frames),
    }


def _task(night: dict[str, str], stage: str, **extra: object) -> dict[str, object]:
    return {
        "stage": stage,
        "night": NIGHT,
        "exposure": "4_351_Yrsa",
        "products_dir": night["products"],
        "provenance": {**PROVENANCE, "stage": stage},
        **extra,
    }


def _table(path: Path, name: str) -> tuple[fits.Header, fits.Header, fits.FITS_rec]:
    with fits.open(path, memmap=False) as hdus:
        assert [hdu.name for hdu in hdus] == ["PRIMARY", name]
        return hdus[0].header, hdus[name].header, hdus[name].data.copy()


def test_the_shifts_table_holds_each_frames_registration_and_the_lock_position(night: dict[str, str]) -> None:
    result = run_task(
        _task(
            night, "stack", raw=[night["science"]], dark=night["dark"], flat=night["flat"], parameters={"fraction": 0.2}
        )
    )
    path = Path(next(p["path"] for p in result["products"] if p["kind"] == "shifts"))
    assert path.name == "shifts.fits"
    expected = stages.lucky_stack(
        read_frames(night["science"]), read_fits(Path(night["dark"])), read_fits(Path(night["flat"])), fraction=0.2
    ).registration
    primary, header, rows = _table(path, "SHIFTS")
    assert list(rows.names) == ["frame", "dy_px", "dx_px", "quality"]
    assert rows["frame"].tolist() == list(range(40))
    np.testing.assert_array_equal(np.column_stack([rows["dy_px"], rows["dx_px"]]), expected.shifts)
    np.testing.assert_array_equal(rows["quality"], expected.quality)
    assert (header["LOCKY"], header["LOCKX"]) == expected.lock_position
    assert primary["STAGE"] == "stack" and primary["FINGERPR"] == "abc123"
    assert primary["INPUTS"] == "science.fits" and primary["CALIB"] == "dark_0.fits,flat_Si.fits"


def test_the_strehl_table_has_one_row_per_stack_as_measured(night: dict[str, str]) -> None:
    stacked = run_task(
        _task(
            night, "stack", raw=[night["science"]], dark=night["dark"], flat=night["flat"], parameters={"fraction": 0.2}
        )
    )
    stacks = {p["kind"]: p["path"] for p in stacked["products"]}
    parameters = {"aperture_arcsec": APERTURE_ARCSEC, "sky_inner_arcsec": SKY_INNER_ARCSEC, "zero_points": ZERO_POINTS}
    result = run_task(
        _task(
            night,
            "strehl",
            stack_best=stacks["stack_best"],
            stack_all=stacks["stack_all"],
            filter="Si",
            frame_seconds=0.1,
            parameters=parameters,
        )
    )
    (product,) = result["products"]
    primary, _, rows = _table(Path(product["path"]), "STREHL")
    assert Path(product["path"]).name == "strehl.fits" and primary["STAGE"] == "strehl"
    assert list(rows["stack"]) == ["20p", "100p"]
    for row, source in zip(rows, (stacks["stack_best"], stacks["stack_all"]), strict=True):
        measured = measure.strehl(read_fits(Path(source)), optics.ROBO_AO_KPNO, optics.wavelength_of("Si"))
        assert (row["lock_y"], row["lock_x"]) == measured.lock_position
        assert row["strehl_percent"] == 100 * measured.ratio
        assert (row["core_arcsec"], row["halo_arcsec"], row["fwhm_arcsec"]) == (
            measured.core_arcsec,
            measured.halo_arcsec,
            measured.fwhm_arcsec,
        )
        assert row["flag"] == measured.flag
    assert result["metrics"]["strehl_percent"] == rows["strehl_percent"][0]  # the table and the metric agree


def test_the_seeing_table_has_one_row_per_seeing_exposure_as_measured(night: dict[str, str]) -> None:
    entries = [
        {
            "name": "seeing_1",
            "raw": [night["seeing"]],
            "dark": night["seeing_dark"],
            "flat": night["seeing_flat"],
            "filter": "Si",
            "started_at": "2026-12-06T02:05:00",
        }
    ]
    result = run_task(_task(night, "seeing", exposure=None, exposures=entries, parameters={}))
    (product,) = result["products"]
    path = Path(product["path"])
    assert path == Path(night["products"]) / NIGHT / "summary" / f"seeing.{NIGHT}.fits"
    primary, _, rows = _table(path, "SEEING")
    assert list(rows.names) == list(SEEING_COLUMNS)
    image = stages.calibrate(read_frames(night["seeing"]).astype(np.float32), np.full((200, 200), 102.0), None)
    measured = measure.seeing(image.mean(axis=0), optics.ROBO_AO_KPNO.pixel_scale_arcsec)
    assert measured.accepted
    (row,) = rows
    assert (row["exposure"], row["started_utc"], row["filter"], row["verdict"]) == (
        "seeing_1",
        "2026-12-06T02:05:00",
        "Si",
        "ok",
    )
    assert row["seeing_gauss_arcsec"] == pytest.approx(measured.seeing_arcsec, rel=1e-6)
    assert row["seeing_moffat_arcsec"] == result["exposure_metrics"]["seeing_1"]["seeing_moffat_arcsec"]
    assert row["seeing_moffat_arcsec"] == pytest.approx(1.1, rel=0.05)
    assert primary["INPUTS"] == "seeing.fits" and primary["CALIB"] == "dark_1.fits,flat_Sg.fits"
    assert read_provenance(path, ("stage", "stagev", "obslabv")) == {"stage": "seeing", "stagev": "7", "obslabv": "9.9"}


def test_a_table_is_refused_whole_when_its_columns_differ_in_length_or_a_key_is_too_long(tmp_path: Path) -> None:
    path = tmp_path / "t.fits"
    with pytest.raises(ValueError, match="differ in length"):
        write_fits_table(path, {"a": np.arange(3), "b": np.arange(2)}, PROVENANCE, name="T")
    with pytest.raises(ValueError, match="longer than a FITS keyword"):
        write_fits_table(path, {"a": np.arange(3)}, PROVENANCE, name="T", header_extra={"lockposition": 1})
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a partial file
    checksum = write_fits_table(path, {"name": np.array(["", "x"]), "n": np.arange(2)}, PROVENANCE, name="T")
    assert checksum and not list(tmp_path.glob(f"*{PARTIAL}"))
    _, _, rows = _table(path, "T")
    assert list(rows["name"]) == ["", "x"] and list(rows["n"]) == [0, 1]
