"""Run a night's pipeline: plan each wave of stages, send what must run to the executor, write results as they come.

Waves follow the graph (calibration; seeing and stacks; Strehl; previews). Before a wave its stages are
decided and queued in one transaction; the executor's workers compute and write products; this process alone
writes the database, one transaction per result. A run that is killed leaves stages queued or running,
which the next run takes as not done; a killed worker's partial file is swept at the next start.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from obslab.db import Clock, transaction, utcnow
from obslab.observing.alarm_rules import AlarmRules
from obslab.observing.pipeline import writer
from obslab.observing.pipeline.executors import Executor
from obslab.observing.pipeline.graph import EXPOSURE_STAGES, NIGHT_STAGES
from obslab.observing.pipeline.night_lock import night_lock
from obslab.observing.pipeline.planning import Decision, NightPlanner, find_night, night_key
from obslab.observing.pipeline.products import night_folder, remove_replaced, sweep_partials
from obslab.observing.pipeline.tasks import run_task
from obslab.observing.types import StageState

WAVES = (("calibration",), ("seeing", "stack"), ("strehl",), ("preview",))
#: How each outcome reads in the summary, in the order the summary lists them.
OUTCOMES = ("done", "up to date", "failed", "gave up", "waiting")


@dataclass(frozen=True)
class StageOutcome:
    stage: str
    exposure: str | None
    outcome: str  # one of OUTCOMES
    reason: str = ""


@dataclass(frozen=True)
class RunSummary:
    night: str
    executor: str
    outcomes: tuple[StageOutcome, ...] = field(default=())
    swept: tuple[str, ...] = field(default=())

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(o.outcome for o in self.outcomes)
        return {name: found.get(name, 0) for name in OUTCOMES}

    def as_dict(self) -> dict[str, Any]:
        return {
            "night": self.night,
            "executor": self.executor,
            "counts": self.counts,
            "stages": [asdict(o) for o in self.outcomes],
            "partial_files_removed": list(self.swept),
        }


@dataclass
class RunOptions:
    stages: tuple[str, ...] = NIGHT_STAGES + EXPOSURE_STAGES
    exposures: set[str] | None = None  # science exposures by name; None: all of the night
    force: bool = False
    max_retries: int = 3
    alarm_rules: AlarmRules | None = None  # None: no alarms raised (the command passes the deployment's rules)


def planned_count(sessions: sessionmaker[Session], key: str, options: RunOptions) -> int:
    """How many stage decisions a run will make (for a progress bar)."""
    with sessions() as session:
        night = find_night(session, key)
        planner = NightPlanner(session, night, Path("."), max_retries=options.max_retries)
        science = len(planner.science(options.exposures))
    return sum(1 for s in options.stages if s in NIGHT_STAGES) + science * sum(
        1 for s in options.stages if s in EXPOSURE_STAGES
    )


def _decide_wave(
    session: Session, key: str, wave: tuple[str, ...], products_dir: Path, options: RunOptions
) -> list[Decision]:
    night = find_night(session, key)
    planner = NightPlanner(session, night, products_dir, max_retries=options.max_retries)
    decisions: list[Decision] = []
    for stage in wave:
        if stage not in options.stages:
            continue
        if stage == "calibration":
            decisions.append(planner.calibration(options.force))
        elif stage == "seeing":
            decisions.append(planner.seeing(options.force))
        else:
            decisions += [planner.exposure_stage(stage, e, options.force) for e in planner.science(options.exposures)]
    return decisions


def run_night(
    sessions: sessionmaker[Session],
    key: str,
    executor: Executor,
    *,
    products_dir: Path,
    options: RunOptions | None = None,
    now: Clock = utcnow,
    on_outcome: Callable[[StageOutcome], None] = lambda outcome: None,
) -> RunSummary:
    """Bring night ``key`` (YYYYMMDD) up to date; stages already up to date are skipped, never rerun.

    One run per night at a time: another run of the same night is refused (ConflictError) before anything runs.
    """
    options = options or RunOptions()
    products_dir = products_dir.resolve()
    with night_lock(products_dir, key):
        return _run_locked(sessions, key, executor, products_dir, options, now, on_outcome)


def _run_locked(
    sessions: sessionmaker[Session],
    key: str,
    executor: Executor,
    products_dir: Path,
    options: RunOptions,
    now: Clock,
    on_outcome: Callable[[StageOutcome], None],
) -> RunSummary:
    swept = sweep_partials(night_folder(products_dir, key))
    outcomes: list[StageOutcome] = []

    def record(outcome: StageOutcome) -> None:
        outcomes.append(outcome)
        on_outcome(outcome)

    for wave in WAVES:
        with transaction(sessions) as session:
            decisions = _decide_wave(session, key, wave, products_dir, options)
            to_run = [d for d in decisions if d.action == "run"]
            for decision in decisions:
                if decision.action == "cannot":
                    writer.fail(session, decision.stage_id, decision.reason, now=now())
            writer.mark(session, [d.stage_id for d in to_run], StageState.QUEUED, now=now())
        for decision in decisions:
            if decision.action == "cannot":
                record(StageOutcome(decision.stage, decision.exposure, "failed", decision.reason))
            elif decision.action != "run":
                record(StageOutcome(decision.stage, decision.exposure, decision.action, decision.reason))
        if not to_run:
            continue
        with transaction(sessions) as session:
            writer.mark(session, [d.stage_id for d in to_run], StageState.RUNNING, now=now())
        for task, result, error in executor.run(run_task, [d.task for d in to_run]):
            replaced: list[str] = []
            with transaction(sessions) as session:
                if error is None:
                    problem = writer.apply(
                        session, task, result, now=now(), rules=options.alarm_rules, replaced=replaced
                    )
                else:
                    problem = _readable(error)
                    writer.fail(session, task["stage_id"], problem, now=now(), fingerprint=task["fingerprint"])
            remove_replaced(products_dir, replaced)  # committed: the rows are gone, so the files go too
            record(StageOutcome(task["stage"], task["exposure"], "failed" if problem else "done", problem))
    return RunSummary(key, executor.name, tuple(outcomes), tuple(str(p) for p in swept))


def _readable(error: BaseException) -> str:
    """A worker's exception as one line people can read (its type only when the message alone would be unclear)."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    kind = type(error).__name__
    if kind == "KilledWorker":
        return f"the worker running it died ({message})"
    return message if kind in ("ValueError", "RawFileError") and message else f"{kind}: {message}"


__all__ = ["RunOptions", "RunSummary", "StageOutcome", "night_key", "run_night", "planned_count"]
