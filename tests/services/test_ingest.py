"""Ingest of a night folder: exposures, parts and calibration files; re-ingest; changed, vanished and bad files."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.configs.models import InstrumentConfiguration
from obslab.errors import InvalidInputError
from obslab.observing import ingest as ingest_module
from obslab.observing.ingest import IngestReport, ingest_night
from obslab.observing.models import Exposure, FrameFile, Night, PipelineStage
from obslab.observing.naming import make_name, parse_name
from obslab.observing.pipeline.graph import EXPOSURE_STAGES, NIGHT_STAGES
from obslab.observing.types import ExposureKind, StageState
from tests.helpers.config_world import Desk, build_desk, focal_plane
from tests.helpers.raw_night import CAMERA, DUSK, EXPTIME, NIGHT, cut_short, write_exposure, write_file
from tests.helpers.support import table_counts

ROBO = "ROBO-CAM"
#: ROBO-CAM's configurations: one from the start of the month, a new one half an hour into the night.
CONFIG_FROM = datetime(2026, 11, 1, tzinfo=UTC)
CONFIG_CHANGE = DUSK + timedelta(minutes=30)
INGESTED = DUSK + timedelta(hours=14)


def clock(at: datetime) -> Any:
    return lambda: at


@pytest.fixture
def desk(sessions: sessionmaker[Session]) -> Iterator[Desk]:
    with sessions() as session:
        desk = build_desk(session)
        desk.record(focal_plane(2), CONFIG_FROM, instrument=ROBO)
        desk.record(focal_plane(3), CONFIG_CHANGE, instrument=ROBO)
        desk.session.commit()
        yield desk


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "raw" / NIGHT


def science_a(folder: Path, **kwargs: Any) -> list[Path]:
    return write_exposure(folder, "24", "M31", DUSK, **kwargs)


def science_b(folder: Path, **kwargs: Any) -> list[Path]:
    """A long observation of an object whose name holds underscores, split into two parts."""
    kwargs.setdefault("parts", (3, 3))
    return write_exposure(folder, "24.1", "NGC_1234_b", DUSK + timedelta(minutes=1), **kwargs)


def science_c(folder: Path, **kwargs: Any) -> list[Path]:
    """After the configuration changed; compressed; the position in degrees."""
    return write_exposure(
        folder, "24", "HD_1", DUSK + timedelta(hours=1), ra=187.25, dec=-5.5, suffix=".fits.bz2", **kwargs
    )


def dark(folder: Path, **kwargs: Any) -> list[Path]:
    return write_exposure(folder, "dark", "", DUSK - timedelta(hours=1), frames=5, airmass=None, **kwargs)


def flat(folder: Path) -> list[Path]:
    return write_exposure(folder, "flat", "", DUSK - timedelta(minutes=50), airmass=None)


def seeing(folder: Path, **kwargs: Any) -> list[Path]:
    return write_exposure(folder, "seeing", "", DUSK + timedelta(minutes=20), frames=0, **kwargs)


def standard_night(folder: Path) -> dict[str, list[Path]]:
    """Three science exposures (one in two parts, one compressed), a dark, a flat, a seeing exposure, a README."""
    files = {
        "a": science_a(folder),
        "b": science_b(folder),
        "c": science_c(folder),
        "dark": dark(folder),
        "flat": flat(folder),
        "seeing": seeing(folder),
    }
    (folder / "README.txt").write_text("night log\n")
    return files


def exposure_name(path: Path) -> str:
    return parse_name(path.name).exposure


def run(desk: Desk, folder: Path, *, at: datetime = INGESTED, who: str = "pia", **kwargs: Any) -> IngestReport:
    """Ingest in a transaction of its own, as the command does."""
    session = desk.session
    session.commit()
    with session.begin():
        return ingest_night(
            session, folder, site_name="Kitt Peak", now=clock(at), actor=desk.users[who] if who else None, **kwargs
        )


def rows(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the observing tables, every column."""
    with sessions() as session:
        return {
            model.__tablename__: [tuple(row) for row in session.execute(select(model.__table__)).all()]
            for model in (Night, Exposure, FrameFile, PipelineStage)
        }


def exposures(sessions: sessionmaker[Session]) -> dict[str, Exposure]:
    with sessions() as session:
        found = session.scalars(select(Exposure)).all()
        for exposure in found:
            exposure.files  # noqa: B018 (loaded before the session closes)
        return {exposure.name: exposure for exposure in found}


def add_stages(desk: Desk) -> None:
    """Every stage done, with a fingerprint, retries and a forced redo to reset."""
    session = desk.session
    session.commit()
    with session.begin():
        night = session.scalar(select(Night))
        done = {"state": StageState.DONE, "inputs_fingerprint": "f" * 64, "retries": 2, "force_redo": True}
        for stage in NIGHT_STAGES:
            session.add(PipelineStage(night_id=night.id, exposure_id=None, stage=stage, **done))
        for exposure in session.scalars(select(Exposure).where(Exposure.kind == ExposureKind.SCIENCE)):
            for stage in EXPOSURE_STAGES:
                session.add(PipelineStage(night_id=night.id, exposure_id=exposure.id, stage=stage, **done))


def stages(sessions: sessionmaker[Session]) -> dict[tuple[str | None, str], PipelineStage]:
    with sessions() as session:
        names = dict(session.execute(select(Exposure.id, Exposure.name)).all())
        return {(names.get(row.exposure_id), row.stage): row for row in session.scalars(select(PipelineStage))}


# --- a night ingested ------------------------------------------------------------------------------------------------


def test_a_night_is_ingested_with_its_parts_and_calibration_files(
    desk: Desk, folder: Path, sessions: sessionmaker[Session]
) -> None:
    files = standard_night(folder)
    report = run(desk, folder)
    names = {key: exposure_name(paths[0]) for key, paths in files.items()}
    assert sorted(report.added) == sorted(names.values())
    assert (report.updated, report.unchanged, report.missing, report.refused) == ((), (), (), ())
    assert report.ignored == ("README.txt",) and report.wrote and not report.all_refused
    assert report.summary() == "6 exposures added, 0 updated, 0 unchanged, 0 missing, 0 files refused"
    found = exposures(sessions)
    assert set(found) == set(names.values())

    b = found[names["b"]]  # two consecutive parts of 3 frames: one exposure of 6 frames
    assert (b.kind, b.program, b.target_name, b.filter_name, b.camera_mode) == (
        "science",
        "24.1",
        "NGC_1234_b",
        "i",
        "fast",
    )
    assert b.started_at == DUSK + timedelta(minutes=1)
    assert b.exposure_s == pytest.approx(6 * EXPTIME)
    assert b.ended_at == b.started_at + timedelta(seconds=6 * EXPTIME)
    assert (b.ra_deg, b.dec_deg, b.airmass) == (pytest.approx(187.5), pytest.approx(5.5), pytest.approx(1.2))
    assert [(Path(f.path).name, f.n_frames) for f in b.files] == [(p.name, 3) for p in files["b"]]
    for frame_file, path in zip(b.files, files["b"], strict=True):
        assert frame_file.path == str(path.resolve()) and Path(frame_file.path).is_absolute()
        assert frame_file.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert frame_file.size_bytes == path.stat().st_size
        assert frame_file.modified_at == datetime.fromtimestamp(path.stat().st_mtime, UTC)
        assert frame_file.header["DATE-OBS"].startswith("2026-11-21T03:01:") and frame_file.header["NAXIS3"] == 3
        assert frame_file.header["COMMENT"] == "written by tests/helpers/raw_night.py"
    assert b.files[1].header["DATE-OBS"] == "2026-11-21T03:01:01.500000"  # the second part starts where the first ends

    c = found[names["c"]]  # compressed; a position in degrees
    assert (c.ra_deg, c.dec_deg, c.exposure_s) == (187.25, -5.5, pytest.approx(3 * EXPTIME))
    assert c.files[0].path.endswith(".fits.bz2") and c.files[0].n_frames == 3
    assert found[names["seeing"]].files[0].n_frames == 1  # a 2-D image is one frame
    assert found[names["seeing"]].exposure_s == pytest.approx(EXPTIME)
    assert {found[names[k]].kind for k in ("dark", "flat", "seeing")} == {"dark", "flat", "seeing"}
    assert found[names["dark"]].airmass is None and found[names["dark"]].target_name == ""

    with sessions() as session:  # the configuration in force at each start is stamped
        versions = dict(
            session.execute(select(InstrumentConfiguration.id, InstrumentConfiguration.version_number)).all()
        )
        night = session.scalar(select(Night))
        event_row = session.scalar(select(AuditEvent).where(AuditEvent.action == "night.ingested"))
    assert {name: versions[e.configuration_id] for name, e in found.items()} == {
        name: (2 if e.started_at >= CONFIG_CHANGE else 1) for name, e in found.items()
    }
    assert versions[found[names["c"]].configuration_id] == 2
    assert (night.night_date, night.site_name) == (date(2026, 11, 21), "Kitt Peak")
    assert all(e.night_id == night.id and e.missing_at is None for e in found.values())
    assert event_row.actor_name == "pia" and event_row.entity_id == "2026-11-21"
    assert event_row.after["added"] == 6 and event_row.after["refused"] == 0


def test_an_exposure_before_any_configuration_is_stamped_with_none(
    desk: Desk, folder: Path, sessions: sessionmaker[Session]
) -> None:
    write_exposure(folder, "24", "M31", CONFIG_FROM - timedelta(days=1))
    write_exposure(folder, "24", "M33", DUSK, INSTRUME="OTHER-CAM")  # an instrument with no configuration
    assert len(run(desk, folder, who="").added) == 2  # no actor: recorded as the system
    assert {e.configuration_id for e in exposures(sessions).values()} == {None}


def test_the_night_comes_from_the_folder_name_or_is_given(desk: Desk, tmp_path: Path) -> None:
    other = tmp_path / "tonight"
    science_a(other)
    with pytest.raises(InvalidInputError, match="DIRECTORY: 'tonight' is not allowed; expected a night folder"):
        run(desk, other)
    report = run(desk, other, night_date=date(2026, 11, 20))
    assert report.night == date(2026, 11, 20) and len(report.added) == 1


# --- re-ingest, changed and vanished files ---------------------------------------------------------------------------


def test_a_second_ingest_of_unchanged_files_writes_nothing_at_all(
    desk: Desk, folder: Path, sessions: sessionmaker[Session], engine: Engine
) -> None:
    files = standard_night(folder)
    run(desk, folder)
    add_stages(desk)
    os.utime(files["a"][0], (1e9, 1e9))  # touched, not changed: the checksum decides
    before, counts = rows(sessions), table_counts(desk.session)
    desk.session.commit()
    written: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            written.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        report = run(desk, folder, at=INGESTED + timedelta(days=1))
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert written == []
    assert sorted(report.unchanged) == sorted(exposure_name(paths[0]) for paths in files.values())
    assert (report.added, report.updated, report.missing, report.reset, report.wrote) == ((), (), (), (), False)
    assert rows(sessions) == before and table_counts(desk.session) == counts  # not even an audit event


def test_a_changed_file_updates_its_exposure_and_resets_its_stages(
    desk: Desk, folder: Path, sessions: sessionmaker[Session]
) -> None:
    files = standard_night(folder)
    run(desk, folder)
    add_stages(desk)
    before_stages, before = stages(sessions), exposures(sessions)
    name_a, name_b = exposure_name(files["a"][0]), exposure_name(files["b"][0])
    # The second part written again with other pixels and a fourth frame.
    start_b = DUSK + timedelta(minutes=1)
    write_file(
        folder, "24.1", "NGC_1234_b", start_b + timedelta(seconds=1.5), part=1, frames=4, seed=9, name_started=start_b
    )
    report = run(desk, folder, at=INGESTED + timedelta(days=1))
    assert report.updated == (name_b,) and name_a in report.unchanged and report.added == ()
    assert {(r.exposure, r.stage) for r in report.reset} == {(name_b, stage) for stage in EXPOSURE_STAGES}
    assert {r.because for r in report.reset} == {files["b"][1].name}
    after = exposures(sessions)
    b = after[name_b]
    assert b.files[1].sha256 == hashlib.sha256(files["b"][1].read_bytes()).hexdigest() != before[name_b].files[1].sha256
    assert b.files[1].n_frames == 4 and b.files[0].sha256 == before[name_b].files[0].sha256
    assert b.exposure_s == pytest.approx(7 * EXPTIME)
    assert b.ended_at == b.started_at + timedelta(seconds=7 * EXPTIME)
    assert b.version == before[name_b].version + 1 and b.updated_at == INGESTED + timedelta(days=1)
    assert after[name_a].version == before[name_a].version
    now_stages = stages(sessions)
    for key, row in now_stages.items():
        if key[0] == name_b:
            assert (row.state, row.retries, row.force_redo) == (StageState.PENDING, 0, False)
            assert row.inputs_fingerprint == "f" * 64  # kept: the runner compares it with the new inputs'
            assert row.version == before_stages[key].version + 1
        else:
            assert (row.state, row.version) == (StageState.DONE, before_stages[key].version), key


@pytest.mark.parametrize("kind", ["dark", "seeing"])
def test_a_changed_calibration_or_seeing_file_resets_the_night(
    kind: str, desk: Desk, folder: Path, sessions: sessionmaker[Session]
) -> None:
    files = standard_night(folder)
    run(desk, folder)
    add_stages(desk)
    {"dark": dark, "seeing": seeing}[kind](folder, seed=5)
    report = run(desk, folder, at=INGESTED + timedelta(days=1))
    assert report.updated == (exposure_name(files[kind][0]),)
    science = [exposure_name(files[key][0]) for key in ("a", "b", "c")]
    # A dark feeds the calibration, which feeds seeing and every stack; seeing feeds only the night's seeing.
    expected = (
        {(None, s) for s in NIGHT_STAGES} | {(e, s) for e in science for s in EXPOSURE_STAGES}
        if kind == "dark"
        else {(None, "seeing")}
    )
    assert {(r.exposure, r.stage) for r in report.reset} == expected
    for key, row in stages(sessions).items():
        assert row.state is (StageState.PENDING if key in expected else StageState.DONE), key


def test_a_new_dark_resets_the_nights_calibration(desk: Desk, folder: Path, sessions: sessionmaker[Session]) -> None:
    standard_night(folder)
    run(desk, folder)
    add_stages(desk)
    late = write_exposure(folder, "dark", "", DUSK + timedelta(hours=9), frames=5, airmass=None)
    report = run(desk, folder, at=INGESTED + timedelta(days=1))
    assert report.added == (exposure_name(late[0]),)
    assert {(r.exposure, r.stage) for r in report.reset if r.exposure is None} == {(None, s) for s in NIGHT_STAGES}
    assert stages(sessions)[(None, "calibration")].state is StageState.PENDING


def test_a_vanished_file_marks_its_exposure_once_and_a_file_back_clears_it(
    desk: Desk, folder: Path, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    files = standard_night(folder)
    run(desk, folder)
    name_a, name_b = exposure_name(files["a"][0]), exposure_name(files["b"][0])
    aside = tmp_path / "aside"
    aside.mkdir()
    gone = [files["a"][0], files["b"][1]]
    for path in gone:
        path.rename(aside / path.name)
    first = INGESTED + timedelta(days=1)
    report = run(desk, folder, at=first)
    assert sorted((m.exposure, m.files, m.since) for m in report.missing) == [
        (name_b, (files["b"][1].name,), first),  # '.' sorts before '_': 24.1_... comes first
        (name_a, (files["a"][0].name,), first),
    ]
    assert report.summary() == "0 exposures added, 0 updated, 5 unchanged, 2 missing, 0 files refused"
    assert name_b in report.unchanged and name_a not in report.unchanged and report.wrote
    found = exposures(sessions)
    assert found[name_a].missing_at == found[name_b].missing_at == first
    assert len(found[name_b].files) == 2 and found[name_b].exposure_s == pytest.approx(6 * EXPTIME)  # kept whole

    again = run(desk, folder, at=first + timedelta(days=1))  # still gone: reported, the first time kept
    assert [m.since for m in again.missing] == [first, first] and not again.wrote
    assert exposures(sessions)[name_a].version == found[name_a].version

    for path in gone:
        (aside / path.name).rename(path)
    back = run(desk, folder, at=first + timedelta(days=2))
    assert back.missing == () and back.wrote and back.updated == ()
    assert {e.missing_at for e in exposures(sessions).values()} == {None}


# --- bad files -------------------------------------------------------------------------------------------------------


def test_bad_files_are_each_refused_by_name_and_the_rest_ingested(
    desk: Desk, folder: Path, sessions: sessionmaker[Session]
) -> None:
    good = science_a(folder) + science_c(folder) + dark(folder)
    noise = folder / (make_name("24", "Noise", CAMERA, "i", DUSK + timedelta(minutes=5)) + ".fits")
    noise.write_bytes(os.urandom(6000))
    short = cut_short(write_exposure(folder, "24", "Short", DUSK + timedelta(minutes=6))[0])
    short_bz2 = write_exposure(folder, "24", "ShortZ", DUSK + timedelta(minutes=7), suffix=".fits.bz2")[0]
    short_bz2.write_bytes(short_bz2.read_bytes()[:-40])
    undated = write_exposure(folder, "24", "Undated", DUSK + timedelta(minutes=8), drop=("DATE-OBS",))[0]
    badly_named = folder / "M31_tonight.fits"
    badly_named.write_bytes(good[0].read_bytes())
    split = science_b(folder)  # two parts, the second cut short: the whole exposure is refused
    cut_short(split[1])
    counts = table_counts(desk.session)
    desk.session.commit()

    report = run(desk, folder)
    refused = dict((r.file, r.reason) for r in report.refused)
    assert refused == {
        noise.name: "is not a FITS file: it does not begin with 'SIMPLE  ='",
        short.name: "is truncated: 620 bytes of data where its header announces 1536 "
        "(NAXIS1 x NAXIS2 x NAXIS3 x |BITPIX|/8)",
        short_bz2.name: "is truncated: its compressed stream ends early",
        undated.name: "the header has no DATE-OBS; expected the UTC start of the first frame, "
        "e.g. '2026-11-21T03:04:05.1'",
        badly_named.name: "is not an archiver name: expected "
        "<program>_<object>_<camera>_<filter>_<marker>_<YYYYMMDD>_<HHMMSS.ffffff>.fits",
        split[1].name: refused[split[1].name],
        split[0].name: f"not recorded: exposure {exposure_name(split[0])} is refused with {split[1].name}",
    }
    assert refused[split[1].name].startswith("is truncated: ")
    assert sorted(report.added) == sorted(exposure_name(path) for path in good)
    assert report.summary() == "3 exposures added, 0 updated, 0 unchanged, 0 missing, 7 files refused"
    assert not report.all_refused
    # Nothing of a refused exposure was written: no exposure, no frame file, not one part of the split one.
    found = exposures(sessions)
    assert set(found) == {exposure_name(path) for path in good}
    with sessions() as session:
        paths = set(session.scalars(select(FrameFile.path)))
    assert paths == {str(path.resolve()) for path in good}
    after = table_counts(desk.session)
    assert {k: after[k] - counts[k] for k in after if after[k] != counts[k]} == {
        "nights": 1,
        "exposures": 3,
        "frame_files": 3,
        "programs": 1,  # the good exposures' program, made on first sight; none for the refused ones
        "audit_events": 1,
    }


def test_a_folder_of_only_bad_files_writes_nothing(desk: Desk, folder: Path, sessions: sessionmaker[Session]) -> None:
    cut_short(science_a(folder)[0])
    (folder / (make_name("24", "Junk", CAMERA, "i", DUSK) + ".fits")).write_bytes(b"SIMPLE  = nonsense")
    counts = table_counts(desk.session)
    desk.session.commit()
    report = run(desk, folder)
    assert report.all_refused and len(report.refused) == 2 and not report.wrote
    assert table_counts(desk.session) == counts  # not even the night


def test_a_recorded_exposure_whose_file_went_bad_is_kept_as_it_was(
    desk: Desk, folder: Path, sessions: sessionmaker[Session]
) -> None:
    files = standard_night(folder)
    run(desk, folder)
    before = rows(sessions)
    cut_short(files["b"][0])
    report = run(desk, folder, at=INGESTED + timedelta(days=1))
    assert [r.file for r in report.refused] == sorted(path.name for path in files["b"])
    assert exposure_name(files["b"][0]) not in report.unchanged + report.updated and report.missing == ()
    assert rows(sessions) == before


def test_a_database_refusal_mid_exposure_rolls_back_only_that_exposure(
    desk: Desk, folder: Path, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SAVEPOINT: the exposure row is written, its second file fails at the database, nothing of it is kept."""
    files = standard_night(folder)
    real = ingest_module._frame_file

    def broken(raw: Any) -> dict[str, Any]:
        columns = real(raw)
        return columns | ({"sha256": None} if raw.name == files["b"][1].name else {})

    monkeypatch.setattr(ingest_module, "_frame_file", broken)
    report = run(desk, folder)
    assert len(report.added) == 5 and exposure_name(files["b"][0]) not in report.added
    assert {r.file for r in report.refused} == {path.name for path in files["b"]}
    assert all("the database refused it" in r.reason for r in report.refused)
    assert exposure_name(files["b"][0]) not in exposures(sessions)
    with sessions() as session:
        assert len(session.scalars(select(FrameFile)).all()) == 5  # the night's 7 files less the split exposure's 2


def test_a_first_exposure_refused_by_the_database_leaves_no_night(
    desk: Desk, folder: Path, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    (path,) = science_a(folder)
    real = ingest_module._frame_file
    monkeypatch.setattr(ingest_module, "_frame_file", lambda raw: real(raw) | {"sha256": None})
    counts = table_counts(desk.session)
    desk.session.commit()
    report = run(desk, folder)
    assert report.all_refused and report.refused[0].file == path.name and not report.wrote
    assert table_counts(desk.session) == counts


def test_a_configuration_recorded_later_is_stamped_on_the_next_ingest_without_resets(
    desk: Desk, folder: Path, sessions: sessionmaker[Session]
) -> None:
    """The telescope may push its state the next morning: re-ingest stamps the version in force then."""
    files = standard_night(folder)
    run(desk, folder)
    add_stages(desk)
    pushed = desk.record(focal_plane(4), DUSK + timedelta(minutes=50), instrument=ROBO)  # before c's start
    report = run(desk, folder, at=INGESTED + timedelta(days=1))
    name_c = exposure_name(files["c"][0])
    assert report.updated == (name_c,) and report.reset == () and len(report.unchanged) == 5
    assert exposures(sessions)[name_c].configuration_id == pushed.id
    assert {row.state for row in stages(sessions).values()} == {StageState.DONE}


def test_a_database_refusal_of_a_changed_exposure_keeps_it_and_its_stages_as_they_were(
    desk: Desk, folder: Path, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    files = standard_night(folder)
    run(desk, folder)
    add_stages(desk)
    before_rows, before_stages = rows(sessions), stages(sessions)
    science_b(folder, seed=4)  # both parts rewritten
    real = ingest_module._frame_file
    monkeypatch.setattr(
        ingest_module,
        "_frame_file",
        lambda raw: real(raw) | ({"sha256": None} if raw.name == files["b"][1].name else {}),
    )
    report = run(desk, folder, at=INGESTED + timedelta(days=1))
    assert {r.file for r in report.refused} == {path.name for path in files["b"]}
    assert (report.updated, report.reset, report.wrote) == ((), (), False) and len(report.unchanged) == 5
    assert rows(sessions) == before_rows
    assert {key: row.version for key, row in stages(sessions).items()} == {
        key: row.version for key, row in before_stages.items()
    }
