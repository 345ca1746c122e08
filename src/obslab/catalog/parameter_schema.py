"""The observation parameter schema (groups, specs, consistency rules), loaded and checked from a TOML data file."""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from obslab.errors import NotFoundError, ObslabError

TYPES = ("string", "float", "int", "flag", "choice", "datetime")
#: The choices a loaded ``flag`` spec carries, so forms and checks treat flags like any pick-list.
FLAG_CHOICES = ("Y", "N")
#: Key of the trailing group that collects stored parameters the schema does not describe.
OTHER_GROUP = "other"

_NUMBER = ((int, float), "a number")
_TEXT = ((str,), "text")
_LIST = ((list,), "a list")
_BOOL = ((bool,), "true or false")
_TOP_KEYS = {
    "group": ((list,), "an array of tables"),
    "all_or_none": _LIST,
    "condition": ((list,), "an array of tables"),
    "exactly_one": _LIST,
    "before": _LIST,
}
_GROUP_KEYS = {"key": _TEXT, "label": _TEXT, "parameters": _LIST, "ranked": _BOOL, "flag": _TEXT, "family": _TEXT}
_PARAMETER_KEYS = {
    "name": _TEXT,
    "label": _TEXT,
    "type": _TEXT,
    "unit": _TEXT,
    "choices": _LIST,
    "minimum": _NUMBER,
    "maximum": _NUMBER,
    "editable": _BOOL,
}
_CONDITION_KEYS = {"if": _TEXT, "in": _LIST, "require": _LIST}


class ParameterSchemaError(ObslabError):
    """The parameter schema file is broken; the message names the file, the entry and the problem."""

    code = "invalid_parameter_schema"


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter: its label, group, value type, unit, allowed values and bounds, and whether people edit it."""

    name: str
    label: str
    group: str
    type: str
    unit: str | None = None
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    editable: bool = True


@dataclass(frozen=True)
class ParameterGroup:
    """A display section; a ranked group is a table with one row per rank, switched on by ``flag``."""

    key: str
    label: str
    parameters: tuple[ParameterSpec, ...]
    ranked: bool = False
    flag: str | None = None
    family: str | None = None


@dataclass(frozen=True)
class AllOrNone:
    """When ``lead`` has a value, every parameter in ``rest`` needs one too (rank by rank when ``per_rank``)."""

    lead: str
    rest: tuple[str, ...]
    per_rank: bool = False


@dataclass(frozen=True)
class Condition:
    """When ``parameter`` has one of ``values`` (any value if None), every parameter in ``require`` needs one."""

    parameter: str
    values: tuple[str, ...] | None
    require: tuple[str, ...]
    per_rank: bool = False


@dataclass(frozen=True)
class ExactlyOne:
    """Exactly one of ``names`` has a value (rank by rank when ``per_rank``)."""

    names: tuple[str, ...]
    per_rank: bool = False


@dataclass(frozen=True)
class Before:
    """When both have a value, ``first`` is less than ``second`` (rank by rank when ``per_rank``)."""

    first: str
    second: str
    per_rank: bool = False


@dataclass(frozen=True)
class ParameterSchema:
    """Every known parameter, grouped in display order, with the rules that relate them."""

    groups: tuple[ParameterGroup, ...]
    all_or_none: tuple[AllOrNone, ...] = ()
    conditions: tuple[Condition, ...] = ()
    exactly_one: tuple[ExactlyOne, ...] = ()
    before: tuple[Before, ...] = ()

    @functools.cached_property
    def _index(self) -> dict[str, tuple[ParameterSpec, ParameterGroup]]:
        return {spec.name: (spec, group) for group in self.groups for spec in group.parameters}

    def spec(self, name: str) -> ParameterSpec:
        """Return the spec of parameter ``name``.

        Raises
        ------
        NotFoundError
            When the schema does not describe ``name``.
        """
        if name not in self._index:
            raise NotFoundError(f"unknown parameter {name!r}", name=name)
        return self._index[name][0]

    def group_of(self, name: str) -> ParameterGroup | None:
        """Return the group holding parameter ``name``, or None when the schema does not describe it."""
        found = self._index.get(name)
        return found[1] if found else None

    def names(self) -> list[str]:
        """Return every parameter name in display order."""
        return list(self._index)

    def _placed(self, name: str, rank: int) -> bool:
        group = self.group_of(name)
        return group is not None and group.ranked == (rank >= 1)

    def group_rows(self, values: Mapping[tuple[str, int], object]) -> list[tuple[ParameterGroup, list[dict[str, Any]]]]:
        """Arrange an observation's stored values as display rows, group by group in schema order.

        Parameters
        ----------
        values
            ``(name, rank) -> value``: rank 0 for scalars, 1.. for the rows of a ranked table.

        Returns
        -------
        list of (group, rows)
            Every schema group: a scalar group has a row ``{"name", "label", "value", "unit"}`` per parameter
            (value None when not stored), a ranked group a row ``{"rank": r, <name>: value, ...}`` per stored
            rank.  Values the schema does not place (unknown names, a name at the wrong kind of rank) follow
            in a group keyed "other", rows ``{"name", "label", "value", "unit", "rank"}``: nothing is hidden.
        """
        result: list[tuple[ParameterGroup, list[dict[str, Any]]]] = []
        for group in self.groups:
            if group.ranked:
                ranks = sorted({rank for name, rank in values if rank >= 1 and self.group_of(name) is group})
                rows = [
                    {"rank": rank} | {spec.name: values.get((spec.name, rank)) for spec in group.parameters}
                    for rank in ranks
                ]
            else:
                rows = [
                    {"name": spec.name, "label": spec.label, "value": values.get((spec.name, 0)), "unit": spec.unit}
                    for spec in group.parameters
                ]
            result.append((group, rows))
        unplaced = sorted((name, rank) for name, rank in values if not self._placed(name, rank))
        if unplaced:
            names = dict.fromkeys(name for name, _ in unplaced)
            specs = tuple(ParameterSpec(name, name, OTHER_GROUP, "string", editable=False) for name in names)
            rows = [
                {"name": name, "label": name, "value": values[name, rank], "unit": None, "rank": rank}
                for name, rank in unplaced
            ]
            result.append((ParameterGroup(OTHER_GROUP, "Other parameters", specs), rows))
        return result


def load_parameter_schema(path: str | os.PathLike[str] | None = None) -> ParameterSchema:
    """Read and check a parameter schema file.

    Parameters
    ----------
    path
        A TOML file in the format described at the top of the packaged ``parameter_schema.toml``; None reads that file.

    Raises
    ------
    ParameterSchemaError
        When the file is not valid TOML or breaks the format; the message names the entry and the problem.
    """
    if path is None:
        source = "obslab/catalog/parameter_schema.toml"
        text = resources.files("obslab.catalog").joinpath("parameter_schema.toml").read_text(encoding="utf-8")
    else:
        source, text = os.fspath(path), Path(path).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message carries the line and column
        raise ParameterSchemaError(f"{source}: invalid TOML: {exc}", source=source) from exc
    try:
        return _build(data)
    except _Broken as exc:
        raise ParameterSchemaError(f"{source}: {exc}", source=source) from None


@functools.cache
def default_parameter_schema() -> ParameterSchema:
    """Return the packaged parameter schema, read once per process."""
    return load_parameter_schema()


class _Broken(Exception):
    """A problem found while building; re-raised with the file name by the loader."""


def _table(
    entry: object, where: str, keys: dict[str, tuple[tuple[type, ...], str]], required: tuple[str, ...]
) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise _Broken(f"{where}: expected a table, got {entry!r}")
    for key, value in entry.items():
        if key not in keys:
            raise _Broken(f"{where}: unknown key {key!r}; allowed: {', '.join(keys)}")
        types, described = keys[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):  # TOML true is a Python int
            raise _Broken(f"{where}: {key!r} must be {described}, got {value!r}")
    for key in required:
        if key not in entry:
            raise _Broken(f"{where}: missing required key {key!r}")
    return entry


def _strings(value: object, where: str, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise _Broken(f"{where}: {what} must be a non-empty list of text, got {value!r}")
    return tuple(value)


def _parameter(entry: object, where: str, group: str) -> ParameterSpec:
    p = _table(entry, where, _PARAMETER_KEYS, ("name", "label", "type"))
    kind, minimum, maximum = p["type"], p.get("minimum"), p.get("maximum")
    if kind not in TYPES:
        raise _Broken(f"{where}: unknown type {kind!r}; allowed: {', '.join(TYPES)}")
    choices = _strings(p["choices"], where, "choices") if "choices" in p else None
    if (choices is None) == (kind == "choice"):
        raise _Broken(
            f"{where}: choices given for type {kind!r}; only type 'choice' takes choices"
            if choices
            else f"{where}: type 'choice' needs a 'choices' list"
        )
    if (minimum is not None or maximum is not None) and kind not in ("int", "float"):
        raise _Broken(f"{where}: minimum/maximum given for type {kind!r}; only int and float take bounds")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise _Broken(f"{where}: minimum {minimum} is greater than maximum {maximum}")
    bounds = (None if bound is None else float(bound) for bound in (minimum, maximum))
    return ParameterSpec(
        p["name"],
        p["label"],
        group,
        kind,
        p.get("unit"),
        FLAG_CHOICES if kind == "flag" else choices,
        *bounds,
        editable=p.get("editable", True),
    )


def _group(entry: object, where: str, seen: dict[str, str], keys: set[str]) -> ParameterGroup:
    g = _table(entry, where, _GROUP_KEYS, ("key", "label", "parameters"))
    where = f"group {g['key']!r}"
    if g["key"] in keys or g["key"] == OTHER_GROUP:
        raise _Broken(
            f"{where}: duplicate group key" if g["key"] in keys else f"{where}: the key {OTHER_GROUP!r} is reserved"
        )
    keys.add(g["key"])
    if "flag" in g and not g.get("ranked", False):
        raise _Broken(f"{where}: only a ranked group has a flag")
    if not g["parameters"]:
        raise _Broken(f"{where}: no parameters")
    specs = []
    for number, item in enumerate(g["parameters"], start=1):
        named = isinstance(item, dict) and isinstance(item.get("name"), str)
        spec = _parameter(
            item, f"parameter {item['name']!r} in {where}" if named else f"parameter #{number} in {where}", g["key"]
        )
        if spec.name in seen:
            raise _Broken(f"parameter {spec.name!r} in {where}: duplicate name; already in group {seen[spec.name]!r}")
        seen[spec.name] = g["key"]
        specs.append(spec)
    return ParameterGroup(g["key"], g["label"], tuple(specs), g.get("ranked", False), g.get("flag"), g.get("family"))


def _per_rank(names: tuple[str, ...], where: str, schema: ParameterSchema) -> bool:
    tables = set()
    for name in names:
        group = schema.group_of(name)
        if group is None:
            raise _Broken(f"{where}: unknown parameter {name!r}")
        tables.add(group.key if group.ranked else None)
    if len(tables) > 1:
        raise _Broken(
            f"{where}: mixes parameters of different tables; a rule stays within one ranked table or among scalars"
        )
    return tables != {None}


def _build(data: dict[str, Any]) -> ParameterSchema:
    _table(data, "top level", _TOP_KEYS, ("group",))
    seen: dict[str, str] = {}  # parameter name -> group key, to name the first definition of a duplicate
    keys: set[str] = set()
    groups = tuple(_group(entry, f"group #{number}", seen, keys) for number, entry in enumerate(data["group"], start=1))
    schema = ParameterSchema(groups)
    for group in (group for group in groups if group.flag):
        owner = schema.group_of(group.flag)
        if owner is None or owner.ranked or schema.spec(group.flag).type != "flag":
            raise _Broken(f"group {group.key!r}: flag {group.flag!r} is not a known scalar parameter of type 'flag'")
    rules = []
    for number, entry in enumerate(data.get("all_or_none", []), start=1):
        names = _strings(entry, f"all_or_none entry {number}", "an entry")
        where = f"all_or_none entry {number} (lead {names[0]!r})"
        if len(names) < 2:
            raise _Broken(f"{where}: needs a lead and at least one other parameter")
        rules.append(AllOrNone(names[0], names[1:], _per_rank(names, where, schema)))
    conditions = []
    for number, entry in enumerate(data.get("condition", []), start=1):
        c = _table(entry, f"condition {number}", _CONDITION_KEYS, ("if", "require"))
        where = f"condition {number} (if {c['if']!r})"
        values = _strings(c["in"], where, "'in'") if "in" in c else None
        require = _strings(c["require"], where, "'require'")
        per_rank = _per_rank((c["if"], *require), where, schema)
        allowed = schema.spec(c["if"]).choices
        if allowed and (wrong := [value for value in values or () if value not in allowed]):
            raise _Broken(f"{where}: {wrong[0]!r} is not a choice of {c['if']!r}; allowed: {', '.join(allowed)}")
        conditions.append(Condition(c["if"], values, require, per_rank))
    exactly_one = []
    for number, entry in enumerate(data.get("exactly_one", []), start=1):
        names = _strings(entry, f"exactly_one entry {number}", "an entry")
        where = f"exactly_one entry {number} ({', '.join(map(repr, names))})"
        if len(names) < 2:
            raise _Broken(f"{where}: needs at least two parameters")
        exactly_one.append(ExactlyOne(names, _per_rank(names, where, schema)))
    before = []
    for number, entry in enumerate(data.get("before", []), start=1):
        names = _strings(entry, f"before entry {number}", "an entry")
        where = f"before entry {number} ({', '.join(map(repr, names))})"
        if len(names) != 2:
            raise _Broken(f"{where}: needs exactly two parameters, the earlier and the later")
        per_rank = _per_rank(names, where, schema)
        if {schema.spec(name).type for name in names} - {"int", "float", "datetime"}:
            raise _Broken(f"{where}: only int, float and datetime parameters can be ordered")
        before.append(Before(names[0], names[1], per_rank))
    return ParameterSchema(groups, tuple(rules), tuple(conditions), tuple(exactly_one), tuple(before))
