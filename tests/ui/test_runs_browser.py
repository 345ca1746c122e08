"""The run browser in a browser: nights, filters, paging, one exposure whole, force redo, and what outsiders see."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import select

from obslab.db import make_engine, make_session_factory
from obslab.demo.nights import PROGRAM_MEMBERS
from obslab.observing.models import Alarm, Exposure, Night
from tests.helpers.browsing import VIEWPORT, Watched
from tests.helpers.served import served
from tests.helpers.trend_alarms import RULE

pytestmark = [pytest.mark.ui, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ROWS = ".obslab-runs-table .tabulator-row:not(.tabulator-group)"


def exposures(url: str) -> list[tuple[str, str, str, str]]:
    """(name, program, target, night) of every exposure, read apart from the read models."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            found = session.execute(
                select(Exposure.name, Exposure.program, Exposure.target_name, Night.night_date).join(Night)
            ).all()
        return [(name, program, target, night.isoformat()) for name, program, target, night in found]
    finally:
        engine.dispose()


def visible_to(url: str, username: str) -> list[tuple[str, str, str, str]]:
    """The exposures ``username`` may see: their programs', and the calibrations of nights that hold them."""
    mine = {code for code, members in PROGRAM_MEMBERS.items() if username in members}
    every = exposures(url)
    nights = {night for _, program, _, night in every if program in mine}
    return [e for e in every if e[1] in mine or (e[1] == "" and e[3] in nights)]


@contextmanager
def run_browser(browser: Any, url: str, tmp_path: Path, viewer: str, request: Any) -> Iterator[Any]:
    with served(url, tmp_path, panel=True, viewer=viewer) as base:
        watched = Watched(browser)
        watched.page.goto(base + "runs", timeout=120_000)
        try:
            watched.page.locator(".obslab-header").filter(has_text=viewer).wait_for(timeout=60_000)
            watched.page.locator(ROWS).first.wait_for(timeout=60_000)
            yield watched
        except BaseException:
            # Used inside the test's body, so the call's report does not exist yet: a failure is what was raised here.
            # The server's log goes beside the screenshot: a lost click (seen under CI's load) may have left a trace.
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            watched.page.screenshot(path=ARTIFACTS / f"FAILED-{request.node.name}.png", full_page=True)
            for log in (tmp_path / "logs").glob("*.log"):
                shutil.copyfile(log, ARTIFACTS / f"FAILED-{request.node.name}-{log.name}")
            (ARTIFACTS / f"FAILED-{request.node.name}-console.txt").write_text("\n".join(watched.console))
            raise
        finally:
            watched.page.close()


def status_says(page: Any, text: str) -> None:
    page.locator(".obslab-page-status").filter(has_text=text).wait_for(timeout=30_000)


#: The rows the exposures table holds, from its Bokeh model (Tabulator draws only the rows in view).
TABLE_COLUMN = """([table, field]) => {
  const tables = [...Bokeh.index.query((view) => (view.model.css_classes || []).includes(table))];
  const data = tables.length === 1 ? tables[0].model.source.data : null;
  const values = data instanceof Map ? data.get(field) : data?.[field];
  return values === undefined ? null : [...values].map(String);
}"""


def cells(page: Any, field: str, table: str = "obslab-runs-table") -> list[str]:
    return page.evaluate(TABLE_COLUMN, [table, field])


def column_of_length(page: Any, field: str, length: int) -> list[str]:
    """The exposures table's column once it holds ``length`` rows."""
    page.wait_for_function(
        f"(n) => ({TABLE_COLUMN})(['obslab-runs-table', '{field}'])?.length === n", arg=length, timeout=30_000
    )
    return cells(page, field)


def column_becomes(page: Any, table: str, field: str, expected: list[str]) -> None:
    page.wait_for_function(
        f"(wanted) => JSON.stringify(({TABLE_COLUMN})(['{table}', '{field}'])) === JSON.stringify(wanted)",
        arg=expected,
        timeout=30_000,
    )


def open_exposure(page: Any, name: str) -> None:
    """Click the exposure's row until its detail shows.

    A click that lands while Tabulator redraws the rows it was just sent (a night picked, a filter typed) is lost,
    as it is for a person, who clicks again; a second click on the same row only selects it again.
    """
    for _ in range(4):
        page.locator(ROWS).filter(has_text=name).first.click()
        try:
            page.locator(".obslab-runs-summary h3").filter(has_text=name).wait_for(timeout=10_000)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError(f"{name} did not open after four clicks")


def column_changes(page: Any, field: str, old: list[str]) -> list[str]:
    """The exposures table's column once it holds other values than ``old`` (the status line can come first)."""
    page.wait_for_function(
        f"""(old) => {{
  const now = ({TABLE_COLUMN})(['obslab-runs-table', '{field}']);
  return now !== null && now.length > 0 && JSON.stringify(now) !== JSON.stringify(old);
}}""",
        arg=old,
        timeout=30_000,
    )
    return cells(page, field)


def enter(locator: Any, text: str) -> None:
    locator.fill(text)
    locator.press("Enter")


def test_nights_filters_paging_detail_and_force_redo(
    browser: Any, demo_with_alarms: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    seen = visible_to(demo_with_alarms, "cfernandez")
    engine = make_engine(demo_with_alarms)
    try:
        with make_session_factory(engine)() as session:
            flagged = set(session.scalars(select(Exposure.name).join(Alarm).where(Alarm.rule == RULE)))
    finally:
        engine.dispose()
    with run_browser(browser, demo_with_alarms, tmp_path, "cfernandez", request) as watched:
        p = watched.page
        status_says(p, f"Page 1 of {-(-len(seen) // 50)} · {len(seen)} exposures")
        nights = sorted({night for *_, night in seen}, reverse=True)
        assert p.locator(".obslab-runs-nights .tabulator-row").all_inner_texts()[0].startswith(nights[0])

        # Paging in the database: 25 a page, and the second page holds the next ones.
        p.locator("select:has(option[value='200'])").select_option("25")
        status_says(p, f"Page 1 of {-(-len(seen) // 25)} · {len(seen)} exposures")
        first = column_of_length(p, "name", 25)  # the status line can come before the rows
        p.locator(".obslab-page-next button").click()
        status_says(p, "Page 2 of")
        second = column_changes(p, "name", first)
        assert len(first) == 25 and len(second) == min(25, len(seen) - 25) and not set(first) & set(second)

        # A target typed: only its exposures, from page 1.
        target = next(t for _, program, t, _ in seen if program)
        expected = sorted(name for name, _, t, _ in seen if t == target)
        enter(p.get_by_placeholder("exact, or NGC*"), target)
        status_says(p, f"Page 1 of 1 · {len(expected)} exposures")
        assert sorted(column_changes(p, "name", second)) == expected
        enter(p.get_by_placeholder("exact, or NGC*"), "")

        # A night clicked: its exposures, grouped by program.
        p.locator(".obslab-runs-nights .tabulator-row").nth(1).click()
        night = nights[1]
        p.locator(".obslab-runs-night-line").filter(has_text=f"the night of {night}").wait_for(timeout=30_000)
        status_says(p, f"· {sum(1 for *_, n in seen if n == night)} exposures")
        groups = p.locator(".obslab-runs-table .tabulator-group").all_inner_texts()
        assert groups and all("program: " in g for g in groups) and not any("program: 25" in g for g in groups)

        # One exposure whole: previews, the configuration in force, every stage with its provenance.
        name = next(n for n, program, _, n_night in seen if program == "24" and n_night == night)
        open_exposure(p, name)
        images = p.locator(".obslab-runs-previews img")
        assert images.count() == 2
        assert all(width == 256 for width in images.evaluate_all("(all) => all.map((i) => i.naturalWidth)"))
        p.locator(".obslab-runs-configuration").filter(has_text="ROBO-CAM version").wait_for()
        column_becomes(p, "obslab-runs-stages", "stage", ["stack", "strehl", "preview"])
        assert all("inputs=" in text for text in cells(p, "provenance", "obslab-runs-stages"))
        rows = p.locator(".obslab-runs-stages .tabulator-row")
        rows.filter(has_text="strehl").first.wait_for(timeout=30_000)  # drawn, not only sent

        # Force redo: done once, refused the second time, and the table says it is marked.
        p.locator("select:has(option[value='preview'])").select_option("strehl")
        p.locator(".obslab-runs-redo button").click()
        p.locator(".obslab-runs-outcome").filter(has_text=f"strehl of {name} will run again").wait_for(timeout=30_000)
        column_becomes(p, "obslab-runs-stages", "force_redo", ["false", "true", "false"])
        rows.filter(has_text="strehl").locator('[tabulator-field="force_redo"] svg').wait_for(timeout=30_000)
        p.locator(".obslab-runs-redo button").click()
        p.locator(".obslab-runs-refused").filter(has_text="is already marked to run again").wait_for(timeout=30_000)

        # An exposure whose Strehl raised an alarm shows it beside the exposure, its message as text.
        alarmed, target = next((n, t) for n, program, t, _ in seen if n in flagged and program)
        p.locator(".obslab-runs-all-nights button").click()
        enter(p.get_by_placeholder("exact, or NGC*"), target)
        open_exposure(p, alarmed)
        p.locator(".obslab-runs-summary h3").filter(has_text="1 open alarm").wait_for(timeout=30_000)
        shown = p.locator(".obslab-runs-alarms").inner_text()
        assert RULE in shown and "check the loop</b>" in shown and "open" in shown

        p.mouse.move(0, 0)
        p.wait_for_timeout(500)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        assert VIEWPORT == {"width": 1400, "height": 1000}
        p.screenshot(path=ARTIFACTS / "runs.png", full_page=True)
        watched.assert_clean()


def test_someone_outside_a_program_never_sees_its_exposures(
    browser: Any, demo_database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    seen = visible_to(demo_database, "bnovak")
    foreign = next(e for e in exposures(demo_database) if e[1] == "24")
    with run_browser(browser, demo_database, tmp_path, "bnovak", request) as watched:
        p = watched.page
        status_says(p, f"· {len(seen)} exposures")
        options = p.locator("select:has(option[value='25']) option").all_inner_texts()
        assert "24" not in options and "25" in options
        enter(p.get_by_placeholder("exact, or NGC*"), foreign[2])
        expected = sum(1 for e in seen if e[2] == foreign[2])
        status_says(p, f"· {expected} exposures")
        assert foreign[0] not in cells(p, "name")
        watched.assert_clean()
