"""POST /fplane: the TCS records the focal plane by key; dry runs, unchanged reports and refusals write nothing."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from obslab.access import get_user
from obslab.audit import AuditEvent
from obslab.configs import tcs
from obslab.configs.fplane import items_from_fplane, parse_fplane
from obslab.configs.models import InstrumentConfiguration
from obslab.configs.service import record_configuration
from obslab.context import ObslabContext
from obslab.refusals import REFUSED_ACTION
from tests.api.http import bearer, call, fps_api
from tests.conftest import BACKEND
from tests.helpers.support import FIXED_NOW, table_counts

EARLIER = FIXED_NOW - timedelta(hours=3)
LATER = FIXED_NOW - timedelta(hours=1)


def ifu(slot_column: int, slot_row: int, n: int, **changes: Any) -> tuple[str, dict[str, Any]]:
    attributes = {
        "x_fp": (slot_column - 5) * 100.0 + 0.031,
        "y_fp": (slot_row - 5) * 100.0,
        "specid": 10 + n,
        "specslot": n,
        "ifuid": f"{20 + n:03d}",
        "ifurot": 0.0,
        "platesc": 1.0,
    }
    return f"{slot_column:02d}{slot_row}", attributes | changes


def report(when: Any = EARLIER, commit: Any = True, **changed: Any) -> dict[str, Any]:
    ifus = dict([ifu(1, 3, 1), ifu(2, 4, 2), ifu(7, 7, 3)])
    ifus["000"] = {
        "x_fp": 0.0,
        "y_fp": 0.0,
        "specid": 900,
        "specslot": 900,
        "ifuid": "900",
        "ifurot": 0.0,
        "platesc": 1.0,
    }
    for slot, attributes in changed.items():
        ifus[slot.removeprefix("s")] = ifus.get(slot.removeprefix("s"), {}) | attributes
    stamp = when.isoformat().replace("+00:00", "Z") if hasattr(when, "isoformat") else when
    return {"config": {"timestamp": stamp, "ifus": ifus, "dome": {"shutter": "open"}}, "commit": commit}


def counts(context: ObslabContext) -> dict[str, int]:
    with context.sessions() as session:
        return table_counts(session)


@pytest.mark.parametrize("form", [bearer, fps_api], ids=["Bearer", "FPS_API"])
def test_the_telescope_records_a_focal_plane_with_either_header(api: str, keys: dict[str, str], form: Any) -> None:
    reply = call(api, "POST", "/fplane", headers=form(keys["tcs"]), body=report())
    assert reply.status == 200, reply.text
    answer = reply.json()
    assert (answer["committed"], answer["version_number"], answer["previous_version"]) == (True, 1, None)
    assert answer["diff"]["added"] == ["000", "013", "024", "077"] and answer["warnings"] == []
    assert items_from_fplane(parse_fplane(answer["fplane"])) == report()["config"]["ifus"]
    served = call(api, "GET", "/fplane/latest?actual_pos=1")
    assert served.text == answer["fplane"] and served.headers["x-config-version"] == "1"
    history = call(api, "GET", "/api/v1/configs/VIRUS/history").json()
    assert [(v["version_number"], v["source"], v["recorded_by"]) for v in history] == [(1, "tcs", "tcs")]
    assert history[0]["valid_from"] == EARLIER.isoformat()


def test_a_change_is_recorded_from_its_timestamp_with_the_diff(api: str, keys: dict[str, str]) -> None:
    call(api, "POST", "/fplane", headers=bearer(keys["tcs"]), body=report())
    changed = report(LATER, s024={"ifuid": "099"}, s105=dict(ifu(10, 5, 9)[1]))
    answer = call(api, "POST", "/fplane", headers=bearer(keys["ada"]), body=changed).json()
    assert (answer["committed"], answer["version_number"], answer["previous_version"]) == (True, 2, 1)
    assert answer["diff"] == {
        "added": ["105"],
        "removed": [],
        "changed": [{"key": "024", "attribute": "ifuid", "before": "022", "after": "099"}],
    }
    old = call(api, "GET", f"/fplane/{EARLIER + timedelta(minutes=1):%Y-%m-%dT%H:%M:%S}")
    assert old.headers["x-config-version"] == "1"


@pytest.mark.parametrize("commit", [False, "no", 0, "false", "OFF"])
def test_a_dry_run_answers_the_file_and_diff_and_writes_nothing(
    api: str, api_context: ObslabContext, keys: dict[str, str], commit: Any
) -> None:
    call(api, "POST", "/fplane", headers=bearer(keys["tcs"]), body=report())
    before = counts(api_context)
    reply = call(api, "POST", "/fplane", headers=bearer(keys["tcs"]), body=report(LATER, commit, s013={"specid": 77}))
    assert reply.status == 200, reply.text
    answer = reply.json()
    assert (answer["committed"], answer["version_number"], answer["previous_version"]) == (False, None, 1)
    assert answer["diff"]["changed"] == [{"key": "013", "attribute": "specid", "before": 11, "after": 77}]
    assert "\t077\t" in answer["fplane"]
    assert counts(api_context) == before
    assert call(api, "GET", "/fplane/latest").headers["x-config-version"] == "1"


def test_an_unchanged_report_records_nothing_and_says_so(
    api: str, api_context: ObslabContext, keys: dict[str, str]
) -> None:
    call(api, "POST", "/fplane", headers=bearer(keys["tcs"]), body=report())
    before = counts(api_context)
    answer = call(api, "POST", "/fplane", headers=bearer(keys["tcs"]), body=report(LATER)).json()
    assert (answer["committed"], answer["version_number"]) == (False, None)
    assert answer["warnings"] == ["no change since version 1: nothing recorded"]
    assert counts(api_context) == before


def test_a_report_a_writer_overtook_is_refused_as_stale(
    api: str, api_context: ObslabContext, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    call(api, "POST", "/fplane", headers=bearer(keys["tcs"]), body=report())
    # As if another writer recorded version 1 between this request's read of the newest version and its write.
    monkeypatch.setattr(tcs, "latest_version_number", lambda session, instrument: 0)
    before = counts(api_context)
    reply = call(api, "POST", "/fplane", headers=bearer(keys["tcs"]), body=report(LATER, s013={"specid": 77}))
    assert reply.status == 409 and reply.json()["code"] == "stale"
    assert "recorded as version 1 by tcs" in reply.json()["message"]
    assert counts(api_context) == before


@pytest.mark.parametrize("commit", [True, False])
def test_someone_without_the_telescope_or_admin_role_is_refused_403(
    api: str, api_context: ObslabContext, keys: dict[str, str], commit: bool
) -> None:
    before = counts(api_context)
    reply = call(api, "POST", "/fplane", headers=fps_api(keys["una"]), body=report(commit=commit))
    assert reply.status == 403 and reply.json()["code"] == "permission_denied"
    assert "una may not record configurations of VIRUS" in reply.json()["message"]
    # Nothing written but the refusal's own audit event, under the key's owner.
    assert counts(api_context) == before | {"audit_events": before["audit_events"] + 1}
    with api_context.sessions() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None and (event.action, event.actor_name) == (REFUSED_ACTION, "una")
        assert event.after["attempt"] == "POST /fplane" and event.after["via"] == "api key"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer " + "ab" * 24}, {"Authorization": "APIKEY=x"}])
def test_without_a_valid_key_it_is_401(api: str, api_context: ObslabContext, headers: dict[str, str]) -> None:
    before = counts(api_context)
    reply = call(api, "POST", "/fplane", headers=headers, body=report())
    assert reply.status == 401 and reply.json()["code"] == "unauthenticated"
    assert counts(api_context) == before


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        (report(FIXED_NOW - timedelta(hours=7)), 400, "timestamp", "no more than 6 hours old"),
        (report("yesterday"), 400, "timestamp", "an ISO 8601 time"),
        (report(commit="maybe"), 400, "commit", "true or false"),
        (report(s013={"specid": -1}), 400, "ifus.013.specid", "a whole number of 0 or more"),
        (report(s024={"ifuid": "021"}), 400, None, "each IFUID in one seat only"),
        (report(s110=ifu(1, 1, 8)[1]), 400, "ifus.110", "a seat of the IFU head mounting plate"),
        ({"config": {"timestamp": EARLIER.isoformat()}}, 422, "commit", "Field required"),
        ({**report(), "note": "hi"}, 422, "note", "Extra inputs are not permitted"),
        ({"config": [], "commit": True}, 422, "config", "valid dictionary"),
        ([], 422, None, None),
    ],
)
def test_a_body_it_cannot_use_is_refused_naming_the_field(
    api: str,
    api_context: ObslabContext,
    keys: dict[str, str],
    body: Any,
    status: int,
    field: str | None,
    words: str | None,
) -> None:
    before = counts(api_context)
    reply = call(api, "POST", "/fplane", headers=bearer(keys["tcs"]), body=body)
    assert reply.status == status, reply.text
    answer = reply.json()
    assert set(answer) >= {"message", "code"} and "Traceback" not in reply.text
    if field is not None:
        assert answer["field"] == field and answer["message"].startswith(field)
    if words is not None:
        assert words in answer["message"]
    assert counts(api_context) == before


def test_a_body_that_is_not_json_is_422(api: str, keys: dict[str, str]) -> None:
    reply = call(api, "POST", "/fplane", headers=bearer(keys["tcs"]), raw=b'{"config": ')
    assert reply.status == 422 and reply.json()["code"] == "invalid_request"


def test_the_accepted_body_is_documented_with_examples(api: str) -> None:
    operation = call(api, "GET", "/openapi.json").json()["paths"]["/fplane"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples) == {"commit", "dry_run"}
    assert examples["commit"]["value"]["config"]["ifus"]["013"]["ifuid"] == "021"
    assert "FPS_API APIKEY" in call(api, "GET", "/openapi.json").text
    assert set(operation["responses"]) >= {"200", "400", "401", "403", "409", "422"}


@pytest.mark.skipif(BACKEND != "postgresql", reason="needs row locks, which SQLite does not have")
def test_two_writers_racing_the_later_one_is_refused_as_stale(
    api: str, api_context: ObslabContext, keys: dict[str, str]
) -> None:
    call(api, "POST", "/fplane", headers=bearer(keys["tcs"]), body=report())
    answers: list[Any] = []
    with api_context.sessions() as session, session.begin():
        # Hold the rows the service locks, let the request read version 1 and wait, then record version 2 first.
        session.scalars(select(InstrumentConfiguration).with_for_update()).all()
        body = report(LATER, s013={"specid": 77})
        racer = threading.Thread(
            target=lambda: answers.append(call(api, "POST", "/fplane", headers=bearer(keys["tcs"]), body=body))
        )
        racer.start()
        deadline = time.monotonic() + 30
        while not waiting_for_a_lock(api_context) and time.monotonic() < deadline:
            time.sleep(0.05)
        items = report(LATER - timedelta(minutes=30), s024={"ifuid": "098"})["config"]["ifus"]
        tcs_user = get_user(session, "tcs")
        record_configuration(
            session, tcs_user, "VIRUS", items, valid_from=LATER - timedelta(minutes=30), seen_version=1
        )
    racer.join(timeout=30)
    assert answers[0].status == 409 and answers[0].json()["code"] == "stale", answers[0].text
    assert "recorded as version 2 by tcs" in answers[0].json()["message"]
    assert call(api, "GET", "/fplane/latest").headers["x-config-version"] == "2"


def waiting_for_a_lock(context: ObslabContext) -> bool:
    with context.engine.connect() as connection:
        query = text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return bool(connection.scalar(query))
