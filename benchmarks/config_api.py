"""Benchmark: p50/p99 latency and throughput of the as-of configuration API beside a bare FastAPI endpoint."""

# Run from the repository root (see benchmarks/README.md for what it measures and the last figures):
#
#     .venv/bin/python benchmarks/config_api.py [--backends sqlite postgresql] [--workers 1 2] [--duration 6] [--keep]
#
# The same file is also the bare server (--serve-bare) and the load client (--client), each in its own process.

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve()
PYTHON = sys.executable
OBSLAB = str(Path(sys.executable).parent / "obslab")
BARE_BODY = b"ok"
INSTRUMENT = "VIRUS"
BARE_PATHS = {"bare": "/bare", "bare_async": "/bare-async"}
ENDPOINTS = ("bare", "bare_async", "fplane", "configs")
LABELS = {
    "bare": "bare FastAPI GET /bare (def)",
    "bare_async": "bare FastAPI GET /bare-async (async def)",
    "fplane": "GET /fplane/{YYYYMMDD}",
    "configs": "GET /api/v1/configs/VIRUS?valid_at&known_at",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the peer: a bare FastAPI app, served with obslab.api.serving's uvicorn options --------------------------------


def bare_app() -> Any:
    """A FastAPI app with one route answering a fixed string (what a user would write first)."""
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse

    app = FastAPI()

    @app.get("/bare", response_class=PlainTextResponse)
    def bare() -> PlainTextResponse:
        # def, like obslab's routes (which do blocking database I/O): both run in anyio's threadpool.
        return PlainTextResponse(BARE_BODY)

    @app.get("/bare-async", response_class=PlainTextResponse)
    async def bare_async() -> PlainTextResponse:
        # async def: no threadpool at all, the floor of a FastAPI route.
        return PlainTextResponse(BARE_BODY)

    return app


def serve_bare(port: int, workers: int) -> None:
    """What obslab.api.serving.serve does, with the bare app: the same options, the same worker handling."""
    import uvicorn

    from obslab.api.serving import LOG_CONFIG

    options: dict[str, Any] = {"host": "127.0.0.1", "port": port, "log_config": LOG_CONFIG, "access_log": False}
    if workers > 1:
        sys.path.insert(0, str(HERE.parent))
        uvicorn.run(f"{HERE.stem}:bare_app", factory=True, workers=workers, **options)
    else:
        uvicorn.run(bare_app(), **options)


# --- the client: 50 keep-alive connections in one asyncio process, closed loop --------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        raise RuntimeError(f"no content-length in {head[:200]!r}")
    length = int(head[at + 17 : head.index(b"\r\n", at + 2)])
    return head, await reader.readexactly(length)


class Checker:
    """Every response checked: status 200 and the expected body (configs: validated once per URL, then byte-equal)."""

    def __init__(self, kind: str, expected: dict[str, Any]) -> None:
        self.kind, self.expected = kind, expected
        self.seen: dict[str, bytes] = {}
        self.errors: list[str] = []
        self.failures = 0

    def __call__(self, path: str, head: bytes, body: bytes) -> None:
        problem = self.problem(path, head, body)
        if problem is not None:
            self.failures += 1
            if len(self.errors) < 20:
                self.errors.append(f"{path}: {problem}")

    def problem(self, path: str, head: bytes, body: bytes) -> str | None:
        if not head.startswith(b"HTTP/1.1 200 "):
            return f"status line {head.splitlines()[0]!r}"
        if self.kind.startswith("bare"):
            return None if body == BARE_BODY else f"body {body[:80]!r}"
        want = self.expected[path]
        if self.kind == "fplane":
            if b"x-config-version: %d\r\n" % want["version"] not in head.lower():
                return f"not version {want['version']}: {head!r}"
            return None if body == want["text"].encode() else "fplane text differs from obslab's own rendering"
        known = self.seen.get(path)
        if known is not None:
            return None if body == known else "body differs from the first answer to the same URL"
        answer = json.loads(body)
        got = (answer["instrument"], answer["version_number"], answer["valid_from"], len(answer["items"]))
        wanted = (INSTRUMENT, want["version"], want["valid_from"], want["items"])
        if got != wanted:
            return f"got {got}, expected {wanted}"
        self.seen[path] = body
        return None


async def load(spec: dict[str, Any]) -> dict[str, Any]:
    host, port, paths = spec["host"], spec["port"], spec["paths"]
    checker = Checker(spec["kind"], spec.get("expected", {}))
    requests = {path: f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode() for path in paths}
    concurrency, cap = spec["concurrency"], spec["max_requests"]
    started = time.perf_counter()
    measure_from = started + spec["warmup_s"]
    stop_at = measure_from + spec["duration_s"]
    latencies: list[float] = []
    finished_in_window = 0
    sent = 0

    async def connection(index: int) -> None:
        nonlocal finished_in_window, sent
        reader, writer = await asyncio.open_connection(host, port)
        position = index * 7919  # each connection walks the URL list from its own place
        try:
            while sent < cap:
                begun = time.perf_counter()
                if begun >= stop_at:
                    break
                sent += 1
                path = paths[position % len(paths)]
                position += 1
                writer.write(requests[path])
                head, body = await asyncio.wait_for(read_response(reader), timeout=60)
                ended = time.perf_counter()
                checker(path, head, body)
                if begun >= measure_from:
                    latencies.append(ended - begun)
                if measure_from <= ended <= stop_at:
                    finished_in_window += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection(i) for i in range(concurrency)))
    window = min(stop_at, time.perf_counter()) - measure_from
    return {
        "latencies_ms": [round(latency * 1000, 3) for latency in latencies],
        "finished": finished_in_window,
        "window_s": window,
        "sent": sent,
        "failures": checker.failures,
        "failure_examples": checker.errors,
        "capped": sent >= cap,
    }


def summary(runs: list[dict[str, Any]], cpu_s: float) -> dict[str, Any]:
    """One endpoint's figures over every round: latency quantiles of all samples pooled, throughput over all windows."""
    latencies = sorted(latency for run in runs for latency in run["latencies_ms"])

    def quantile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    sent = sum(run["sent"] for run in runs)
    return {
        "requests": len(latencies),
        "p50_ms": round(quantile(0.50), 2),
        "p99_ms": round(quantile(0.99), 2),
        "max_ms": round(latencies[-1], 2),
        "rps": round(sum(run["finished"] for run in runs) / sum(run["window_s"] for run in runs), 1),
        # Over the whole client runs, warm-ups included: an idle server uses next to nothing.
        "server_cpu_ms_per_request": round(1000 * cpu_s / max(1, sent), 3),
        "failures": sum(run["failures"] for run in runs),
        "failure_examples": [example for run in runs for example in run["failure_examples"]][:5],
        "capped": any(run["capped"] for run in runs),
        "load_at_start": [run["load"] for run in runs],
    }


# --- the benchmark ---------------------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_cpu_seconds(pid: int) -> float:
    from tests.helpers.served import cpu_seconds, descendants

    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in descendants(pid))


class Served:
    """One server in its own session, its output in a log file; stopped with everything it started."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int, ready: str, work: Path) -> None:
        self.name, self.port = name, port
        self.log_path = work / "logs" / f"{name}-{port}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as output:
            self.process = subprocess.Popen(
                command, env=env, cwd=work, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=10) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not answer: {self.log_path.read_text()[-2000:]}") from None
                time.sleep(0.3)

    def stop(self) -> None:
        from tests.helpers.served import stop_tree

        stop_tree(self.process)


def run_client(spec: dict[str, Any], work: Path) -> dict[str, Any]:
    spec_path = work / f"client-{spec['kind']}.json"
    spec_path.write_text(json.dumps(spec))
    timeout = spec["warmup_s"] + spec["duration_s"] + 120
    done = subprocess.run(
        [PYTHON, str(HERE), "--client", str(spec_path)], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the client failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def load_database(url: str) -> None:
    from obslab import schema
    from obslab.context import ObslabContext
    from obslab.demo import load_demo
    from obslab.settings import load_settings

    schema.upgrade(url)
    context = ObslabContext.from_settings(load_settings(database_url=url))
    try:
        with context.transaction() as session:
            load_demo(session, site=context.site)
    finally:
        context.close()


def workload(url: str, seed: int, count: int) -> dict[str, dict[str, Any]]:
    """The URLs each endpoint is asked, spread over the demo's history, with obslab's own answer to each."""
    from sqlalchemy import func, select

    from obslab.configs.datestr import parse_datestr
    from obslab.configs.fplane import fplane_from_items, render_fplane
    from obslab.configs.models import InstrumentConfiguration as Config
    from obslab.configs.views import as_recorded_at, valid_at
    from obslab.context import ObslabContext
    from obslab.settings import load_settings

    context = ObslabContext.from_settings(load_settings(database_url=url))
    rng = random.Random(seed)
    now = datetime.now(UTC)
    zone = context.site.zone
    fplane: dict[str, Any] = {}
    configs: dict[str, Any] = {}
    try:
        with context.sessions() as session:
            first_valid, first_recorded = session.execute(
                select(func.min(Config.valid_from), func.min(Config.recorded_at)).where(Config.instrument == INSTRUMENT)
            ).one()
            first_valid, first_recorded = first_valid.astimezone(UTC), first_recorded.astimezone(UTC)
            nights = (now - first_valid).days - 2
            for offset in rng.sample(range(1, nights), min(count, nights - 1)):
                night = (first_valid + timedelta(days=offset)).strftime("%Y%m%d")
                found = valid_at(session, INSTRUMENT, parse_datestr(night, now=now, zone=zone).at)
                text = render_fplane(fplane_from_items(found.items, full=True, actual=False))
                fplane[f"/fplane/{night}"] = {"version": found.version_number, "text": text}
            span = (now - first_valid).total_seconds()
            while len(configs) < count:
                moment = first_valid + timedelta(seconds=rng.uniform(0, span - 3600))
                known = first_recorded + timedelta(seconds=rng.uniform(60, (now - first_recorded).total_seconds() - 60))
                valid_text, known_text = (f"{t:%Y-%m-%dT%H:%M:%S}" for t in (moment, known))
                found = as_recorded_at(
                    session,
                    INSTRUMENT,
                    parse_datestr(valid_text, now=now, zone=zone).at,
                    parse_datestr(known_text, now=now, zone=zone).at,
                )
                configs[f"/api/v1/configs/{INSTRUMENT}?valid_at={valid_text}&known_at={known_text}"] = {
                    "version": found.version_number,
                    "valid_from": found.valid_from.isoformat(),
                    "items": len(found.items),
                }
    finally:
        context.close()
    return {"fplane": fplane, "configs": configs}


def versions_spread(expected: dict[str, Any]) -> dict[str, int]:
    spread: dict[str, int] = {}
    for want in expected.values():
        spread[str(want["version"])] = spread.get(str(want["version"]), 0) + 1
    return dict(sorted(spread.items()))


def measure(url: str, workers: int, urls: dict[str, dict[str, Any]], args: argparse.Namespace, work: Path) -> dict:
    env = {**os.environ, "OBSLAB_DATABASE_URL": url, "OBSLAB_DATA_DIR": str(work / "data")}
    obslab_port, bare_port = free_port(), free_port()
    obslab_command = [OBSLAB, "api", "--host", "127.0.0.1", "--port", str(obslab_port), "--workers", str(workers)]
    bare_command = [PYTHON, str(HERE), "--serve-bare", str(bare_port), "--workers", str(workers)]
    servers: list[Served] = []
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in ENDPOINTS}
    cpu = dict.fromkeys(ENDPOINTS, 0.0)
    try:
        servers.append(Served("obslab-api", obslab_command, env, obslab_port, "/health", work))
        servers.append(Served("bare-fastapi", bare_command, env, bare_port, "/bare", work))
        obslab_server, bare_server = servers
        # Rounds interleave the endpoints, so a burst of load from elsewhere falls on all of them alike.
        for _round in range(args.rounds):
            for kind in ENDPOINTS:
                bare = kind.startswith("bare")
                target = bare_server if bare else obslab_server
                spec = {
                    "kind": kind,
                    "host": "127.0.0.1",
                    "port": target.port,
                    "paths": [BARE_PATHS[kind]] if bare else list(urls[kind]),
                    "expected": {} if bare else urls[kind],
                    "concurrency": args.concurrency,
                    "warmup_s": args.warmup,
                    "duration_s": args.duration,
                    "max_requests": args.max_requests,
                }
                load_now = round(os.getloadavg()[0], 2)
                cpu_before = tree_cpu_seconds(target.process.pid)
                run = run_client(spec, work)
                cpu[kind] += tree_cpu_seconds(target.process.pid) - cpu_before
                runs[kind].append(run | {"load": load_now})
                if run["failures"]:
                    log(f"    {kind}: {run['failures']} failed checks, e.g. {run['failure_examples'][:3]}")
    finally:
        for running in servers:
            running.stop()
    figures = {kind: summary(runs[kind], cpu[kind]) for kind in ENDPOINTS}
    bare, bare_async = figures["bare"], figures["bare_async"]
    for kind in ("bare_async", "fplane", "configs"):
        row = figures[kind]
        row["p99_over_bare"] = round(row["p99_ms"] / bare["p99_ms"], 2)
        row["p99_over_bare_async"] = round(row["p99_ms"] / bare_async["p99_ms"], 2)
        row["rps_bare_over_this"] = round(bare["rps"] / row["rps"], 2)
        row["cpu_over_bare"] = round(row["server_cpu_ms_per_request"] / bare["server_cpu_ms_per_request"], 2)
    return figures


def print_table(backend: str, workers: int, figures: dict[str, Any]) -> None:
    print(f"\n  {backend}, {workers} worker(s)")
    print(
        f"  {'endpoint':<46}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}{'p99/bare':>10}{'p99/async':>11}"
        f"{'CPU ms/req':>12}{'CPU/bare':>10}"
    )
    for kind in ENDPOINTS:
        row = figures[kind]
        ratios = (f"{row.get(name, 1):.2f}" for name in ("p99_over_bare", "p99_over_bare_async", "cpu_over_bare"))
        ratio, async_ratio, cpu_ratio = ratios
        print(
            f"  {LABELS[kind]:<46}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['rps']:>9.0f}{ratio:>10}"
            f"{async_ratio:>11}{row['server_cpu_ms_per_request']:>12.2f}{cpu_ratio:>10}"
        )
    sys.stdout.flush()


def start_postgres() -> tuple[str, Path]:
    directory = Path(tempfile.mkdtemp(prefix="obslab-bench-pg-"))
    directory.chmod(0o755)
    done = subprocess.run(
        [str(ROOT / "scripts" / "throwaway-postgres"), "start", str(directory / "pg")],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(f"throwaway-postgres failed: {done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1], directory


def stop_postgres(directory: Path) -> None:
    subprocess.run([str(ROOT / "scripts" / "throwaway-postgres"), "stop", str(directory / "pg")], check=False)
    shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2], help="uvicorn worker counts to measure")
    parser.add_argument("--deploy-workers", type=int, default=2, help="the worker count the 2x bar is judged at")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of unmeasured load per endpoint and round")
    parser.add_argument("--duration", type=float, default=4.0, help="measured seconds per endpoint and round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over the three endpoints, samples pooled")
    parser.add_argument("--max-requests", type=int, default=100_000, help="per endpoint, warm-up included")
    parser.add_argument("--urls", type=int, default=400, help="distinct dates per obslab endpoint")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (databases, server logs)")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(load(json.loads(Path(args.client).read_text())))), flush=True)
        return
    if args.serve_bare:
        serve_bare(args.serve_bare, args.workers[0])
        return

    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="obslab-bench-api-"))
    (work / "data").mkdir()
    result: dict[str, Any] = {
        "benchmark": "config_api",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "concurrency": args.concurrency,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "deploy_workers": args.deploy_workers,
        "server": "obslab: `obslab api --workers N`; bare: uvicorn.run with obslab.api.serving's options, same N",
        "client": "one asyncio process, keep-alive HTTP/1.1 connections, closed loop",
        "backends": {},
    }
    started = time.monotonic()
    postgres: Path | None = None
    try:
        for backend in args.backends:
            if backend == "sqlite":
                url = f"sqlite:///{work / 'bench.db'}"
            else:
                url, postgres = start_postgres()
            log(f"{backend}: migrating and loading the demo")
            load_database(url)
            urls = workload(url, seed=13, count=args.urls)
            entry: dict[str, Any] = {
                "distinct_urls": {kind: len(urls[kind]) for kind in ("fplane", "configs")},
                "versions_asked": {kind: versions_spread(urls[kind]) for kind in ("fplane", "configs")},
                "workers": {},
            }
            for workers in args.workers:
                log(f"{backend}: {workers} worker(s), {args.rounds} x ({args.warmup}+{args.duration} s) per endpoint")
                figures = measure(url, workers, urls, args, work)
                entry["workers"][str(workers)] = figures
                print_table(backend, workers, figures)
            judged_at = (
                str(args.deploy_workers) if str(args.deploy_workers) in entry["workers"] else str(args.workers[-1])
            )
            judged = entry["workers"][judged_at]
            entry["judged_at_workers"] = int(judged_at)
            for kind in ("fplane", "configs"):
                entry[f"{kind}_p99_within_2x_bare"] = judged[kind]["p99_over_bare"] <= 2.0
                entry[f"{kind}_p99_within_2x_bare_async"] = judged[kind]["p99_over_bare_async"] <= 2.0
            entry["all_responses_correct"] = all(
                figures[kind]["failures"] == 0 for figures in entry["workers"].values() for kind in ENDPOINTS
            )
            result["backends"][backend] = entry
            print(
                f"  {backend}, {judged_at} worker(s), p99 over bare def / bare async def (bar: 2): fplane "
                f"{judged['fplane']['p99_over_bare']} / {judged['fplane']['p99_over_bare_async']}, configs "
                f"{judged['configs']['p99_over_bare']} / {judged['configs']['p99_over_bare_async']}; every response "
                f"checked: {'all correct' if entry['all_responses_correct'] else 'FAILURES'}",
                flush=True,
            )
            if postgres is not None:
                stop_postgres(postgres)
                postgres = None
        result["load_after"] = [round(x, 2) for x in os.getloadavg()]
        result["elapsed_s"] = round(time.monotonic() - started, 1)
    except Exception as error:  # noqa: BLE001 - always print a RESULT line
        result["error"] = f"{type(error).__name__}: {error}"
        raise
    finally:
        if postgres is not None:
            stop_postgres(postgres)
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        print("RESULT " + json.dumps(result, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
