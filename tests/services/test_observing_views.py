"""Programs decide who sees which exposures; the exposure read model filters, sorts and pages in SQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import User, find_user
from obslab.audit import AuditEvent
from obslab.errors import ConflictError, NotFoundError, PermissionDeniedError
from obslab.observing.alarm_rules import load_alarm_rules
from obslab.observing.alarms import acknowledge, raise_alarms
from obslab.observing.models import Exposure, Metric, Program
from obslab.observing.programs import add_member, remove_member
from obslab.observing.types import ExposureKind
from obslab.observing.views import ExposureQuery, Range, exposure_detail, list_exposures, night_overview
from tests.helpers.pipeline_night import NightFiles, reduced_night
from tests.helpers.support import fixed_clock

PEOPLE = {"root": ["admin"], "sara": ["staff"], "ann": ["usint"], "bob": ["usint"]}


@pytest.fixture
def night(sessions: sessionmaker[Session], tmp_path: Path) -> NightFiles:
    return reduced_night(sessions, tmp_path, PEOPLE, {"ann": "4"})


def names(session: Session, who: str, **query: object) -> list[str]:
    viewer = find_user(session, who)
    assert viewer is not None
    return [row.name for row in list_exposures(session, viewer, ExposureQuery(**query)).rows]  # type: ignore[arg-type]


def test_ingest_makes_programs_from_file_names_and_links_exposures_by_id(
    sessions: sessionmaker[Session], night: NightFiles
) -> None:
    with sessions() as session:
        assert sorted(session.scalars(select(Program.code))) == ["24.1", "4"]
        for exposure in session.scalars(select(Exposure)):
            program = session.get(Program, exposure.program_id) if exposure.program_id else None
            assert (program.code if program else "") == exposure.program


def test_members_see_their_programs_and_that_nights_calibrations_staff_see_all_others_nothing(
    sessions: sessionmaker[Session], night: NightFiles
) -> None:
    with sessions() as session:
        everything = names(session, "root")
        assert len(everything) == 6 and names(session, "sara") == everything
        anns = names(session, "ann")
        assert night.science[0] in anns and night.science[1] not in anns  # program 4 only
        assert {n.split("_")[0] for n in anns} == {"4", "dark", "flat", "seeing"}
        assert names(session, "bob") == []
        with pytest.raises(NotFoundError, match="that you may see"):
            exposure_detail(session, find_user(session, "ann"), night.science[1])
        assert exposure_detail(session, find_user(session, "ann"), night.science[0]).row.program == "4"


def test_a_deactivated_member_sees_nothing(sessions: sessionmaker[Session], night: NightFiles) -> None:
    with sessions() as session, session.begin():
        find_user(session, "ann").is_active = False
    with sessions() as session:
        assert names(session, "ann") == []


def test_membership_changes_need_admin_are_audited_and_refuse_duplicates(
    sessions: sessionmaker[Session], night: NightFiles
) -> None:
    with sessions() as session, session.begin():
        sara: User = find_user(session, "sara")
        with pytest.raises(PermissionDeniedError, match="sara may not change program members"):
            add_member(session, sara, "24.1", "bob", now=fixed_clock)
        root = find_user(session, "root")
        with pytest.raises(ConflictError, match="ann is already a member of program 4"):
            add_member(session, root, "4", "ann", now=fixed_clock)
        with pytest.raises(NotFoundError, match="program '99' is not known"):
            add_member(session, root, "99", "ann", now=fixed_clock)
        add_member(session, root, "24.1", "bob", now=fixed_clock)
    with sessions() as session:
        assert names(session, "bob", kind=ExposureKind.SCIENCE) == [night.science[1]]
    with sessions() as session, session.begin():
        remove_member(session, find_user(session, "root"), "24.1", "bob", now=fixed_clock)
    with sessions() as session:
        assert names(session, "bob") == []
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "program")).all()
        assert sorted(actions) == ["program.member_added", "program.member_added", "program.member_removed"]


def test_filters_sort_and_pages(sessions: sessionmaker[Session], night: NightFiles) -> None:
    with sessions() as session:
        assert names(session, "root", target="351_*") == [night.science[0]]
        assert names(session, "root", target="351") == []  # exact unless a * is given
        assert names(session, "root", program="24.1") == [night.science[1]]
        assert names(session, "root", filter_name="Sr", kind=ExposureKind.SCIENCE) == [night.science[1]]
        assert len(names(session, "root", kind=ExposureKind.FLAT)) == 2
        assert len(names(session, "root", cone=(10.0, 20.0, 1.0))) == 6  # the helper points every file there
        assert names(session, "root", cone=(10.0, 20.5, 60.0)) == []
        assert names(session, "root", stage_state="done") == list(night.science[::-1])
        assert names(session, "root", stage_state="failed") == []
        assert set(names(session, "root", quality_ok=True)) == set(night.science)
        root = find_user(session, "root")
        by_strehl = list_exposures(session, root, ExposureQuery(sort="strehl_percent", kind=ExposureKind.SCIENCE)).rows
        assert [r.strehl_percent for r in by_strehl] == sorted((r.strehl_percent for r in by_strehl), reverse=True)
        low = min(r.strehl_percent for r in by_strehl)
        assert names(session, "root", strehl_percent=Range(low + 1e-6, None)) == [by_strehl[0].name]
        first = list_exposures(session, root, ExposureQuery(per_page=4, sort="name", descending=False))
        second = list_exposures(session, root, ExposureQuery(per_page=4, page=2, sort="name", descending=False))
        assert first.total == second.total == 6 and len(first.rows) == 4 and len(second.rows) == 2
        assert [r.name for r in first.rows + second.rows] == sorted(names(session, "root"))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sort": "ra_deg; drop"}, "sort"),
        ({"page": 0}, "page"),
        ({"per_page": 5000}, "per_page"),
        ({"stage_state": "lost"}, "stage_state"),
        ({"cone": (400.0, 0.0, 1.0)}, "cone"),
    ],
)
def test_bad_queries_are_refused_naming_the_field(
    sessions: sessionmaker[Session], night: NightFiles, query: dict[str, object], field: str
) -> None:
    with sessions() as session, pytest.raises(Exception, match=field):
        list_exposures(session, find_user(session, "root"), ExposureQuery(**query))  # type: ignore[arg-type]


def test_each_exposure_gets_the_seeing_nearest_in_time_and_can_be_filtered_by_it(
    sessions: sessionmaker[Session], night: NightFiles
) -> None:
    with sessions() as session:
        root = find_user(session, "root")
        rows = list_exposures(session, root, ExposureQuery(kind=ExposureKind.SCIENCE)).rows
        seeing = session.scalar(select(Metric.value).where(Metric.name == "seeing_arcsec"))
        assert [r.seeing_nearest_arcsec for r in rows] == [seeing, seeing]  # one seeing exposure that night
        assert names(session, "root", seeing_nearest_arcsec=Range(None, seeing - 0.01)) == []
        assert len(names(session, "root", seeing_nearest_arcsec=Range(seeing - 0.01, None))) == 2


def test_the_night_overview_counts_what_each_viewer_may_see(sessions: sessionmaker[Session], night: NightFiles) -> None:
    with sessions() as session:
        (everything,) = night_overview(session, find_user(session, "root"))
        assert (everything.exposures, everything.by_program, everything.calibration) == (6, {"24.1": 1, "4": 1}, "done")
        assert everything.stages == {"done": 6} and everything.seeing_median_arcsec is not None
        (anns,) = night_overview(session, find_user(session, "ann"))
        assert (anns.exposures, anns.by_program, anns.stages) == (5, {"4": 1}, {"done": 3})
        assert night_overview(session, find_user(session, "bob")) == []
        assert night_overview(session, find_user(session, "root"), first=date(2026, 12, 6)) == []


def test_science_exposures_show_their_measured_magnitude_and_are_filtered_and_sorted_by_it(
    sessions: sessionmaker[Session], night: NightFiles
) -> None:
    with sessions() as session:
        root = find_user(session, "root")
        rows = list_exposures(session, root, ExposureQuery(sort="magnitude", descending=False)).rows
        measured = dict(
            session.execute(
                select(Exposure.name, Metric.value)
                .join(Metric, Metric.exposure_id == Exposure.id)
                .where(Metric.name == "magnitude")
            ).all()
        )
        assert set(measured) == set(night.science)  # science exposures only: calibrations have no target
        assert {r.name: r.magnitude for r in rows if r.magnitude is not None} == measured
        brightest, faintest = sorted(measured, key=measured.__getitem__)
        assert [r.name for r in rows[:2]] == [brightest, faintest]  # smallest first, unmeasured last
        middle = (measured[brightest] + measured[faintest]) / 2
        assert names(session, "root", magnitude=Range(None, middle)) == [brightest]
        assert names(session, "root", magnitude=Range(middle, None)) == [faintest]
        assert names(session, "root", magnitude=Range(measured[faintest] + 0.01, None)) == []
        assert names(session, "ann", magnitude=Range(None, 99.0)) == [night.science[0]]  # program 4's only
        assert exposure_detail(session, root, faintest).row.magnitude == measured[faintest]


def test_an_exposure_shows_the_alarms_on_its_own_metrics_open_or_acknowledged(
    sessions: sessionmaker[Session], night: NightFiles, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rule]]\nname = "any-strehl"\nmetric = "strehl_percent"\nnotify = ["staff"]\noutside = [0.0, 0.001]\n'
    )
    with sessions() as session, session.begin():
        for metric in session.scalars(select(Metric).where(Metric.name == "strehl_percent")):
            raise_alarms(session, metric, load_alarm_rules(rules), now=fixed_clock)
    mine, other = night.science
    with sessions() as session, session.begin():
        ann = find_user(session, "ann")
        (alarm,) = exposure_detail(session, ann, mine).alarms
        strehl = session.scalar(
            select(Metric.value).join(Exposure).where(Exposure.name == mine, Metric.name == "strehl_percent")
        )
        assert (alarm.rule, alarm.metric, alarm.exposure, alarm.values) == (
            "any-strehl",
            "strehl_percent",
            mine,
            [round(strehl, 6)],
        )
        assert alarm.acknowledged_at is None
        assert exposure_detail(session, ann, mine).as_dict()["alarms"][0]["id"] == alarm.id
        acknowledge(session, ann, alarm.id, now=fixed_clock)
    with sessions() as session:
        (seen,) = exposure_detail(session, find_user(session, "ann"), mine).alarms
        assert seen.acknowledged_at == fixed_clock()
        (others,) = exposure_detail(session, find_user(session, "root"), other).alarms  # its own alarm, not mine's
        assert others.exposure == other and others.id != alarm.id
        calibration = next(n for n in names(session, "root") if n.startswith("dark"))
        assert exposure_detail(session, find_user(session, "root"), calibration).alarms == ()
