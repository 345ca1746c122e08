"""Change requests through the service layer: submit, sign, verify, approve, discard, undo; refusals write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.catalog.changes.signoff import discard, sign_off, undo_sign_off, undo_verification, verify, withdraw
from obslab.catalog.changes.submit import ChangeRefusedError, submit_change
from obslab.catalog.changes.views.my_actions import recent_actions
from obslab.catalog.changes.views.side_by_side import side_by_side
from obslab.catalog.lookup import current_values
from obslab.catalog.models import Observation, Revision
from obslab.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError, StaleError
from obslab.notify import Notification
from tests.helpers.catalog_world import World, build_world
from tests.helpers.support import FIXED_NOW, table_counts


@contextmanager
def tx(session: Session) -> Iterator[None]:
    """One action's transaction; the test's reads in between ran in transactions of their own, ended here."""
    session.commit()
    with session.begin():
        yield


def at(hours: float = 0) -> Any:
    return lambda: FIXED_NOW + timedelta(hours=hours)


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> Iterator[tuple[Session, World]]:
    with sessions() as session:
        with tx(session):
            built = build_world(session)
        yield session, built


def obs(session: Session, obsid: int) -> Observation:
    return session.scalars(select(Observation).where(Observation.obsid == obsid)).one()


def submit(
    session: Session, world: World, who: str, obsid: int, edits: list[tuple[str, int, Any]], **kwargs: Any
) -> Revision:
    with tx(session):
        seen = session.scalar(select(Observation.version).where(Observation.obsid == obsid)) or 1
        revision, _check = submit_change(
            session, world.users[who], obsid, seen_version=seen, edits=edits, now=kwargs.pop("now", at()), **kwargs
        )
    return revision


def states(revision: Revision) -> dict[str, str]:
    return {s.area: s.state.value for s in revision.signoffs}


def signoff(revision: Revision, area: str) -> Any:
    return next(s for s in revision.signoffs if s.area == area)


def test_a_normal_change_is_numbered_stored_and_opens_the_areas_its_groups_need(world: tuple[Session, World]) -> None:
    session, w = world
    revision = submit(session, w, "pat", w.acis, [("y_det_offset", 0, "1.5")], comment="move off the chip gap")
    assert revision.label == f"{w.acis}.001"
    assert states(revision) == {
        "general": "pending",
        "acis": "not_required",
        "acis_si": "not_required",
        "hrc_si": "not_required",
        "verification": "pending",
    }
    changed = [(v.name, v.original, v.requested) for v in revision.values if v.changed]
    assert changed == [("y_det_offset", 0.0, 1.5)]
    # Every original value is kept beside the request; the catalog itself is unchanged until verification.
    assert {v.name for v in revision.values} >= {"targname", "frame_time", "ccds2_on"}
    assert current_values(session, obs(session, w.acis))["y_det_offset", 0] == 0.0
    event = session.scalars(select(AuditEvent).where(AuditEvent.entity_id == revision.label)).one()
    assert event.action == "revision.submitted.norm" and event.actor_name == "pat"
    assert event.after["changes"] == [{"name": "y_det_offset", "rank": 0, "original": 0.0, "requested": 1.5}]
    mail = session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(m.kind, m.recipients) for m in mail] == [
        ("revision.norm", ["pat@obs.example"]),
        ("revision.signoff_needed", ["ops@obs.example"]),
    ]
    assert "y_det_offset: 0.0 -> 1.5" in mail[0].body and "move off the chip gap" in mail[0].body


@pytest.mark.parametrize(
    ("obsid_attr", "edits", "pending"),
    [
        ("acis", [("frame_time", 0, 2.8)], {"acis", "acis_si"}),
        ("acis", [("ra", 0, 350.9)], {"general", "acis_si"}),
        ("acis", [("multiple_spectral_lines", 0, "Y"), ("spectra_max_count", 0, 500)], {"acis"}),
        ("hrc", [("hrc_si_mode", 0, "HRCIZB")], {"general", "hrc_si"}),
        ("hrc", [("ra", 0, 38.0)], {"general"}),
    ],
)
def test_the_areas_follow_the_change_rules(
    world: tuple[Session, World], obsid_attr: str, edits: list[Any], pending: set[str]
) -> None:
    session, w = world
    revision = submit(session, w, "pat", getattr(w, obsid_attr), edits)
    assert {area for area, state in states(revision).items() if state == "pending"} == pending | {"verification"}


def test_sign_verify_and_approve_apply_the_change_and_approve_the_observation(world: tuple[Session, World]) -> None:
    session, w = world
    revision = submit(session, w, "pat", w.acis, [("frame_time", 0, 2.8), ("targname", 0, "Cassiopeia A")])
    label = revision.label
    with tx(session), pytest.raises(ConflictError, match="waiting for general, acis, acis_si"):
        verify(session, w.users["pat"], label, seen_version=revision.version, now=at(1))
    for area, who in (("general", "ops"), ("acis", "ops"), ("acis_si", "acisa")):
        with tx(session):
            sign_off(session, w.users[who], label, area, seen_version=signoff(revision, area).version, now=at(1))
    assert states(revision)["verification"] == "pending"
    assert (
        session.scalars(select(Notification.kind).order_by(Notification.id.desc()).limit(1)).one()
        == "revision.ready_to_verify"
    )
    with tx(session):
        approval = verify(session, w.users["pat"], label, seen_version=revision.version, approve=True, now=at(2))
    observation = obs(session, w.acis)
    assert current_values(session, observation)["frame_time", 0] == 2.8
    assert observation.target_name == "Cassiopeia A" and observation.approved
    assert approval.label == f"{w.acis}.002" and approval.kind.value == "asis" and approval.closed_at is not None
    assert states(approval)["verification"] == "signed" and revision.closed_at == at(2)()
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "revision").order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "revision.submitted.norm",
        "signoff.signed",
        "signoff.signed",
        "signoff.signed",
        "revision.verified",
        "revision.submitted.asis",
    ]


@pytest.mark.parametrize(
    ("edits", "parameter", "fragment"),
    [
        ([("grating", 0, "XTG")], "grating", "one of NONE, LETG, HETG"),
        ([("y_det_offset", 0, 121)], "y_det_offset", "-120 to 120 arcmin"),
        ([("y_det_offset", 0, "far")], "y_det_offset", "a number"),
        ([("warp_factor", 0, 9)], "warp_factor", "no such parameter"),
        ([("si_mode", 0, "TE_0003")], "si_mode", "display-only"),
        ([("tstart", 11, "2027-01-01T00:00:00")], "tstart", "rank 11 is not allowed; expected 1 to 10"),
        ([("y_det_offset", 1, 1.0)], "y_det_offset", "rank 1 is not allowed; expected 0"),
        ([("grating", 0, "HETG")], "est_cnt_rate", "because grating is 'HETG'"),
        ([("frame_time", 0, None)], "frame_time", "exactly one of frame_time / most_efficient"),
        (
            [("window_constraint", 1, "Y"), ("tstart", 1, "2027-02-01T00:00:00"), ("tstop", 1, "2027-01-01T00:00:00")],
            "tstop",
            "must be after tstart[1]",
        ),
        ([("instrument", 0, "HRC-I")], "hrc_si_mode", "because instrument is 'HRC-I'"),
    ],
)
def test_a_refused_change_names_the_parameter_and_writes_nothing(
    world: tuple[Session, World], edits: list[Any], parameter: str, fragment: str
) -> None:
    session, w = world
    before = table_counts(session)
    with pytest.raises(ChangeRefusedError) as refused:
        submit(session, w, "pat", w.acis, edits)
    assert parameter in str(refused.value) and fragment in str(refused.value)
    assert {problem["parameter"] for problem in refused.value.details["problems"]} >= {parameter}
    assert table_counts(session) == before


def test_an_instrument_family_switch_empties_the_old_family_and_warns(world: tuple[Session, World]) -> None:
    session, w = world
    with tx(session):
        revision, check = submit_change(
            session,
            w.users["pat"],
            w.acis,
            seen_version=obs(session, w.acis).version,
            now=at(),
            edits=[("instrument", 0, "hrc-i"), ("hrc_si_mode", 0, "HRCIS")],
        )
    requested = {(v.name, v.rank): v.requested for v in revision.values}
    assert (
        requested["instrument", 0] == "HRC-I"
        and requested["frame_time", 0] is None
        and requested["ccds2_on", 0] is None
    )
    assert "acis" in check.nullified and {"needs_approval", "nullified"} <= {p.code for p in check.warnings}
    assert revision.notes["instrument_change"]
    assert {"general", "acis", "acis_si", "hrc_si"} <= {a for a, s in states(revision).items() if s == "pending"}


def test_coordinate_shift_warning_uses_true_angular_separation(world: tuple[Session, World]) -> None:
    session, w = world
    # Near the pole 0.5 degree of RA is only a few arcminutes on the sky: no warning (the Ocat's formula said 30').
    with tx(session):
        _r, near_pole = submit_change(
            session,
            w.users["pat"],
            w.hrc,
            seen_version=obs(session, w.hrc).version,
            now=at(),
            edits=[("ra", 0, 38.454561)],
        )
    assert "large_shift" not in {p.code for p in near_pole.warnings}
    assert {"scheduled_soon"} <= {p.code for p in near_pole.warnings}
    with tx(session):
        _r, big = submit_change(
            session,
            w.users["pat"],
            w.acis,
            seen_version=obs(session, w.acis).version,
            now=at(),
            edits=[("dec", 0, 58.815 + 9 / 60)],
        )
    shift = next(p for p in big.warnings if p.code == "large_shift")
    assert "9.00 arcmin" in shift.message and _r.notes["large_coordinate_change"]


def test_nothing_to_change_and_unchangeable_observations_are_refused(world: tuple[Session, World]) -> None:
    session, w = world
    before = table_counts(session)
    # Ocat comparison: numbers to four decimals, text without whitespace or case, N/NONE/blank alike.
    with pytest.raises(ConflictError, match="nothing changes"):
        submit(
            session,
            w,
            "pat",
            w.acis,
            [("y_det_offset", 0, "0.00001"), ("targname", 0, " cas  a "), ("roll_flag", 0, "")],
        )
    with pytest.raises(ConflictError, match="observed and cannot be changed"):
        submit(session, w, "pat", w.observed, [("y_det_offset", 0, 1.0)])
    with pytest.raises(ConflictError, match="no SI mode"):
        submit(session, w, "pat", w.no_si_mode, [], kind="asis")
    with pytest.raises(NotFoundError, match="obsid 99999"):
        submit(session, w, "pat", 99999, [])
    with pytest.raises(InvalidInputError, match="kind: 'maybe'"):
        submit(session, w, "pat", w.acis, [], kind="maybe")
    assert table_counts(session) == before


def test_permissions_are_checked_in_the_service(world: tuple[Session, World]) -> None:
    session, w = world
    before = table_counts(session)
    with pytest.raises(PermissionDeniedError, match="sam may not submit change requests.*usint.*roles held: staff"):
        submit(session, w, "sam", w.acis, [("y_det_offset", 0, 1.0)])
    assert table_counts(session) == before
    revision = submit(session, w, "pat", w.acis, [("frame_time", 0, 2.8)])
    with (
        tx(session),
        pytest.raises(
            PermissionDeniedError, match="hrch may not sign off the acis_si area: that needs the role 'acis'"
        ),
    ):
        sign_off(
            session,
            w.users["hrch"],
            revision.label,
            "acis_si",
            seen_version=signoff(revision, "acis_si").version,
            now=at(),
        )
    with tx(session), pytest.raises(PermissionDeniedError, match="ops may not verify"):
        verify(session, w.users["ops"], revision.label, seen_version=revision.version, now=at())
    with tx(session):  # admin holds every role
        sign_off(
            session,
            w.users["root"],
            revision.label,
            "acis_si",
            seen_version=signoff(revision, "acis_si").version,
            now=at(),
        )
    assert states(revision)["acis_si"] == "signed"


def test_a_stale_action_is_refused_naming_who_changed_the_row(world: tuple[Session, World]) -> None:
    session, w = world
    seen = obs(session, w.acis).version
    submit(session, w, "quinn", w.acis, [("y_det_offset", 0, 1.0)])
    before = table_counts(session)
    with (
        tx(session),
        pytest.raises(
            StaleError, match=r"obsid 30001 was changed by quinn at 2026-11-21 18:30:00 UTC .*you saw version"
        ),
    ):
        submit_change(session, w.users["pat"], w.acis, seen_version=seen, edits=[("z_det_offset", 0, 1.0)], now=at())
    assert table_counts(session) == before
    revision = session.scalars(select(Revision)).one()
    general = signoff(revision, "general")
    seen_general = general.version
    with tx(session):
        sign_off(session, w.users["ops"], revision.label, "general", seen_version=seen_general, now=at())
    with tx(session):
        undo_sign_off(session, w.users["ops"], revision.label, "general", seen_version=general.version, now=at())
    with tx(session), pytest.raises(StaleError, match="general sign-off .* changed by ops"):
        sign_off(session, w.users["root"], revision.label, "general", seen_version=seen_general, now=at())


def test_a_newer_revision_supersedes_older_open_ones_and_discard_closes(world: tuple[Session, World]) -> None:
    session, w = world
    first = submit(session, w, "pat", w.acis, [("y_det_offset", 0, 1.0)])
    second = submit(session, w, "quinn", w.acis, [("y_det_offset", 0, 2.0)])
    assert first.superseded_by_id == second.id and second.superseded_by_id is None
    with tx(session):
        discard(session, w.users["quinn"], first.label, seen_version=first.version, now=at(1))
    assert states(first) == {
        "general": "discarded",
        "acis": "not_required",
        "acis_si": "not_required",
        "hrc_si": "not_required",
        "verification": "discarded",
    }
    assert first.closed_at is not None
    with tx(session), pytest.raises(ConflictError, match="is closed"):
        sign_off(
            session, w.users["ops"], first.label, "general", seen_version=signoff(first, "general").version, now=at(1)
        )


def test_undo_within_the_window_only_ones_own_and_only_before_others_act(world: tuple[Session, World]) -> None:
    session, w = world
    revision = submit(session, w, "pat", w.acis, [("y_det_offset", 0, 1.0)])
    with tx(session), pytest.raises(PermissionDeniedError, match="only its submitter"):
        withdraw(session, w.users["quinn"], revision.label, seen_version=revision.version, now=at(1))
    with tx(session):
        sign_off(
            session,
            w.users["ops"],
            revision.label,
            "general",
            seen_version=signoff(revision, "general").version,
            now=at(1),
        )
    with tx(session), pytest.raises(ConflictError, match="general already acted"):
        withdraw(session, w.users["pat"], revision.label, seen_version=revision.version, now=at(1))
    with tx(session), pytest.raises(ConflictError, match="within 48 hours"):
        undo_sign_off(
            session,
            w.users["ops"],
            revision.label,
            "general",
            seen_version=signoff(revision, "general").version,
            now=at(50),
        )
    with tx(session):
        verify(session, w.users["pat"], revision.label, seen_version=revision.version, now=at(2))
    assert current_values(session, obs(session, w.acis))["y_det_offset", 0] == 1.0
    with tx(session):
        undo_verification(session, w.users["pat"], revision.label, seen_version=revision.version, now=at(3))
    assert current_values(session, obs(session, w.acis))["y_det_offset", 0] == 0.0
    assert revision.closed_at is None and states(revision)["verification"] == "pending"

    # One's own approval can be withdrawn; the approved state falls back to what the history says.
    approval = submit(session, w, "pat", w.hrc, [], kind="asis")
    assert obs(session, w.hrc).approved
    with tx(session):
        withdraw(session, w.users["pat"], approval.label, seen_version=approval.version, now=at(5))
    assert not obs(session, w.hrc).approved and approval.withdrawn_at is not None
    third = submit(session, w, "pat", w.hrc, [], kind="asis")
    assert third.label == f"{w.hrc}.002"  # a withdrawn number is never reused


def test_an_undo_from_a_stale_page_hears_who_acted_and_a_deactivated_account_undoes_nothing(
    world: tuple[Session, World],
) -> None:
    session, w = world
    revision = submit(session, w, "pat", w.acis, [("y_det_offset", 0, 1.0)])
    general = signoff(revision, "general")
    with tx(session):
        sign_off(session, w.users["ops"], revision.label, "general", seen_version=general.version, now=at(1))
    seen = general.version  # ops's "my actions" page, drawn now
    with tx(session):
        undo_sign_off(
            session, w.users["ops"], revision.label, "general", seen_version=seen, now=at(2)
        )  # from another page
    with tx(session), pytest.raises(StaleError, match="general sign-off .* changed by ops"):
        undo_sign_off(session, w.users["ops"], revision.label, "general", seen_version=seen, now=at(2))
    with tx(session), pytest.raises(ConflictError, match="is pending; there is nothing to undo"):
        undo_sign_off(session, w.users["ops"], revision.label, "general", seen_version=general.version, now=at(2))
    with tx(session), pytest.raises(ConflictError, match="is not verified; there is nothing to undo"):
        undo_verification(session, w.users["pat"], revision.label, seen_version=revision.version, now=at(2))
    w.users["pat"].is_active = False
    before = table_counts(session)
    for undo in (
        lambda: withdraw(session, w.users["pat"], revision.label, seen_version=revision.version, now=at(3)),
        lambda: undo_verification(session, w.users["pat"], revision.label, seen_version=revision.version, now=at(3)),
    ):
        with tx(session), pytest.raises(PermissionDeniedError, match="pat is not an active user and may not"):
            undo()
    assert table_counts(session) == before and revision.withdrawn_at is None


def test_mission_planning_and_too_chains_hear_as_the_rules_say(world: tuple[Session, World]) -> None:
    session, w = world
    # Scheduled in three days: mission planning is told, with the submitter copied.
    revision = submit(session, w, "pat", w.hrc, [("hrc_si_mode", 0, "HRCIZB")])
    planning = session.scalars(select(Notification).where(Notification.kind == "revision.mission_planning")).one()
    assert planning.recipients == ["mia@obs.example"] and planning.cc == ["pat@obs.example"]
    assert "within 10 days" in planning.body and revision.label in planning.body
    assert (
        session.scalars(select(Notification).where(Notification.kind == "revision.chase")).all() == []
    )  # a GTO: no chase

    # A ToO: after the general sign-off, the HRC team hears that HRC SI mode is next.
    with tx(session):
        obs(session, w.hrc).obs_type = "TOO"
    with tx(session):
        sign_off(
            session,
            w.users["ops"],
            revision.label,
            "general",
            seen_version=signoff(revision, "general").version,
            now=at(1),
        )
    chase = session.scalars(select(Notification).where(Notification.kind == "revision.chase")).one()
    assert chase.recipients == ["hrch@obs.example"] and "HRC SI mode sign-off is next" in chase.subject


def test_original_requested_and_current_side_by_side(world: tuple[Session, World]) -> None:
    session, w = world
    revision = submit(session, w, "pat", w.acis, [("frame_time", 0, 2.8)])
    rows = {row.name: row for row in side_by_side(session, revision.label)}
    frame = rows["frame_time"]
    assert (frame.group, frame.label, frame.original, frame.requested, frame.current, frame.changed, frame.applied) == (
        "ACIS parameters",
        "Frame time",
        3.2,
        2.8,
        3.2,
        True,
        False,
    )
    assert not rows["targname"].changed and rows["targname"].applied
    for area in ("acis", "acis_si"):
        with tx(session):
            sign_off(
                session, w.users["root"], revision.label, area, seen_version=signoff(revision, area).version, now=at(1)
            )
    with tx(session):
        verify(session, w.users["pat"], revision.label, seen_version=revision.version, now=at(2))
    session.commit()
    assert {row.name: row for row in side_by_side(session, revision.label)}["frame_time"].applied
    with pytest.raises(NotFoundError, match="revision 30001.009 does not exist"):
        side_by_side(session, "30001.009")


def test_my_recent_actions_say_what_can_still_be_undone(world: tuple[Session, World]) -> None:
    session, w = world
    revision = submit(session, w, "pat", w.acis, [("frame_time", 0, 2.8)])
    approval = submit(session, w, "pat", w.hrc, [], kind="asis")
    with tx(session):
        sign_off(
            session, w.users["ops"], revision.label, "acis", seen_version=signoff(revision, "acis").version, now=at(1)
        )
    mine = {(a.label, a.what): a for a in recent_actions(session, w.users["pat"], now=at(2))}
    assert (
        mine[revision.label, "submitted norm"].undo is None
        and "acis already acted" in mine[revision.label, "submitted norm"].why_not
    )
    assert mine[approval.label, "approved"].undo == "withdraw"
    ops = recent_actions(session, w.users["ops"], now=at(2))
    assert [(a.label, a.what, a.undo) for a in ops] == [(revision.label, "signed acis", "undo_sign_off:acis")]
    # The undo it offers is one the service accepts, with the version it gives.
    with tx(session):
        undo_sign_off(session, w.users["ops"], revision.label, "acis", seen_version=ops[0].version, now=at(2))
    assert recent_actions(session, w.users["ops"], now=at(2)) == []
    assert recent_actions(session, w.users["pat"], now=at(60)) == []  # outside the 48-hour window
