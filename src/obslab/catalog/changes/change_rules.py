"""Sign-off areas, warning thresholds and undo window for change requests, loaded and checked from a TOML file."""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from obslab.catalog.parameter_schema import ParameterSchema, default_parameter_schema
from obslab.catalog.types import RevisionKind
from obslab.errors import ObslabError
from obslab.roles import STANDARD_ROLES

VERIFICATION = "verification"


class ChangeRulesError(ObslabError):
    """The change-rules file is broken; the message names the file, the entry and the problem."""

    code = "invalid_change_rules"


@dataclass(frozen=True)
class Area:
    """A sign-off area: which changes need it, on which instruments, and the role that signs it."""

    key: str
    label: str
    role: str
    position: int
    groups: frozenset[str] = frozenset()
    parameters: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    instruments: frozenset[str] | None = None
    kinds: frozenset[str] = frozenset()

    def needed(self, kind: RevisionKind, changed: set[str], group_of: dict[str, str], instruments: set[str]) -> bool:
        """Whether a revision of ``kind`` changing ``changed`` on ``instruments`` needs this area."""
        if self.instruments is not None and not (instruments & self.instruments):
            return False
        if kind.value in self.kinds:
            return True
        if kind is not RevisionKind.NORMAL:
            return False
        return any(
            name not in self.excluded and (name in self.parameters or group_of.get(name) in self.groups)
            for name in changed
        )


@dataclass(frozen=True)
class Warnings:
    """Thresholds and parameter lists for the warnings shown before a submission is confirmed."""

    large_shift_arcmin: float
    scheduled_within_days: int
    needs_approval: frozenset[str]
    mission_planning: frozenset[str]


@dataclass(frozen=True)
class Recipients:
    """Who hears about a change beyond its submitter and the owners of its pending areas."""

    mission_planning: str | None = None  # gets the scheduling-impact warnings of a submission
    several_observations: str | None = None  # told when one request changes several observations
    chained_types: frozenset[str] = frozenset()  # observation types whose sign-offs are chased area by area (ToO)


@dataclass(frozen=True)
class ChangeRules:
    """Everything configurable about the change-request workflow."""

    submitters: frozenset[str]
    areas: tuple[Area, ...]  # the edit areas, then verification last
    warnings: Warnings
    undo_within_hours: float
    recipients: Recipients = Recipients()

    @property
    def verification(self) -> Area:
        return self.areas[-1]

    @property
    def edit_areas(self) -> tuple[Area, ...]:
        return self.areas[:-1]

    def area(self, key: str) -> Area:
        for area in self.areas:
            if area.key == key:
                return area
        raise KeyError(key)


def load_change_rules(path: str | os.PathLike[str] | None = None, schema: ParameterSchema | None = None) -> ChangeRules:
    """Read and check a change-rules file (the packaged one by default) against the parameter schema.

    Raises
    ------
    ChangeRulesError
        Naming the file and the entry, for unknown keys, roles, groups, parameters, kinds or instruments.
    """
    if path is None:
        text, name = (
            resources.files("obslab.catalog.changes").joinpath("change_rules.toml").read_text(),
            "change_rules.toml",
        )
    else:
        text, name = Path(path).read_text(), str(path)
    try:
        return _build(tomllib.loads(text), schema or default_parameter_schema())
    except tomllib.TOMLDecodeError as error:
        raise ChangeRulesError(f"{name}: not valid TOML: {error}") from None
    except _Broken as error:
        raise ChangeRulesError(f"{name}: {error}") from None


@functools.cache
def default_change_rules() -> ChangeRules:
    """The packaged change rules, read once per process."""
    return load_change_rules()


class _Broken(Exception):
    """A problem found while building; re-raised with the file name by the loader."""


def _keys(entry: Any, where: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise _Broken(f"{where}: expected a table, got {entry!r}")
    if unknown := sorted(set(entry) - allowed):
        raise _Broken(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    if missing := sorted(required - set(entry)):
        raise _Broken(f"{where}: missing required key {missing[0]!r}")
    return entry


def _names(entry: dict[str, Any], key: str, where: str, known: set[str], what: str) -> frozenset[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Broken(f"{where}: {key!r} must be a list of text, got {value!r}")
    if wrong := [item for item in value if item not in known]:
        raise _Broken(f"{where}: {key!r} names unknown {what} {wrong[0]!r}")
    return frozenset(value)


def _role(name: Any, where: str) -> str:
    if name not in STANDARD_ROLES:
        raise _Broken(f"{where}: unknown role {name!r}; allowed: {', '.join(STANDARD_ROLES)}")
    return str(name)


def _build(data: dict[str, Any], schema: ParameterSchema) -> ChangeRules:
    _keys(
        data,
        "top level",
        {"submitters", "area", "verification", "warnings", "undo", "recipients"},
        {"area", "verification", "warnings", "undo"},
    )
    groups = {group.key for group in schema.groups}
    parameters = set(schema.names())
    instruments = set(schema.spec("instrument").choices or ())
    kinds = {kind.value for kind in RevisionKind}
    areas = []
    seen: set[str] = set()
    for position, entry in enumerate(data["area"], start=1):
        where = f"area #{position}" if not isinstance(entry, dict) or "key" not in entry else f"area {entry['key']!r}"
        a = _keys(
            entry,
            where,
            {"key", "label", "role", "groups", "parameters", "except", "instruments", "kinds"},
            {"key", "label", "role"},
        )
        if a["key"] in seen or a["key"] == VERIFICATION:
            raise _Broken(
                f"{where}: duplicate key" if a["key"] in seen else f"{where}: the key {VERIFICATION!r} is reserved"
            )
        seen.add(a["key"])
        areas.append(
            Area(
                a["key"],
                a["label"],
                _role(a["role"], where),
                position,
                _names(a, "groups", where, groups, "group"),
                _names(a, "parameters", where, parameters, "parameter"),
                _names(a, "except", where, parameters, "parameter"),
                _names(a, "instruments", where, instruments, "instrument") if "instruments" in a else None,
                _names(a, "kinds", where, kinds, "kind"),
            )
        )
    v = _keys(data["verification"], "verification", {"label", "role"}, {"label", "role"})
    areas.append(Area(VERIFICATION, v["label"], _role(v["role"], "verification"), len(areas) + 1))
    w = _keys(
        data["warnings"],
        "warnings",
        {"large_shift_arcmin", "scheduled_within_days", "needs_approval", "mission_planning"},
        {"large_shift_arcmin", "scheduled_within_days"},
    )
    for key in ("large_shift_arcmin", "scheduled_within_days"):
        if not isinstance(w[key], int | float) or isinstance(w[key], bool) or w[key] < 0:
            raise _Broken(f"warnings: {key!r} must be a non-negative number, got {w[key]!r}")
    warnings = Warnings(
        float(w["large_shift_arcmin"]),
        int(w["scheduled_within_days"]),
        _names(w, "needs_approval", "warnings", parameters, "parameter"),
        _names(w, "mission_planning", "warnings", parameters, "parameter"),
    )
    u = _keys(data["undo"], "undo", {"within_hours"}, {"within_hours"})
    if not isinstance(u["within_hours"], int | float) or isinstance(u["within_hours"], bool) or u["within_hours"] < 0:
        raise _Broken(f"undo: 'within_hours' must be a non-negative number, got {u['within_hours']!r}")
    submitters = _names(data, "submitters", "top level", set(STANDARD_ROLES), "role")
    r = _keys(
        data.get("recipients", {}), "recipients", {"mission_planning", "several_observations", "chained_types"}, set()
    )
    for key in ("mission_planning", "several_observations"):
        if key in r:
            _role(r[key], f"recipients: {key!r}")
    types = set(schema.spec("type").choices or ()) if schema.group_of("type") else set()
    recipients = Recipients(
        r.get("mission_planning"),
        r.get("several_observations"),
        _names(r, "chained_types", "recipients", types, "observation type"),
    )
    return ChangeRules(submitters, tuple(areas), warnings, float(u["within_hours"]), recipients)
