"""Check a requested change: errors that block it, naming parameter, value and what is allowed; warnings that inform."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from obslab.astro import angular_separation_deg
from obslab.catalog.changes.change_rules import ChangeRules
from obslab.catalog.parameter_schema import ParameterGroup, ParameterSchema
from obslab.catalog.values import CoercionError, coerce, family_of, is_empty, same_value

#: The most rows a ranked table (time, roll, spatial windows) may have (Ocat: 10).
MAX_RANK = 10
#: (name, rank) -> value; rank 0 for scalars, 1.. for the rows of ranked tables.
Values = dict[tuple[str, int], Any]


@dataclass(frozen=True)
class Problem:
    """One finding; ``code`` is stable for scripts, ``message`` names the parameter, the value and what is allowed."""

    code: str
    parameter: str
    rank: int
    value: Any
    message: str
    allowed: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "parameter": self.parameter,
            "rank": self.rank,
            "value": self.value,
            "message": self.message,
            "allowed": self.allowed,
        }


@dataclass(frozen=True)
class Change:
    """One parameter whose requested value differs from the original."""

    name: str
    rank: int
    original: Any
    requested: Any


@dataclass(frozen=True)
class ChangeCheck:
    """The outcome of checking edits against an observation's current values."""

    original: Values
    requested: Values
    changes: tuple[Change, ...]
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    nullified: tuple[str, ...] = ()  # groups emptied by an instrument-family switch
    notes: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed_names(self) -> set[str]:
        return {change.name for change in self.changes}


@dataclass(frozen=True)
class Schedule:
    """What the warnings need to know about an observation beyond its parameters."""

    scheduled_at: datetime | None = None
    on_active_list: bool = False


def label(name: str, rank: int) -> str:
    return f"{name}[{rank}]" if rank else name


def check_change(
    schema: ParameterSchema,
    rules: ChangeRules,
    original: Mapping[tuple[str, int], Any],
    edits: Iterable[tuple[str, int, Any]],
    *,
    schedule: Schedule = Schedule(),
    now: datetime | None = None,
) -> ChangeCheck:
    """Apply ``edits`` ((name, rank, raw value); an empty value clears) to ``original`` and check the result.

    Errors name the parameter, the value and what is allowed: unknown or read-only parameter, a rank out of
    place, a value of the wrong type, not a choice, out of range; and broken consistency rules (all-or-none,
    conditions, exactly one, start before stop) that the original values did not already break.  Rules the
    original already broke are reported as warnings, so an old inconsistency never blocks an unrelated fix.
    """
    original = dict(original)
    requested = dict(original)
    errors: list[Problem] = []
    touched_groups: set[str] = set()
    for name, rank, raw in edits:
        spec_group = schema.group_of(name)
        where = label(name, rank)
        if spec_group is None:
            errors.append(
                Problem(
                    "unknown_parameter", name, rank, raw, f"{name!r}: no such parameter", "a parameter of the schema"
                )
            )
            continue
        spec = schema.spec(name)
        if not spec.editable:
            errors.append(
                Problem(
                    "not_editable", name, rank, raw, f"{where} ({spec.label}) is display-only and cannot be changed"
                )
            )
            continue
        if spec_group.ranked and not 1 <= rank <= MAX_RANK or not spec_group.ranked and rank != 0:
            allowed = f"1 to {MAX_RANK}" if spec_group.ranked else "0 (a single value)"
            errors.append(
                Problem("rank", name, rank, raw, f"{name}: rank {rank} is not allowed; expected {allowed}", allowed)
            )
            continue
        try:
            value = coerce(spec, raw)
        except CoercionError as error:
            errors.append(
                Problem(
                    "type" if spec.choices is None else "choice",
                    name,
                    rank,
                    raw,
                    f"{where} ({spec.label}): {raw!r} is not allowed; expected {error.allowed}",
                    error.allowed,
                )
            )
            continue
        if value is not None and isinstance(value, int | float) and not _within(value, spec.minimum, spec.maximum):
            allowed = _range_text(spec.minimum, spec.maximum, spec.unit)
            errors.append(
                Problem(
                    "range",
                    name,
                    rank,
                    raw,
                    f"{where} ({spec.label}): {raw!r} is out of range; expected {allowed}",
                    allowed,
                )
            )
            continue
        if value is None:
            requested.pop((name, rank), None)
        else:
            requested[name, rank] = value
        touched_groups.add(spec_group.key)

    nullified = _switch_family(schema, original, requested)
    for group in schema.groups:
        if group.ranked and group.key in touched_groups:
            _compact(group, requested)
    order = {name: index for index, name in enumerate(schema.names())}
    changes = tuple(
        Change(name, rank, original.get((name, rank)), requested.get((name, rank)))
        for name, rank in sorted(set(original) | set(requested), key=lambda key: (order.get(key[0], len(order)), key))
        if not same_value(original.get((name, rank)), requested.get((name, rank)))
    )
    before = {(p.code, p.parameter, p.rank) for p in rule_problems(schema, original)}
    seen_messages = {problem.message for problem in errors}
    warnings: list[Problem] = []
    for problem in rule_problems(schema, requested):
        if (problem.code, problem.parameter, problem.rank) in before:
            warnings.append(
                Problem(
                    "already_inconsistent",
                    problem.parameter,
                    problem.rank,
                    problem.value,
                    problem.message + " (already so before this change)",
                    problem.allowed,
                )
            )
        elif problem.message not in seen_messages:  # two rules may ask the same thing (all-or-none and a condition)
            seen_messages.add(problem.message)
            errors.append(problem)
    check = ChangeCheck(original, requested, changes, tuple(errors), (), tuple(nullified))
    more, notes = change_warnings(schema, rules, check, schedule, now)
    return ChangeCheck(original, requested, changes, tuple(errors), tuple(warnings + more), tuple(nullified), notes)


def _within(value: float, minimum: float | None, maximum: float | None) -> bool:
    return (minimum is None or value >= minimum) and (maximum is None or value <= maximum)


def _range_text(minimum: float | None, maximum: float | None, unit: str | None) -> str:
    unit_text = f" {unit}" if unit else ""
    if minimum is not None and maximum is not None:
        return f"{minimum:g} to {maximum:g}{unit_text}"
    return f"at least {minimum:g}{unit_text}" if minimum is not None else f"at most {maximum:g}{unit_text}"


def _switch_family(schema: ParameterSchema, original: Values, requested: Values) -> list[str]:
    """Empty the old family's groups when the instrument moves to another family (ACIS <-> HRC)."""
    families = {group.family for group in schema.groups if group.family}
    old = family_of(original.get(("instrument", 0)), families)
    new = family_of(requested.get(("instrument", 0)), families)
    if old is None or old == new:
        return []
    emptied = [group for group in schema.groups if group.family == old]
    names = {spec.name for group in emptied for spec in group.parameters}
    for key in [key for key in requested if key[0] in names]:
        del requested[key]
    return [group.key for group in emptied]


def _compact(group: ParameterGroup, values: Values) -> None:
    """Drop rows of a ranked table that hold no value, renumber the rest 1.., and set the table's flag."""
    names = {spec.name for spec in group.parameters}
    rows: dict[int, dict[str, Any]] = {}
    for (name, rank), value in list(values.items()):
        if name in names:
            del values[name, rank]
            if not is_empty(value):
                rows.setdefault(rank, {})[name] = value
    for new_rank, old_rank in enumerate(sorted(rows), start=1):
        for name, value in rows[old_rank].items():
            values[name, new_rank] = value
    if group.flag:
        values[group.flag, 0] = "Y" if rows else "N"


def rule_problems(schema: ParameterSchema, values: Mapping[tuple[str, int], Any]) -> list[Problem]:
    """Every consistency rule ``values`` break, each naming the parameter that needs a value or another value."""
    families = {group.family for group in schema.groups if group.family}
    family = family_of(values.get(("instrument", 0)), families)

    def applies(names: Iterable[str]) -> bool:
        # A rule about one family's parameters (frame time, SI mode...) only holds for that family's instruments.
        owners = {group.family for name in names if (group := schema.group_of(name)) is not None and group.family}
        return not owners or owners == {family}

    ranks_of: dict[str, set[int]] = {}
    for name, rank in values:
        ranks_of.setdefault(name, set()).add(rank)

    def ranks(names: Iterable[str], per_rank: bool) -> list[int]:
        return sorted(set().union(*(ranks_of.get(name, set()) for name in names))) if per_rank else [0]

    def has(name: str, rank: int) -> bool:
        return not is_empty(values.get((name, rank)))

    problems: list[Problem] = []
    # An all-or-none rule is a condition that any value of its lead triggers: one loop checks both.
    triggered = [
        *(("all_or_none", r.lead, None, r.rest, r.per_rank) for r in schema.all_or_none),
        *(("condition", c.parameter, c.values, c.require, c.per_rank) for c in schema.conditions),
    ]
    for code, lead, trigger_values, require, per_rank in triggered:
        if not applies((lead, *require)):
            continue
        for rank in ranks((lead,), per_rank):
            trigger = values.get((lead, rank))
            if is_empty(trigger) or (trigger_values is not None and trigger not in trigger_values):
                continue
            for name in require:
                if not has(name, rank):
                    problems.append(
                        Problem(
                            code,
                            name,
                            rank,
                            values.get((name, rank)),
                            f"{label(name, rank)} needs a value because {label(lead, rank)} is {trigger!r}",
                            "a value",
                        )
                    )
    for exactly in schema.exactly_one:
        if not applies(exactly.names):
            continue
        for rank in ranks(exactly.names, exactly.per_rank):
            present = [name for name in exactly.names if has(name, rank)]
            if len(present) != 1:
                shown = ", ".join(f"{label(name, rank)}={values.get((name, rank))!r}" for name in exactly.names)
                problems.append(
                    Problem(
                        "exactly_one",
                        exactly.names[0],
                        rank,
                        values.get((exactly.names[0], rank)),
                        f"exactly one of {' / '.join(exactly.names)} must have a value; now {shown}",
                        "exactly one value",
                    )
                )
    for order in schema.before:
        if not applies((order.first, order.second)):
            continue
        for rank in ranks((order.first, order.second), order.per_rank):
            first, second = values.get((order.first, rank)), values.get((order.second, rank))
            if not is_empty(first) and not is_empty(second) and not first < second:
                problems.append(
                    Problem(
                        "order",
                        order.second,
                        rank,
                        second,
                        f"{label(order.second, rank)} {second!r} must be after {label(order.first, rank)} {first!r}",
                        f"a value after {first!r}",
                    )
                )
    return problems


def change_warnings(
    schema: ParameterSchema, rules: ChangeRules, check: ChangeCheck, schedule: Schedule, now: datetime | None
) -> tuple[list[Problem], dict[str, bool]]:
    """Warnings that inform but never block, and the revision's note flags (badges, mail rules)."""
    w = rules.warnings
    changed = {change.name: change for change in check.changes}
    warnings: list[Problem] = []
    shift = 0.0
    if "ra" in changed or "dec" in changed:
        before = [check.original.get((axis, 0)) for axis in ("ra", "dec")]
        after = [check.requested.get((axis, 0)) for axis in ("ra", "dec")]
        if None not in before and None not in after:
            shift = angular_separation_deg(*before, *after) * 60
        if shift > w.large_shift_arcmin:
            warnings.append(
                Problem(
                    "large_shift",
                    "ra" if "ra" in changed else "dec",
                    0,
                    after,
                    f"the pointing moves {shift:.2f} arcmin (more than {w.large_shift_arcmin:g}): needs approval",
                )
            )
    for name in sorted(w.needs_approval & changed.keys()):
        c = changed[name]
        warnings.append(
            Problem(
                "needs_approval",
                name,
                c.rank,
                c.requested,
                f"{name} changes from {c.original!r} to {c.requested!r}: needs approval",
            )
        )
    for group in check.nullified:
        warnings.append(
            Problem(
                "nullified",
                "instrument",
                0,
                check.requested.get(("instrument", 0)),
                f"the instrument changes family, so every parameter of group {group!r} was emptied",
            )
        )
    for name in sorted(w.mission_planning & changed.keys()):
        warnings.append(
            Problem(
                "mission_planning", name, 0, changed[name].requested, f"{name} changes: mission planning will be told"
            )
        )
    soon = (
        schedule.scheduled_at is not None
        and now is not None
        and timedelta(0) <= schedule.scheduled_at - now < timedelta(days=w.scheduled_within_days)
    )
    if soon:
        warnings.append(
            Problem(
                "scheduled_soon",
                "soe_st_sched_date",
                0,
                schedule.scheduled_at.isoformat(),
                f"scheduled for {schedule.scheduled_at:%Y-%m-%d %H:%M} UTC, within {w.scheduled_within_days} days: "
                "mission planning must agree",
            )
        )
    if schedule.on_active_list:
        warnings.append(
            Problem("on_active_list", "status", 0, True, "on the active observing list: mission planning must agree")
        )
    notes = {
        "large_coordinate_change": shift > w.large_shift_arcmin,
        "target_name_change": "targname" in changed,
        "instrument_change": "instrument" in changed,
        "grating_change": "grating" in changed,
        "comment_change": "comments" in changed,
        "flag_change": any(schema.spec(name).type == "flag" for name in w.needs_approval & changed.keys()),
        "obsdate_under10": soon,
        "on_or_list": schedule.on_active_list,
    }
    return warnings, notes
