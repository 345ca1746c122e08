"""The parameter schema data file: it loads, covers the demo's parameters, groups rows and refuses broken files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.models import Observation, ObservationParameter
from obslab.catalog.parameter_schema import (
    FLAG_CHOICES,
    OTHER_GROUP,
    ParameterGroup,
    ParameterSchemaError,
    default_parameter_schema,
    load_parameter_schema,
)
from obslab.errors import NotFoundError, ObslabError

#: A small valid schema; each broken case below changes one thing in it.
VALID = """\
all_or_none = [["dither_flag", "y_amp"]]
exactly_one = [["ra", "y_amp"]]
before = [["ra", "y_amp"]]

[[group]]
key = "target"
label = "Target"
parameters = [
  { name = "ra", label = "RA", type = "float", unit = "deg", minimum = 0, maximum = 360 },
  { name = "grating", label = "Grating", type = "choice", choices = ["NONE", "HETG"] },
  { name = "dither_flag", label = "Dither", type = "flag" },
  { name = "y_amp", label = "Y amplitude", type = "float" },
  { name = "window_flag", label = "Time windows", type = "flag" },
]

[[group]]
key = "time_windows"
label = "Time constraints"
ranked = true
flag = "window_flag"
parameters = [{ name = "tstart", label = "Start", type = "datetime" }]

[[condition]]
if = "grating"
in = ["HETG"]
require = ["ra"]
"""

RA = '{ name = "ra", label = "RA", type = "float", unit = "deg", minimum = 0, maximum = 360 }'
TSTART = '{ name = "tstart", label = "Start", type = "datetime" }'

#: id -> (text replaced in VALID, replacement, what the message must say)
BROKEN = {
    "toml syntax": ('label = "Target"', 'label = "Target', ["invalid TOML", "line 7"]),
    "unknown key": (RA, RA.replace("unit", "unti"), ["parameter 'ra' in group 'target'", "unknown key 'unti'"]),
    "missing type": (
        RA,
        RA.replace('type = "float", ', ""),
        ["parameter 'ra' in group 'target'", "missing required key 'type'"],
    ),
    "missing name": (
        RA,
        RA.replace('name = "ra", ', ""),
        ["parameter #1 in group 'target'", "missing required key 'name'"],
    ),
    "missing group label": ('label = "Target"\n', "", ["group #1", "missing required key 'label'"]),
    "wrong value type": (
        RA,
        RA.replace("minimum = 0", 'minimum = "0"'),
        ["parameter 'ra' in group 'target'", "'minimum' must be a number"],
    ),
    "duplicate name": (
        TSTART,
        TSTART.replace("tstart", "ra"),
        ["parameter 'ra' in group 'time_windows'", "duplicate name", "'target'"],
    ),
    "unknown type": (
        RA,
        RA.replace('"float"', '"flot"'),
        ["parameter 'ra' in group 'target'", "unknown type 'flot'", "allowed: string, float"],
    ),
    "choices on a non-choice type": (
        RA,
        RA.replace("unit", 'choices = ["0"], unit'),
        ["parameter 'ra'", "choices given for type 'float'"],
    ),
    "choice without choices": (
        'type = "choice", choices = ["NONE", "HETG"]',
        'type = "choice"',
        ["parameter 'grating'", "needs a 'choices' list"],
    ),
    "minimum above maximum": (
        RA,
        RA.replace("minimum = 0", "minimum = 400"),
        ["parameter 'ra'", "minimum 400 is greater than maximum 360"],
    ),
    "bounds on a non-number": (
        TSTART,
        TSTART.replace("}", ", minimum = 1 }"),
        ["parameter 'tstart'", "only int and float take bounds"],
    ),
    "condition names an unknown parameter": (
        'require = ["ra"]',
        'require = ["rah"]',
        ["condition 1 (if 'grating')", "unknown parameter 'rah'"],
    ),
    "condition value is not a choice": (
        'in = ["HETG"]',
        'in = ["LETG"]',
        ["condition 1 (if 'grating')", "'LETG' is not a choice of 'grating'"],
    ),
    "condition mixes tables": (
        'require = ["ra"]',
        'require = ["tstart"]',
        ["condition 1 (if 'grating')", "mixes parameters"],
    ),
    "all_or_none names an unknown parameter": (
        '"y_amp"]]',
        '"y_amplitude"]]',
        ["all_or_none entry 1 (lead 'dither_flag')", "unknown parameter 'y_amplitude'"],
    ),
    "all_or_none without others": (
        '["dither_flag", "y_amp"]',
        '["dither_flag"]',
        ["all_or_none entry 1", "at least one other"],
    ),
    "ranked flag unknown": (
        'flag = "window_flag"',
        'flag = "windows_flag"',
        ["group 'time_windows'", "flag 'windows_flag'"],
    ),
    "ranked flag not a flag": (
        'flag = "window_flag"',
        'flag = "ra"',
        ["group 'time_windows'", "flag 'ra'", "of type 'flag'"],
    ),
    "duplicate group key": ('key = "time_windows"', 'key = "target"', ["group 'target'", "duplicate group key"]),
    "reserved group key": ('key = "time_windows"', 'key = "other"', ["group 'other'", "reserved"]),
    "unknown top-level key": ("all_or_none =", "all_or_nothing =", ["top level", "unknown key 'all_or_nothing'"]),
    "exactly_one of one": (
        'exactly_one = [["ra", "y_amp"]]',
        'exactly_one = [["ra"]]',
        ["exactly_one entry 1", "at least two"],
    ),
    "exactly_one unknown": (
        'exactly_one = [["ra", "y_amp"]]',
        'exactly_one = [["ra", "yamp"]]',
        ["exactly_one entry 1", "unknown parameter 'yamp'"],
    ),
    "before of three": (
        'before = [["ra", "y_amp"]]',
        'before = [["ra", "y_amp", "ra"]]',
        ["before entry 1", "exactly two"],
    ),
    "before of a choice": (
        'before = [["ra", "y_amp"]]',
        'before = [["ra", "grating"]]',
        ["before entry 1", "only int, float and datetime"],
    ),
    "before mixes tables": (
        'before = [["ra", "y_amp"]]',
        'before = [["ra", "tstart"]]',
        ["before entry 1", "mixes parameters"],
    ),
    "family not text": ('label = "Target"\n', 'label = "Target"\nfamily = 1\n', ["group #1", "'family' must be text"]),
}


def test_packaged_schema_loads_once_with_every_group_in_display_order() -> None:
    schema = default_parameter_schema()
    assert default_parameter_schema() is schema
    assert [group.key for group in schema.groups][:3] == ["general", "target", "dither"]
    flags = {group.key: group.flag for group in schema.groups if group.ranked}
    assert flags == {"time_windows": "window_flag", "roll_windows": "roll_flag", "acis_windows": "spwindow_flag"}
    ra = schema.spec("ra")
    assert (ra.group, ra.type, ra.unit, ra.minimum, ra.maximum, ra.editable) == ("target", "float", "deg", 0, 360, True)
    assert schema.spec("dither_flag").choices == FLAG_CHOICES
    for read_only in (
        "seq_nbr",
        "status",
        "pi_name",
        "proposal_number",
        "approved_exposure_time",
        "rem_exp_time",
        "soe_st_sched_date",
        "lts_lt_plan",
    ):
        assert not schema.spec(read_only).editable, read_only
    assert len(schema.names()) == len(set(schema.names()))
    assert any(rule.lead == "window_constraint" and rule.per_rank for rule in schema.all_or_none)
    assert any(condition.parameter == "instrument" and not condition.per_rank for condition in schema.conditions)


def test_unknown_parameter_is_not_found() -> None:
    schema = default_parameter_schema()
    with pytest.raises(NotFoundError, match="nope"):
        schema.spec("nope")
    assert schema.group_of("nope") is None


def test_schema_knows_every_parameter_the_demo_stores(demo_sessions: sessionmaker[Session]) -> None:
    schema = default_parameter_schema()
    with demo_sessions() as session:
        ranked = func.min(ObservationParameter.rank) >= 1
        stored = set(session.execute(select(ObservationParameter.name, ranked).group_by(ObservationParameter.name)))
    assert {name for name, _ in stored} - set(schema.names()) == set()
    # Ranked names are stored only at ranks >= 1 and scalars only at rank 0, as the schema's groups say.
    assert {name: schema.group_of(name).ranked for name, _ in stored} == {name: bool(ranked) for name, ranked in stored}


def test_demo_values_fit_their_specs(demo_sessions: sessionmaker[Session]) -> None:
    schema = default_parameter_schema()
    with demo_sessions() as session:
        rows = session.execute(select(ObservationParameter.name, ObservationParameter.value)).all()
    for name, value in rows:
        spec = schema.spec(name)
        if value is None:
            continue
        if spec.choices is not None:
            assert value in spec.choices, (name, value)
        elif spec.type == "datetime":
            datetime.fromisoformat(value)
        elif spec.type in ("int", "float"):
            assert isinstance(value, int if spec.type == "int" else (int, float)) and not isinstance(value, bool), (
                name,
                value,
            )
            assert (spec.minimum is None or value >= spec.minimum) and (
                spec.maximum is None or value <= spec.maximum
            ), (name, value)
        else:
            assert isinstance(value, str), (name, value)


def test_group_rows_of_a_demo_observation(demo_sessions: sessionmaker[Session]) -> None:
    with demo_sessions() as session:
        windowed = select(ObservationParameter.observation_id).where(
            ObservationParameter.name == "tstart", ObservationParameter.rank == 2
        )
        observation = session.scalars(
            select(Observation).where(Observation.id.in_(windowed)).order_by(Observation.obsid)
        ).first()
        assert observation is not None, "the demo has an observation with two time windows"
        values = {(p.name, p.rank): p.value for p in observation.parameters}
        ra_deg, dec_deg = observation.ra_deg, observation.dec_deg
    values[("mystery_knob", 0)] = 7
    values[("ra", 3)] = 1.0  # a scalar stored at a rank is shown, not dropped
    grouped = default_parameter_schema().group_rows(values)

    by_key = {group.key: rows for group, rows in grouped}
    target = {row["name"]: row for row in by_key["target"]}
    assert target["ra"] == {"name": "ra", "label": "RA", "value": ra_deg, "unit": "deg"}
    assert target["dec"]["value"] == dec_deg
    windows = by_key["time_windows"]
    assert [row["rank"] for row in windows] == sorted(rank for name, rank in values if name == "tstart")
    assert all(set(row) == {"rank", "window_constraint", "tstart", "tstop"} for row in windows)
    assert windows[1]["tstart"] == values[("tstart", 2)]
    assert grouped[-1][0].key == OTHER_GROUP and grouped[-1][0].label == "Other parameters"
    assert [(row["name"], row["rank"], row["value"]) for row in grouped[-1][1]] == [
        ("mystery_knob", 0, 7),
        ("ra", 3, 1.0),
    ]
    assert set(values) <= _cells(grouped), "every stored value appears in some row"


def _cells(grouped: list[tuple[ParameterGroup, list[dict[str, Any]]]]) -> set[tuple[str, int]]:
    """The (name, rank) of every value that group_rows shows."""
    cells = set()
    for group, rows in grouped:
        for row in rows:
            if group.ranked:
                cells |= {(name, row["rank"]) for name in row if name != "rank"}
            else:
                cells.add((row["name"], row.get("rank", 0)))
    return cells


def test_group_rows_without_unknown_names_has_no_other_group() -> None:
    grouped = default_parameter_schema().group_rows({("ra", 0): 10.0})
    assert OTHER_GROUP not in [group.key for group, _ in grouped]
    assert all(rows == [] for group, rows in grouped if group.ranked)


def test_the_valid_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "schema.toml"
    path.write_text(VALID)
    schema = load_parameter_schema(str(path))
    assert schema.names() == ["ra", "grating", "dither_flag", "y_amp", "window_flag", "tstart"]
    assert schema.conditions[0].values == ("HETG",) and schema.all_or_none[0].rest == ("y_amp",)


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_schema_files_are_refused_with_the_entry_named(
    tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    assert old in VALID
    path = tmp_path / "schema.toml"
    path.write_text(VALID.replace(old, new, 1))
    with pytest.raises(ParameterSchemaError) as refused:
        load_parameter_schema(path)
    message = str(refused.value)
    assert message.startswith(str(path)), message
    for part in expected:
        assert part in message, message
    assert isinstance(refused.value, ObslabError) and refused.value.code == "invalid_parameter_schema"
