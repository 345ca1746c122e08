"""Report templates: parameters read from the tagged cell and checked, templates found, versioned and refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from obslab.errors import InvalidInputError, NotFoundError
from obslab.reports.parameters import Parameter, TemplateError, check_values, read_parameters
from obslab.reports.templates import PACKAGED, find_template, load_template, template_paths

CELL = """night: str = ""  # the night, YYYYMMDD
limit: float = 1.5  # arcsec: seeing above this is poor
bins: int = 12  # histogram bins
draft: bool = False
"""


def notebook(source: str, *, tagged: int = 1, version: str = "3") -> dict:
    cells = [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": source, "outputs": []}] * tagged
    cells.append({"cell_type": "code", "metadata": {}, "source": "1 / 0", "outputs": []})
    return {"cells": cells, "metadata": {"obslab": {"title": "T", "description": "D", "version": version}}}


def write(folder: Path, name: str, content: dict) -> Path:
    path = folder / f"{name}.ipynb"
    path.write_text(json.dumps(content))
    return path


def test_each_parameter_has_its_type_default_and_help() -> None:
    assert read_parameters(CELL) == (
        Parameter("night", "str", "", "the night, YYYYMMDD"),
        Parameter("limit", "float", 1.5, "arcsec: seeing above this is poor"),
        Parameter("bins", "int", 12, "histogram bins"),
        Parameter("draft", "bool", False, ""),
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("night = ''", "line 1: expected 'name: type = default  # help'"),
        ("a: int = 1\nb: list = []", "line 2: type 'list' is not allowed; expected one of str, int, float, bool"),
        ("a: int = 'x'", "line 1: default 'x' is not a int"),
        ("a: int = True", "line 1: default True is not a int"),
        ("a: int = len('x')", "line 1: the default must be a literal"),
        ("a: int = (", "parameters cell, line 1:"),
    ],
)
def test_a_parameters_cell_that_cannot_be_read_is_refused_naming_the_line(source: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("(", r"\(").replace("[", r"\[")):
        read_parameters(source)


def test_values_are_the_defaults_overridden_and_typed() -> None:
    parameters = read_parameters(CELL)
    assert check_values(parameters, {"night": "20261119", "bins": "20", "draft": "yes"}) == {
        "night": "20261119",
        "limit": 1.5,
        "bins": 20,
        "draft": True,
    }


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"colour": "red"}, "parameter: 'colour' is not allowed; expected a parameter this template takes (night, "),
        ({"night": "20261119", "bins": "1.5"}, "bins: '1.5' is not allowed; expected a whole number"),
        ({"night": "20261119", "limit": "nan"}, "limit: 'nan' is not allowed; expected a finite number"),
        ({"night": "20261119", "draft": "maybe"}, "draft: 'maybe' is not allowed; expected true or false"),
        ({"night": "2026-11-19"}, "night: '2026-11-19' is not allowed; expected a night as YYYYMMDD"),
        ({"night": "20261131"}, "night: '20261131' is not allowed; expected a night as YYYYMMDD"),
        ({}, "night: '' is not allowed"),
    ],
)
def test_bad_values_are_refused_naming_parameter_and_value(given: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(")):
        check_values(read_parameters(CELL), given)


def test_the_packaged_nightly_template_takes_a_night() -> None:
    nightly = find_template("nightly", None)
    assert nightly.path.parent == PACKAGED and [p.name for p in nightly.parameters] == ["night"]
    assert nightly.title == "Nightly summary" and nightly.version.startswith("2+")


def test_a_deployments_folder_adds_templates_and_may_replace_one(tmp_path: Path) -> None:
    write(tmp_path, "seeing_week", notebook(CELL))
    write(tmp_path, "nightly", notebook(CELL, version="9"))
    write(tmp_path, "Not A Name", notebook(CELL))
    paths = template_paths(tmp_path)
    assert set(paths) == {"nightly", "seeing_week"} and paths["nightly"].parent == tmp_path
    assert find_template("nightly", tmp_path).version.startswith("9+")
    with pytest.raises(NotFoundError, match="no report template 'weekly'; there are: nightly, seeing_week"):
        find_template("weekly", tmp_path)


def test_an_edited_template_has_another_version_and_a_broken_one_is_refused_by_path(tmp_path: Path) -> None:
    before = load_template(write(tmp_path, "t", notebook(CELL))).version
    after = load_template(write(tmp_path, "t", notebook(CELL + "extra: int = 1\n"))).version
    assert before != after and before.split("+")[0] == after.split("+")[0] == "3"
    broken = write(tmp_path, "twice", notebook(CELL, tagged=2))
    with pytest.raises(TemplateError, match=f"report template {broken}: expected one code cell tagged 'parameters'"):
        load_template(broken)
    (tmp_path / "garbled.ipynb").write_text("{not json")
    with pytest.raises(TemplateError, match="garbled.ipynb"):
        load_template(tmp_path / "garbled.ipynb")
