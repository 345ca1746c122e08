"""Which stages of a night must run: fingerprints from what is recorded, compared with the last run's (reads only).

A stage runs when forced, when it never finished, when its inputs fingerprint changed, or when a product it
recorded is gone; never otherwise. A failed stage with an unchanged fingerprint is retried until it has
failed ``max_retries`` times, then left failed until its inputs change or it is forced.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from obslab import __version__
from obslab.errors import InvalidInputError, NotFoundError
from obslab.observing.models import DataProduct, Exposure, Night, PipelineStage
from obslab.observing.pipeline.fingerprint import fingerprint
from obslab.observing.pipeline.graph import EXPOSURE_STAGES, NIGHT_STAGES, STAGE_VERSIONS
from obslab.observing.pipeline.photometry import APERTURE_ARCSEC, SKY_INNER_ARCSEC, ZERO_POINTS
from obslab.observing.pipeline.stages import MIN_DARK_FRAMES, MIN_FLAT_FRAMES
from obslab.observing.types import ExposureKind, StageState

PARAMETERS: dict[str, dict[str, Any]] = {
    "calibration": {"min_darks": MIN_DARK_FRAMES, "min_flats": MIN_FLAT_FRAMES, "sigma": 3.0},
    "seeing": {},
    "stack": {"fraction": 0.2},
    "strehl": {
        "box_arcsec": 3.0,
        "aperture_arcsec": APERTURE_ARCSEC,
        "sky_inner_arcsec": SKY_INNER_ARCSEC,
        "zero_points": dict(ZERO_POINTS),
    },
    "preview": {"scale_bar_arcsec": 1.0},
}


@dataclass(frozen=True)
class Decision:
    """One stage of one exposure (or the night): run it, or why not."""

    stage: str
    exposure: str | None
    stage_id: int
    action: str  # "run", "up to date", "gave up", "waiting"
    reason: str = ""
    task: dict[str, Any] = field(default_factory=dict)


def night_key(night_date: date) -> str:
    return night_date.strftime("%Y%m%d")


def find_night(session: Session, key: str) -> Night:
    try:
        wanted = date(int(key[:4]), int(key[4:6]), int(key[6:8])) if len(key) == 8 and key.isdigit() else None
    except ValueError:
        wanted = None
    if wanted is None:
        raise InvalidInputError("night", key, "a night as YYYYMMDD, e.g. 20261205")
    night = session.scalar(select(Night).where(Night.night_date == wanted))
    if night is None:
        raise NotFoundError(f"night {key} has no exposures recorded; ingest it first (obslab observe ingest)")
    return night


def stage_row(session: Session, night: Night, exposure: Exposure | None, stage: str) -> PipelineStage:
    """The stage's status row, made pending on first sight."""
    query = select(PipelineStage).where(PipelineStage.night_id == night.id, PipelineStage.stage == stage)
    query = query.where(
        PipelineStage.exposure_id == exposure.id if exposure is not None else PipelineStage.exposure_id.is_(None)
    )
    row = session.scalar(query)
    if row is None:
        row = PipelineStage(
            night_id=night.id, exposure_id=exposure.id if exposure else None, stage=stage, state=StageState.PENDING
        )
        session.add(row)
        session.flush()
    return row


def products_of(session: Session, night: Night, exposure: Exposure | None, stage: str) -> dict[str, DataProduct]:
    query = select(DataProduct).where(DataProduct.night_id == night.id, DataProduct.stage == stage)
    query = query.where(
        DataProduct.exposure_id == exposure.id if exposure is not None else DataProduct.exposure_id.is_(None)
    )
    return {product.kind: product for product in session.scalars(query)}


def decide(
    row: PipelineStage, new_fingerprint: str, products: dict[str, DataProduct], *, force: bool, max_retries: int
) -> tuple[str, str]:
    """(action, reason) for one stage from its row, its new fingerprint and its recorded products (pure)."""
    if force or row.force_redo:
        return "run", "forced"
    changed = row.inputs_fingerprint != new_fingerprint
    if row.state is StageState.DONE and not changed:
        gone = [p.kind for p in products.values() if not Path(p.path).is_file()]
        return ("run", f"product gone: {', '.join(gone)}") if gone else ("up to date", "")
    if row.state is StageState.FAILED and not changed and row.retries >= max_retries:
        return "gave up", f"failed {row.retries} times, last: {row.error or 'no reason recorded'}"
    if row.state is StageState.DONE:
        return "run", "inputs changed"
    return "run", "never finished" if row.state is not StageState.FAILED else f"retry {row.retries + 1}"


def _provenance(stage: str, print_: str) -> dict[str, Any]:
    return {"obslabv": __version__, "stage": stage, "stagev": STAGE_VERSIONS[stage], "fingerpr": print_}


class NightPlanner:
    """The decisions for one night, stage by stage, reading what the database and the products folder hold."""

    def __init__(self, session: Session, night: Night, products_dir: Path, *, max_retries: int) -> None:
        self.session, self.night, self.products_dir, self.max_retries = session, night, products_dir, max_retries
        self.key = night_key(night.night_date)
        self.exposures = list(
            session.scalars(
                select(Exposure)
                .where(Exposure.night_id == night.id, Exposure.missing_at.is_(None))
                .options(selectinload(Exposure.files))
                .order_by(Exposure.started_at)
            )
        )

    def of_kind(self, *kinds: ExposureKind) -> list[Exposure]:
        return [e for e in self.exposures if e.kind in kinds]

    def _decision(
        self, stage: str, exposure: Exposure | None, inputs: list[str], task: dict[str, Any], force: bool
    ) -> Decision:
        row = stage_row(self.session, self.night, exposure, stage)
        print_ = fingerprint(stage, inputs, PARAMETERS[stage])
        action, reason = decide(
            row,
            print_,
            products_of(self.session, self.night, exposure, stage),
            force=force,
            max_retries=self.max_retries,
        )
        name = exposure.name if exposure is not None else None
        base = {
            "stage": stage,
            "night": self.key,
            "exposure": name,
            "stage_id": row.id,
            "fingerprint": print_,
            "products_dir": str(self.products_dir),
            "parameters": PARAMETERS[stage],
            "provenance": _provenance(stage, print_),
        }
        return Decision(stage, name, row.id, action, reason, {**base, **task} if action == "run" else {})

    def _waiting(self, stage: str, exposure: Exposure | None, reason: str) -> Decision:
        row = stage_row(self.session, self.night, exposure, stage)
        return Decision(stage, exposure.name if exposure else None, row.id, "waiting", reason)

    # -- the night's calibration ---------------------------------------------------------------------------

    def calibration(self, force: bool) -> Decision:
        darks: dict[str, list[Exposure]] = defaultdict(list)
        flats: dict[str, list[Exposure]] = defaultdict(list)
        for exposure in self.of_kind(ExposureKind.DARK):
            darks[exposure.camera_mode].append(exposure)
        for exposure in self.of_kind(ExposureKind.FLAT):
            flats[exposure.filter_name].append(exposure)
        users = self.of_kind(ExposureKind.SCIENCE, ExposureKind.SEEING)
        modes = {e.camera_mode for e in users} | {e.camera_mode for f in flats.values() for e in f} | set(darks)
        filters = {e.filter_name for e in users} | set(flats)
        task: dict[str, Any] = {"darks": {}, "flats": {}, "copies": [], "raw": []}
        inputs: list[str] = []
        own_modes = set()
        for mode in sorted(modes):
            frames = sum(f.n_frames for e in darks.get(mode, []) for f in e.files)
            if frames >= MIN_DARK_FRAMES:
                own_modes.add(mode)
                task["darks"][mode] = [f.path for e in darks[mode] for f in e.files]
                inputs += [f.sha256 for e in darks[mode] for f in e.files]
            elif not self._copy("dark", mode, task, inputs):
                return self._failed_plan(
                    f"camera mode {mode}: {frames} dark frames this night, {MIN_DARK_FRAMES} needed, "
                    "and no other night's calibration to copy"
                )
        for filter_name in sorted(filters):
            frames = sum(f.n_frames for e in flats.get(filter_name, []) for f in e.files)
            if frames >= MIN_FLAT_FRAMES:
                mode = flats[filter_name][0].camera_mode
                task["flats"][filter_name] = (mode, [f.path for e in flats[filter_name] for f in e.files])
                inputs += [f.sha256 for e in flats[filter_name] for f in e.files]
            elif not self._copy("flat", filter_name, task, inputs):
                return self._failed_plan(
                    f"filter {filter_name}: {frames} flat frames this night, {MIN_FLAT_FRAMES} needed, "
                    "and no other night's calibration to copy"
                )
        return self._decision("calibration", None, inputs, task, force)

    def _failed_plan(self, reason: str) -> Decision:
        row = stage_row(self.session, self.night, None, "calibration")
        return Decision("calibration", None, row.id, "cannot", reason)

    def _copy(self, kind: str, key: str, task: dict[str, Any], inputs: list[str]) -> bool:
        """Use the nearest other night's done calibration product for ``kind`` and ``key``; False if none."""
        query = (
            select(DataProduct, Night.night_date)
            .join(Night, Night.id == DataProduct.night_id)
            .join(PipelineStage, (PipelineStage.night_id == Night.id) & PipelineStage.exposure_id.is_(None))
            .where(
                DataProduct.stage == "calibration",
                DataProduct.exposure_id.is_(None),
                DataProduct.kind == f"{kind}_{key}",
                Night.id != self.night.id,
                PipelineStage.stage == "calibration",
                PipelineStage.state == StageState.DONE,
            )
        )
        candidates = [
            (abs((night_date - self.night.night_date).days), night_date, product)
            for product, night_date in self.session.execute(query)
            if not product.provenance.get("calib", "").startswith("copied")  # copy only what a night measured
            and Path(product.path).is_file()
        ]
        if not candidates:
            return False
        _, night_date, product = min(candidates, key=lambda c: (c[0], c[1]))
        task["copies"].append((kind, key, product.path, night_key(night_date)))
        inputs.append(product.sha256)
        return True

    def calibration_products(self) -> dict[str, DataProduct] | None:
        row = stage_row(self.session, self.night, None, "calibration")
        return products_of(self.session, self.night, None, "calibration") if row.state is StageState.DONE else None

    # -- per exposure, and the night's seeing ------------------------------------------------------------------

    def _calibration_for(self, exposure: Exposure, calib: dict[str, DataProduct] | None) -> tuple[Any, Any] | str:
        if calib is None:
            return "the night's calibration is not done"
        dark, flat = calib.get(f"dark_{exposure.camera_mode}"), calib.get(f"flat_{exposure.filter_name}")
        if dark is None or flat is None:
            return f"no calibration for camera mode {exposure.camera_mode} and filter {exposure.filter_name}"
        return dark, flat

    def seeing(self, force: bool) -> Decision:
        calib = self.calibration_products()
        entries, inputs = [], []
        for exposure in self.of_kind(ExposureKind.SEEING):
            found = self._calibration_for(exposure, calib)
            if isinstance(found, str):
                return self._waiting("seeing", None, f"{exposure.name}: {found}")
            dark, flat = found
            entries.append(
                {
                    "name": exposure.name,
                    "raw": [f.path for f in exposure.files],
                    "dark": dark.path,
                    "flat": flat.path,
                    "filter": exposure.filter_name,
                    "started_at": exposure.started_at.strftime("%Y-%m-%dT%H:%M:%S"),
                }
            )
            inputs += [f.sha256 for f in exposure.files] + [dark.sha256, flat.sha256]
        if not entries:
            return self._waiting("seeing", None, "no seeing exposures this night")
        return self._decision("seeing", None, inputs, {"exposures": entries}, force)

    def exposure_stage(self, stage: str, exposure: Exposure, force: bool) -> Decision:
        if stage == "stack":
            found = self._calibration_for(exposure, self.calibration_products())
            if isinstance(found, str):
                return self._waiting(stage, exposure, found)
            dark, flat = found
            raw = [f.path for f in exposure.files]
            inputs = [f.sha256 for f in exposure.files] + [dark.sha256, flat.sha256]
            return self._decision(stage, exposure, inputs, {"raw": raw, "dark": dark.path, "flat": flat.path}, force)
        upstream = stage_row(self.session, self.night, exposure, "stack")
        stacks = products_of(self.session, self.night, exposure, "stack")
        if upstream.state is not StageState.DONE or not {"stack_best", "stack_all"} <= set(stacks):
            return self._waiting(stage, exposure, "the stack is not done")
        inputs = [stacks["stack_best"].sha256, stacks["stack_all"].sha256]
        frames = sum(f.n_frames for f in exposure.files)
        # Seconds per frame (ingest sums EXPTIME x frames), for the magnitude's counts per second. No input of its
        # own: it comes from the raw files, whose change changes the stacks (their headers carry its fingerprint).
        frame_seconds = exposure.exposure_s / frames if frames else 0.0
        if stage == "preview":
            strehl = stage_row(self.session, self.night, exposure, "strehl")
            if strehl.state is not StageState.DONE:
                return self._waiting(stage, exposure, "the Strehl ratio is not measured")
            inputs.append(strehl.inputs_fingerprint)
        task = {
            "stack_best": stacks["stack_best"].path,
            "stack_all": stacks["stack_all"].path,
            "filter": exposure.filter_name,
            "frame_seconds": frame_seconds,
        }
        return self._decision(stage, exposure, inputs, task, force)

    def science(self, names: set[str] | None) -> list[Exposure]:
        chosen = [e for e in self.of_kind(ExposureKind.SCIENCE) if names is None or e.name in names]
        if names is not None and len(chosen) != len(names):
            unknown = sorted(names - {e.name for e in chosen})
            raise InvalidInputError("exposure", ", ".join(unknown), f"a science exposure of night {self.key}")
        return chosen


def stage_names() -> tuple[str, ...]:
    return (*NIGHT_STAGES, *EXPOSURE_STAGES)
