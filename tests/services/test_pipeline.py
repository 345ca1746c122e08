"""The night's pipeline end to end on real files: products with provenance, idempotence, reruns only on change."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.errors import ConflictError
from obslab.observing import synthetic
from obslab.observing.models import DataProduct, Exposure, Metric, PipelineStage
from obslab.observing.pipeline.executors import ThreadExecutor
from obslab.observing.pipeline.graph import STAGE_VERSIONS
from obslab.observing.pipeline.night_lock import LOCKS, lock_path, night_lock
from obslab.observing.pipeline.photometry import ZERO_POINTS
from obslab.observing.pipeline.products import PARTIAL, sha256_file
from obslab.observing.pipeline.runner import RunOptions, RunSummary, run_night
from obslab.observing.preview import png_text
from obslab.observing.types import StageState
from tests.helpers.pipeline_night import NIGHT, NightFiles, ingest, write_night


@pytest.fixture
def executor() -> Iterator[ThreadExecutor]:
    pool = ThreadExecutor(2)
    yield pool
    pool.close()


@pytest.fixture
def night(sessions: sessionmaker[Session], tmp_path: Path) -> NightFiles:
    """The small night of ``pipeline_night``, written and ingested."""
    files = write_night(tmp_path / "raw")
    ingest(sessions, files.folder)
    return files


@pytest.fixture
def products(tmp_path: Path) -> Path:
    return tmp_path / "products"


def run(
    sessions: sessionmaker[Session], products: Path, executor: ThreadExecutor, key: str = NIGHT, **options: object
) -> RunSummary:
    return run_night(sessions, key, executor, products_dir=products, options=RunOptions(**options))  # type: ignore[arg-type]


def states(sessions: sessionmaker[Session]) -> dict[tuple[str | None, str], tuple[StageState, int, str]]:
    with sessions() as session:
        rows = session.execute(
            select(PipelineStage, Exposure.name).outerjoin(Exposure, Exposure.id == PipelineStage.exposure_id)
        ).all()
        return {(name, row.stage): (row.state, row.version, row.inputs_fingerprint) for row, name in rows}


def test_a_night_is_reduced_with_provenance_and_a_second_run_does_nothing(
    sessions: sessionmaker[Session], night: NightFiles, products: Path, executor: ThreadExecutor
) -> None:

    first = run(sessions, products, executor)
    assert first.counts == {"done": 8, "up to date": 0, "failed": 0, "gave up": 0, "waiting": 0}, first.outcomes
    with sessions() as session:
        recorded = session.scalars(select(DataProduct)).all()
        kinds = sorted(p.kind for p in recorded)
        assert kinds.count("stack_best") == 2 and kinds.count("preview_best") == 2 and "dark_0" in kinds
        assert {"flat_Si", "flat_Sr", "seeing", "strehl"} <= set(kinds)
        for product in recorded:  # every product on disk, as recorded
            assert sha256_file(Path(product.path)) == product.sha256
        stack = next(p for p in recorded if p.kind == "stack_best" and night.science[0] in p.path)
        header = fits.getheader(stack.path)
        assert header["STAGE"] == "stack" and header["CALIB"] == "dark_0.fits,flat_Si.fits"
        assert header["FRAMES"] == 60 and header["SELECTED"] == 12  # 20% of the frames of both parts
        assert header["FINGERPR"] == session.scalar(
            select(PipelineStage.inputs_fingerprint).where(
                PipelineStage.stage == "stack", PipelineStage.exposure_id == stack.exposure_id
            )
        )
        seeing = session.scalar(select(Metric.value).where(Metric.name == "seeing_moffat_arcsec"))
        assert seeing == pytest.approx(night.truth_seeing, rel=0.05)
        strehls = session.scalars(select(Metric.value).where(Metric.name == "strehl_percent")).all()
        assert len(strehls) == 2 and all(1 < s < 60 for s in strehls)
        assert not list(products.rglob(f"*{PARTIAL}"))
        check_provenance_in_every_product(products, recorded, night)
    before = states(sessions)
    modified = {p: p.stat().st_mtime_ns for p in product_files(products)}

    second = run(sessions, products, executor)
    assert second.counts["up to date"] == 8 and second.counts["done"] == 0
    assert states(sessions) == before  # not one stage row written
    assert {p: p.stat().st_mtime_ns for p in product_files(products)} == modified


def product_files(products: Path) -> list[Path]:
    """Every file under the products folder but the runs' lock files (``.locks/``, which are no products)."""
    return sorted(p for p in products.rglob("*") if p.is_file() and LOCKS not in p.relative_to(products).parts)


#: What every product file carries; CALIB too for the stages that read a dark and a flat (not those fed by stacks).
REQUIRED = {"OBSLABV", "STAGE", "STAGEV", "INPUTS", "FINGERPR"}
CALIBRATED = {"calibration", "stack", "seeing"}


def _stamped(path: Path) -> dict[str, object]:
    """The provenance a product file carries: its primary FITS header's cards, or its PNG text chunks."""
    if path.suffix == ".png":
        return {key.upper(): value for key, value in png_text(path.read_bytes()).items()}
    assert path.suffix == ".fits", f"{path}: a product is FITS or a PNG preview"
    return dict(fits.getheader(path))


def check_provenance_in_every_product(products: Path, recorded: list[DataProduct], night: NightFiles) -> None:
    """Every file under the products folder is a recorded product carrying its recorded provenance, versions and
    inputs that exist."""
    by_path = {Path(p.path): p for p in recorded}
    files = product_files(products)
    assert set(files) == set(by_path), "a file nobody recorded, or a recorded product missing"
    raw_names = {p.name for p in night.folder.iterdir()}
    product_names = {p.name for p in files}
    assert {p.suffix for p in files} == {".fits", ".png"}
    for path in files:
        product, stamped = by_path[path], _stamped(path)
        assert REQUIRED <= set(stamped), f"{path.name} lacks {REQUIRED - set(stamped)}"
        assert stamped["STAGE"] == product.stage and str(stamped["STAGEV"]) == STAGE_VERSIONS[product.stage]
        inputs = str(stamped["INPUTS"]).split(",")
        assert set(inputs) <= raw_names | product_names, f"{path.name}: inputs {inputs}"
        assert ("CALIB" in stamped) == (product.stage in CALIBRATED), path.name
        if product.stage in {"stack", "seeing"}:
            assert set(str(stamped["CALIB"]).split(",")) <= {p.name for p in (path.parents[1] / "calib").iterdir()}
        # The file says what the database says, key for key (a PNG holds text only).
        for key, value in product.provenance.items():
            assert stamped[key.upper()] == (str(value) if path.suffix == ".png" else value), (path.name, key)


def test_a_changed_raw_file_reruns_its_exposure_and_nothing_else(
    sessions: sessionmaker[Session], night: NightFiles, products: Path, executor: ThreadExecutor
) -> None:
    run(sessions, products, executor)
    before = states(sessions)
    changed = next(night.folder.glob("24.1_*.fits"))
    with fits.open(changed, mode="update") as hdus:
        hdus[0].data = np.flip(hdus[0].data, axis=0).copy()  # the same star, elsewhere: a new file
    ingest(sessions, night.folder)

    summary = run(sessions, products, executor)
    ran = {(o.exposure, o.stage) for o in summary.outcomes if o.outcome == "done"}
    assert ran == {(night.science[1], stage) for stage in ("stack", "strehl", "preview")}
    after = states(sessions)
    assert {key for key in after if after[key][2] != before[key][2]} == ran  # only those fingerprints moved


def test_force_redoes_only_the_stage_asked_for_and_an_identical_product_leaves_the_rest(
    sessions: sessionmaker[Session], night: NightFiles, products: Path, executor: ThreadExecutor
) -> None:
    run(sessions, products, executor)

    summary = run(sessions, products, executor, stages=("stack", "preview"), exposures={night.science[0]}, force=True)
    assert {(o.stage, o.outcome) for o in summary.outcomes} == {("stack", "done"), ("preview", "done")}
    # The stack came out byte for byte the same, so the Strehl stage downstream is still up to date.
    assert {o.outcome for o in run(sessions, products, executor).outcomes} == {"up to date"}


def test_a_failing_stage_is_retried_up_to_the_maximum_and_says_why(
    sessions: sessionmaker[Session], night: NightFiles, products: Path, executor: ThreadExecutor
) -> None:
    broken = next(night.folder.glob("24.1_*.fits"))
    broken.write_bytes(b"not a FITS file any more")  # behind ingest's back: the stack cannot read it

    for attempt in (1, 2):
        summary = run(sessions, products, executor, max_retries=2)
        failed = [o for o in summary.outcomes if o.outcome == "failed"]
        assert [(o.exposure, o.stage) for o in failed] == [(night.science[1], "stack")]
        assert broken.name in failed[0].reason and "Traceback" not in failed[0].reason
        assert {(o.stage, o.outcome) for o in summary.outcomes if o.exposure == night.science[1]} >= {
            ("strehl", "waiting"),
            ("preview", "waiting"),
        }
        with sessions() as session:
            row = session.scalar(
                select(PipelineStage).where(PipelineStage.stage == "stack", PipelineStage.state == StageState.FAILED)
            )
            assert row is not None and row.retries == attempt and broken.name in (row.error or "")
    given_up = run(sessions, products, executor, max_retries=2)
    assert [(o.exposure, o.outcome) for o in given_up.outcomes if o.stage == "stack"].count(
        (night.science[1], "gave up")
    ) == 1


def test_a_night_without_enough_darks_copies_the_nearest_nights_calibration_or_fails_saying_so(
    sessions: sessionmaker[Session], tmp_path: Path, products: Path, executor: ThreadExecutor
) -> None:
    short = write_night(tmp_path / "raw", key="20261207", darks=4)
    ingest(sessions, short.folder)
    alone = run(sessions, products, executor, key="20261207")
    calibration = next(o for o in alone.outcomes if o.stage == "calibration")
    assert calibration.outcome == "failed"
    assert "camera mode 0: 4 dark frames this night, 10 needed" in calibration.reason
    assert {o.outcome for o in alone.outcomes if o.stage != "calibration"} == {"waiting"}

    for key in ("20261201", "20261204"):  # two nights with calibration; the nearer one is copied
        ingest(sessions, write_night(tmp_path / "raw", key=key, science_frames=20).folder)
        run(sessions, products, executor, key=key, stages=("calibration",))
    again = run(sessions, products, executor, key="20261207")
    assert again.counts["failed"] == 0 and again.counts["done"] == 8
    header = fits.getheader(products / "20261207" / "calib" / "dark_0.fits")
    assert header["CALIB"] == "copied from 20261204"
    assert fits.getheader(products / "20261207" / "calib" / "flat_Si.fits")["CALIB"] == "this night"


def test_a_vanished_product_is_made_again_and_a_killed_writers_partial_file_is_swept(
    sessions: sessionmaker[Session], night: NightFiles, products: Path, executor: ThreadExecutor
) -> None:
    run(sessions, products, executor)
    preview = next((products / NIGHT).rglob("20p.png"))
    preview.unlink()
    partial = preview.with_name(f".20p.png.dead{PARTIAL}")
    partial.write_bytes(b"half a PNG")

    summary = run(sessions, products, executor)
    assert [o.stage for o in summary.outcomes if o.outcome == "done"] == ["preview"]
    assert summary.counts["up to date"] == 7
    assert preview.is_file() and summary.swept == (str(partial),) and not partial.exists()


def test_a_stage_marked_force_redo_is_run_by_the_next_run_which_clears_the_mark(
    sessions: sessionmaker[Session], night: NightFiles, products: Path, executor: ThreadExecutor
) -> None:
    run(sessions, products, executor)
    with sessions() as session, session.begin():
        row = session.scalar(
            select(PipelineStage)
            .join(Exposure, Exposure.id == PipelineStage.exposure_id)
            .where(PipelineStage.stage == "strehl", Exposure.name == night.science[0])
        )
        row.force_redo = True  # what the run browser's "force redo" records (issue 16)

    summary = run(sessions, products, executor)
    assert [(o.exposure, o.stage) for o in summary.outcomes if o.outcome == "done"] == [(night.science[0], "strehl")]
    with sessions() as session:
        assert not any(session.scalars(select(PipelineStage.force_redo)))
    assert run(sessions, products, executor).counts["up to date"] == 8


def test_the_sky_counts_magnitude_and_calibration_levels_match_the_synthetic_truth(
    sessions: sessionmaker[Session], night: NightFiles, products: Path, executor: ThreadExecutor
) -> None:
    run(sessions, products, executor)
    with sessions() as session:
        rows = session.execute(select(Metric, Exposure).outerjoin(Exposure, Exposure.id == Metric.exposure_id)).all()
    by_exposure = {(e.name if e else None, m.name): m for m, e in rows}
    filters = {e.name: e.filter_name for _, e in rows if e is not None}
    # The night's truth, as pipeline_night makes it (seed 0): synthetic's defaults for sky, flux and flat level.
    dark, bias, flat_level = synthetic.dark_current(2), 100.0, 20000.0
    # Calibration levels: one per camera mode and filter, night-level (no exposure), named with their scope.
    assert {name for exposure, name in by_exposure if exposure is None and ":" in name} == {
        "dark_level_adu:0",
        "flat_level_adu:Si",
        "flat_level_adu:Sr",
    }
    dark_level = by_exposure[None, "dark_level_adu:0"]
    assert dark_level.value == pytest.approx(bias + np.median(dark), abs=0.3) and dark_level.unit == "adu/px/frame"
    for filter_name in ("Si", "Sr"):  # the lamp's level above the dark, before the flat is normalised to 1
        assert by_exposure[None, f"flat_level_adu:{filter_name}"].value == pytest.approx(flat_level, abs=5)
    for name in night.science:
        filter_name = filters[name]
        sky, counts, magnitude = (by_exposure[name, metric] for metric in ("sky_adu", "counts_adu", "magnitude"))
        assert sky.value == pytest.approx(30.0, abs=0.5) and sky.unit == "adu/px/frame"
        # The aperture holds all of the diffraction-limited core and all but 0.7% of the 1.2" seeing halo.
        assert counts.value == pytest.approx(2.0e5, rel=0.02) and counts.unit == "adu/frame"
        truth = -2.5 * math.log10(2.0e5 / 0.1) + ZERO_POINTS[filter_name]  # 0.1 s frames
        assert magnitude.value == pytest.approx(truth, abs=0.03) and magnitude.unit == "mag"


def test_a_longer_frame_time_in_the_header_makes_the_same_counts_fainter_by_the_ratio(
    sessions: sessionmaker[Session], night: NightFiles, products: Path, executor: ThreadExecutor
) -> None:
    def measured(name: str) -> dict[str, float]:
        with sessions() as session:
            query = select(Metric.name, Metric.value).join(Exposure, Exposure.id == Metric.exposure_id)
            return dict(session.execute(query.where(Exposure.name == name)).all())

    run(sessions, products, executor)
    before = measured(night.science[1])
    changed = next(night.folder.glob("24.1_*.fits"))
    with fits.open(changed, mode="update") as hdus:
        hdus[0].header["EXPTIME"] = 0.25  # the same frames, said to be 2.5 times as long
    ingest(sessions, night.folder)

    summary = run(sessions, products, executor)
    assert {(o.exposure, o.stage) for o in summary.outcomes if o.outcome == "done"} >= {(night.science[1], "strehl")}
    after = measured(night.science[1])
    assert after["counts_adu"] == pytest.approx(before["counts_adu"]) and after["sky_adu"] == before["sky_adu"]
    assert after["magnitude"] - before["magnitude"] == pytest.approx(2.5 * math.log10(2.5), abs=1e-9)


def test_a_second_run_of_a_night_is_refused_while_one_runs_and_nothing_is_touched(
    sessions: sessionmaker[Session], night: NightFiles, products: Path, executor: ThreadExecutor
) -> None:
    first = run(sessions, products, executor)
    assert first.counts["done"] == 8
    before = states(sessions)
    leftover = products / NIGHT / f".20p.fits.abcd1234{PARTIAL}"
    leftover.write_bytes(b"the other run's product being written")
    lock = lock_path(products.resolve(), NIGHT)
    with night_lock(products.resolve(), NIGHT):  # the other run
        with pytest.raises(ConflictError) as refused:
            run(sessions, products, executor, force=True)
        assert str(refused.value) == (
            f"night {NIGHT} is being reduced by another run (it holds {lock}): wait for it to end; nothing was run"
        )
        assert leftover.exists()  # the other run's file in the making was not swept
        assert states(sessions) == before  # nothing queued, nothing run
    again = run(sessions, products, executor, force=True)  # once that run ends, the night runs, and sweeps
    assert again.counts["done"] == 8 and leftover.name in {Path(p).name for p in again.swept}


def test_a_rerun_removes_the_files_of_products_it_no_longer_makes_and_nothing_outside_the_products(
    sessions: sessionmaker[Session], night: NightFiles, products: Path, executor: ThreadExecutor, tmp_path: Path
) -> None:
    run(sessions, products, executor)
    with sessions() as session, session.begin():
        strehl = session.scalars(select(DataProduct).where(DataProduct.stage == "strehl")).first()
        assert strehl is not None
        # What an older version of the stage wrote (a text table), and a product recorded outside the folder.
        old = Path(strehl.path).with_name("strehl.txt")
        outside = tmp_path / "elsewhere" / "strehl-copy.fits"
        for path in (old, outside):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("an older product\n")
            session.add(
                DataProduct(
                    night_id=strehl.night_id,
                    exposure_id=strehl.exposure_id,
                    stage="strehl",
                    path=str(path),
                    kind="strehl_old",
                    sha256=sha256_file(path),
                    provenance={},
                )
            )
        exposure = session.get_one(Exposure, strehl.exposure_id).name

    summary = run(sessions, products, executor, stages=("strehl",), exposures={exposure}, force=True)
    assert summary.counts["done"] == 1
    assert not old.exists()  # the folder holds the recorded products only
    assert outside.exists()  # a path outside the products folder is never removed
    with sessions() as session:
        paths = set(session.scalars(select(DataProduct.path)))
    assert str(old) not in paths and str(outside) not in paths
    assert {str(p) for p in product_files(products)} <= paths
