"""A change request end to end in a browser: submitted, signed by two areas, verified, approved, seen everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import find_user
from obslab.audit import AuditEvent
from obslab.catalog.changes.signoff import sign_off
from obslab.catalog.models import Observation, ObservationParameter
from obslab.db import make_engine, make_session_factory, transaction
from obslab.errors import PermissionDeniedError
from tests.helpers.browsing import Watched
from tests.helpers.demo_changes import candidate
from tests.helpers.served import served

pytestmark = [pytest.mark.ui, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
#: One support scientist and the owners of the two areas a target-name and ACIS change needs.
SUBMITTER, OPERATIONS, ACIS_TEAM = "jchen", "tlindqvist", "kpatel"
#: Typed into the form; if any page rendered it as HTML, the image's handler would set the flag.
HOSTILE_NAME = 'Cas A <img src=x onerror="window.__pwned=1"> & <b>core</b>'
HOSTILE_COMMENT = "Shorter frames <script>window.__pwned=2</script>, per PI's e-mail"


class Person:
    """One user's browser page on their own `panel serve` (each server acts as its one user, as under JupyterHub)."""

    def __init__(self, browser: Any, base: str, username: str) -> None:
        self.watched = Watched(browser)
        self.page = self.watched.page
        self.base = base
        self.username = username

    def open(self, slug: str) -> Any:
        self.page.goto(self.base + slug)
        self.page.locator(".obslab-header").filter(has_text=self.username).wait_for(timeout=60_000)
        return self.page

    def message(self, text: str) -> None:
        self.page.locator(".obslab-message").filter(has_text=text).wait_for(timeout=20_000)

    def assert_escaped(self) -> None:
        """The hostile text never became markup on this page, and nothing left loopback or failed."""
        assert self.page.evaluate("window.__pwned") is None
        self.watched.assert_clean()


@pytest.fixture
def people(
    browser: Any, writable_demo_database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[dict[str, Person]]:
    with ExitStack() as stack:
        found = {}
        for name in (SUBMITTER, OPERATIONS, ACIS_TEAM):
            base = stack.enter_context(served(writable_demo_database, tmp_path / name, panel=True, viewer=name))
            found[name] = Person(browser, base, name)
        try:
            yield found
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            passed = request.node.report_call.passed
            for name, person in found.items():
                shot = f"signoff-flow-{name}.png" if passed else f"FAILED-{request.node.name}-{name}.png"
                person.page.screenshot(path=ARTIFACTS / shot, full_page=True)
                person.page.close()


#: Text of an element including what Panel renders in shadow roots (innerText stops at them); no CSS or script text.
DEEP_TEXT = """e => {
    const walk = node => (node.shadowRoot ? walk(node.shadowRoot) : "") + Array.from(node.childNodes).map(child =>
        child.nodeType === Node.TEXT_NODE ? child.textContent
            : ["STYLE", "SCRIPT"].includes(child.nodeName) ? "" : walk(child)).join(" ");
    return walk(e).replace(/\\s+/g, " ");
}"""


def text(page: Any, selector: str) -> str:
    return page.locator(selector).first.evaluate(DEEP_TEXT)


def board_row(page: Any, label: str) -> dict[str, str]:
    """The board's row for ``label`` as field -> text."""
    row = page.locator(".tabulator-row").filter(
        has=page.locator(f'.tabulator-cell[tabulator-field="revision"] >> text="{label}"')
    )
    row.wait_for(timeout=20_000)
    cells = row.locator(".tabulator-cell")
    return {cells.nth(i).get_attribute("tabulator-field"): cells.nth(i).inner_text() for i in range(cells.count())}


def wait_for_cell(page: Any, label: str, field: str, pattern: str) -> None:
    row = page.locator(".tabulator-row").filter(
        has=page.locator(f'.tabulator-cell[tabulator-field="revision"] >> text="{label}"')
    )
    row.locator(f'.tabulator-cell[tabulator-field="{field}"]').filter(has_text=re.compile(pattern)).wait_for(
        timeout=20_000
    )


def sign(person: Person, label: str, area: str, title: str) -> None:
    page = person.page
    page.locator(".tabulator-row").filter(
        has=page.locator(f'.tabulator-cell[tabulator-field="revision"] >> text="{label}"')
    ).click()
    page.locator(".obslab-board-selected").filter(has_text=label).wait_for(timeout=20_000)
    page.locator(f".obslab-action-sign-{area} button").click()
    person.message(f"{label}: sign {title.lower()} done")
    wait_for_cell(page, label, area, rf"signed \({person.username}\)")


def test_submit_sign_verify_approve_through_the_dashboards(
    people: dict[str, Person], writable_demo_database: str
) -> None:
    obsid, old_name = candidate(writable_demo_database)
    submitter, operations, acis_team = people[SUBMITTER], people[OPERATIONS], people[ACIS_TEAM]

    # 1. The support scientist fills the form: the target name and an ACIS parameter, then a comment.
    page = submitter.open("change")
    box = page.get_by_placeholder("e.g. 30001")
    box.fill(str(obsid))
    box.press("Enter")
    page.locator(".obslab-editor-load button").click()
    page.locator(".obslab-editor-summary").filter(has_text=str(obsid)).wait_for(timeout=20_000)
    target = page.locator(".obslab-field-targname-0 input")
    target.fill(HOSTILE_NAME)
    target.press("Enter")
    page.locator(".obslab-editor-problems").filter(has_text="0 errors").wait_for(timeout=20_000)
    # Whatever the demo observation holds, ask for the other telemetry format: the confirmation shows both.
    pack = page.locator(".obslab-field-bep_pack-0 select")
    before_pack = pack.input_value()
    assert before_pack, "the demo observation holds a telemetry format, which the confirmation must show"
    after_pack = "VF" if before_pack == "F" else "F"
    pack.select_option(after_pack)
    page.locator(".obslab-field-frame_time-0 input").fill("fast")
    page.locator(".obslab-field-frame_time-0 input").press("Enter")
    # Checked as typed: the bad value is named and its field marked, before anything is submitted.
    page.locator(".obslab-editor-problems").filter(has_text="1 error").wait_for(timeout=20_000)
    assert "'fast'" in text(page, ".obslab-editor-problems")
    page.locator(".obslab-field-error.obslab-field-frame_time-0").wait_for(timeout=20_000)
    page.locator(".obslab-field-frame_time-0 input").fill("2.8")
    page.locator(".obslab-field-frame_time-0 input").press("Enter")
    page.locator(".obslab-editor-problems").filter(has_text="0 errors").wait_for(timeout=20_000)
    comment = page.get_by_placeholder("Why this change is needed")
    comment.fill(HOSTILE_COMMENT)
    comment.press("Tab")
    page.locator(".obslab-editor-review button").click()
    confirm = page.locator(".obslab-editor-confirm")
    confirm.filter(has_text="Confirm").wait_for(timeout=20_000)
    shown = text(page, ".obslab-editor-confirm")
    assert HOSTILE_NAME in shown and HOSTILE_COMMENT in shown and "2.8" in shown
    assert before_pack in shown and after_pack in shown  # the telemetry format now and as requested
    assert "General, ACIS, ACIS SI mode, then verification" in shown
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "signoff-flow-confirm.png", full_page=True)
    page.locator(".obslab-editor-submit button").click()
    page.locator(".obslab-editor-done").filter(has_text=f"{obsid}.").wait_for(timeout=20_000)
    label = re.search(rf"{obsid}\.\d{{3}}", text(page, ".obslab-editor-done")).group(0)
    submitter.assert_escaped()

    # 2. On the submitter's board: every area pending, nothing for a support scientist to sign; the catalog's
    #    target name stays until the change is verified.
    page = submitter.open("signoff")
    row = board_row(page, label)
    assert (row["general"], row["acis"], row["acis_si"], row["verification"]) == ("pending",) * 4
    assert row["actions"] == "Discard" and row["target"] == old_name  # verifiers may discard; no area is theirs
    # The steps that are not theirs are there, disabled, each with why.
    page.locator(".tabulator-row").filter(
        has=page.locator(f'.tabulator-cell[tabulator-field="revision"] >> text="{label}"')
    ).click()
    page.locator(".obslab-board-selected").filter(has_text=label).wait_for(timeout=20_000)
    blocked = page.locator(".obslab-action-blocked button")
    assert blocked.count() == 4 and all(blocked.nth(i).is_disabled() for i in range(4))
    why = text(page, ".obslab-why-not")
    assert "you need the arcops role; you have usint" in why
    submitter.assert_escaped()

    # 3. Operations signs its two areas; the ACIS team signs the SI mode, seeing the values side by side.
    operations.open("signoff")
    assert board_row(operations.page, label)["actions"] == "Sign General, Sign ACIS"
    sign(operations, label, "general", "General")
    sign(operations, label, "acis", "ACIS")
    operations.assert_escaped()
    acis_team.open("signoff")
    sign(acis_team, label, "acis_si", "ACIS SI mode")
    values = text(acis_team.page, ".obslab-board-values")
    assert "Frame time" in values and "2.8" in values and HOSTILE_NAME in values
    assert HOSTILE_COMMENT in text(acis_team.page, ".obslab-board-selected")
    acis_team.assert_escaped()

    # 4. The submitter sees the signatures, verifies and approves.
    page = submitter.page
    page.locator(".obslab-board-refresh button").click()
    wait_for_cell(page, label, "acis_si", rf"signed \({ACIS_TEAM}\)")
    assert board_row(page, label)["actions"] == "Verify, Verify and approve"
    page.locator(".tabulator-row").filter(
        has=page.locator(f'.tabulator-cell[tabulator-field="revision"] >> text="{label}"')
    ).click()
    page.locator(".obslab-action-approve button").click()
    submitter.message(f"{label}: verify and approve done")
    wait_for_cell(page, label, "verification", rf"signed \({SUBMITTER}\)")
    assert "applied" in text(page, ".obslab-board-values")
    submitter.assert_escaped()

    # 5. The catalog shows the observation approved, with the new values; "my actions" lists both steps.
    page = submitter.open("catalog")
    page.locator(".tabulator-row").first.wait_for(timeout=60_000)
    box = page.get_by_placeholder("20001-20050, 20077")
    box.fill(str(obsid))
    box.press("Enter")
    page.locator(f'.tabulator-row .tabulator-cell[tabulator-field="obsid"] >> text="{obsid}"').wait_for(timeout=20_000)
    page.locator(".obslab-page-status").filter(has_text="· 1 observations").wait_for(timeout=20_000)
    page.locator(".tabulator-row").first.click()
    summary = page.locator(".obslab-detail-summary").filter(has_text=f"Obsid {obsid}")
    summary.wait_for(timeout=20_000)
    detail = text(page, ".obslab-detail-summary")
    assert HOSTILE_NAME in detail and "not approved" not in detail and "approved" in detail
    submitter.assert_escaped()
    page = submitter.open("mine")
    page.locator(".obslab-actions-table .tabulator-row").first.wait_for(timeout=20_000)
    mine = text(page, ".obslab-actions-table")
    assert label in mine and "submitted norm" in mine and "verified" in mine
    submitter.assert_escaped()

    # Express approval now finds it approved; the duty roster draws too.  Nothing injected, nothing outside.
    page = submitter.open("express")
    listing = page.get_by_placeholder("20001-20050, 20077; 20101")
    listing.fill(f"{obsid}, 99999")
    listing.press("Tab")
    page.locator(".obslab-express-check button").click()
    # Both rows are waited for: the table may re-render between the check's two updates, so a snapshot
    # read right after the first row appears can catch it empty.
    rows = page.locator(".obslab-express-table .tabulator-row")
    rows.filter(has_text="already approved").wait_for(timeout=20_000)
    rows.filter(has_text="unknown obsid").wait_for(timeout=20_000)
    submitter.assert_escaped()
    page = submitter.open("duty")
    page.locator(".obslab-duty-table .tabulator-row").first.wait_for(timeout=20_000)
    submitter.assert_escaped()
    # The night's Re-plan is a scheduler's: disabled for a support scientist, with the reason beside it.
    page = submitter.open("schedule")
    replan = page.locator(".obslab-schedule-replan button")
    replan.wait_for(timeout=60_000)
    assert replan.is_disabled()
    assert "to store night plans you need the scheduler role" in text(page, ".obslab-schedule-controls")
    submitter.assert_escaped()

    # The database agrees with what the pages showed, and the audit log holds each step once, by its person.
    engine = make_engine(writable_demo_database)
    try:
        with make_session_factory(engine)() as session:
            observation = session.scalar(select(Observation).where(Observation.obsid == obsid))
            assert observation.approved and observation.target_name == HOSTILE_NAME
            frame = session.scalar(
                select(ObservationParameter.value).where(
                    ObservationParameter.observation_id == observation.id, ObservationParameter.name == "frame_time"
                )
            )
            assert frame == 2.8
            events = session.execute(
                select(AuditEvent.action, AuditEvent.entity_id)
                .where(AuditEvent.entity_id.like(f"{obsid}.%"))
                .order_by(AuditEvent.id)
            ).all()
            steps = [action for action, entity in events if entity == label]
            assert steps[:5] == [
                "revision.submitted.norm",
                "signoff.signed",
                "signoff.signed",
                "signoff.signed",
                "revision.verified",
            ]
            refused_as_submitter(session, label)
    finally:
        engine.dispose()


def refused_as_submitter(session: Session, label: str) -> None:
    """A hidden button is not security: the service itself refuses a sign-off by someone without the area's role."""
    session.commit()  # end the read transaction the checks above began
    with pytest.raises(
        PermissionDeniedError, match=rf"{SUBMITTER} may not sign off the acis_si area: that needs the role 'acis'"
    ):
        with transaction(make_session_factory(session.get_bind())) as writer:
            sign_off(writer, find_user(writer, SUBMITTER), label, "acis_si", seen_version=1)
