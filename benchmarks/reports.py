"""Benchmark: the nightly report beside an empty notebook run by papermill on the same kernel, and the cached rerun.

In one run, inside a fresh temporary directory (nothing is written anywhere else):

1. Loads the demo observatory into SQLite and reduces its nights from raw frames, as ``obslab demo`` does.
2. Times, ``--repeats`` times each, interleaved so a burst of load hits both:
   - **empty**: a notebook whose only cell is the tagged ``night`` parameter, executed by ``papermill`` on the
     ``obslab`` kernel with the same parameter (kernel start, parameter injection, one cell, writing the output);
   - **report**: ``obslab.reports.runner.run_report(..., force=True)`` for the last night that is over: checks,
     fingerprint, papermill on the same kernel, HTML conversion, the archive; and, apart, the papermill part alone
     (papermill's defaults: it writes the notebook out around every cell);
   - **warm report**: the same call given ``reports.kernels.warm_kernels``, as the reports page runs it: a kernel
     started ahead with the templates' imports done, taken by the run (the next one is warmed after it, and waited
     for before anything else is timed, as the minutes between two runs would);
   - **cached**: the same ``run_report`` without ``force``: the archived report found and returned.
3. Prints medians, the ratios to empty, and as the last line ``RESULT {json}`` with the issue's bars (report at
   most 1.5x empty, for a one-shot run and for a warm one; cached within 0.5 s) as booleans. Missing a bar does not
   make the script fail.

    .venv/bin/python benchmarks/reports.py [--repeats 3] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def build(folder: Path) -> tuple[Any, Any, Any]:
    from obslab import schema
    from obslab.db import make_engine, make_session_factory
    from obslab.demo import load_demo, reduce_demo_nights
    from obslab.settings import Settings

    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    schema.upgrade(url)
    settings = Settings(database_url=url, data_dir=folder / "data")
    sessions = make_session_factory(make_engine(url))
    with sessions() as session, session.begin():
        load_demo(session, site=settings.site, raw_dir=folder / "raw")
    reduce_demo_nights(sessions, settings)
    return settings, sessions, url


def empty_notebook(folder: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    path = folder / "empty.ipynb"
    kernel = {"name": "obslab", "display_name": "obslab", "language": "python"}
    nbformat.write(
        new_notebook(
            cells=[new_code_cell('night = ""', metadata={"tags": ["parameters"]})], metadata={"kernelspec": kernel}
        ),
        path,
    )
    return path


def papermill_once(source: Path, output: Path, night: str, url: str) -> float:
    import papermill

    os.environ["OBSLAB_DATABASE_URL"] = url  # the template reads its settings from the kernel's environment
    started = time.perf_counter()
    papermill.execute_notebook(
        str(source), str(output), parameters={"night": night}, kernel_name="obslab", progress_bar=False
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="obslab-bench-reports-"))
    os.environ["OBSLAB_DATA_DIR"] = str(folder / "data")
    kernels = None
    try:
        from datetime import UTC, datetime

        from obslab.access import find_user
        from obslab.reports.kernels import warm_kernels
        from obslab.reports.runner import kernel_environment, last_night, require_kernel, run_report
        from obslab.reports.templates import find_template, template_paths

        require_kernel()
        started = time.perf_counter()
        settings, sessions, url = build(folder)
        log(f"demo observatory loaded and reduced in {time.perf_counter() - started:.1f} s")
        night = f"{last_night(settings, datetime.now(UTC)):%Y%m%d}"
        with sessions() as session:
            staff = find_user(session, "sobrien")
        template = find_template("nightly", None).path
        empty = empty_notebook(folder)
        kernels = warm_kernels(kernel_environment(settings), template_paths(None).values())
        # One unmeasured run of each: the first kernel start reads every module from disk.
        papermill_once(empty, folder / "warm-empty.ipynb", night, url)
        run_report(sessions, settings, staff, "nightly", {"night": night}, force=True)
        assert kernels.wait(300), "no warm kernel"
        run_report(sessions, settings, staff, "nightly", {"night": night}, force=True, kernels=kernels)
        assert kernels.wait(300), "no warm kernel after a run"
        times: dict[str, list[float]] = {
            "empty": [],
            "report": [],
            "report_papermill": [],
            "warm_report": [],
            "cached": [],
        }
        for i in range(args.repeats):
            times["empty"].append(papermill_once(empty, folder / f"empty-{i}.ipynb", night, url))
            t = time.perf_counter()
            outcome = run_report(sessions, settings, staff, "nightly", {"night": night}, force=True)
            times["report"].append(time.perf_counter() - t)
            assert outcome.state == "done" and not outcome.cached
            times["report_papermill"].append(papermill_once(template, folder / f"nightly-{i}.ipynb", night, url))
            t = time.perf_counter()
            warm = run_report(sessions, settings, staff, "nightly", {"night": night}, force=True, kernels=kernels)
            times["warm_report"].append(time.perf_counter() - t)
            assert warm.state == "done" and not warm.cached
            assert kernels.wait(300), "no warm kernel after a run"  # the next one warmed before anything is timed
            t = time.perf_counter()
            cached = run_report(sessions, settings, staff, "nightly", {"night": night})
            times["cached"].append(time.perf_counter() - t)
            assert cached.cached and cached.report_id == warm.report_id  # the newest of the same key
            log("  ".join(f"{k} {v[-1]:.3f} s" for k, v in times.items()))
        medians = {k: round(statistics.median(v), 3) for k, v in times.items()}
        html_bytes = Path(outcome.html_path).stat().st_size
        print()
        for name, value in medians.items():
            print(f"{name:<18} {value:8.3f} s")
        result = {
            "night": night,
            "repeats": args.repeats,
            "median_s": medians,
            "ratio_report_to_empty": round(medians["report"] / medians["empty"], 2),
            "ratio_report_papermill_to_empty": round(medians["report_papermill"] / medians["empty"], 2),
            "ratio_warm_report_to_empty": round(medians["warm_report"] / medians["empty"], 2),
            "report_within_1_5x": medians["report"] <= 1.5 * medians["empty"],
            "warm_report_within_1_5x": medians["warm_report"] <= 1.5 * medians["empty"],
            "cached_within_0_5_s": medians["cached"] <= 0.5,
            "html_bytes": html_bytes,
            "load": os.getloadavg(),
        }
        print("RESULT " + json.dumps(result))
        return 0
    finally:
        if kernels is not None:
            kernels.close()
        if args.keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
