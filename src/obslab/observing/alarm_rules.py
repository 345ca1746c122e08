"""Alarm rules as data: conditions on a metric's series, scoped and addressed, checked at load (pure).

A rule's condition is one of four kinds, or ``all`` / ``any`` of several; :func:`evaluate` takes the metric's
values in time order (the newest last) and says whether the rule fires and on which values.
"""

from __future__ import annotations

import functools
import os
import statistics
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from obslab.errors import ObslabError

KINDS = ("outside", "mean_outside", "change_above", "inside")
SCOPE = ("instrument", "filter", "camera_mode")


class AlarmRuleError(ObslabError):
    """The alarm rule file is broken; the message names the file, the rule and the problem."""

    code = "invalid_alarm_rules"


@dataclass(frozen=True)
class Condition:
    kind: str  # one of KINDS
    low: float = float("-inf")
    high: float = float("inf")
    last: int = 1
    threshold: float = 0.0  # change_above: the change; inside: fewer_than
    relative: bool = False

    @property
    def needs(self) -> int:
        """How many values (the newest last) the condition looks at."""
        return 2 if self.kind == "change_above" else self.last

    def fires(self, values: list[float]) -> tuple[bool, list[float]]:
        """Whether it fires on ``values`` (time order), and the values it looked at."""
        window = values[-self.needs :]
        if len(window) < self.needs:
            return False, window  # too few values yet: never an alarm from missing history
        if self.kind == "outside":
            return not self.low <= window[-1] <= self.high, window
        if self.kind == "mean_outside":
            return not self.low <= statistics.fmean(window) <= self.high, window
        if self.kind == "change_above":
            previous, value = window
            change = abs(value - previous) / abs(previous) if self.relative and previous else abs(value - previous)
            return change > self.threshold, window
        inside = sum(self.low <= v <= self.high for v in window)
        return inside < self.threshold, window


@dataclass(frozen=True)
class AlarmRule:
    name: str
    metric: str
    notify: tuple[str, ...]
    conditions: tuple[Condition, ...]
    combine: str = "all"  # "all" or "any" of the conditions
    scope: dict[str, str] = field(default_factory=dict)
    message: str = ""

    @property
    def needs(self) -> int:
        return max(c.needs for c in self.conditions)

    def applies(self, facts: dict[str, str]) -> bool:
        """Whether a metric with these facts (instrument, filter, camera_mode) is in the rule's scope."""
        return all(facts.get(key) == value for key, value in self.scope.items())

    def evaluate(self, values: list[float]) -> tuple[bool, list[float]]:
        """Whether the rule fires on ``values`` (time order, newest last), and the values that decided it."""
        results = [c.fires(values) for c in self.conditions]
        fired = all(r[0] for r in results) if self.combine == "all" else any(r[0] for r in results)
        return fired, values[-self.needs :]


@dataclass(frozen=True)
class AlarmRules:
    rules: tuple[AlarmRule, ...]
    source: str

    def for_metric(self, metric: str, facts: dict[str, str]) -> list[AlarmRule]:
        return [rule for rule in self.rules if rule.metric == metric and rule.applies(facts)]


def _range(label: str, key: str, value: Any) -> tuple[float, float]:
    ok = isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) for v in value)
    if not ok or value[0] > value[1]:
        raise AlarmRuleError(f"{label}: {key} = {value!r} is not allowed; expected [low, high] with low <= high")
    return float(value[0]), float(value[1])


def _count(label: str, key: str, value: Any, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise AlarmRuleError(f"{label}: {key} = {value!r} is not allowed; expected a whole number >= {minimum}")
    return value


def _condition(entry: dict[str, Any], label: str) -> Condition:
    kinds = [kind for kind in KINDS if kind in entry]
    if len(kinds) != 1:
        raise AlarmRuleError(f"{label}: expected exactly one of {', '.join(KINDS)} (or all/any of them), got {kinds}")
    kind = kinds[0]
    allowed = {
        kind,
        *{"mean_outside": ["last"], "change_above": ["relative"], "inside": ["last", "fewer_than"]}.get(kind, []),
    }
    unknown = set(entry) - allowed
    if unknown:
        raise AlarmRuleError(f"{label}: {', '.join(sorted(unknown))} not allowed with {kind}")
    if kind == "outside":
        return Condition(kind, *_range(label, kind, entry[kind]))
    if kind == "mean_outside":
        return Condition(kind, *_range(label, kind, entry[kind]), last=_count(label, "last", entry.get("last")))
    if kind == "change_above":
        threshold, relative = entry[kind], entry.get("relative", False)
        if not isinstance(threshold, int | float) or isinstance(threshold, bool) or threshold < 0:
            raise AlarmRuleError(f"{label}: change_above = {threshold!r} is not allowed; expected a number >= 0")
        if not isinstance(relative, bool):
            raise AlarmRuleError(f"{label}: relative = {relative!r} is not allowed; expected true or false")
        return Condition(kind, threshold=float(threshold), relative=relative)
    last = _count(label, "last", entry.get("last"))
    fewer = _count(label, "fewer_than", entry.get("fewer_than"))
    if fewer > last:
        raise AlarmRuleError(f"{label}: fewer_than = {fewer} is more than last = {last}; it would always fire")
    return Condition(kind, *_range(label, kind, entry[kind]), last=last, threshold=float(fewer))


def _rule(entry: Any, label: str) -> AlarmRule:
    if not isinstance(entry, dict):
        raise AlarmRuleError(f"{label}: expected a table")
    for key in ("name", "metric"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise AlarmRuleError(f"{label}: {key} is required and must be text")
    label = f"{label} ({entry['name']})"
    notify = entry.get("notify")
    if not isinstance(notify, list) or not notify or not all(isinstance(n, str) and n for n in notify):
        raise AlarmRuleError(f"{label}: notify = {notify!r} is not allowed; expected a list of roles or user names")
    scope = {key: entry[key] for key in SCOPE if key in entry}
    if not all(isinstance(v, str) for v in scope.values()):
        raise AlarmRuleError(f"{label}: {', '.join(SCOPE)} must be text")
    message = entry.get("message", "")
    combined = [key for key in ("all", "any") if key in entry]
    fixed = {"name", "metric", "notify", "message", *SCOPE}
    if combined:
        if len(combined) > 1 or set(entry) - fixed - set(combined):
            raise AlarmRuleError(f"{label}: give all or any, and no condition beside it")
        parts = entry[combined[0]]
        if not isinstance(parts, list) or not parts or not all(isinstance(p, dict) for p in parts):
            raise AlarmRuleError(f"{label}: {combined[0]} must be a list of conditions")
        conditions = tuple(_condition(p, f"{label} {combined[0]}[{i}]") for i, p in enumerate(parts))
        combine = combined[0]
    else:
        conditions, combine = (_condition({k: v for k, v in entry.items() if k not in fixed}, label),), "all"
    return AlarmRule(entry["name"], entry["metric"], tuple(notify), conditions, combine, scope, str(message))


def load_alarm_rules(path: str | os.PathLike[str] | None = None) -> AlarmRules:
    """The rules in ``path`` (or the packaged ones), every entry checked; AlarmRuleError names what is wrong."""
    where = str(path) if path is not None else "the packaged alarm_rules.toml"
    try:
        text = (
            Path(path).read_text()
            if path is not None
            else (resources.files("obslab.observing").joinpath("alarm_rules.toml").read_text())
        )
        document = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise AlarmRuleError(f"{where}: cannot be read: {error}") from None
    unknown = set(document) - {"rule"}
    if unknown:
        raise AlarmRuleError(f"{where}: unknown table(s) {', '.join(sorted(unknown))}; expected [[rule]] entries")
    rules = tuple(_rule(entry, f"{where}: rule {i + 1}") for i, entry in enumerate(document.get("rule", [])))
    names = [rule.name for rule in rules]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise AlarmRuleError(f"{where}: the rule name(s) {', '.join(twice)} are used twice")
    return AlarmRules(rules, where)


@functools.cache
def default_alarm_rules() -> AlarmRules:
    return load_alarm_rules()
