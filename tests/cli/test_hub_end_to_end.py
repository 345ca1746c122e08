"""Two people on the shipped JupyterHub: each does what their role allows on the dashboards, and nobody acts as another.

The hub, its proxy, the dashboards service and the API service start as a site would run them (`obslab hub`), over
the demo observatory; a real chromium logs in as an ACIS scientist and as a scheduler, each in a browser context
of its own. Then the ways to pass for someone else are tried with the ACIS scientist's own server's credentials,
read from the environment JupyterHub gave their JupyterLab: a variable, a name in an API call, the database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from obslab.audit import AuditEvent
from obslab.db import make_engine, make_session_factory
from tests.helpers.browsing import Watched
from tests.helpers.demo_changes import open_acis_change
from tests.helpers.hub import USER_PASSWORD, run_in_server, running_hub
from tests.helpers.served import BIN, Server, descendants, obslab_env
from tests.helpers.voevents import swift_bat_grb

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
ACIS_TEAM, SCHEDULER, SUBMITTER = "kpatel", "ayamamoto", "jchen"
VISITOR = "visitor"  # a hub user obslab does not know
ALERT_WATCHER = "alertbot"  # the alert watcher's service user
TELESCOPE = "tcs"  # the demo's telescope control system, a service user with the telescope role
NIGHT = "2026-11-21"  # the demo's night
READER_PASSWORD = "reader-password-for-the-e2e-test"
DASHBOARDS = "services/obslab-dashboards/"
API = "services/obslab-api/"


def reader_url(database_url: str, data_dir: Path) -> str:
    """The read-only URL users' servers get, made as a site makes it (`obslab db reader`)."""
    env = obslab_env(database_url, data_dir, "mgarcia") | {"OBSLAB_READER_PASSWORD": READER_PASSWORD}
    command = [str(BIN / "obslab"), "db", "reader", "--role", "obslab_reader_e2e", "--print-url"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


#: Typed into a notebook of the ACIS scientist's server: pass for the scheduler, then write with the server's database.
IN_A_NOTEBOOK = """
import os
os.environ["OBSLAB_ACTING_USER"] = "{other}"
from sqlalchemy import text
from obslab.context import ObslabContext
context = ObslabContext.from_settings()
print("identity", context.identity)
with context.engine.connect() as connection:
    print("users readable", connection.scalar(text("SELECT count(*) FROM users")) > 0)
try:
    with context.engine.begin() as connection:
        connection.execute(text("UPDATE users SET full_name = 'forged' WHERE username = '{other}'"))
    print("write done")
except Exception as error:
    print("write refused", str(getattr(error, "orig", error)).splitlines()[0])
"""


def add_user(database_url: str, data_dir: Path, name: str, role: str) -> None:
    env = obslab_env(database_url, data_dir, "mgarcia")
    command = [str(BIN / "obslab"), "users", "add", name, "--role", role]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hub-e2e")


@pytest.fixture(scope="module")
def hub(writable_demo_database: str, data_dir: Path) -> Iterator[Server]:
    add_user(writable_demo_database, data_dir, ALERT_WATCHER, "scheduler")
    (data_dir / "alerts").mkdir()
    settings = {
        "OBSLAB_READER_DATABASE_URL": reader_url(writable_demo_database, data_dir),
        "OBSLAB_HUB_ALERTS_DIR": str(data_dir / "alerts"),
        "OBSLAB_HUB_ALERTS_USER": ALERT_WATCHER,
    }
    with running_hub(writable_demo_database, data_dir, settings=settings) as run:
        yield run


class Person:
    """One person's browser (a context of its own: their own cookies), logged in to the hub."""

    def __init__(self, browser: Any, base: str, username: str) -> None:
        self.watched = Watched(browser)  # a context of its own; nothing may leave loopback or fail in the console
        self.page = self.watched.page
        self.base, self.username = base, username

    def close(self) -> None:
        self.watched.assert_clean()
        self.page.close()

    def log_in(self) -> None:
        self.page.goto(self.base + "hub/login")
        self.page.fill("#username_input", self.username)
        self.page.fill("#password_input", USER_PASSWORD)
        self.page.click("#login_submit")
        self.page.wait_for_url("**/hub/**spawn**", timeout=60_000)  # the hub starts their JupyterLab

    def open(self, slug: str) -> Any:
        self.page.goto(self.base + DASHBOARDS + slug, timeout=120_000)
        self.page.locator(".obslab-header").filter(has_text=self.username).wait_for(timeout=90_000)
        return self.page

    def shoot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"hub-{name}-{self.username}.png", full_page=True)


def select_revision(page: Any, label: str) -> None:
    page.locator(".tabulator-row").filter(
        has=page.locator(f'.tabulator-cell[tabulator-field="revision"] >> text="{label}"')
    ).click()
    page.locator(".obslab-board-selected").filter(has_text=label).wait_for(timeout=30_000)


def server_environment(hub_pid: int, username: str) -> dict[str, str]:
    """The environment JupyterHub gave ``username``'s JupyterLab: what code in their server starts from."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for pid in descendants(hub_pid):
            try:
                if b"jupyterhub-singleuser" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue
                pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            env = dict(pair.decode().split("=", 1) for pair in pairs if b"=" in pair)
            if env.get("JUPYTERHUB_USER") == username:
                return env
        time.sleep(1)
    raise AssertionError(f"{username}'s server never started")


def refusals_of(url: str, username: str) -> list[dict[str, Any]]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            query = select(AuditEvent).where(AuditEvent.action == "refused", AuditEvent.actor_name == username)
            return [event.after for event in session.scalars(query.order_by(AuditEvent.id))]
    finally:
        engine.dispose()


def signers(url: str, label: str) -> list[str]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            query = select(AuditEvent.actor_name).where(AuditEvent.entity_id == label, AuditEvent.action.like("%sign%"))
            return list(session.scalars(query.order_by(AuditEvent.id)))
    finally:
        engine.dispose()


def test_two_people_act_only_as_themselves(hub: Server, browser: Any, writable_demo_database: str) -> None:
    base = hub.base
    in_browser = open_acis_change(writable_demo_database, SUBMITTER)
    by_script = open_acis_change(writable_demo_database, SUBMITTER)  # the next candidate: the first has a revision
    acis, scheduler = Person(browser, base, ACIS_TEAM), Person(browser, base, SCHEDULER)
    acis.log_in()
    scheduler.log_in()

    # The sign-off board: the ACIS scientist signs the ACIS SI mode; the scheduler sees it disabled, with why.
    page = acis.open("signoff")
    select_revision(page, in_browser)
    page.locator(".obslab-action-sign-acis_si button").click()
    page.locator(".obslab-message").filter(has_text=f"{in_browser}: sign acis si mode done").wait_for(timeout=30_000)
    acis.shoot("signoff")
    page = scheduler.open("signoff")
    select_revision(page, in_browser)
    blocked = page.locator(".obslab-action-blocked button")
    assert blocked.count() >= 1 and all(blocked.nth(i).is_disabled() for i in range(blocked.count()))
    assert page.locator(".obslab-action-sign-acis_si button").count() == 0
    assert "you have scheduler" in page.locator(".obslab-why-not").first.inner_text()
    scheduler.shoot("signoff")
    assert signers(writable_demo_database, in_browser) == [ACIS_TEAM]

    # The schedule page: the scheduler re-plans the night and stores it; the ACIS scientist may not.
    page = scheduler.open("schedule")
    box = page.locator(".obslab-schedule-controls input").first
    box.fill(NIGHT)
    box.press("Enter")
    page.locator(".obslab-schedule-summary").filter(has_text=f"{NIGHT} at Kitt Peak").wait_for(timeout=60_000)
    page.locator(".obslab-schedule-replan button").click()
    page.locator(".obslab-message").filter(has_text="stored as version").wait_for(timeout=60_000)
    scheduler.shoot("schedule")
    page = acis.open("schedule")
    replan = page.locator(".obslab-schedule-replan button")
    replan.wait_for(timeout=60_000)
    assert replan.is_disabled()
    acis.shoot("schedule")

    # Code in the ACIS scientist's own server, with what JupyterHub gave it.
    env = server_environment(hub.pid, ACIS_TEAM)
    token, database = env["JUPYTERHUB_API_TOKEN"], env["OBSLAB_DATABASE_URL"]
    assert database != writable_demo_database  # the server never holds the writer's URL
    pretend = {**env, "OBSLAB_ACTING_USER": SCHEDULER, "PATH": f"{BIN}:{os.environ['PATH']}"}

    # A notebook in that server, as its owner would type it: the variable set to the scheduler, a write tried.
    server = base + f"user/{ACIS_TEAM}/api/"
    notebooks = requests.get(
        server + "contents/obslab-notebooks", headers={"Authorization": f"token {token}"}, timeout=60
    )
    assert {"demo-tour.ipynb", "scheduling.ipynb"} <= {item["name"] for item in notebooks.json()["content"]}
    printed = run_in_server(base, ACIS_TEAM, token, IN_A_NOTEBOOK.format(other=SCHEDULER))
    assert f"identity {ACIS_TEAM}" in printed, printed  # the variable changes nothing inside a hub
    assert "users readable True" in printed and "write done" not in printed, printed
    # Refused by the database itself: PostgreSQL's role may only SELECT; SQLite's file is opened read-only.
    assert "write refused permission denied for table users" in printed or (
        "write refused attempt to write a readonly database" in printed
    ), printed

    # Its hub token at the API: it is the ACIS scientist whatever name the request carries.
    api = base + API + "api/v1/"
    bearer = {"Authorization": f"Bearer {token}"}
    me = requests.get(api + "me", params={"user": SCHEDULER}, headers=bearer | {"X-Obslab-User": SCHEDULER}, timeout=60)
    assert me.status_code == 200 and me.json()["username"] == ACIS_TEAM, me.text
    assert requests.get(api + "me", headers={"Authorization": f"Bearer {SCHEDULER}"}, timeout=60).status_code == 401
    revision = requests.get(api + f"changes/{by_script}", headers=bearer, timeout=60).json()
    acis_area = next(signoff for signoff in revision["signoffs"] if signoff["area"] == "acis")  # arcops' to sign
    sign_acis = api + f"changes/{by_script}/signoffs/acis"
    named = {"seen_version": acis_area["version"], "user": SCHEDULER}
    assert requests.post(sign_acis, json=named, headers=bearer, timeout=60).status_code == 422  # no name is taken
    refused = requests.post(sign_acis, json={"seen_version": acis_area["version"]}, headers=bearer, timeout=60)
    assert refused.status_code == 403 and "arcops" in refused.json()["message"], refused.text
    assert any(
        event["where"] == "api" and f"/changes/{by_script}/signoffs/acis" in event["attempt"]
        for event in refusals_of(writable_demo_database, ACIS_TEAM)
    )

    # The example script, run as in their server with the variable set to someone else: it signs, as them.
    script = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "sign_off_with_hub_token.py"), by_script, "acis_si"],
        env=pretend | {"OBSLAB_API_URL": base + API},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert script.returncode == 0, script.stderr
    assert signers(writable_demo_database, by_script) == [ACIS_TEAM]
    acis.close()
    scheduler.close()


def test_the_telescope_and_the_fplane_clients_keep_their_api_key_behind_the_hub(
    hub: Server, writable_demo_database: str, data_dir: Path
) -> None:
    env = obslab_env(writable_demo_database, data_dir, "mgarcia")
    command = [str(BIN / "obslab"), "users", "apikey", TELESCOPE, "--label", "tcs behind the hub"]
    issued = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=True)
    key = issued.stdout.strip()
    api = hub.base + API
    fplane = requests.get(api + "fplane", timeout=60)  # as the fplane clients fetch it, through the hub's proxy
    assert fplane.status_code == 200 and "# IFUSLOT X_FP Y_FP" in fplane.text, fplane.text[:300]
    me = requests.get(api + "api/v1/me", headers={"Authorization": f"FPS_API APIKEY={key}"}, timeout=60)
    assert me.status_code == 200 and me.json()["username"] == TELESCOPE, me.text


def test_a_hub_user_obslab_does_not_know_may_look_and_is_told_why_not_act(hub: Server, browser: Any) -> None:
    visitor = Person(browser, hub.base, VISITOR)
    visitor.log_in()
    page = visitor.open("signoff")
    header = page.locator(".obslab-header").inner_text()
    assert "read-only: not an obslab user" in header and f"obslab users add {VISITOR} --role ROLE" in header
    assert "OBSLAB_ACTING_USER" not in header  # a login cannot be swapped for a variable: no such advice
    page.locator(".tabulator-row").first.wait_for(timeout=30_000)  # looking is allowed
    visitor.shoot("signoff")
    visitor.close()


def test_the_alert_watcher_runs_under_the_hub_as_its_own_service_user(
    hub: Server, writable_demo_database: str, data_dir: Path
) -> None:
    packet = swift_bat_grb(1_300_777, datetime.now(UTC).replace(microsecond=0), 150.0, -20.0)
    (data_dir / "alerts" / "swift-1300777.xml").write_text(packet)
    deadline = time.monotonic() + 90
    engine = make_engine(writable_demo_database)
    try:
        while time.monotonic() < deadline:
            with make_session_factory(engine)() as session:
                events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("alert.%"))).all()
                taken = [event.actor_name for event in events if "1300777" in (event.after or {}).get("key", "")]
            if taken:
                break
            time.sleep(1)
    finally:
        engine.dispose()
    assert taken == [ALERT_WATCHER]
    assert (data_dir / "alerts" / "done" / "swift-1300777.xml").exists()
