"""The must-show of issue 18: a script with a user's hub token changes a request through the API, as that user.

`obslab hub` runs the shipped configuration, which starts obslab's API as a hub service, plus a site file adding an
admin service for the test; the example script (examples/sign_off_with_hub_token.py) runs with tokens the hub made:
a user server's own, and ones the admin service asked for.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.cli.hub import shipped_config
from obslab.refusals import REFUSED_ACTION
from tests.api.http import bearer, call
from tests.helpers.catalog_world import build_world, submit_frame_time_change
from tests.helpers.hub import hub_api, running_hub
from tests.helpers.served import descendants

SCRIPT = Path(__file__).parents[2] / "examples" / "sign_off_with_hub_token.py"
ACCESS = "access:services!service=obslab-api"
#: The shipped configuration (which starts obslab's API as the service obslab-api behind the proxy, lets every user
#: reach it and gives user servers' tokens that access) and, for the test alone, an admin service whose token makes
#: users, tokens and servers.
SITE_CONFIG = """
import os

c = get_config()
load_subconfig(os.environ["OBSLAB_TEST_SHIPPED_CONFIG"])
admin = {"name": "test-admin", "api_token": os.environ["OBSLAB_TEST_ADMIN_TOKEN"]}
c.JupyterHub.services = [*c.JupyterHub.services, admin]
c.JupyterHub.load_roles = [
    *c.JupyterHub.load_roles,
    {"name": "test-admin", "scopes": ["admin:users", "admin:servers", "tokens"], "services": ["test-admin"]},
]
"""


def run_script(env: dict[str, str], label: str, area: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), label, area], env=env, capture_output=True, text=True, timeout=120
    )


def audit(sessions: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def server_environment(hub_pid: int, user: str) -> dict[str, str]:
    """The environment JupyterHub gave ``user``'s server (what a terminal in it has), read from /proc."""
    for pid in descendants(hub_pid):
        try:
            pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        env = dict(pair.decode().split("=", 1) for pair in pairs if b"=" in pair)
        if env.get("JUPYTERHUB_USER") == user and "JUPYTERHUB_API_TOKEN" in env:
            return env
    raise AssertionError(f"no server of {user} below the hub")


def wait_for(what: str, check: object, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.5)


@pytest.fixture
def label(sessions: sessionmaker[Session]) -> str:
    with sessions() as session, session.begin():
        return submit_frame_time_change(session, build_world(session))


@pytest.fixture
def hub(migrated_url: str, tmp_path: Path, label: str) -> Iterator[tuple[str, int, requests.Session]]:
    """The hub's base URL and pid, and a session acting as the test's admin service."""
    config = tmp_path / "site_config.py"
    config.write_text(SITE_CONFIG)
    admin_token = secrets.token_hex(32)
    settings = {
        "OBSLAB_TEST_SHIPPED_CONFIG": str(shipped_config()),
        "OBSLAB_TEST_ADMIN_TOKEN": admin_token,
    }
    with running_hub(migrated_url, tmp_path, config=config, settings=settings) as run:
        admin = requests.Session()
        admin.headers["Authorization"] = f"token {admin_token}"
        hub_api(admin, run.base, "users", "POST", {"usernames": ["ops", "acisa", "mallory"]})
        wait_for("the API behind the proxy", lambda: api_answers(run.base))
        yield run.base, run.pid, admin


def api_answers(base: str) -> bool:
    try:
        return requests.get(f"{base}services/obslab-api/health", timeout=10).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.slow  # the hub, its proxy, obslab's API as its service and a user's JupyterLab start in some seconds
def test_a_script_with_a_users_hub_token_signs_as_that_user(
    hub: tuple[str, int, requests.Session], sessions: sessionmaker[Session], label: str
) -> None:
    base, hub_pid, admin = hub
    api = f"{base}services/obslab-api"

    def token(user: str, scopes: list[str]) -> str:
        made = hub_api(admin, base, f"users/{user}/tokens", "POST", {"scopes": scopes, "note": "test"})
        return str(made["token"])

    # A token ops made for the script; OBSLAB_ACTING_USER and JUPYTERHUB_USER naming acisa change nothing.
    ops = token("ops", [ACCESS])
    others = {"OBSLAB_ACTING_USER": "acisa", "JUPYTERHUB_USER": "acisa"}
    script_env = {"PATH": os.environ["PATH"], "OBSLAB_API_URL": api, "JUPYTERHUB_API_TOKEN": ops} | others
    signed = run_script(script_env, label, "acis")
    assert signed.returncode == 0, signed.stdout + signed.stderr
    assert f"signed the acis area of {label} as ops" in signed.stdout
    (event,) = audit(sessions, "signoff.signed")
    assert (event.actor_name, event.entity_id) == ("ops", label)

    # acisa may sign acis_si, ops may not: the token decides, and the refusal is audited under ops.
    refused = run_script(script_env, label, "acis_si")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "refused: ops may not sign off the acis_si area" in refused.stderr and "(403 permission_denied)" in (
        refused.stderr
    )
    direct = call(
        api,
        "POST",
        f"/api/v1/changes/{label}/signoffs/acis_si?acting_user=acisa&username=acisa",
        headers=bearer(ops) | {"X-Obslab-Acting-User": "acisa", "Remote-User": "acisa", "X-Forwarded-User": "acisa"},
        body={"seen_version": 1},
    )
    assert direct.status == 403 and "ops may not" in direct.json()["message"], direct.text

    # Tokens that may not act: without access to the API, of a hub user obslab does not know, of a service.
    for env, words in (
        ({"JUPYTERHUB_API_TOKEN": token("ops", ["read:users:name!user=ops"])}, "does not give access"),
        ({"JUPYTERHUB_API_TOKEN": token("mallory", [ACCESS])}, "'mallory' is not an obslab user"),
        ({"JUPYTERHUB_API_TOKEN": admin.headers["Authorization"].split()[1]}, "the hub service 'test-admin'"),
        ({"JUPYTERHUB_API_TOKEN": "not-a-token"}, "neither a valid obslab API key nor a JupyterHub token"),
    ):
        no = run_script(script_env | env, label, "acis_si")
        assert no.returncode == 1 and words in no.stderr and "Traceback" not in no.stderr, no.stderr
    refusals = audit(sessions, REFUSED_ACTION)
    assert [(e.actor_name, e.after["code"]) for e in refusals] == [
        ("ops", "permission_denied"),
        ("ops", "permission_denied"),
        ("ops", "hub_token_refused"),
        ("mallory", "not_an_obslab_user"),
        ("service:test-admin", "hub_token_refused"),
    ]
    assert {e.after["via"] for e in refusals} == {"hub token"} and "acisa" not in {e.actor_name for e in refusals}

    # The token JupyterHub gives acisa's own server, used as a terminal in it would: acisa signs acis_si.
    hub_api(admin, base, "users/acisa/server", "POST")
    wait_for("acisa's server", lambda: hub_api(admin, base, "users/acisa")["servers"].get("", {}).get("ready"))
    inside = server_environment(hub_pid, "acisa") | {"OBSLAB_API_URL": api, "OBSLAB_ACTING_USER": "ops"}
    mine = run_script(inside, label, "acis_si")
    assert mine.returncode == 0, mine.stdout + mine.stderr
    assert f"signed the acis_si area of {label} as acisa" in mine.stdout
    assert [e.actor_name for e in audit(sessions, "signoff.signed")] == ["ops", "acisa"]
