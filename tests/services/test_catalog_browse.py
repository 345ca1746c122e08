"""Catalog browsing against the demo observatory: every filter, cone search, sorting, paging and the detail view.

Expected results are computed independently in plain Python over all observations (and with astropy for
cone searches), never by repeating the SQL under test; only the order of strings (a collation, which may be
a locale's on PostgreSQL) is taken from the database.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import User
from obslab.catalog.browse import (
    MAX_PAGE_SIZE,
    PAGE_COLUMNS,
    SORT_COLUMNS,
    CatalogFilter,
    Cone,
    filter_choices,
    observation_detail,
    observation_values,
    page_observations,
    sky_positions,
)
from obslab.catalog.changes.views.revision import revision_status
from obslab.catalog.models import EDITABLE_STATUSES, Observation, ObservationParameter, Revision, RevisionValue, SignOff
from obslab.catalog.obsids import MAX_RANGE
from obslab.catalog.types import ObservationStatus, RevisionKind, SignOffState
from obslab.db import make_engine, make_session_factory
from obslab.errors import InvalidInputError, NotFoundError
from tests.helpers.bulk_catalog import insert_observations

Row = dict[str, Any]
#: Points closer than this to a cone's edge may fall either way in floating point; none should exist.
EDGE_DEG = 1e-9


# --- helpers ---------------------------------------------------------------------------------


def _rows(session: Session) -> list[Row]:
    """Every observation as a plain dict (status as its string value)."""
    rows = []
    for observation in session.scalars(select(Observation)):
        row = {name: getattr(observation, name) for name in PAGE_COLUMNS}
        row["status"] = observation.status.value
        rows.append(row)
    assert rows, "the demo catalog is empty"
    return rows


@pytest.fixture
def catalog(demo_sessions: sessionmaker[Session]) -> list[Row]:
    with demo_sessions() as session:
        return _rows(session)


def _all_pages(
    session: Session, where: CatalogFilter, *, sort_by: str = "obsid", descending: bool = False, page_size: int = 50
) -> list[Row]:
    """Every matching row, read page by page; checks that each page reports the same total."""
    first = page_observations(session, where, sort_by=sort_by, descending=descending, offset=0, limit=page_size)
    rows = list(first.rows)
    for page in range(1, first.page_count):
        result = page_observations(
            session, where, sort_by=sort_by, descending=descending, offset=page * page_size, limit=page_size
        )
        assert result.total == first.total
        assert len(result.rows) == (page_size if page < first.page_count - 1 else first.total - page * page_size)
        rows.extend(result.rows)
    assert len(rows) == first.total
    return rows


def _obsids(session: Session, where: CatalogFilter, **kwargs: Any) -> list[int]:
    return [row["obsid"] for row in _all_pages(session, where, page_size=MAX_PAGE_SIZE, **kwargs)]


def _expected(catalog: list[Row], keep: Callable[[Row], bool]) -> list[int]:
    return sorted(row["obsid"] for row in catalog if keep(row))


def _separations_deg(catalog: list[Row], ra_deg: float, dec_deg: float) -> dict[int, float]:
    centre = SkyCoord(ra_deg * u.deg, dec_deg * u.deg, frame="icrs")
    points = SkyCoord([r["ra_deg"] for r in catalog] * u.deg, [r["dec_deg"] for r in catalog] * u.deg, frame="icrs")
    separations = centre.separation(points).to_value(u.deg)
    return {row["obsid"]: float(sep) for row, sep in zip(catalog, separations, strict=True)}


def _add(session: Session, obsid: int, **values: Any) -> Observation:
    """One observation in a fresh database, with plain defaults for whatever the test does not care about."""
    fields: dict[str, Any] = {
        "obsid": obsid,
        "sequence_number": f"9{obsid:05d}",
        "target_name": f"Target {obsid}",
        "ra_deg": 10.0,
        "dec_deg": 20.0,
        "instrument": "ACIS-S",
        "obs_type": "GO",
        "status": ObservationStatus.UNOBSERVED,
        "pi_name": "Quispe",
        "approved_exposure_ks": 10.0,
    }
    observation = Observation(**(fields | values))
    session.add(observation)
    return observation


# --- single filters --------------------------------------------------------------------------

OBSID_TEXT = "20010-20015, 20500; 20599 99999999 20012"
OBSID_SET = set(range(20010, 20016)) | {20500, 20599, 99999999}


def test_an_empty_filter_returns_every_observation_by_obsid(
    demo_sessions: sessionmaker[Session], catalog: list[Row]
) -> None:
    with demo_sessions() as session:
        assert _obsids(session, CatalogFilter()) == sorted(row["obsid"] for row in catalog)


def test_obsid_list_filter(demo_sessions: sessionmaker[Session], catalog: list[Row]) -> None:
    expected = _expected(catalog, lambda r: r["obsid"] in OBSID_SET)
    assert len(expected) == 8  # 99999999 does not exist
    with demo_sessions() as session:
        assert _obsids(session, CatalogFilter(obsids=OBSID_TEXT)) == expected


def test_the_widest_obsid_range_people_may_type_filters_on_every_backend(
    demo_sessions: sessionmaker[Session], catalog: list[Row]
) -> None:
    # parse_obsid_list accepts a range of MAX_RANGE obsids; the query must cope with it (PostgreSQL
    # refuses statements with more than 65,535 bound parameters).
    text = f"1-{MAX_RANGE}, 20001 - {20000 + MAX_RANGE}"
    wanted = set(range(1, MAX_RANGE + 1)) | set(range(20001, 20001 + MAX_RANGE))
    with demo_sessions() as session:
        failure = ""
        try:
            page = page_observations(session, CatalogFilter(obsids=text), limit=10)
        except DBAPIError as exc:  # its text holds the whole statement: report it briefly, without the chain
            failure = f"the obsid filter {text!r} failed in the database: {str(exc.orig)[:300]}"
    if failure:
        pytest.fail(failure, pytrace=False)
    assert page.total == len(_expected(catalog, lambda r: r["obsid"] in wanted))
    assert [row["obsid"] for row in page.rows] == _expected(catalog, lambda r: r["obsid"] in wanted)[:10]


@pytest.mark.parametrize(
    "text", ["crab", "CRAB nebula", "sgr a*", "J23", "nGc", "3c 273 <b>", 'knot a"', "e0102-72", "zzz"]
)
def test_target_filter_is_a_case_insensitive_substring(
    demo_sessions: sessionmaker[Session], catalog: list[Row], text: str
) -> None:
    expected = _expected(catalog, lambda r: text.lower() in r["target_name"].lower())
    with demo_sessions() as session:
        assert _obsids(session, CatalogFilter(target=text)) == expected


def test_target_filter_examples_are_not_trivial(catalog: list[Row]) -> None:
    # Guard against the parametrised cases above all matching nothing (or everything) by accident.
    for text in ("crab", "sgr a*", "J23", "nGc", "3c 273 <b>"):
        hits = [r for r in catalog if text.lower() in r["target_name"].lower()]
        assert 0 < len(hits) < len(catalog), text


def test_instrument_filter(demo_sessions: sessionmaker[Session], catalog: list[Row]) -> None:
    instruments = sorted({row["instrument"] for row in catalog})
    assert len(instruments) > 1
    with demo_sessions() as session:
        for instrument in [*instruments, "NOSUCH"]:
            expected = _expected(catalog, lambda r, i=instrument: r["instrument"] == i)
            assert _obsids(session, CatalogFilter(instrument=instrument)) == expected, instrument


def test_obs_type_filter(demo_sessions: sessionmaker[Session], catalog: list[Row]) -> None:
    types = sorted({row["obs_type"] for row in catalog})
    assert len(types) > 1
    with demo_sessions() as session:
        for obs_type in [*types, "NOSUCH"]:
            expected = _expected(catalog, lambda r, t=obs_type: r["obs_type"] == t)
            assert _obsids(session, CatalogFilter(obs_type=obs_type)) == expected, obs_type


@pytest.mark.parametrize("status", [s.value for s in ObservationStatus])
def test_status_filter(demo_sessions: sessionmaker[Session], catalog: list[Row], status: str) -> None:
    expected = _expected(catalog, lambda r: r["status"] == status)
    with demo_sessions() as session:
        assert _obsids(session, CatalogFilter(status=status)) == expected


@pytest.mark.parametrize("approved", [True, False])
def test_approved_filter(demo_sessions: sessionmaker[Session], catalog: list[Row], approved: bool) -> None:
    expected = _expected(catalog, lambda r: r["approved"] is approved)
    assert 0 < len(expected) < len(catalog)
    with demo_sessions() as session:
        assert _obsids(session, CatalogFilter(approved=approved)) == expected


@pytest.mark.parametrize("text", ["quispe", "QUISPE", "o'd", "GRÜN", "an", "x", "nobody"])
def test_pi_filter_is_a_case_insensitive_substring(
    demo_sessions: sessionmaker[Session], catalog: list[Row], text: str
) -> None:
    expected = _expected(catalog, lambda r: text.lower() in r["pi_name"].lower())
    with demo_sessions() as session:
        assert _obsids(session, CatalogFilter(pi=text)) == expected


# --- combinations ----------------------------------------------------------------------------

COMBINATIONS: list[tuple[str, dict[str, Any], Callable[[Row], bool]]] = [
    (
        "instrument+status+approved",
        {"instrument": "ACIS-S", "status": "unobserved", "approved": False},
        lambda r: r["instrument"] == "ACIS-S" and r["status"] == "unobserved" and not r["approved"],
    ),
    (
        "target+pi+type",
        {"target": "j", "pi": "a", "obs_type": "GO"},
        lambda r: "j" in r["target_name"].lower() and "a" in r["pi_name"].lower() and r["obs_type"] == "GO",
    ),
    (
        "obsids+instrument",
        {"obsids": "20001-20300", "instrument": "HRC-S"},
        lambda r: 20001 <= r["obsid"] <= 20300 and r["instrument"] == "HRC-S",
    ),
    (
        "approved+status",
        {"approved": True, "status": "scheduled"},
        lambda r: r["approved"] and r["status"] == "scheduled",
    ),
    (
        "contradiction",
        {"instrument": "HRC-I", "obs_type": "GO", "status": "canceled", "approved": True, "pi": "zz"},
        lambda r: False,
    ),
]


@pytest.mark.parametrize(("fields", "keep"), [c[1:] for c in COMBINATIONS], ids=[c[0] for c in COMBINATIONS])
def test_combined_filters_must_all_hold(
    demo_sessions: sessionmaker[Session], catalog: list[Row], fields: dict[str, Any], keep: Callable[[Row], bool]
) -> None:
    with demo_sessions() as session:
        assert _obsids(session, CatalogFilter(**fields)) == _expected(catalog, keep)


def test_a_cone_combines_with_other_filters(demo_sessions: sessionmaker[Session], catalog: list[Row]) -> None:
    separations = _separations_deg(catalog, 90.0, 0.0)
    expected = _expected(catalog, lambda r: separations[r["obsid"]] <= 60.0 and r["instrument"] == "ACIS-I")
    assert 0 < len(expected) < len(_expected(catalog, lambda r: separations[r["obsid"]] <= 60.0))
    with demo_sessions() as session:
        where = CatalogFilter(instrument="ACIS-I", cone=Cone(90.0, 0.0, 3600.0))
        assert _obsids(session, where) == expected


# --- cone search -----------------------------------------------------------------------------

CONES = {
    "crab": (83.6331, 22.0145, 30.0),
    "sgr-a-star-exact": (266.4168, -29.0078, 0.5),
    "across-ra-zero": (0.0, -30.0, 300.0),
    "across-ra-zero-from-359": (359.5, 28.0, 180.0),
    "north-pole-reaching-over": (200.0, 88.0, 480.0),
    "north-pole-centre": (0.0, 90.0, 600.0),
    "south-pole": (90.0, -89.0, 420.0),
    "hemisphere": (180.0, 0.0, 5400.0),
    "whole-sky": (10.0, -10.0, 10_800.0),
}


@pytest.mark.parametrize("centre", list(CONES.values()), ids=list(CONES))
def test_cone_search_matches_astropy_separation(
    demo_sessions: sessionmaker[Session], catalog: list[Row], centre: tuple[float, float, float]
) -> None:
    ra, dec, radius_arcmin = centre
    radius_deg = radius_arcmin / 60.0
    separations = _separations_deg(catalog, ra, dec)
    assert not [o for o, sep in separations.items() if abs(sep - radius_deg) < EDGE_DEG], "a point sits on the edge"
    expected = _expected(catalog, lambda r: separations[r["obsid"]] <= radius_deg)
    assert expected, "every cone should find something"
    with demo_sessions() as session:
        assert _obsids(session, CatalogFilter(cone=Cone(ra, dec, radius_arcmin))) == expected


def test_the_cone_examples_exercise_the_hard_cases(catalog: list[Row]) -> None:
    by_obsid = {row["obsid"]: row for row in catalog}

    def inside(name: str) -> list[Row]:
        ra, dec, radius = CONES[name]
        separations = _separations_deg(catalog, ra, dec)
        return [by_obsid[o] for o, sep in separations.items() if sep <= radius / 60.0]

    wrap = inside("across-ra-zero")
    assert any(r["ra_deg"] > 350 for r in wrap) and any(r["ra_deg"] < 10 for r in wrap)
    assert any(r["ra_deg"] < 10 for r in inside("across-ra-zero-from-359"))
    # Near the pole a match may lie on the far side: its RA differs from the centre's by more than 90 degrees.
    assert any(abs(r["ra_deg"] - 200.0) > 90 for r in inside("north-pole-reaching-over"))
    assert any(abs(r["ra_deg"] - 90.0) > 90 for r in inside("south-pole"))
    assert len(inside("whole-sky")) == len(catalog)
    assert 0 < len(inside("hemisphere")) < len(catalog)
    assert len(inside("sgr-a-star-exact")) > 1


def test_cone_search_respects_a_small_radius_exactly(demo_sessions: sessionmaker[Session], catalog: list[Row]) -> None:
    # Centre on one observation; a radius just under / over the distance to its nearest neighbour
    # must exclude / include that neighbour.
    centre = next(r for r in catalog if r["target_name"] == "Polaris")
    separations = _separations_deg(catalog, centre["ra_deg"], centre["dec_deg"])
    others = sorted((sep, o) for o, sep in separations.items() if sep > 1e-6)
    nearest_sep, nearest = others[0]
    with demo_sessions() as session:
        below = _obsids(
            session, CatalogFilter(cone=Cone(centre["ra_deg"], centre["dec_deg"], nearest_sep * 60 * 0.999))
        )
        above = _obsids(
            session, CatalogFilter(cone=Cone(centre["ra_deg"], centre["dec_deg"], nearest_sep * 60 * 1.001))
        )
    assert centre["obsid"] in below and nearest not in below
    assert nearest in above


def test_sky_positions_follow_the_filter_in_obsid_order(
    demo_sessions: sessionmaker[Session], catalog: list[Row]
) -> None:
    where = CatalogFilter(instrument="ACIS-I", approved=False)
    expected = _expected(catalog, lambda r: r["instrument"] == "ACIS-I" and not r["approved"])
    by_obsid = {row["obsid"]: row for row in catalog}
    with demo_sessions() as session:
        positions = sky_positions(session, where)
        limited = sky_positions(session, where, limit=7)
    assert [p["obsid"] for p in positions] == expected
    assert [p["obsid"] for p in limited] == expected[:7]
    for position in positions:
        row = by_obsid[position["obsid"]]
        for name in ("target_name", "ra_deg", "dec_deg"):
            assert position[name] == row[name], name
        assert position["status"] == row["status"]


def test_filter_choices_list_what_is_present(demo_sessions: sessionmaker[Session], catalog: list[Row]) -> None:
    with demo_sessions() as session:
        choices = filter_choices(session)
    assert sorted(choices["instrument"]) == sorted({r["instrument"] for r in catalog})
    assert sorted(choices["obs_type"]) == sorted({r["obs_type"] for r in catalog})
    assert choices["status"] == [s.value for s in ObservationStatus]


# --- sorting and paging ----------------------------------------------------------------------


def _text_rank(session: Session, sort_key: str) -> dict[int, int]:
    """obsid -> position of its lower-cased text among the distinct ones, in the database's collation.

    String order is the database's business (PostgreSQL may use a locale collation); everything
    else the test checks itself: ignoring case, ties broken by obsid, direction, paging.
    """
    expression = func.lower(getattr(Observation, sort_key))
    distinct = session.scalars(select(expression).distinct().order_by(expression)).all()
    rank = {value: index for index, value in enumerate(distinct)}
    return {obsid: rank[value] for obsid, value in session.execute(select(Observation.obsid, expression))}


def _expected_order(session: Session, catalog: list[Row], sort_key: str, descending: bool) -> list[int]:
    """Obsids in the order the catalog should list them: by the key, ties by obsid, rows without a value last."""
    if any(isinstance(r[sort_key], str) for r in catalog):
        rank = _text_rank(session, sort_key)
        keyed = [(rank[r["obsid"]], r["obsid"]) for r in catalog]
    else:
        keyed = [(r[sort_key], r["obsid"]) for r in catalog]
    present = sorted(((k, o) for k, o in keyed if k is not None), reverse=descending)
    missing = sorted((o for k, o in keyed if k is None), reverse=descending)
    return [o for _, o in present] + missing


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("sort_key", list(SORT_COLUMNS))
def test_sorting_and_paging_list_every_observation_once_in_order(
    demo_sessions: sessionmaker[Session], catalog: list[Row], sort_key: str, descending: bool
) -> None:
    page_size = 37  # odd, so pages split runs of equal values
    with demo_sessions() as session:
        expected = _expected_order(session, catalog, sort_key, descending)
        rows = _all_pages(session, CatalogFilter(), sort_by=sort_key, descending=descending, page_size=page_size)
    obsids = [row["obsid"] for row in rows]
    assert len(obsids) == len(set(obsids)) == len(catalog)
    # The same on every backend (SQLite puts NULL first when ascending, PostgreSQL when descending).
    unset = {r["obsid"] for r in catalog if r[sort_key] is None}
    assert set(obsids[len(obsids) - len(unset) :]) == unset, f"observations without {sort_key} must come last"
    assert obsids == expected


def test_sort_keys_have_ties_so_the_obsid_tie_break_is_exercised(catalog: list[Row]) -> None:
    for key in ("instrument", "obs_type", "status", "approved", "pi_name", "approved_exposure_ks", "scheduled_at"):
        assert len({r[key] for r in catalog}) < len(catalog), key


def test_sorting_by_text_ignores_case(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        for obsid, name, pi in [(1, "gamma", "b"), (2, "Beta", "C"), (3, "DELTA", "a"), (4, "alpha", "D")]:
            _add(session, obsid, target_name=name, pi_name=pi)
    with sessions() as session:
        by_target = page_observations(session, CatalogFilter(), sort_by="target_name").rows
        by_pi = page_observations(session, CatalogFilter(), sort_by="pi_name", descending=True).rows
    assert [r["target_name"] for r in by_target] == ["alpha", "Beta", "DELTA", "gamma"]
    assert [r["pi_name"] for r in by_pi] == ["D", "C", "b", "a"]


def test_a_filtered_sorted_page_holds_exactly_the_matching_rows(
    demo_sessions: sessionmaker[Session], catalog: list[Row]
) -> None:
    where = CatalogFilter(status="unobserved", approved=False)
    matching = [r for r in catalog if r["status"] == "unobserved" and not r["approved"]]
    expected = [r["obsid"] for r in sorted(matching, key=lambda r: (-r["approved_exposure_ks"], -r["obsid"]))]
    with demo_sessions() as session:
        page = page_observations(session, where, sort_by="approved_exposure_ks", descending=True, offset=20, limit=25)
    assert page.total == len(matching)
    assert page.page_count == math.ceil(len(matching) / 25)
    assert [r["obsid"] for r in page.rows] == expected[20:45]
    by_obsid = {row["obsid"]: row for row in catalog}
    for row in page.rows:
        assert tuple(row) == PAGE_COLUMNS
        assert {k: (v.value if k == "status" else v) for k, v in row.items() if k != "grating"} == {
            k: v for k, v in by_obsid[row["obsid"]].items() if k != "grating"
        }


def test_total_and_page_count(demo_sessions: sessionmaker[Session], catalog: list[Row]) -> None:
    with demo_sessions() as session:
        everything = page_observations(session, CatalogFilter(), limit=7)
        one_page = page_observations(session, CatalogFilter(), limit=MAX_PAGE_SIZE)
        exact = page_observations(session, CatalogFilter(obsids="20001-20010"), limit=5)
        nothing = page_observations(session, CatalogFilter(target="no such target anywhere"), limit=10)
        past_the_end = page_observations(session, CatalogFilter(), offset=len(catalog) + 5, limit=10)
    assert everything.total == len(catalog)
    assert everything.page_count == math.ceil(len(catalog) / 7)
    assert one_page.page_count == math.ceil(len(catalog) / MAX_PAGE_SIZE)
    assert (exact.total, exact.page_count) == (10, 2)
    assert (nothing.total, nothing.rows, nothing.page_count) == (0, [], 1)
    assert (past_the_end.total, past_the_end.rows) == (len(catalog), [])


# --- refusals --------------------------------------------------------------------------------


def _assert_names(error: InvalidInputError, field: str) -> None:
    assert error.details["field"] == field
    assert str(error).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sort_by": "nonsense"}, "sort_by"),
        ({"sort_by": "OBSID"}, "sort_by"),
        ({"limit": 0}, "page_size"),
        ({"limit": -5}, "page_size"),
        ({"limit": MAX_PAGE_SIZE + 1}, "page_size"),
        ({"offset": -1}, "offset"),
    ],
)
def test_page_arguments_are_checked(demo_sessions: sessionmaker[Session], kwargs: dict[str, Any], field: str) -> None:
    with demo_sessions() as session, pytest.raises(InvalidInputError) as caught:
        page_observations(session, CatalogFilter(), **kwargs)
    _assert_names(caught.value, field)


def test_page_size_limits_are_inclusive(demo_sessions: sessionmaker[Session], catalog: list[Row]) -> None:
    with demo_sessions() as session:
        assert len(page_observations(session, CatalogFilter(), limit=1).rows) == 1
        assert len(page_observations(session, CatalogFilter(), limit=MAX_PAGE_SIZE).rows) == min(
            MAX_PAGE_SIZE, len(catalog)
        )


@pytest.mark.parametrize("status", ["Observed", "done", " observed", "OBSERVED"])
def test_an_unknown_status_is_refused(status: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        CatalogFilter(status=status)
    _assert_names(caught.value, "status")
    assert "unobserved" in str(caught.value)  # the message lists what is allowed


def test_a_bad_obsid_list_is_refused_when_the_filter_is_made() -> None:
    with pytest.raises(InvalidInputError) as caught:
        CatalogFilter(obsids="20001, 2OOO2")
    _assert_names(caught.value, "obsids")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ((360.0, 0.0, 10.0), "cone_ra_deg"),
        ((-0.001, 0.0, 10.0), "cone_ra_deg"),
        ((math.nan, 0.0, 10.0), "cone_ra_deg"),
        ((math.inf, 0.0, 10.0), "cone_ra_deg"),
        ((10.0, 90.001, 10.0), "cone_dec_deg"),
        ((10.0, -90.5, 10.0), "cone_dec_deg"),
        ((10.0, math.nan, 10.0), "cone_dec_deg"),
        ((10.0, 0.0, 0.0), "cone_radius_arcmin"),
        ((10.0, 0.0, -1.0), "cone_radius_arcmin"),
        ((10.0, 0.0, 10_800.01), "cone_radius_arcmin"),
        ((10.0, 0.0, math.nan), "cone_radius_arcmin"),
    ],
)
def test_bad_cone_values_are_refused_naming_the_field(values: tuple[float, float, float], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Cone(*values)
    _assert_names(caught.value, field)


def test_cone_limits_are_inclusive_where_they_should_be() -> None:
    Cone(0.0, -90.0, 10_800.0)
    Cone(359.999999, 90.0, 1e-6)


# --- LIKE wildcards are text -----------------------------------------------------------------

WILDCARD_NAMES = {
    1: "50% duty cycle",
    2: "500 duty cycle",
    3: "A_B",
    4: "AxB",
    5: "C/D",
    6: "C D",
    7: "back\\slash",
    8: "backslash",
}


@pytest.mark.parametrize("text", ["%", "0%", "50% d", "_", "a_b", "/", "c/d", "\\", "k\\s", "%_"])
def test_wildcards_in_the_target_text_match_literally(sessions: sessionmaker[Session], text: str) -> None:
    with sessions() as session, session.begin():
        for obsid, name in WILDCARD_NAMES.items():
            _add(session, obsid, target_name=name, pi_name=name)
    expected = sorted(o for o, name in WILDCARD_NAMES.items() if text.lower() in name.lower())
    with sessions() as session:
        assert _obsids(session, CatalogFilter(target=text)) == expected
        assert _obsids(session, CatalogFilter(pi=text)) == expected


# --- one observation -------------------------------------------------------------------------


def _usernames(session: Session) -> dict[int, str]:
    return {user_id: username for user_id, username in session.execute(select(User.id, User.username))}


def test_detail_lists_revisions_oldest_first_with_sign_offs_in_position_order(
    demo_sessions: sessionmaker[Session],
) -> None:
    with demo_sessions() as session:
        counts = [(o, n) for o, n in session.execute(select(Revision.obsid, func.count()).group_by(Revision.obsid))]
        obsid = max(counts, key=lambda pair: (pair[1], -pair[0]))[0]
        assert dict(counts)[obsid] >= 2
        names = _usernames(session)
        revisions = sorted(
            session.scalars(select(Revision).where(Revision.obsid == obsid)), key=lambda r: r.submitted_at
        )
        expected = []
        for revision in revisions:
            signoffs = sorted(
                session.scalars(select(SignOff).where(SignOff.revision_id == revision.id)), key=lambda s: s.position
            )
            changed = sorted(
                (v.name, v.rank, v.original, v.requested)
                for v in session.scalars(select(RevisionValue).where(RevisionValue.revision_id == revision.id))
                if v.changed
            )
            expected.append(
                (
                    f"{obsid}.{revision.number:03d}",
                    revision.kind.value,
                    names.get(revision.submitted_by_id),
                    revision.submitted_at,
                    revision.comment,
                    changed,
                    [(s.area, s.position, s.state, names.get(s.actor_id), s.acted_at) for s in signoffs],
                )
            )
        detail = observation_detail(session, obsid)

    got = [
        (
            r.label,
            r.kind,
            r.submitted_by,
            r.submitted_at,
            r.comment,
            [(c.name, c.rank, c.original, c.requested) for c in r.changes],
            [(s.area, s.position, s.state, s.by, s.at) for s in r.signoffs],
        )
        for r in detail.revisions
    ]
    assert got == expected
    submitted = [r.submitted_at for r in detail.revisions]
    assert submitted == sorted(submitted) and len(set(submitted)) == len(submitted)
    assert detail.current_revision is detail.revisions[-1]
    for revision in detail.revisions:
        positions = [s.position for s in revision.signoffs]
        assert positions == sorted(positions) and len(set(positions)) == len(positions)
        # Everyone who acted is shown by user name.
        assert all(s.by in names.values() for s in revision.signoffs if s.state is SignOffState.SIGNED)
        assert revision.submitted_by in names.values()


def test_detail_of_an_observation_without_revisions(demo_sessions: sessionmaker[Session], catalog: list[Row]) -> None:
    with demo_sessions() as session:
        with_history = set(session.scalars(select(Revision.obsid)))
        obsid = min(r["obsid"] for r in catalog if r["obsid"] not in with_history)
        observation = session.scalar(select(Observation).where(Observation.obsid == obsid))
        assert observation is not None
        parameters = {
            (p.name, p.rank): p.value
            for p in session.scalars(
                select(ObservationParameter).where(ObservationParameter.observation_id == observation.id)
            )
        }
        detail = observation_detail(session, obsid)
    assert detail.revisions == []
    assert detail.current_revision is None
    assert parameters and detail.values == parameters
    row = next(r for r in catalog if r["obsid"] == obsid)
    assert {k: detail.summary[k] for k in row} == row | {"status": ObservationStatus(row["status"])}
    assert detail.summary["sequence_number"] == observation.sequence_number
    assert detail.summary["proposal_number"] == observation.proposal_number
    assert detail.summary["si_mode"] == observation.si_mode
    assert detail.summary["version"] == observation.version


def test_detail_of_an_unknown_obsid_is_not_found(demo_sessions: sessionmaker[Session], catalog: list[Row]) -> None:
    missing = max(r["obsid"] for r in catalog) + 1
    with demo_sessions() as session, pytest.raises(NotFoundError) as caught:
        observation_detail(session, missing)
    assert caught.value.details == {"obsid": missing}
    assert str(missing) in str(caught.value)


# --- revision status -------------------------------------------------------------------------


def test_revision_status_of_every_demo_revision(demo_sessions: sessionmaker[Session]) -> None:
    seen: set[str] = set()
    with demo_sessions() as session:
        revisions = session.scalars(select(Revision)).all()
        for revision in revisions:
            states = {s.state for s in revision.signoffs}
            status = revision_status(revision)
            seen.add(status)
            if revision.superseded_by_id is not None:
                assert status == "superseded", revision.label
            elif SignOffState.DISCARDED in states:
                assert status == "discarded", revision.label
            elif SignOffState.PENDING in states:
                assert status == ("closed" if revision.closed_at else "open"), revision.label
            else:
                assert states <= {SignOffState.SIGNED, SignOffState.NOT_REQUIRED}
                assert status == "complete", revision.label
        # The detail view shows the same word for each revision.
        for obsid in {r.obsid for r in revisions}:
            shown = [r.status for r in observation_detail(session, obsid).revisions]
            own = sorted((r for r in revisions if r.obsid == obsid), key=lambda r: r.number)
            assert shown == [revision_status(r) for r in own]
    assert {"superseded", "discarded", "complete", "open"} <= seen


def _revision(states: list[SignOffState], *, superseded: bool = False, closed: bool = False) -> Revision:
    revision = Revision(
        obsid=1,
        number=1,
        kind=RevisionKind.NORMAL,
        superseded_by_id=7 if superseded else None,
        closed_at=datetime(2026, 1, 1, tzinfo=UTC) if closed else None,
    )
    revision.signoffs = [SignOff(area=f"area{i}", position=i, state=state) for i, state in enumerate(states, start=1)]
    return revision


P, S, N, D = SignOffState.PENDING, SignOffState.SIGNED, SignOffState.NOT_REQUIRED, SignOffState.DISCARDED


@pytest.mark.parametrize(
    ("states", "superseded", "closed", "expected"),
    [
        ([S, N, S], False, True, "complete"),
        ([N, N, N], False, False, "complete"),
        ([S, P, P], False, False, "open"),
        ([], False, False, "open"),
        ([S, P], False, True, "closed"),
        ([S, D, P], False, True, "discarded"),
        ([D, S, S], False, False, "discarded"),
        ([S, D], True, True, "superseded"),
        ([S, S], True, False, "superseded"),
        ([P, P], True, False, "superseded"),
    ],
)
def test_revision_status_precedence(states: list[SignOffState], superseded: bool, closed: bool, expected: str) -> None:
    assert revision_status(_revision(states, superseded=superseded, closed=closed)) == expected


# --- a large catalog -------------------------------------------------------------------------


@pytest.fixture
def large_engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


def _check_pages(
    session: Session, where: CatalogFilter, expected: list[int], *, sort_by: str, descending: bool
) -> None:
    size = 100
    first = page_observations(session, where, sort_by=sort_by, descending=descending, limit=size)
    assert first.total == len(expected)
    assert first.page_count == math.ceil(len(expected) / size) > 3
    for page in (0, first.page_count // 2, first.page_count - 1):
        result = page_observations(
            session, where, sort_by=sort_by, descending=descending, offset=page * size, limit=size
        )
        assert [r["obsid"] for r in result.rows] == expected[page * size : (page + 1) * size], page
    assert len(result.rows) == len(expected) - (first.page_count - 1) * size


@pytest.mark.slow
def test_pages_of_a_100k_catalog(large_engine: Engine) -> None:
    rows = insert_observations(large_engine, 100_000, seed=7)
    sessions = make_session_factory(large_engine)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Observation)) == 100_000

        # A filter and a numeric sort with many ties, descending: ties fall back to obsid descending.
        matching = [r for r in rows if r["instrument"] == "ACIS-I" and not r["approved"]]
        ordered = sorted(matching, key=lambda r: (r["approved_exposure_ks"], r["obsid"]), reverse=True)
        expected = [r["obsid"] for r in ordered]
        where = CatalogFilter(instrument="ACIS-I", approved=False)
        _check_pages(session, where, expected, sort_by="approved_exposure_ks", descending=True)

        # A cone and a status, sorted by Dec ascending.
        ra = np.array([r["ra_deg"] for r in rows])
        dec = np.array([r["dec_deg"] for r in rows])
        separations = (
            SkyCoord(10.0 * u.deg, -20.0 * u.deg).separation(SkyCoord(ra * u.deg, dec * u.deg)).to_value(u.deg)
        )
        assert not np.any(np.abs(separations - 30.0) < EDGE_DEG)
        inside = [
            r
            for r, sep in zip(rows, separations, strict=True)
            if sep <= 30.0 and r["status"] == ObservationStatus.SCHEDULED
        ]
        expected = [r["obsid"] for r in sorted(inside, key=lambda r: (r["dec_deg"], r["obsid"]))]
        where = CatalogFilter(status="scheduled", cone=Cone(10.0, -20.0, 1800.0))
        _check_pages(session, where, expected, sort_by="dec_deg", descending=False)


def test_observation_values_are_the_stored_parameters_and_the_header(
    demo_sessions: sessionmaker[Session], catalog: list[Row]
) -> None:
    obsid = catalog[0]["obsid"]
    with demo_sessions() as session:
        detail = observation_detail(session, obsid)
        shown = observation_values(session, obsid)
        missing = max(r["obsid"] for r in catalog) + 1
        with pytest.raises(NotFoundError, match=f"obsid {missing} is not in the catalog"):
            observation_values(session, missing)
    assert shown.values == detail.values
    assert (shown.obsid, shown.target_name, shown.instrument, shown.version) == (
        obsid,
        detail.summary["target_name"],
        detail.summary["instrument"],
        detail.summary["version"],
    )
    assert shown.status == detail.summary["status"].value and shown.editable == (
        detail.summary["status"] in EDITABLE_STATUSES
    )
