"""How fast the catalog dashboard renders and pages, against a bare one-Tabulator Panel app served the same way.

Run from the repository root:

    .venv/bin/python benchmarks/dashboard_render.py [--repeats N] [--clicks K] [--keep]

In one run, inside a fresh temporary directory (nothing is written anywhere else):

1. Builds two SQLite databases: the demo observatory ("catalog", for first-render timing) and one with
   100,000 generated observations (for page-change timing).
2. Time to first render -- navigation start to the first visible ``.tabulator-row``, read from the page's
   own clock (``performance.now()`` is measured from navigation start) -- of the catalog dashboard and of
   a bare Panel app with one 50-row Tabulator, each served three ways: Voila without preheat, Voila with
   preheat (steady state: the pool is refilled before every visit) and ``panel serve``.  Every visit is a
   fresh browser page with an empty cache; one unmeasured visit warms each server first (reported as
   "cold").  The median of ``--repeats`` visits is reported.
3. Page change at 100,000 observations: click Next, time click -> the first obsid cell changes (both
   times read in the page), median of ``--clicks`` clicks, under ``panel serve`` and Voila with preheat;
   plus the server-side share measured in this process (CatalogState.go_to alone, and with the Panel view
   attached).
4. Prints a table, then as the last line ``RESULT {json}``.

The quality bars (catalog/bare ratio <= 1.5, page change <= 0.3 s) are reported as booleans; missing them
does not make the script fail.  Requests that would leave loopback are blocked in the page and counted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import textwrap
import time
import traceback
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The benchmark shares the tests' helpers: the bulk catalog, the servers and the watched browser pages.
sys.path.insert(0, str(ROOT))

from tests.helpers.browsing import CHROMIUM, CHROMIUM_ARGS, Watched  # noqa: E402
from tests.helpers.bulk_catalog import insert_observations  # noqa: E402
from tests.helpers.served import BIN, Server, alive, descendants, free_port, obslab_serve_command, process_table, server  # noqa: E402

ROWS_100K = 100_000
RATIO_BAR = 1.5
PAGE_CHANGE_BAR_S = 0.3
WAYS = ("voila", "voila_preheat", "panel")
VIEWER = "sobrien"  # a demo user, as in the browser tests
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# --- the temporary world --------------------------------------------------------------------------


def isolate(tmp: Path) -> None:
    """Point every writer we know of (obslab, Jupyter, IPython, matplotlib, caches) into ``tmp``."""
    for variable in list(os.environ):
        if variable.startswith("OBSLAB_"):
            del os.environ[variable]
    places = {
        "OBSLAB_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "jupyter/runtime",
        "JUPYTER_DATA_DIR": "jupyter/data",
        "JUPYTER_CONFIG_DIR": "jupyter/config",
        "IPYTHONDIR": "ipython",
        "MPLCONFIGDIR": "matplotlib",
        "XDG_CACHE_HOME": "cache",
        "XDG_CONFIG_HOME": "config",
        "XDG_DATA_HOME": "share",
    }
    places["TMPDIR"] = "tmp"  # Voila's kernel connection files and Chromium's profile go to tempfile's folder
    for variable, sub in places.items():
        path = tmp / sub
        path.mkdir(parents=True, exist_ok=True)
        os.environ[variable] = str(path)
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"


def build_catalog_database(url: str) -> None:
    from obslab import schema
    from obslab.db import make_engine, make_session_factory
    from obslab.demo import load_demo
    from obslab.settings import load_settings

    schema.upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            load_demo(session, site=load_settings().site)
    finally:
        engine.dispose()


def build_large_database(url: str, count: int) -> str:
    """A migrated database holding ``count`` generated observations (and nothing else); returns the generator used."""
    from obslab import schema
    from obslab.db import make_engine

    schema.upgrade(url)
    engine = make_engine(url)
    try:
        insert_observations(engine, count, seed=1)
    finally:
        engine.dispose()
    return "tests/bulk_catalog.py"


BARE_FRAME = textwrap.dedent(
    """\
    import numpy as np
    import pandas as pd
    import panel as pn

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"obsid": np.arange(20001, 20051), "target_name": [f"NGC {n}" for n in range(1, 51)],
                       "instrument": ["ACIS-S", "ACIS-I", "HRC-I", "HRC-S", "ACIS-S"] * 10,
                       "ra_deg": rng.uniform(0, 360, 50), "dec_deg": rng.uniform(-90, 90, 50),
                       "approved_exposure_ks": rng.uniform(1, 60, 50).round(1)})"""
)


def write_bare_apps(tmp: Path) -> tuple[Path, Path]:
    """The bare notebook (same first cell as the dashboards) in its own folder, and the bare `panel serve` app."""
    from obslab.dashboards.registry import DASHBOARDS
    from obslab.dashboards.serving.serving import notebook_document

    first_cell = DASHBOARDS[0].notebook_cells()[0]
    sources = [first_cell, BARE_FRAME, "pn.widgets.Tabulator(df)"]
    notebook = notebook_document(sources, name="bare", title="Bare")
    voila_dir = tmp / "bare-voila"
    voila_dir.mkdir()
    (voila_dir / "bare.ipynb").write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")
    panel_dir = tmp / "bare-panel"
    panel_dir.mkdir()
    app = panel_dir / "bare_app.py"
    app.write_text(
        BARE_FRAME + '\n\npn.extension("tabulator")\npn.widgets.Tabulator(df).servable()\n', encoding="utf-8"
    )
    return voila_dir, app


# --- processes ------------------------------------------------------------------------------------


def tree_cpu_ticks(root: int) -> int:
    table = process_table()
    return sum(table[pid][1] for pid in descendants(root, table) | {root} if pid in table)


def wait_idle(
    root: int, *, min_wait: float = 0.5, threshold: float = 0.05, quiet: float = 1.0, timeout: float = 90.0
) -> float:
    """Wait until the server and its kernels use under ``threshold`` of a core for ``quiet`` s; return the wait."""
    start = time.monotonic()
    time.sleep(min_wait)
    step, quiet_for = 0.25, 0.0
    before = tree_cpu_ticks(root)
    while time.monotonic() - start < timeout:
        time.sleep(step)
        now = tree_cpu_ticks(root)
        rate = (now - before) / CLK_TCK / step
        before = now
        quiet_for = quiet_for + step if rate < threshold else 0.0
        if quiet_for >= quiet:
            break
    return time.monotonic() - start


def sweep_leftovers(tmp: Path) -> list[str]:
    """Kill any process whose command line names our temporary directory (kernels name their connection file)."""
    killed = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(tmp) in command and alive(int(entry)):
            killed.append(f"{entry}: {command[:160]}")
            try:
                os.kill(int(entry), signal.SIGKILL)
            except ProcessLookupError:
                pass
    return killed


def obslab_serve(way: str, database_url: str, tmp: Path) -> tuple[str, list[str], dict[str, str], int]:
    port = free_port()
    command = obslab_serve_command(port, panel=way == "panel", preheat=way == "voila_preheat")
    env = {**os.environ, "OBSLAB_DATABASE_URL": database_url, "OBSLAB_ACTING_USER": VIEWER}
    return f"obslab-{way}", command, env, port


def bare_serve(
    way: str, voila_dir: Path, app: Path, database_url: str, tmp: Path
) -> tuple[str, list[str], dict[str, str], int]:
    """The bare app served the way ``obslab serve`` serves the dashboards (same Voila app and arguments)."""
    from obslab.dashboards.serving.serving import DEFAULT_HOST, voila_arguments

    port = free_port()
    env = {**os.environ, "OBSLAB_DATABASE_URL": database_url, "OBSLAB_ACTING_USER": VIEWER}
    if way == "panel":
        command = [
            str(BIN / "panel"),
            "serve",
            str(app),
            "--address",
            DEFAULT_HOST,
            "--port",
            str(port),
            "--allow-websocket-origin",
            f"{DEFAULT_HOST}:{port}",
        ]
    else:
        launch = (
            "import sys; from obslab.dashboards.serving.voila_app import ObslabVoila; "
            "ObslabVoila.launch_instance(argv=sys.argv[1:])"
        )
        arguments = voila_arguments(voila_dir, host=DEFAULT_HOST, port=port, preheat=way == "voila_preheat")
        command = [sys.executable, "-c", launch, *arguments]
        env["OBSLAB_DASHBOARD_SERVER"] = "voila"
    return f"bare-{way}", command, env, port


# --- the browser ----------------------------------------------------------------------------------

DEEP_FIND = """
const deepFind = (root, selector) => {
  const hit = root.querySelector(selector);
  if (hit) return hit;
  for (const element of root.querySelectorAll('*')) {
    if (element.shadowRoot) {
      const found = deepFind(element.shadowRoot, selector);
      if (found) return found;
    }
  }
  return null;
};
"""
FIRST_ROW_JS = (
    "() => {"
    + DEEP_FIND
    + """
  if (window.__benchDocument === undefined && window.Bokeh && Bokeh.documents && Bokeh.documents.length) {
    window.__benchDocument = performance.now();
  }
  const row = deepFind(document, '.tabulator-row');
  if (!row) return false;
  const box = row.getBoundingClientRect();
  if (box.width <= 0 || box.height <= 0) return false;
  if (!row.checkVisibility({checkVisibilityCSS: true, visibilityProperty: true})) return false;
  return performance.now();
}"""
)
OBSID_CELL = '.tabulator-row .tabulator-cell[tabulator-field="obsid"]'
FIRST_OBSID_JS = (
    "() => {"
    + DEEP_FIND
    + f"""
  const cell = deepFind(document, '{OBSID_CELL}');
  return cell ? cell.textContent.trim() : null;
}}"""
)
CHANGED_JS = (
    "(old) => {"
    + DEEP_FIND
    + f"""
  const cell = deepFind(document, '{OBSID_CELL}');
  if (!cell) return false;
  const text = cell.textContent.trim();
  return text && text !== old ? {{at: performance.now(), obsid: text}} : false;
}}"""
)
HOOK_CLICKS_JS = """() => {
  if (!window.__benchClickHooked) {
    document.addEventListener('click', () => { window.__benchClick = performance.now(); }, true);
    window.__benchClickHooked = true;
  }
  window.__benchClick = null;
}"""
NAVIGATION_JS = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const bytes = resources.reduce((sum, r) => sum + (r.decodedBodySize || 0), n ? n.decodedBodySize : 0);
  const scripts = resources.filter(r => r.initiatorType === 'script' || r.name.endsWith('.js'));
  const lastScript = scripts.reduce((m, r) => Math.max(m, r.responseEnd), 0);
  return {response_start: n ? n.responseStart : null, response_end: n ? n.responseEnd : null,
          dom_content_loaded: n ? n.domContentLoadedEventEnd : null, load: n ? n.loadEventEnd : null,
          requests: resources.length + 1, decoded_bytes: bytes, last_script_end: lastScript,
          bokeh_document: window.__benchDocument === undefined ? null : window.__benchDocument};
}"""


class TimedPage(Watched):
    """A watched fresh page (its own context: empty cache) that also notes when its first websocket opens."""

    def __init__(self, browser: Any) -> None:
        super().__init__(browser)
        self.websocket_at: float | None = None
        self.t0 = time.perf_counter()
        self.page.on("websocket", self._websocket)

    def _websocket(self, _ws: Any) -> None:
        if self.websocket_at is None:
            self.websocket_at = time.perf_counter() - self.t0

    def close(self) -> None:
        # Navigating away runs the page's unload handlers: Voila's asks the server to shut the kernel down.
        try:
            self.page.goto("about:blank", timeout=10_000)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        self.page.close()


def open_and_time(browser: Any, url: str) -> tuple[TimedPage, dict[str, Any]]:
    """Open ``url`` in a fresh page; return it (still open) and the time to the first visible table row."""
    watched = TimedPage(browser)
    try:
        watched.t0 = time.perf_counter()
        watched.page.goto(url, wait_until="commit", timeout=120_000)
        at_ms = watched.page.wait_for_function(FIRST_ROW_JS, polling=25, timeout=120_000).json_value()
        wall = time.perf_counter() - watched.t0
        navigation = watched.page.evaluate(NAVIGATION_JS)
    except BaseException:
        watched.close()
        raise
    seconds = lambda ms: None if not ms else round(ms / 1000, 3)  # noqa: E731
    sample = {
        "first_row_s": round(at_ms / 1000, 3),
        "wall_s": round(wall, 3),
        "html_first_byte_s": seconds(navigation["response_start"]),
        "html_done_s": seconds(navigation["response_end"]),
        "dom_content_loaded_s": seconds(navigation["dom_content_loaded"]),
        "last_script_s": seconds(navigation["last_script_end"]),
        "first_websocket_s": None if watched.websocket_at is None else round(watched.websocket_at, 3),
        "bokeh_document_s": seconds(navigation["bokeh_document"]),
        "requests": navigation["requests"],
        "decoded_mb": round(navigation["decoded_bytes"] / 1e6, 2),
    }
    return watched, sample


def measure_first_render(
    browser: Any, srv: Server, path: str, repeats: int, *, preheat: bool, problems: dict[str, list[str]]
) -> dict[str, Any]:
    """One unmeasured (cold) visit, then ``repeats`` visits, each in a fresh page with the server idle first."""
    samples, cold = [], None
    for attempt in range(repeats + 1):
        waited = wait_idle(srv.pid, min_wait=3.0 if preheat else 0.5)
        watched, sample = open_and_time(browser, srv.base + path)
        sample["idle_wait_s"] = round(waited, 1)
        problems["outside"] += watched.outside
        problems["console"] += watched.errors
        watched.close()
        if attempt == 0:
            cold = sample
        else:
            samples.append(sample)
        log(
            f"  {'cold' if attempt == 0 else f'#{attempt}'}: first row {sample['first_row_s']:.2f} s "
            f"(html done {sample['html_done_s']}, websocket {sample['first_websocket_s']}, "
            f"Bokeh document {sample['bokeh_document_s']})"
        )
    return {"median_s": median([s["first_row_s"] for s in samples]), "samples": samples, "cold": cold}


def measure_page_changes(
    browser: Any, srv: Server, path: str, clicks: int, problems: dict[str, list[str]]
) -> dict[str, Any]:
    wait_idle(srv.pid, min_wait=3.0)
    watched, opened = open_and_time(browser, srv.base + path)
    page = watched.page
    samples = []
    try:
        wait_idle(srv.pid, min_wait=1.0)  # the sky plot and the rest of the page settle
        for _ in range(clicks):
            old = page.evaluate(FIRST_OBSID_JS)
            page.evaluate(HOOK_CLICKS_JS)
            t0 = time.perf_counter()
            page.locator(".obslab-page-next button").click(timeout=30_000)
            changed = page.wait_for_function(CHANGED_JS, arg=old, polling="raf", timeout=60_000).json_value()
            wall = time.perf_counter() - t0
            clicked_ms = page.evaluate("() => window.__benchClick")
            in_page = (changed["at"] - clicked_ms) / 1000 if clicked_ms is not None else None
            samples.append(
                {
                    "s": round(in_page, 4) if in_page is not None else None,
                    "wall_s": round(wall, 4),
                    "from": old,
                    "to": changed["obsid"],
                }
            )
            log(f"  click: {old} -> {changed['obsid']} in {in_page:.3f} s (wall {wall:.3f} s)")
            wait_idle(srv.pid, min_wait=0.3, quiet=0.5)
        status = page.locator(".obslab-page-status").inner_text()
    finally:
        problems["outside"] += watched.outside
        problems["console"] += watched.errors
        watched.close()
    values = [s["s"] for s in samples if s["s"] is not None]
    middle = median(values)
    return {
        "median_s": None if middle is None else round(middle, 4),
        "samples": samples,
        "opened": opened,
        "final_status": status,
    }


# --- in-process: where the server-side time goes ----------------------------------------------------


def timed(function: Callable[[], Any], times: int) -> tuple[float, Any]:
    """Median seconds of ``times`` calls (after one unmeasured call), and the last result."""
    result = function()
    values = []
    for _ in range(times):
        start = time.perf_counter()
        result = function()
        values.append(time.perf_counter() - start)
    return statistics.median(values), result


def in_process_breakdown(catalog_url: str, large_url: str, times: int) -> dict[str, Any]:
    """Build the catalog's state and view in this process: what a server does before the page gets its rows."""
    import obslab.dashboards  # noqa: F401  (before Panel: offline resources)
    from obslab.dashboards.serving.resources import server_extension

    server_extension()
    import panel as pn
    from bokeh.document import Document
    from sqlalchemy import func, select

    from obslab.catalog.browse import CatalogFilter, page_observations, sky_positions
    from obslab.catalog.models import Observation
    from obslab.dashboards.catalog import TITLES, CatalogBrowser
    from obslab.dashboards.context import DashboardContext
    from obslab.dashboards.state.catalog import SKY_LIMIT, CatalogState
    from obslab.dashboards.widgets import data_table
    from obslab.plots.sky import sky_plot
    from obslab.settings import load_settings

    namespace: dict[str, Any] = {}
    exec(BARE_FRAME, namespace)  # noqa: S102 - our own constant
    bare_frame = namespace["df"]
    result: dict[str, Any] = {}
    bare_s, _ = timed(lambda: pn.panel(pn.widgets.Tabulator(bare_frame)).get_root(Document()), times)
    result["bare_tabulator_model_s"] = round(bare_s, 4)
    for label, url in (("catalog", catalog_url), ("large", large_url)):
        context = DashboardContext.from_settings(load_settings(database_url=url), username=VIEWER)
        part: dict[str, Any] = {}
        state_s, state = timed(lambda: CatalogState(context), times)
        part["state_init_s"] = round(state_s, 4)
        with context.sessions() as session:
            part["count_query_s"] = round(
                timed(lambda: session.scalar(select(func.count(Observation.id))), times)[0], 4
            )
            part["page_query_s"] = round(
                timed(lambda: page_observations(session, CatalogFilter(), offset=5_000, limit=50), times)[0], 4
            )
            part["sky_query_s"] = round(
                timed(lambda: sky_positions(session, CatalogFilter(), limit=SKY_LIMIT), times)[0], 4
            )
        part["sky_points"] = len(state.sky)
        part["table_model_s"] = round(
            timed(
                lambda: pn.panel(
                    data_table(state.rows, empty=state.empty_text("rows"), titles=TITLES, height=560)
                ).get_root(Document()),
                times,
            )[0],
            4,
        )
        part["sky_plot_model_s"] = round(
            timed(
                lambda: pn.pane.HoloViews(sky_plot(state.sky), sizing_mode="stretch_width").get_root(Document()), times
            )[0],
            4,
        )

        def whole_view() -> Any:
            doc = Document()
            root = pn.panel(CatalogBrowser(context)).get_root(doc)
            doc.add_root(root)
            return doc

        part["whole_view_s"], doc = timed(whole_view, times)
        part["whole_view_s"] = round(part["whole_view_s"], 4)
        try:
            part["document_json_mb"] = round(len(json.dumps(doc.to_json(), default=str)) / 1e6, 2)
        except Exception as exc:  # noqa: BLE001 - a diagnostic only
            part["document_json_mb"] = f"unavailable: {exc}"
        # Page change, server side: the state alone, and with the Panel view (table model update) attached.
        # (Back to page 1 after the last page, so every call really changes the page.)
        following = lambda s: s.page + 1 if s.page < s.page_count else 1  # noqa: E731
        paging = CatalogState(context)
        part["state_go_to_s"] = round(timed(lambda: paging.go_to(following(paging)), times * 2)[0], 4)
        view = CatalogBrowser(context)
        pn.panel(view).get_root(Document())
        part["view_go_to_s"] = round(timed(lambda: view.state.go_to(following(view.state)), times * 2)[0], 4)
        part["observations"] = paging.total
        result[label] = part
        bind = context.sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()
    return result


# --- the report -----------------------------------------------------------------------------------


def fmt(value: Any, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def report(result: dict[str, Any], details: dict[str, Any]) -> None:
    first, ratio = result["first_render_s"], result["ratio"]
    print()
    print(
        f"First render: navigation start -> first visible .tabulator-row, median of {result['repeats']} fresh pages (s)"
    )
    print(
        f"  {'served by':<16}{'catalog':>9}{'bare':>9}{'ratio':>8}  {'<=1.5':<6}{'cold catalog':>14}{'cold bare':>11}"
    )
    for way in WAYS:
        cold = details["cold"]
        ok = result["ratio_ok"][way]
        print(
            f"  {way:<16}{fmt(first['catalog'][way]):>9}{fmt(first['bare'][way]):>9}{fmt(ratio[way]):>8}  "
            f"{'yes' if ok else ('no' if ok is not None else '—'):<6}"
            f"{fmt(cold['catalog'][way]):>14}{fmt(cold['bare'][way]):>11}"
        )
    print("  (voila_preheat is the steady state: the pool was refilled, and the server idle, before every visit)")
    print()
    print(
        "Where the first render goes (medians, s from navigation start): html first byte / html done / "
        "last script / first websocket / Bokeh document in page / first row; requests, MB"
    )
    for kind in ("catalog", "bare"):
        for way in WAYS:
            samples = details["first_samples"][kind].get(way) or []
            if not samples:
                continue
            m = lambda key: median([s[key] for s in samples if s.get(key) is not None])  # noqa: E731
            print(
                f"  {kind + ' ' + way:<22} {fmt(m('html_first_byte_s')):>6} {fmt(m('html_done_s')):>6} "
                f"{fmt(m('last_script_s')):>6} {fmt(m('first_websocket_s')):>6} {fmt(m('bokeh_document_s')):>6} "
                f"{fmt(m('first_row_s')):>6}; "
                f"{samples[0]['requests']} requests, {samples[0]['decoded_mb']} MB"
            )
    print()
    print(
        f"Page change at {result['rows']:,} observations: click Next -> first obsid cell changes, "
        f"median of {details['clicks']} clicks (s)"
    )
    for way in ("panel", "voila"):
        value, ok = result["page_change_s"][way], result["page_change_ok"][way]
        print(
            f"  {way + (' (preheat)' if way == 'voila' else ''):<18}{fmt(value, '.3f'):>8}  <=0.3: "
            f"{'yes' if ok else ('no' if ok is not None else '—')}"
        )
    opened = result.get("first_render_100k_s") or {}
    if opened:
        print(
            f"  (first render of that page at {result['rows']:,} observations, one visit: "
            + ", ".join(f"{way} {fmt(value)} s" for way, value in opened.items())
            + ")"
        )
    print(f"  {'CatalogState.go_to (in-process, no Panel)':<44}{fmt(result['state_page_change_s'], '.3f'):>8}")
    breakdown = details.get("in_process") or {}
    if "large" in breakdown:
        large = breakdown["large"]
        print(f"  {'  of which count(*) over all rows':<44}{fmt(large['count_query_s'], '.3f'):>8}")
        print(f"  {'  of which the page query (offset 5,000)':<44}{fmt(large['page_query_s'], '.3f'):>8}")
        print(f"  {'state.go_to with the Panel view attached':<44}{fmt(large['view_go_to_s'], '.3f'):>8}")
    if breakdown:
        print()
        print(
            "Server-side build, in this process (median s): state init / sky query / table model / sky plot model / "
            "whole view; sky points; document JSON MB"
        )
        print(f"  bare Tabulator model: {breakdown['bare_tabulator_model_s']:.3f}")
        for label in ("catalog", "large"):
            part = breakdown.get(label)
            if part:
                print(
                    f"  {label:<8} ({part['observations']:,} obs): "
                    f"{part['state_init_s']:.3f} / {part['sky_query_s']:.3f} / "
                    f"{part['table_model_s']:.3f} / {part['sky_plot_model_s']:.3f} / {part['whole_view_s']:.3f}; "
                    f"{part['sky_points']:,}; {part['document_json_mb']}"
                )
    print()
    print(f"Outside requests blocked: {len(details['outside'])}; browser console errors: {len(details['console'])}")
    for line in sorted(set(details["console"]))[:8]:
        print(f"  console: {line[:200]}")
    for line in sorted(set(details["outside"]))[:8]:
        print(f"  outside: {line[:200]}")
    for error in result["errors"]:
        print(f"  ERROR: {error}")
    print(
        f"Load average (1, 5, 15 min) at start {result['load_average']['start']}, at end "
        f"{[round(x, 2) for x in result['load_average']['end']]} on {os.cpu_count()} cores"
    )
    print(f"Versions: {result['versions']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="measured visits per way (default 3)")
    parser.add_argument("--clicks", type=int, default=6, help="Next clicks timed per way (default 6)")
    parser.add_argument("--rows", type=int, default=ROWS_100K, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = parser.parse_args()

    load_start = list(os.getloadavg())
    tmp = Path(tempfile.mkdtemp(prefix="obslab-bench-"))
    isolate(tmp)
    errors: list[str] = []
    problems: dict[str, list[str]] = {"outside": [], "console": []}
    first: dict[str, dict[str, Any]] = {"catalog": {}, "bare": {}}
    cold: dict[str, dict[str, Any]] = {"catalog": {}, "bare": {}}
    first_samples: dict[str, dict[str, Any]] = {"catalog": {}, "bare": {}}
    page_change: dict[str, Any] = {}
    page_details: dict[str, Any] = {}
    breakdown: dict[str, Any] = {}
    leftovers: list[str] = []
    generator = None
    try:
        catalog_url = f"sqlite:///{tmp / 'catalog.sqlite3'}"
        large_url = f"sqlite:///{tmp / 'large.sqlite3'}"
        log(f"temporary directory {tmp}")
        start = time.perf_counter()
        build_catalog_database(catalog_url)
        log(f"demo catalog database built in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        generator = build_large_database(large_url, args.rows)
        log(f"{args.rows:,}-observation database built in {time.perf_counter() - start:.1f} s ({generator})")
        voila_dir, bare_app = write_bare_apps(tmp)

        log("in-process breakdown")
        try:
            breakdown = in_process_breakdown(catalog_url, large_url, times=5)
        except Exception as exc:  # noqa: BLE001 - report and go on
            errors.append(f"in-process breakdown: {exc!r}")
            traceback.print_exc()

        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for way in WAYS:
                    preheat = way == "voila_preheat"
                    for kind in ("catalog", "bare"):
                        if kind == "catalog":
                            spec = obslab_serve(way, catalog_url, tmp)
                            path = "catalog" if way == "panel" else "voila/render/catalog.ipynb"
                        else:
                            spec = bare_serve(way, voila_dir, bare_app, catalog_url, tmp)
                            path = "bare_app" if way == "panel" else "voila/render/bare.ipynb"
                        name, command, env, port = spec
                        log(f"first render: {kind} served by {way}")
                        try:
                            with server(name, command, env, port=port, directory=tmp) as srv:
                                measured = measure_first_render(
                                    browser, srv, path, args.repeats, preheat=preheat, problems=problems
                                )
                            first[kind][way] = measured["median_s"]
                            cold[kind][way] = measured["cold"]["first_row_s"]
                            first_samples[kind][way] = measured["samples"]
                        except Exception as exc:  # noqa: BLE001 - report and go on
                            errors.append(f"first render {kind}/{way}: {exc!r}"[:2000])
                            traceback.print_exc()

                for way, label in (("panel", "panel"), ("voila_preheat", "voila")):
                    name, command, env, port = obslab_serve(way, large_url, tmp)
                    log(f"page change at {args.rows:,} observations: {way}")
                    try:
                        with server(name + "-large", command, env, port=port, directory=tmp) as srv:
                            path = "catalog" if way == "panel" else "voila/render/catalog.ipynb"
                            measured = measure_page_changes(browser, srv, path, args.clicks, problems)
                        page_change[label] = measured["median_s"]
                        page_details[label] = measured
                    except Exception as exc:  # noqa: BLE001 - report and go on
                        errors.append(f"page change {way}: {exc!r}"[:2000])
                        traceback.print_exc()
                browser_version = browser.version
            finally:
                browser.close()
    except Exception as exc:  # noqa: BLE001 - always print a RESULT line
        errors.append(f"benchmark: {exc!r}"[:2000])
        traceback.print_exc()
        browser_version = None
    finally:
        leftovers = sweep_leftovers(tmp)
        if leftovers:
            errors.append(f"processes left behind and killed: {leftovers}")
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    ratio = {
        way: (
            round(first["catalog"][way] / first["bare"][way], 2)
            if first["catalog"].get(way) and first["bare"].get(way)
            else None
        )
        for way in WAYS
    }
    result = {
        "first_render_s": {kind: {way: first[kind].get(way) for way in WAYS} for kind in ("catalog", "bare")},
        "ratio": ratio,
        "ratio_ok": {way: None if ratio[way] is None else ratio[way] <= RATIO_BAR for way in WAYS},
        "page_change_s": {way: page_change.get(way) for way in ("panel", "voila")},
        "page_change_ok": {
            way: None if page_change.get(way) is None else page_change[way] <= PAGE_CHANGE_BAR_S
            for way in ("panel", "voila")
        },
        "state_page_change_s": (breakdown.get("large") or {}).get("state_go_to_s"),
        "rows": args.rows,
        "repeats": args.repeats,
        "clicks": args.clicks,
        "cold_first_render_s": {kind: {way: cold[kind].get(way) for way in WAYS} for kind in ("catalog", "bare")},
        "page_change_samples_s": {way: [s["s"] for s in d["samples"]] for way, d in page_details.items()},
        # One visit each (the page the clicks were timed on): informative, not a median.
        "first_render_100k_s": {way: d["opened"]["first_row_s"] for way, d in page_details.items()},
        "in_process": breakdown,
        "load_average": {"start": load_start, "end": list(os.getloadavg())},
        "outside_requests": len(problems["outside"]),
        "console_errors": len(problems["console"]),
        "large_database_generator": generator,
        "versions": {
            "panel": version("panel"),
            "bokeh": version("bokeh"),
            "voila": version("voila"),
            "holoviews": version("holoviews"),
            "chromium": browser_version,
        },
        "errors": errors,
    }
    details = {
        "cold": result["cold_first_render_s"],
        "first_samples": first_samples,
        "clicks": args.clicks,
        "in_process": breakdown,
        **problems,
    }
    report(result, details)
    print("RESULT " + json.dumps(result, separators=(",", ":")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
