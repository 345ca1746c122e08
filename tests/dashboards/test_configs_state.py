"""The configurations dashboard's state: as-of on both time axes, the correction, diffs, the plane, refusals."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from obslab.configs.fplane import is_placeholder, nominal_position
from obslab.configs.service import record_configuration
from obslab.configs.types import ConfigVersion
from obslab.dashboards.configs import ConfigsView
from obslab.dashboards.context import DashboardContext, ViewingUser
from obslab.dashboards.state.configs import ConfigsState
from obslab.settings import Settings
from obslab.users import add_user
from tests.helpers.support import FIXED_NOW, fixed_clock, table_counts

HOSTILE = "<img src=x onerror=window.__pwned=1>"


def state_for(url: str, sessions: sessionmaker[Session], **params: str) -> ConfigsState:
    viewer = ViewingUser("sobrien", "Siobhan", ("staff",), True)
    return ConfigsState(DashboardContext(Settings(database_url=url), sessions, viewer), now=fixed_clock, **params)


@pytest.fixture
def state(demo_database: str, demo_sessions: sessionmaker[Session]) -> ConfigsState:
    return state_for(demo_database, demo_sessions)


def typed(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def corrected(state: ConfigsState) -> tuple[ConfigVersion, ConfigVersion]:
    """The demo's superseded record and its correction (the current record over the same valid period)."""
    (old,) = [v for v in state.versions if not v.current]
    (new,) = [v for v in state.versions if v.current and v.valid_from == old.valid_from]
    return old, new


def test_the_page_opens_on_the_longest_history_as_it_is_now(state: ConfigsState) -> None:
    assert state.error == "" and state.param.instrument.objects == ["ROBO-CAM", "VIRUS"]
    assert state.instrument == "VIRUS" and [v.version_number for v in state.versions] == [1, 2, 3, 4, 5, 6]
    assert state.shown.version_number == 6 and state.marker == (FIXED_NOW, FIXED_NOW)
    assert state.summary == (
        "VIRUS version 6: from 2026-09-22 18:00 UTC, still in force "
        "(valid at 2026-11-21 18:30 UTC, as known at 2026-11-21 18:30 UTC)"
    )
    assert state.record == "Recorded 2026-09-22 20:00 UTC by tcs, source tcs: 6 IFUs installed."
    # The focal plane: every VIRUS IFU drawn, the placeholder and the other instruments' feeds named apart.
    ifus = {key for key, value in state.shown.items.items() if not is_placeholder(value)}
    assert state.has_plane and {row.ifuslot for row in state.plane} == ifus and len(ifus) == 68
    assert state.plane_title == "VIRUS version 6: 68 IFUs (actual positions)"
    assert state.not_drawn.startswith("Not drawn: 000, 001, 002, 003, 004 (SPECID or IFUID 900 and up")
    assert len(state.items) == len(state.shown.items) and list(state.items.columns[:3]) == ["item", "x_fp", "y_fp"]
    # By default the diff says what the version shown changed from the one before it.
    assert state.diff_text == "From version 5 to version 6: 6 added, 0 removed, 0 changed"
    assert set(state.diff["change"]) == {"added"} and all("specid" in text for text in state.diff["after"])


def test_as_of_on_both_axes_before_and_after_the_correction(state: ConfigsState) -> None:
    old, new = corrected(state)
    assert (old.version_number, new.version_number) == (4, 5) and old.superseded_at == new.recorded_at
    during = old.valid_from + timedelta(days=3)
    state.valid_at = typed(during)
    assert state.shown.version_number == 5  # known now: the correction
    state.known_at = typed(old.superseded_at - timedelta(days=1))
    assert state.error == "" and state.shown.version_number == 4  # before the correction, the record it corrected
    assert state.marker == (during.replace(second=0), old.superseded_at - timedelta(days=1))
    assert state.record.startswith("Recorded 2026-05-25 20:00 UTC by tcs, superseded 2026-06-24 00:00 UTC")
    state.known_at = typed(old.superseded_at + timedelta(hours=1))
    assert state.shown.version_number == 5 and "source manual: Correction of version 4" in state.record
    # Before version 4 was recorded, version 3 was believed still in force then.
    state.known_at = typed(old.recorded_at - timedelta(hours=1))
    assert state.shown.version_number == 3 and state.shown.valid_to is None and "still in force" in state.summary
    # Telescope time alone: what was valid before version 4, as known now, ends where version 4 starts.
    state.param.update(known_at="", valid_at=typed(old.valid_from - timedelta(minutes=1)))
    assert state.shown.version_number == 3 and state.shown.valid_to == old.valid_from
    # The fplane clients' night form: YYYYMMDD is local midnight of that night (07:00 UTC at Kitt Peak).
    state.valid_at = during.strftime("%Y%m%d")
    assert state.marker[0] == during.replace(hour=7, minute=0) + timedelta(days=1)


def test_the_correction_as_a_diff_of_two_versions_and_an_empty_diff(state: ConfigsState) -> None:
    old, new = corrected(state)
    state.param.update(compare_from="4", compare_to="v5")
    assert (
        state.error == ""
        and state.diff_text == "From version 4 to version 5: 0 added, 0 removed, 2 changed (2 attributes)"
    )
    changes = state.diff.to_dict("records")
    assert [(c["change"], c["attribute"]) for c in changes] == [("changed", "specid"), ("changed", "specid")]
    first, second = changes
    # Two spectrographs swapped: each seat now holds the other's, as the items of both versions say.
    assert (first["before"], first["after"]) == (second["after"], second["before"])
    assert first["after"] == str(new.items[first["item"]]["specid"])
    assert first["before"] == str(old.items[first["item"]]["specid"])
    state.compare_to = "4"
    assert state.diff.empty and state.diff_text == "No difference: version 4 and version 4 hold the same items."


def test_a_diff_of_two_dates_reads_each_as_known_at_the_page_known_at(state: ConfigsState) -> None:
    old, _new = corrected(state)
    before = typed(old.valid_from - timedelta(days=1))
    after = typed(old.valid_from + timedelta(days=1))
    state.param.update(compare_from=before, compare_to=after, known_at=typed(old.superseded_at - timedelta(hours=1)))
    assert state.diff_text == "From version 3 to version 4: 10 added, 0 removed, 0 changed"
    assert list(state.diff["change"]) == ["added"] * 10 and set(state.diff["before"]) == {""}
    state.known_at = ""
    assert state.diff_text.startswith("From version 3 to version 5: 10 added")  # now the correction counts


def test_nominal_positions_put_every_ifu_on_its_seat_of_the_grid(state: ConfigsState) -> None:
    actual = {row.ifuslot: (row.x_fp, row.y_fp) for row in state.plane}
    assert any(actual[slot] != nominal_position(slot) for slot in actual)  # measured, off the grid
    state.positions = "nominal"
    assert {row.ifuslot: (row.x_fp, row.y_fp) for row in state.plane} == {s: nominal_position(s) for s in actual}
    assert state.plane_title.endswith("(nominal positions)") and state.error == ""


def test_an_instrument_without_positions_shows_its_items_instead_of_a_plane(state: ConfigsState) -> None:
    state.instrument = "ROBO-CAM"
    assert state.shown.version_number == 2 and not state.has_plane and state.plane == [] and state.not_drawn == ""
    rows = {row["item"]: row for row in state.items.to_dict("records")}
    assert (
        rows["wheel-5"]["filter"] == "lp600" and rows["camera"]["em_gain"] == 200 and rows["wheel-1"]["em_gain"] == ""
    )
    assert state.diff_text == "From version 1 to version 2: 0 added, 0 removed, 3 changed (3 attributes)"
    assert [v.version_number for v in state.versions] == [1, 2]


def test_refusals_name_the_field_and_value_clear_what_was_shown_and_write_nothing(
    state: ConfigsState, demo_sessions: sessionmaker[Session]
) -> None:
    with demo_sessions() as session:
        before = table_counts(session)
    for field, value, expected in [
        (
            "valid_at",
            "2026-13-01",
            "valid at: '2026-13-01' is not allowed; expected empty, 'latest' or 'current' (now)",
        ),
        ("known_at", "yesterday", "known at: 'yesterday' is not allowed"),
        ("valid_at", "2026-06-01 25:00", "valid at: '2026-06-01 25:00' is not allowed"),
    ]:
        state.param.update(valid_at="", known_at="")
        assert state.shown is not None and state.error == ""
        setattr(state, field, value)
        assert state.error.startswith(expected), (field, state.error)
        # Nothing of the times before: no answer, plane, items or diff; the history stays.
        assert state.shown is None and state.marker is None and state.summary == "" and state.plane == []
        assert state.items.empty and state.diff.empty and state.diff_text == "" and len(state.versions) == 6
    state.valid_at = ""
    assert state.error == "" and state.shown.version_number == 6
    # A refused comparison clears the diff only.
    for value, expected in [
        ("99", "compare to: '99' is not allowed; expected a version of VIRUS, 1 to 6"),
        ("v0", "compare to: 'v0' is not allowed"),
        ("soon", "compare to: 'soon' is not allowed; expected a version number (5 or v5), or a time"),
    ]:
        state.compare_to = value
        assert state.error == expected or state.error.startswith(expected), state.error
        assert state.diff.empty and state.diff_text == "" and state.shown.version_number == 6 and state.plane
    state.compare_to = ""
    assert state.error == "" and state.diff_text.startswith("From version 5 to version 6")
    with demo_sessions() as session:
        assert table_counts(session) == before


def test_the_view_escapes_what_people_wrote_and_a_database_without_configurations_says_so(
    migrated_url: str, sessions: sessionmaker[Session]
) -> None:
    empty = state_for(migrated_url, sessions)
    assert empty.instrument == "" and empty.error == "" and empty.versions == []
    assert empty.summary == "No instrument has a recorded configuration yet." and empty.items.empty
    with sessions() as session, session.begin():
        telescope = add_user(session, "tcs", ["telescope"], now=fixed_clock)
        record_configuration(
            session,
            telescope,
            "CAM",
            {"wheel-1": {"filter": HOSTILE}},
            valid_from=FIXED_NOW - timedelta(days=1),
            seen_version=0,
            comment=HOSTILE,
            now=fixed_clock,
        )
    state = state_for(migrated_url, sessions)
    assert state.instrument == "CAM" and HOSTILE in state.record and state.items["filter"][0] == HOSTILE
    import panel as pn  # after obslab.dashboards, which points Panel at its own files first

    page = ConfigsView(state=state).__panel__()
    texts = [str(pane.object) for pane in page.select(pn.pane.HTML)]
    assert any("&lt;img src=x onerror=window.__pwned=1&gt;" in text for text in texts)
    assert not any(HOSTILE in text for text in texts)
