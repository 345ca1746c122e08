"""The catalog browser's state without a browser."""

from __future__ import annotations

from typing import Any

import astropy.units as u
import pytest
from astropy.coordinates import Angle
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.browse import PAGE_COLUMNS, CatalogFilter, Cone, page_observations
from obslab.catalog.models import Observation, Revision
from obslab.dashboards.context import DashboardContext, ViewingUser
from obslab.dashboards.state.catalog import CatalogState
from obslab.settings import Settings


@pytest.fixture
def context(demo_database: str, demo_sessions: sessionmaker[Session]) -> DashboardContext:
    viewer = ViewingUser(username="tester", full_name="", roles=(), known=False)
    return DashboardContext(settings=Settings(database_url=demo_database), sessions=demo_sessions, viewer=viewer)


@pytest.fixture
def state(context: DashboardContext) -> CatalogState:
    return CatalogState(context)


def _expected_page(
    context: DashboardContext, where: CatalogFilter, *, page: int = 1, size: int = 50, **sort: Any
) -> Any:
    with context.sessions() as session:
        return page_observations(session, where, offset=(page - 1) * size, limit=size, **sort)


def _shown(state: CatalogState) -> list[int]:
    assert state.rows is not None
    return [int(obsid) for obsid in state.rows["obsid"]]


def _catalog_size(context: DashboardContext) -> int:
    with context.sessions() as session:
        return session.scalar(select(func.count()).select_from(Observation)) or 0


def test_a_new_state_shows_the_first_page_of_the_whole_catalog(context: DashboardContext, state: CatalogState) -> None:
    expected = _expected_page(context, CatalogFilter(), size=state.page_size)
    assert state.error == ""
    assert (state.page, state.total) == (1, _catalog_size(context))
    assert state.page_count == expected.page_count > 1
    assert _shown(state) == [row["obsid"] for row in expected.rows]
    assert list(state.rows["status"]) == [row["status"].value for row in expected.rows]
    assert state.sky is not None and len(state.sky) == state.total
    # The menus offer what the catalog holds.
    with context.sessions() as session:
        instruments = set(session.scalars(select(Observation.instrument).distinct()))
    assert set(state.param["instrument"].objects) == {"", *instruments}


@pytest.mark.parametrize(
    ("widgets", "where"),
    [
        ({"instrument": "ACIS-S"}, CatalogFilter(instrument="ACIS-S")),
        ({"status": "scheduled", "approved": "not approved"}, CatalogFilter(status="scheduled", approved=False)),
        ({"approved": "approved"}, CatalogFilter(approved=True)),
        ({"target": "ngc", "pi": "a"}, CatalogFilter(target="ngc", pi="a")),
        ({"obsids": "20001-20100, 20555", "obs_type": "GO"}, CatalogFilter(obsids="20001-20100, 20555", obs_type="GO")),
        (
            {"cone_ra": "05:34:31.9", "cone_dec": "+22:00:52", "cone_radius_arcmin": 120.0},
            CatalogFilter(
                cone=Cone(Angle("05:34:31.9", unit=u.hourangle).deg, Angle("22:00:52", unit=u.deg).deg, 120.0)
            ),
        ),
    ],
)
def test_filters_show_the_rows_page_observations_gives(
    context: DashboardContext, state: CatalogState, widgets: dict[str, Any], where: CatalogFilter
) -> None:
    state.param.update(**widgets)
    expected = _expected_page(context, where, size=state.page_size)
    assert state.error == ""
    assert expected.total > 0
    assert (state.total, state.page_count) == (expected.total, expected.page_count)
    assert _shown(state) == [row["obsid"] for row in expected.rows]
    with context.sessions() as session:
        everything = page_observations(session, where, limit=500)
    assert everything.total <= 500
    assert sorted(int(o) for o in state.sky["obsid"]) == sorted(row["obsid"] for row in everything.rows)


def test_changing_a_filter_goes_back_to_page_one(context: DashboardContext, state: CatalogState) -> None:
    state.go_to(3)
    assert state.page == 3
    assert _shown(state) == [
        r["obsid"] for r in _expected_page(context, CatalogFilter(), page=3, size=state.page_size).rows
    ]
    state.instrument = "ACIS-I"
    assert state.page == 1
    expected = _expected_page(context, CatalogFilter(instrument="ACIS-I"), size=state.page_size)
    assert _shown(state) == [row["obsid"] for row in expected.rows]
    assert state.total == expected.total
    assert set(state.sky["obsid"]) >= set(_shown(state))


def test_go_to_clamps_to_the_pages_that_exist(context: DashboardContext, state: CatalogState) -> None:
    last = state.page_count
    state.go_to(10**6)
    assert state.page == last
    expected = _expected_page(context, CatalogFilter(), page=last, size=state.page_size)
    assert _shown(state) == [row["obsid"] for row in expected.rows]
    assert 0 < len(state.rows) <= state.page_size
    state.go_to(0)
    assert state.page == 1
    state.go_to(-4)
    assert state.page == 1
    state.go_to(2)
    assert _shown(state) == [
        r["obsid"] for r in _expected_page(context, CatalogFilter(), page=2, size=state.page_size).rows
    ]


def test_a_bigger_page_size_means_fewer_pages(context: DashboardContext, state: CatalogState) -> None:
    state.page_size = 200
    expected = _expected_page(context, CatalogFilter(), size=200)
    assert state.page_count == expected.page_count
    assert _shown(state) == [row["obsid"] for row in expected.rows]


def test_sort_orders_the_whole_catalog_in_the_database(context: DashboardContext, state: CatalogState) -> None:
    state.go_to(2)
    state.sort("approved_exposure_ks", descending=True)
    assert (state.sort_by, state.descending) == ("approved_exposure_ks", True)
    expected = _expected_page(
        context, CatalogFilter(), page=state.page, size=state.page_size, sort_by="approved_exposure_ks", descending=True
    )
    assert _shown(state) == [row["obsid"] for row in expected.rows]
    exposures = list(state.rows["approved_exposure_ks"])
    assert exposures == sorted(exposures, reverse=True)


def test_sorting_by_an_unknown_column_is_refused(state: CatalogState) -> None:
    before = _shown(state)
    state.sort("nonsense")
    assert state.error.startswith("sort_by: 'nonsense'")
    assert "approved_exposure_ks" in state.error  # lists what may be sorted
    assert state.sort_by == "obsid"
    assert _shown(state) == before


def _obsid_with_revisions(context: DashboardContext) -> int:
    with context.sessions() as session:
        return session.scalars(select(Revision.obsid).order_by(Revision.obsid)).first()


def test_select_opens_the_detail(context: DashboardContext, state: CatalogState) -> None:
    obsid = _obsid_with_revisions(context)
    state.select(obsid)
    assert state.error == ""
    assert state.selected_obsid == obsid
    assert state.detail is not None
    assert state.detail.summary["obsid"] == obsid
    assert state.detail.revisions and all(r.label.startswith(f"{obsid}.") for r in state.detail.revisions)
    state.select(None)
    assert (state.selected_obsid, state.detail) == (None, None)


def test_selecting_an_unknown_obsid_keeps_the_previous_detail(context: DashboardContext, state: CatalogState) -> None:
    obsid = int(state.rows["obsid"].iloc[0])
    state.select(obsid)
    detail = state.detail
    assert detail is not None
    missing = _catalog_size(context) + 99_999_000
    state.select(missing)
    assert str(missing) in state.error and "does not exist" in state.error
    assert state.detail is detail
    assert state.selected_obsid == obsid
    # The next good action clears the message.
    state.select(obsid)
    assert state.error == ""


def _shows_nothing(state: CatalogState) -> None:
    """A refused filter: no rows, no positions and no selection, for what is typed matches nothing."""
    assert state.rows is not None and state.rows.empty and list(state.rows.columns) == list(PAGE_COLUMNS)
    assert (state.total, state.page, state.page_count) == (0, 1, 1)
    assert state.sky is not None and state.sky.empty
    assert (state.selected_obsid, state.detail, state.selected_row) == (None, None, None)


def test_a_bad_cone_ra_is_reported_and_the_rows_no_longer_shown(context: DashboardContext, state: CatalogState) -> None:
    state.instrument = "HRC-S"
    state.go_to(2)
    state.select(int(state.rows["obsid"].iloc[0]))
    state.param.update(cone_ra="12:99:xx", cone_dec="10")
    assert state.error.startswith("cone_ra: '12:99:xx'")
    _shows_nothing(state)
    # Paging or sorting meanwhile shows nothing either: the rows of the last good filter are not these.
    state.sort("target_name")
    state.page_size = 25
    assert state.error.startswith("cone_ra: '12:99:xx'")
    _shows_nothing(state)
    # Fixing the input clears the message and applies the cone.
    state.cone_ra = "150.0"
    assert state.error == ""
    expected = _expected_page(
        context,
        CatalogFilter(instrument="HRC-S", cone=Cone(150.0, 10.0, state.cone_radius_arcmin)),
        size=25,
        sort_by="target_name",
    )
    assert state.total == expected.total
    assert _shown(state) == [row["obsid"] for row in expected.rows]


def test_a_cone_without_a_dec_names_cone_dec(state: CatalogState) -> None:
    state.cone_ra = "83.63"
    assert state.error.startswith("cone_dec: ")
    _shows_nothing(state)


def test_a_bad_obsid_list_is_reported_and_cleared_by_the_next_good_one(state: CatalogState) -> None:
    state.obsids = "20001-20010, 2OO11"
    assert state.error.startswith("obsids: '2OO11'")
    _shows_nothing(state)
    state.obsids = "20005-20010"
    assert state.error == ""
    assert _shown(state) == list(range(20005, 20011))
    assert state.total == 6
    assert sorted(state.sky["obsid"]) == list(range(20005, 20011))


def test_a_filter_matching_nothing_says_so(state: CatalogState) -> None:
    state.target = "no such target anywhere"
    assert state.error == ""
    assert state.rows.empty and state.total == 0 and state.sky.empty
    assert state.empty_text("rows") == "No observations match these filters."


def _agree(state: CatalogState, obsid: int | None) -> None:
    """Selection, detail, sky ring and highlighted row all name ``obsid`` (or nothing)."""
    assert state.selected_obsid == obsid
    if obsid is None:
        assert (state.detail, state.selected_row) == (None, None)
        return
    assert state.detail is not None and state.detail.summary["obsid"] == obsid
    shown = _shown(state)
    if obsid in shown:
        assert state.selected_row == shown.index(obsid)
    else:
        assert state.selected_row is None  # selected, but on another page: no row of this one is highlighted
    assert obsid in set(state.sky["obsid"])  # the sky plot rings it


def test_the_selection_stays_while_the_observation_matches_the_filter(
    context: DashboardContext, state: CatalogState
) -> None:
    with context.sessions() as session:
        acis_s = page_observations(session, CatalogFilter(instrument="ACIS-S"), limit=50).rows
    chosen = acis_s[3]["obsid"]
    state.select(chosen)
    _agree(state, chosen)
    state.instrument = "ACIS-S"  # still matches: still selected, now on the fourth row
    assert _shown(state)[3] == chosen
    _agree(state, chosen)
    assert state.selected_row == 3
    state.target = acis_s[3]["target_name"]
    _agree(state, chosen)
    state.param.update(target="", instrument="")
    _agree(state, chosen)


def test_a_filter_the_selected_observation_fails_drops_the_selection(state: CatalogState) -> None:
    first = _shown(state)[0]
    state.select(first)
    _agree(state, first)
    assert state.selected_row == 0
    state.obsids = str(first + 1)  # the first row is now another observation, and it must not look selected
    assert _shown(state) == [first + 1]
    _agree(state, None)
    # Going back to the whole catalog does not bring the old selection back.
    state.clear_filters()
    _agree(state, None)


def test_paging_keeps_the_selection_and_highlights_it_only_on_its_page(state: CatalogState) -> None:
    chosen = _shown(state)[7]
    state.select(chosen)
    state.go_to(2)
    _agree(state, chosen)
    assert state.selected_row is None
    state.go_to(1)
    _agree(state, chosen)
    assert state.selected_row == 7
    state.sort("obsid", descending=True)  # the same observation moves to another page
    _agree(state, chosen)
    state.select(None)
    _agree(state, None)


def test_a_point_picked_on_the_sky_off_the_page_is_selected_without_a_row(state: CatalogState) -> None:
    elsewhere = int(state.sky["obsid"].iloc[-1])
    assert elsewhere not in _shown(state)
    state.select(elsewhere)
    _agree(state, elsewhere)
    assert state.selected_row is None


def test_clear_filters_restores_the_whole_catalog(context: DashboardContext, state: CatalogState) -> None:
    everything = state.total
    state.param.update(
        instrument="ACIS-S", approved="approved", target="a", cone_ra="180", cone_dec="0", cone_radius_arcmin=5400.0
    )
    assert 0 < state.total < everything
    state.go_to(2)
    state.clear_filters()
    assert (state.instrument, state.approved, state.target, state.cone_ra, state.cone_dec) == ("", "any", "", "", "")
    assert state.cone_radius_arcmin == state.param["cone_radius_arcmin"].default
    assert state.total == everything == _catalog_size(context)
    assert state.page == 1
    assert _shown(state) == [r["obsid"] for r in _expected_page(context, CatalogFilter(), size=state.page_size).rows]
    assert len(state.sky) == everything


def test_the_table_leaves_ra_and_dec_to_the_column_chooser(state: CatalogState) -> None:
    assert state.columns == [name for name in PAGE_COLUMNS if name not in ("ra_deg", "dec_deg")]
    state.columns = [*state.columns, "ra_deg"]
    assert "ra_deg" in state.columns and list(state.rows.columns) == list(PAGE_COLUMNS)  # the rows hold every column
    with pytest.raises(ValueError):
        state.columns = ["nonsense"]
