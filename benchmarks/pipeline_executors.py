"""Benchmark: a whole night's pipeline on a thread pool in one process against a dask LocalCluster, same night.

The issue behind it (15) asks to measure both on one machine and run local nights on the faster. Each round
reduces the same ingested night from scratch (``--force``: every stage of every exposure) once per executor, in
alternating order; the LocalCluster's start is timed apart from the run, since ``obslab pipeline run`` pays it
once per command. Both write the same products: the benchmark checks that each run's products have the same
checksums.

    .venv/bin/python benchmarks/pipeline_executors.py [--science 8] [--frames 300] [--rounds 2] [--workers 2]

The last line printed is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NIGHT_DATE = "20261205"
NIGHT_KEY = "20261205"


def build(folder: Path, science: int, frames: int) -> tuple[Any, Path]:
    """A migrated SQLite database holding one written and ingested night; its session factory and raw folder."""
    from obslab import schema
    from obslab.db import make_engine, make_session_factory
    from obslab.observing.ingest import ingest_night
    from obslab.observing.night_files import write_night

    url = f"sqlite:///{folder / 'obslab.db'}"
    schema.upgrade(url)
    sessions = make_session_factory(make_engine(url))
    write_night(folder / "raw", NIGHT_DATE, seed=7, n_science=science, frames_per_cube=frames)
    with sessions() as session, session.begin():
        report = ingest_night(session, folder / "raw" / NIGHT_KEY, site_name="Kitt Peak")
        if report.refused:
            raise RuntimeError(f"ingest refused {report.refused}")
    return sessions, folder / "raw"


def products_checksums(products: Path) -> dict[str, str]:
    from obslab.observing.pipeline.products import sha256_file

    return {str(p.relative_to(products)): sha256_file(p) for p in sorted(products.rglob("*")) if p.is_file()}


def run_once(sessions: Any, executor: Any, products: Path) -> tuple[float, dict[str, int]]:
    from obslab.observing.pipeline.runner import RunOptions, run_night

    began = time.perf_counter()
    summary = run_night(sessions, NIGHT_KEY, executor, products_dir=products, options=RunOptions(force=True))
    seconds = time.perf_counter() - began
    if summary.counts["failed"] or summary.counts["gave up"]:
        raise RuntimeError(f"{executor.name}: {[o for o in summary.outcomes if o.outcome != 'done']}")
    return seconds, summary.counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--science", type=int, default=8, help="science exposures in the night")
    parser.add_argument("--frames", type=int, default=300, help="frames per science cube (256 x 256)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="threads, or dask worker processes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # dask's and astropy's advisory warnings
    from obslab.observing.pipeline.executors import DaskExecutor, ThreadExecutor

    folder = Path(tempfile.mkdtemp(prefix="obslab-pipeline-bench-"))
    result: dict[str, Any] = {
        "benchmark": "pipeline_executors",
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "science_exposures": args.science,
        "frames_per_cube": args.frames,
        "workers": args.workers,
        "rounds": [],
    }
    try:
        began = time.perf_counter()
        sessions, _raw = build(folder, args.science, args.frames)
        result["setup_seconds"] = round(time.perf_counter() - began, 1)
        print(
            f"night written and ingested in {result['setup_seconds']} s: {args.science} science cubes of "
            f"{args.frames} frames",
            flush=True,
        )
        checksums: dict[str, dict[str, str]] = {}
        for round_number in range(args.rounds):
            order = ("threads", "dask") if round_number % 2 == 0 else ("dask", "threads")
            found: dict[str, Any] = {}
            for name in order:
                products = folder / f"products-{name}"
                began = time.perf_counter()
                executor = ThreadExecutor(args.workers) if name == "threads" else DaskExecutor(workers=args.workers)
                started = time.perf_counter() - began
                try:
                    seconds, counts = run_once(sessions, executor, products)
                finally:
                    executor.close()
                checksums[name] = products_checksums(products)
                found[name] = {"start_seconds": round(started, 2), "run_seconds": round(seconds, 2), "counts": counts}
                print(
                    f"round {round_number + 1}  {executor.name:32s} start {started:5.2f} s  run {seconds:6.2f} s  "
                    f"{counts['done']} stages",
                    flush=True,
                )
            result["rounds"].append(found)
        same = checksums["threads"].keys() == checksums["dask"].keys() and all(
            checksums["threads"][k] == checksums["dask"][k] for k in checksums["threads"] if k.endswith(".fits")
        )
        result["same_fits_products"] = same
        best = {name: min(r[name]["run_seconds"] for r in result["rounds"]) for name in ("threads", "dask")}
        start = min(r["dask"]["start_seconds"] for r in result["rounds"])
        result["best_run_seconds"] = best
        result["dask_start_seconds"] = start
        result["dask_over_threads"] = round(best["dask"] / best["threads"], 2)
        result["dask_with_start_over_threads"] = round((best["dask"] + start) / best["threads"], 2)
        result["faster_locally"] = "threads" if best["threads"] <= best["dask"] + start else "dask"
        print(
            f"best runs: threads {best['threads']:.2f} s, dask {best['dask']:.2f} s (+{start:.2f} s to start the "
            f"cluster): dask/threads {result['dask_over_threads']} ({result['dask_with_start_over_threads']} with "
            f"its start); same FITS products: {same}; faster locally: {result['faster_locally']}",
            flush=True,
        )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            result["folder"] = str(folder)
        print("RESULT " + json.dumps(result, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
