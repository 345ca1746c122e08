"""Ingest a night folder of raw FITS files: exposures, frame files and checksums, each exposure all or nothing.

A folder ``YYYYMMDD/`` holds the night's raw files, named as the archiver names them
(:mod:`obslab.observing.naming`); the parts ``_0``, ``_1``, ... of a long observation are one exposure. Each
exposure is written inside its own SAVEPOINT: when any of its files is bad, the exposure is refused, every
file named with its reason, and nothing of it is written, while the rest go on. What is written:

- an exposure's fields from its headers (:mod:`obslab.observing.header`), the configuration in force at its
  start, one ``frame_files`` row per file (absolute path, size, SHA-256, frames, header, modification time);
- for a file whose SHA-256 changed, or a new part: the row updated and the stages it feeds reset to pending
  (its own exposure's; for a calibration or seeing file also the night's, see ``graph.stages_reset_by``);
- for a recorded file no longer in the folder: its exposure's ``missing_at``, set once and cleared when the
  file is back.

A second run over the same files writes nothing at all (not even an audit event): a file is the same when
its SHA-256 is (a new modification time alone is not a change).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, selectinload

from obslab.audit import record_event
from obslab.configs.views import configuration_id_at
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError, NotFoundError
from obslab.locking import flush
from obslab.observing.header import HeaderError, RawFileError, RawHeader, read_header
from obslab.observing.models import Exposure, FrameFile, Night, PipelineStage
from obslab.observing.naming import SUFFIXES, BadNameError, RawName, parse_name
from obslab.observing.pipeline.graph import stages_reset_by
from obslab.observing.programs import program_id_for
from obslab.observing.rawfits import RawFile, read_raw
from obslab.observing.types import ExposureKind, StageState

if TYPE_CHECKING:
    from obslab.access import User

#: Widths of the exposure columns ingest fills from names and headers (a longer value is refused, not cut).
WIDTHS = {"name": 160, "program": 32, "target_name": 128, "filter_name": 16, "camera_mode": 16}
MAX_PATH = 1024


@dataclass(frozen=True)
class Refusal:
    """A file not ingested, and why."""

    file: str
    reason: str


@dataclass(frozen=True)
class MissingExposure:
    """A recorded exposure with files no longer in the folder, missing since ``since``."""

    exposure: str
    files: tuple[str, ...]
    since: datetime


@dataclass(frozen=True)
class StageReset:
    """A stage set back to pending because ``because`` (a file) changed; ``exposure`` None is the night's stage."""

    stage: str
    exposure: str | None
    because: str


@dataclass(frozen=True)
class IngestReport:
    """What one ingest run did: exposures by outcome, files refused (with why) and ignored, stages reset.

    ``added``, ``updated`` and ``unchanged`` name the exposures with files in the folder; ``missing`` those with
    recorded files the folder no longer holds (an exposure may be in both, when only some of its parts went).
    """

    night: date
    directory: str
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    missing: tuple[MissingExposure, ...] = ()
    refused: tuple[Refusal, ...] = ()
    ignored: tuple[str, ...] = ()
    reset: tuple[StageReset, ...] = ()
    wrote: bool = False  # whether anything was written (a run over unchanged files writes nothing)

    @property
    def all_refused(self) -> bool:
        """Every FITS file was refused: nothing was ingested and nothing was already there."""
        return bool(self.refused) and not (self.added or self.updated or self.unchanged)

    def summary(self) -> str:
        added, refused = len(self.added), len(self.refused)
        return (
            f"{added} exposure{'' if added == 1 else 's'} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.missing)} missing, "
            f"{refused} file{'' if refused == 1 else 's'} refused"
        )

    def as_dict(self) -> dict[str, Any]:
        shown = {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}
        shown["night"] = self.night.isoformat()
        shown["missing"] = [
            item | {"files": list(item["files"]), "since": item["since"].isoformat()} for item in shown["missing"]
        ]
        shown["all_refused"] = self.all_refused
        return shown


def night_from_folder(folder: Path) -> date:
    """The night a folder named ``YYYYMMDD`` holds; refused for any other name."""
    try:
        if len(folder.name) != 8 or not folder.name.isdigit():
            raise ValueError
        return date(int(folder.name[:4]), int(folder.name[4:6]), int(folder.name[6:]))
    except ValueError:
        raise InvalidInputError(
            "DIRECTORY", folder.name, "a night folder named YYYYMMDD, or the night given with --night"
        ) from None


@dataclass
class _Folder:
    """The folder's files: FITS files grouped by exposure, the bad names refused, the rest ignored."""

    groups: dict[str, list[tuple[RawName, Path]]] = field(default_factory=lambda: defaultdict(list))
    refused: list[Refusal] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _scan(folder: Path) -> _Folder:
    found = _Folder()
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        if not path.name.endswith(SUFFIXES):
            found.ignored.append(path.name)
            continue
        try:
            name = parse_name(path.name)
        except BadNameError as error:
            found.refused.append(Refusal(path.name, str(error).removeprefix(repr(path.name)).lstrip(": ")))
            continue
        found.groups[name.exposure].append((name, path))
    return found


def _basename(frame_file: FrameFile) -> str:
    return Path(frame_file.path).name


def _fields(name: RawName, headers: list[RawHeader]) -> dict[str, Any]:
    """The exposure's columns from its name and its files' headers (the parts follow one another)."""
    first = min(headers, key=lambda header: header.date_obs)
    return {
        "kind": name.kind,
        "program": name.program or first.program,
        "target_name": name.target or first.object_name,
        "filter_name": name.filter_name or first.filter_name,
        "camera_mode": first.camera_mode,
        "exposure_s": sum(header.exptime_s * header.n_frames for header in headers),
        "started_at": first.date_obs,
        "ended_at": max(header.ended_at for header in headers),
        "ra_deg": first.ra_deg,
        "dec_deg": first.dec_deg,
        "airmass": first.airmass,
    }


def _group_problems(exposure: str, files: list[tuple[RawName, RawFile]], fields: dict[str, Any]) -> str | None:
    """Why the files cannot be one exposure, or None."""
    parts = [name.part for name, _ in files]
    if len(parts) != len(set(parts)):
        return f"exposure {exposure} has two files for the same part"
    if None in parts and len(parts) > 1:
        return f"exposure {exposure} has a whole file and parts"
    for column, width in WIDTHS.items():
        value = exposure if column == "name" else fields[column]
        if len(value) > width:
            return f"{column} {value[:40]!r}... is longer than {width} characters"
    too_long = next((raw.name for _, raw in files if len(str(raw.path)) > MAX_PATH), None)
    return f"the path of {too_long} is longer than {MAX_PATH} characters" if too_long else None


def _frame_file(raw: RawFile) -> dict[str, Any]:
    return {
        "path": str(raw.path),
        "size_bytes": raw.size_bytes,
        "sha256": raw.sha256,
        "n_frames": raw.header.n_frames,
        "header": raw.header_json,
        "modified_at": raw.modified_at,
    }


class _Run:
    """One ingest run's state: the night, the session, who acts and what was done."""

    def __init__(self, session: Session, night_date: date, site_name: str, actor: User | None, at: datetime) -> None:
        self.session, self.night_date, self.site_name, self.at = session, night_date, site_name, at
        self.actor_id = actor.id if actor is not None else None  # read once: no lazy load in the middle of a write
        self.night = session.scalar(select(Night).where(Night.night_date == night_date))
        self.added: list[str] = []
        self.updated: list[str] = []
        self.unchanged: list[str] = []
        self.missing: list[MissingExposure] = []
        self.refused: list[Refusal] = []
        self.reset: list[StageReset] = []
        self.wrote = False

    def touch(self, row: Exposure | PipelineStage) -> None:
        row.updated_at = self.at
        row.updated_by_id = self.actor_id

    def recorded(self) -> dict[str, Exposure]:
        if self.night is None:
            return {}
        query = select(Exposure).where(Exposure.night_id == self.night.id).options(selectinload(Exposure.files))
        return {exposure.name: exposure for exposure in self.session.scalars(query)}

    def refuse(self, files: list[tuple[RawName, Path]], bad: dict[str, str], exposure: str) -> None:
        """Refuse every file of ``exposure``: the bad ones with their reason, the others naming the bad ones."""
        others = ", ".join(sorted(bad))
        for _, path in files:
            reason = bad.get(path.name, f"not recorded: exposure {exposure} is refused with {others}")
            self.refused.append(Refusal(path.name, reason))

    def reset_stages(self, exposure: Exposure, kind: ExposureKind, because: str) -> None:
        """Set back to pending the stages a changed file of ``exposure`` feeds (only rows that exist)."""
        night_stages, exposure_stages = stages_reset_by(kind)
        reached = [PipelineStage.exposure_id == exposure.id] if exposure.id is not None else []
        if night_stages:
            reached.append(and_(PipelineStage.exposure_id.is_(None), PipelineStage.stage.in_(night_stages)))
        if exposure_stages:
            reached.append(and_(PipelineStage.exposure_id.is_not(None), PipelineStage.stage.in_(exposure_stages)))
        if not reached or self.night is None or self.night.id is None:
            return
        rows = self.session.scalars(
            select(PipelineStage)
            .where(PipelineStage.night_id == self.night.id, or_(*reached))
            .order_by(PipelineStage.exposure_id.is_not(None), PipelineStage.exposure_id, PipelineStage.id)
        ).all()
        if not rows:
            return
        names = dict(
            self.session.execute(select(Exposure.id, Exposure.name).where(Exposure.night_id == self.night.id)).all()
        )
        for row in rows:
            if row.state is StageState.PENDING and not row.retries and not row.force_redo and row.error is None:
                continue  # already waiting to run: nothing to write
            # The fingerprint stays: the runner compares it with the new inputs' to decide what to redo.
            row.state, row.retries, row.force_redo, row.error = StageState.PENDING, 0, False, None
            self.touch(row)
            self.reset.append(StageReset(row.stage, names.get(row.exposure_id), because))

    def ingest(self, exposure: str, files: list[tuple[RawName, Path]], existing: Exposure | None) -> None:
        bad: dict[str, str] = {}
        read: list[tuple[RawName, RawFile]] = []
        for name, path in sorted(files, key=lambda item: (item[0].part or 0, item[1].name)):
            try:
                read.append((name, read_raw(path)))
            except RawFileError as error:
                bad[path.name] = error.problem
        if not bad and existing is not None and (self.night is None or existing.night_id != self.night.id):
            bad = {path.name: f"exposure {exposure} is recorded for another night" for _, path in files}
        if bad:
            self.refuse(files, bad, exposure)
            return
        name = read[0][0]
        headers = [raw.header for _, raw in read] + self._absent_headers(existing, {raw.name for _, raw in read})
        fields = _fields(name, headers)
        problem = _group_problems(exposure, read, fields)
        if problem is not None:
            self.refuse(files, {path.name: problem for _, path in files}, exposure)
            return
        instrument = min(headers, key=lambda header: header.date_obs).instrument
        fields["configuration_id"] = configuration_id_at(self.session, instrument, fields["started_at"])
        night, kept, wrote = self.night, self._lengths(), self.wrote
        try:
            with self.session.begin_nested():
                code = fields["program"]
                fields["program_id"] = program_id_for(self.session, code, at=self.at) if code else None
                if existing is None:
                    self._add(exposure, fields, read)
                else:
                    self._update(existing, fields, read)
                flush(self.session, f"exposure {exposure}")
        except (IntegrityError, DataError) as error:  # not a lost race (flush raised those as StaleError)
            self.night, self.wrote = night, wrote  # as before the SAVEPOINT: a night made in it is gone with it
            for outcome, length in zip(self._outcomes(), kept, strict=True):
                del outcome[length:]
            reason = str(error.orig).strip().splitlines()[0]
            self.refuse(files, {path.name: f"the database refused it: {reason}" for _, path in files}, exposure)

    def _outcomes(self) -> tuple[list[Any], ...]:
        return self.added, self.updated, self.unchanged, self.missing, self.reset

    def _lengths(self) -> tuple[int, ...]:
        return tuple(len(outcome) for outcome in self._outcomes())

    def _absent_headers(self, existing: Exposure | None, present: set[str]) -> list[RawHeader]:
        """The recorded headers of the exposure's files not in the folder, so its fields stay whole."""
        headers = []
        for frame_file in existing.files if existing is not None else []:
            if _basename(frame_file) not in present:
                try:
                    headers.append(read_header(frame_file.header, _basename(frame_file)))
                except HeaderError:
                    continue
        return headers

    def _add(self, exposure: str, fields: dict[str, Any], read: list[tuple[RawName, RawFile]]) -> None:
        if self.night is None:
            self.night = Night(night_date=self.night_date, site_name=self.site_name, created_at=self.at)
            self.session.add(self.night)
        row = Exposure(name=exposure, **fields, files=[FrameFile(**_frame_file(raw)) for _, raw in read])
        self.touch(row)
        self.session.add(row)
        row.night = self.night
        flush(self.session, f"exposure {exposure}")
        self.added.append(exposure)
        self.wrote = True
        if stages_reset_by(row.kind) != ((), ()):  # a new dark or flat changes the night's calibration too
            self.reset_stages(row, row.kind, read[0][1].name)

    def _update(self, row: Exposure, fields: dict[str, Any], read: list[tuple[RawName, RawFile]]) -> None:
        by_name = {_basename(frame_file): frame_file for frame_file in row.files}
        changed: list[str] = []
        moved = False
        for _, raw in read:
            recorded = by_name.get(raw.name)
            if recorded is None:
                row.files.append(FrameFile(**_frame_file(raw)))
                changed.append(raw.name)
            elif recorded.sha256 != raw.sha256:
                for column, value in _frame_file(raw).items():
                    setattr(recorded, column, value)
                changed.append(raw.name)
            elif recorded.path != str(raw.path):  # the same file, the folder moved: follow it
                recorded.path = str(raw.path)
                moved = True
        differs = {column: value for column, value in fields.items() if getattr(row, column) != value}
        for column, value in differs.items():
            setattr(row, column, value)
        absent = tuple(sorted(set(by_name) - {raw.name for _, raw in read}))
        marked = self._mark_missing(row, absent)
        if changed or differs or moved:
            self.updated.append(row.name)
        else:
            self.unchanged.append(row.name)
        if changed or differs or moved or marked:
            self.touch(row)
            self.wrote = True
        if changed:
            flush(self.session, f"exposure {row.name}")
            self.reset_stages(row, row.kind, changed[0])

    def _mark_missing(self, row: Exposure, absent: tuple[str, ...]) -> bool:
        """Set (once) or clear the exposure's ``missing_at``; whether that changed it."""
        if absent:
            first = row.missing_at is None
            if first:
                row.missing_at = self.at
            self.missing.append(MissingExposure(row.name, absent, row.missing_at or self.at))
            return first
        if row.missing_at is not None:
            row.missing_at = None
            return True
        return False

    def gone(self, row: Exposure) -> None:
        """An exposure none of whose files is in the folder."""
        if self._mark_missing(row, tuple(sorted(_basename(frame_file) for frame_file in row.files))):
            self.touch(row)
            self.wrote = True


def ingest_night(
    session: Session,
    directory: str | Path,
    *,
    night_date: date | None = None,
    site_name: str,
    now: Clock = utcnow,
    actor: User | None = None,
) -> IngestReport:
    """Ingest the raw files of one night folder; the caller owns the transaction.

    Parameters
    ----------
    directory
        The night folder; its ``*.fits`` and ``*.fits.bz2`` files are read, other files listed as ignored.
    night_date
        The night the files belong to; by default the folder's name, which must then be ``YYYYMMDD``.
    site_name
        The site recorded on a new night.
    actor
        Who runs the ingest (the pipeline account), for the audit event and the rows' ``updated_by``;
        None records "system".

    Returns
    -------
    IngestReport
        Exposures added, updated, unchanged and missing, the files refused with why, the files ignored and the
        stages reset. An audit event ``night.ingested`` with the counts is added when the run wrote anything.
    """
    folder = Path(directory).expanduser().resolve()
    if not folder.is_dir():
        raise NotFoundError(f"{folder} is not a folder: give a night folder of raw FITS files")
    night = night_date if night_date is not None else night_from_folder(folder)
    run = _Run(session, night, site_name, actor, now())
    found = _scan(folder)
    run.refused.extend(found.refused)
    recorded = run.recorded()
    for exposure in sorted(found.groups):
        existing = recorded.get(exposure)
        if existing is None:
            existing = session.scalar(
                select(Exposure).where(Exposure.name == exposure).options(selectinload(Exposure.files))
            )
        run.ingest(exposure, found.groups[exposure], existing)
    for name, row in sorted(recorded.items()):
        if name not in found.groups:
            run.gone(row)
    report = IngestReport(
        night=night,
        directory=str(folder),
        added=tuple(run.added),
        updated=tuple(run.updated),
        unchanged=tuple(run.unchanged),
        missing=tuple(sorted(run.missing, key=lambda item: item.exposure)),
        refused=tuple(sorted(run.refused, key=lambda item: item.file)),
        ignored=tuple(found.ignored),
        reset=tuple(run.reset),
        wrote=run.wrote,
    )
    if run.wrote:
        counts = {key: len(value) for key, value in report.as_dict().items() if isinstance(value, list)}
        record_event(
            session,
            actor=actor,
            action="night.ingested",
            entity_type="night",
            entity_id=night.isoformat(),
            after=counts | {"directory": str(folder)},
            now=lambda: run.at,
        )
        flush(session, f"the night of {night.isoformat()}")
    return report
