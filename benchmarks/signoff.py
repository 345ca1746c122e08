"""Benchmark: express approval of 1,000 obsids, the sign-off board of 5,000 open revisions; obslab vs a seed-style Ocat.

The peer is the Chandra Ocat's own way (seed §1.2, §1.6-1.7), rebuilt on the same inputs: SQL built per
obsid on a plain sqlite3 connection, a text "approved" list backed up before each write, one data-record
file per revision, and a status page that opens each revision's file to look for new comments.

    .venv/bin/python benchmarks/signoff.py [--express 1000] [--open 5000] [--keep]

The last line printed is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, update  # noqa: E402

from obslab import schema  # noqa: E402
from obslab.access import find_user  # noqa: E402
from obslab.catalog.changes.express import express_approve  # noqa: E402
from obslab.catalog.changes.submit import submit_change  # noqa: E402
from obslab.catalog.changes.views.board import board  # noqa: E402
from obslab.catalog.models import Observation, ObservationParameter, ObservationStatus  # noqa: E402
from obslab.db import make_engine, make_session_factory  # noqa: E402
from obslab.users import add_user  # noqa: E402
from tests.helpers.bulk_catalog import FIRST_OBSID, insert_observations  # noqa: E402
from tests.helpers.catalog_world import ACIS_S  # noqa: E402

EDITABLE = ("unobserved", "scheduled", "untriggered")
AREAS = ("general", "acis", "acis_si", "hrc_si", "usint_verification")


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def timed(action: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


# --- obslab ------------------------------------------------------------------------------------------


def build_obslab(url: str, count: int) -> list[dict[str, Any]]:
    schema.upgrade(url)
    engine = make_engine(url)
    rows = insert_observations(engine, count, seed=7)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        for name, roles in (("pat", ["usint"]), ("ops", ["arcops"]), ("acisa", ["acis"])):
            add_user(session, name, roles, email=f"{name}@obs.example")
        # One in ten has no SI mode yet (express approval must refuse those).
        session.execute(update(Observation).where(Observation.obsid % 10 != 0).values(si_mode="TE_0002A"))
        ids = dict(session.execute(select(Observation.obsid, Observation.id)).all())
        params = [
            {"observation_id": ids[r["obsid"]], "name": name, "rank": 0, "value": value}
            for r in rows
            for name, value in {**ACIS_S, "instrument": "ACIS-S"}.items()
        ]
        for start in range(0, len(params), 20_000):
            session.execute(insert(ObservationParameter), params[start : start + 20_000])
    engine.dispose()
    return rows


def open_revisions_obslab(url: str, obsids: list[int], count: int, rng: random.Random) -> None:
    """``count`` open revisions submitted through the service (setup, not timed)."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        pat = find_user(session, "pat")
        versions = dict(
            session.execute(select(Observation.obsid, Observation.version).where(Observation.obsid.in_(obsids))).all()
        )
        for n in range(count):
            obsid = obsids[n % len(obsids)]
            edits = [("y_det_offset", 0, round(rng.uniform(-5, 5), 3)), ("frame_time", 0, rng.choice([2.5, 2.8, 3.0]))]
            if n % 7 == 0:
                edits.append(("comments", 0, f"please check {n}"))
            revision, _check = submit_change(
                session, pat, obsid, seen_version=versions[obsid], edits=edits, notify=False
            )
            versions[obsid] = revision.observation.version
    engine.dispose()


def express_obslab(url: str, obsids: list[int]) -> int:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        result = express_approve(session, find_user(session, "pat"), obsids)
    engine.dispose()
    return len(result.approved)


def board_obslab(url: str) -> int:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        rows = board(session, find_user(session, "ops"))
    engine.dispose()
    return len(rows)


# --- the seed's way ------------------------------------------------------------------------------------


class SeedOcat:
    """The Ocat's storage and pages as the seed describes them: sqlite3, f-string SQL, text files."""

    def __init__(self, directory: Path, observations: list[dict[str, Any]]) -> None:
        self.directory = directory
        self.updates = directory / "updates"
        self.updates.mkdir(parents=True)
        self.approved = directory / "approved"
        self.approved.write_text(
            "".join(f"{r['obsid']}\t{r['sequence_number']}\tpoc\t01/01/26\n" for r in observations if r["approved"])
        )
        self.ocat = sqlite3.connect(directory / "ocat.db")
        self.ocat.execute(
            "CREATE TABLE target (obsid INTEGER PRIMARY KEY, seq_nbr TEXT, status TEXT, si_mode TEXT, targname TEXT)"
        )
        self.ocat.executemany(
            "INSERT INTO target VALUES (?, ?, ?, ?, ?)",
            [
                (
                    r["obsid"],
                    r["sequence_number"],
                    r["status"].value if hasattr(r["status"], "value") else r["status"],
                    None if r["obsid"] % 10 == 0 else "TE_0002A",
                    r["target_name"],
                )
                for r in observations
            ],
        )
        self.ocat.commit()
        self.db = sqlite3.connect(directory / "updates_table.db", isolation_level=None)
        self.db.execute(
            "CREATE TABLE revisions (obsidrev TEXT, general_signoff TEXT, general_date TEXT, "
            "acis_signoff TEXT, acis_date TEXT, "
            "acis_si_mode_signoff TEXT, acis_si_mode_date TEXT, hrc_si_mode_signoff TEXT, hrc_si_mode_date TEXT, "
            "usint_verification TEXT, usint_date TEXT, sequence TEXT, submitter TEXT, rev_time INTEGER)"
        )

    def _next_rev(self, obsid: int) -> int:
        revs = [
            int(row[0].split(".")[1])
            for row in self.db.execute(f"SELECT obsidrev FROM revisions WHERE obsidrev LIKE '{obsid}.%'")
        ]
        return max(revs, default=0) + 1

    def submit(
        self, obsid: int, seq: str, general: str | None, acis: str | None, acis_si: str | None, text: str
    ) -> str:
        label = f"{obsid}.{self._next_rev(obsid):03d}"
        (self.updates / label).write_text(text)
        cells = [f"'{v}'" if v else "NULL" for v in (general, acis, acis_si)]
        self.db.execute(
            f"INSERT INTO revisions VALUES ('{label}', {cells[0]}, NULL, {cells[1]}, NULL, "
            f"{cells[2]}, NULL, NULL, NULL, "
            f"'NA', NULL, '{seq}', 'pat', {int(time.time())})"
        )
        return label

    def express(self, obsids: list[int]) -> int:
        approved = {int(line.split("\t")[0]) for line in self.approved.read_text().splitlines() if line}
        done = 0
        for obsid in obsids:
            row = self.ocat.execute(f"SELECT status, si_mode, seq_nbr FROM target WHERE obsid = {obsid}").fetchone()
            if row is None or row[0] not in EDITABLE or obsid in approved or not row[1]:
                continue
            label = f"{obsid}.{self._next_rev(obsid):03d}"
            (self.updates / label).write_text(f"OBSID: {obsid}\nSEQNUM: {row[2]}\nUSER NAME: pat\nVERIFIED OK AS IS\n")
            self.db.execute(
                f"INSERT INTO revisions VALUES ('{label}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'pat', "
                f"'01/01/26', '{row[2]}', 'pat', {int(time.time())})"
            )
            shutil.copy(self.approved, self.directory / "approved~")  # the Ocat backs the list up before each write
            with self.approved.open("a") as handle:
                handle.write(f"{obsid}\t{row[2]}\tpat\t01/01/26\n")
            approved.add(obsid)
            done += 1
        return done

    def board(self) -> int:
        rows = self.db.execute("SELECT * FROM revisions ORDER BY rev_time DESC").fetchall()
        open_rows = [r for r in rows if "NA" in (r[1], r[3], r[5], r[7], r[9])]
        per_obsid = Counter(r[0].split(".")[0] for r in open_rows)
        shown = []
        for r in open_rows:
            record = (self.updates / r[0]).read_text()
            shown.append(
                (
                    r[0],
                    "NEW COMMENTS" in record,
                    per_obsid[r[0].split(".")[0]] > 1,
                    r[1] == "NA",
                    r[3] == "NA",
                    r[5] == "NA",
                )
            )
        return len(shown)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=(
            "Benchmark: express approval of 1,000 obsids and the sign-off board with 5,000 open revisions, "
            "obslab beside a seed-style Ocat."
        )
    )
    parser.add_argument("--express", type=int, default=1000, help="obsids in the express-approval list")
    parser.add_argument("--open", type=int, default=5000, help="open revisions on the board")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="obslab-signoff-bench-"))
    result: dict[str, Any] = {"express_obsids": args.express, "open_revisions": args.open}
    try:
        rng = random.Random(11)
        url = f"sqlite:///{work / 'obslab.sqlite3'}"
        count = args.express + 1000
        log(f"building {count:,} observations with parameters (obslab) and the same in the seed's layout")
        observations = build_obslab(url, count)
        seed = SeedOcat(work / "seed", observations)
        express_list = [FIRST_OBSID + n for n in range(args.express)]
        board_obsids = [
            FIRST_OBSID + args.express + n
            for n in range(1000)
            if observations[args.express + n]["status"] in (ObservationStatus.UNOBSERVED, ObservationStatus.SCHEDULED)
        ]

        # The board first: express approvals close at once and would join the board as recently closed rows.
        log(f"submitting {args.open:,} open revisions (setup, not timed)")
        open_revisions_obslab(url, board_obsids, args.open, rng)
        for n in range(args.open):
            obsid = board_obsids[n % len(board_obsids)]
            seed.submit(
                obsid, str(obsid), "NA", "NA", "NA", "y_det_offset changed\n" + ("NEW COMMENTS\n" if n % 7 == 0 else "")
            )
        log("building the board")
        obslab_board_s, obslab_rows = timed(lambda: board_obslab(url))
        seed_board_s, seed_rows = timed(seed.board)
        log(
            f"  obslab {obslab_board_s:.3f} s for {obslab_rows:,} rows, "
            f"seed-style {seed_board_s:.3f} s for {seed_rows:,} rows"
        )
        log(f"express approval of {args.express:,} obsids")
        obslab_express_s, obslab_approved = timed(lambda: express_obslab(url, express_list))
        seed_express_s, seed_approved = timed(lambda: seed.express(express_list))
        assert obslab_approved == seed_approved, (obslab_approved, seed_approved)
        log(
            f"  obslab {obslab_express_s:.3f} s, seed-style {seed_express_s:.3f} s ({obslab_approved} approved by each)"
        )

        result.update(
            {
                "express_s": {"obslab": round(obslab_express_s, 4), "seed_style": round(seed_express_s, 4)},
                "express_approved": obslab_approved,
                "board_s": {"obslab": round(obslab_board_s, 4), "seed_style": round(seed_board_s, 4)},
                "board_rows": {"obslab": obslab_rows, "seed_style": seed_rows},
                "ratio_obslab_over_seed": {
                    "express": round(obslab_express_s / seed_express_s, 2),
                    "board": round(obslab_board_s / seed_board_s, 2),
                },
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        print(f"\n  {'':<28}{'obslab':>10}{'seed-style':>12}{'obslab/seed':>13}")
        print(
            f"  {'express approval (s)':<28}{obslab_express_s:>10.3f}{seed_express_s:>12.3f}"
            f"{obslab_express_s / seed_express_s:>13.2f}"
        )
        print(
            f"  {'board build (s)':<28}{obslab_board_s:>10.3f}{seed_board_s:>12.3f}"
            f"{obslab_board_s / seed_board_s:>13.2f}\n"
        )
    except Exception as error:  # noqa: BLE001 - always print a RESULT line
        result["error"] = f"{type(error).__name__}: {error}"
        raise
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        print("RESULT " + json.dumps(result, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
