"""Alert policies as data: which alerts become requests, with what priority and constraints; checked entry by entry."""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from obslab.errors import ObslabError
from obslab.scheduling.notices import Notice
from obslab.scheduling.types import TwilightLevel


class AlertPolicyError(ObslabError):
    """The alert policy file is broken; the message names the file, the entry and the problem."""

    code = "invalid_alert_policies"


@dataclass(frozen=True)
class AlertPolicy:
    """One rule: which notices it matches (by VOEvent stream or Kafka topic), the tests they must pass, and
    the request an accepted one becomes (one pointing, or the best tiles of its sky map)."""

    name: str
    stream: str | None = None  # a VOEvent's IVORN starts with this
    topic: str | None = None  # the notice's Kafka topic starts with this
    ivorn_contains: str | None = None
    accept: bool = True
    max_error_deg: float | None = None
    max_age_hours: float | None = None
    min_importance: float | None = None
    tense: tuple[str, ...] | None = None
    significant: bool | None = None
    max_far_hz: float | None = None
    classification: tuple[str, ...] | None = None
    min_class_probability: float = 0.5
    max_area90_deg2: float | None = None
    min_observable_probability: float | None = None
    priority: float = 1.0
    duration_s: float = 600.0
    overhead_s: float = 0.0
    twilight: TwilightLevel = TwilightLevel.ASTRONOMICAL
    max_airmass: float | None = None
    min_altitude_deg: float | None = None
    min_moon_separation_deg: float | None = None
    window_hours: float = 24.0
    fov_deg: float | None = None  # a sky map's tiles; None: the telescope's field (the setting)
    budget_s: float = 3600.0  # a sky map's tiles together take at most this much of the night

    def matches(self, notice: Notice) -> bool:
        if self.stream is not None:
            if not (notice.ivorn or "").startswith(self.stream):
                return False
        elif not _topic_of(notice).startswith(self.topic or ""):
            return False
        return self.ivorn_contains is None or self.ivorn_contains in (notice.ivorn or "")

    def refusal(self, notice: Notice, at: datetime, *, area90_deg2: float | None = None) -> str:
        """Why a matching notice is not observed under this policy, or "" when it passes every test.

        The probability observable tonight is tested by the caller, which computes it only when asked.
        """
        if not self.accept:
            return "alerts of this kind are not observed"
        facts = notice.significance
        checks = (
            self._error_refusal(notice),
            self._age_refusal(notice, at),
            _under("importance", facts.get("importance"), self.min_importance),
            _over("false-alarm rate", facts.get("far_hz"), self.max_far_hz, " Hz"),
            _over("90% area", area90_deg2, self.max_area90_deg2, " deg^2"),
            self._tense_refusal(facts.get("tense")),
            self._significant_refusal(facts.get("significant")),
            self._class_refusal(facts.get("classification")),
        )
        return next((check for check in checks if check), "")

    def _error_refusal(self, notice: Notice) -> str:
        if self.max_error_deg is None:
            return ""
        error = notice.error_radius_deg
        if error is None or error > self.max_error_deg:
            return f"error radius {error} deg is over {self.max_error_deg:g} deg"
        return ""

    def _age_refusal(self, notice: Notice, at: datetime) -> str:
        if self.max_age_hours is None or notice.trigger_time is None:
            return ""
        age = (at - notice.trigger_time).total_seconds() / 3600
        if age > self.max_age_hours:
            return f"the event is {age:.1f} h old; this policy observes events up to {self.max_age_hours:g} h old"
        return ""

    def _tense_refusal(self, tense: Any) -> str:
        if self.tense is not None and tense not in self.tense:
            return f"alert tense {tense} is not one of {', '.join(self.tense)}"
        return ""

    def _significant_refusal(self, significant: Any) -> str:
        if self.significant is not None and significant is not self.significant:
            return f"significant is {significant}; this policy needs {str(self.significant).lower()}"
        return ""

    def _class_refusal(self, classification: Any) -> str:
        if self.classification is None:
            return ""
        if not isinstance(classification, dict):
            return f"no classification; this policy needs {' or '.join(self.classification)}"
        held = sum(float(classification.get(name) or 0.0) for name in self.classification)
        if held < self.min_class_probability:
            return (
                f"classification {' + '.join(self.classification)} = {held:.2f} is under {self.min_class_probability:g}"
            )
        return ""


def _topic_of(notice: Notice) -> str:
    """The Kafka topic a notice came on, or would have (`read_notice` tells it for a file); else its source."""
    return str(notice.details.get("topic") or notice.source)


def _under(what: str, value: Any, least: float | None) -> str:
    if least is not None and (value if isinstance(value, int | float) else 0.0) < least:
        return f"{what} {value} is under {least:g}"
    return ""


def _over(what: str, value: Any, most: float | None, unit: str = "") -> str:
    if most is not None and (not isinstance(value, int | float) or value > most):
        return f"{what} {value if value is None else f'{value:.3g}'}{unit} is over {most:g}{unit}"
    return ""


@dataclass(frozen=True)
class AlertPolicies:
    """The policies in order (first match decides) and the cross-instrument matching rule."""

    policies: tuple[AlertPolicy, ...]
    match_within_s: float = 600.0
    match_min_radius_deg: float = 0.1

    def first_match(self, notice: Notice) -> AlertPolicy | None:
        return next((policy for policy in self.policies if policy.matches(notice)), None)


_NUMBERS = {
    "max_error_deg",
    "max_age_hours",
    "min_importance",
    "priority",
    "duration_s",
    "overhead_s",
    "max_airmass",
    "min_altitude_deg",
    "min_moon_separation_deg",
    "window_hours",
    "max_far_hz",
    "min_class_probability",
    "max_area90_deg2",
    "min_observable_probability",
    "fov_deg",
    "budget_s",
}
_TEXTS = {"name", "stream", "topic", "ivorn_contains", "twilight"}
_FLAGS = {"accept", "significant"}
_LISTS = {"tense", "classification"}
_POSITIVE = {"duration_s", "window_hours", "max_error_deg", "max_age_hours", "fov_deg", "budget_s", "max_area90_deg2"}
_FRACTIONS = {"min_class_probability", "min_observable_probability"}


def load_alert_policies(path: str | os.PathLike[str] | None = None) -> AlertPolicies:
    """Read and check a policy file (the packaged one by default); a broken entry is refused by name."""
    where = str(path) if path is not None else "alert_policies.toml (packaged)"
    try:
        text = (
            Path(path).read_text()
            if path is not None
            else resources.files("obslab.scheduling").joinpath("alert_policies.toml").read_text()
        )
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise AlertPolicyError(f"{where}: cannot be read: {error}") from None
    unknown = set(data) - {"policy", "matching"}
    if unknown:
        raise AlertPolicyError(
            f"{where}: unknown top-level key(s) {', '.join(sorted(unknown))}; expected policy, matching"
        )
    policies = []
    seen = set()
    for index, entry in enumerate(data.get("policy", []), start=1):
        label = f"{where}: policy {index} ({entry.get('name', '?') if isinstance(entry, dict) else '?'})"
        policy = _policy(entry, label)
        if policy.name in seen:
            raise AlertPolicyError(f"{label}: the name {policy.name!r} is used twice")
        seen.add(policy.name)
        policies.append(policy)
    if not policies:
        raise AlertPolicyError(f"{where}: no [[policy]] entries; with none, every alert would be rejected")
    matching = data.get("matching", {})
    if not isinstance(matching, dict) or set(matching) - {"within_s", "min_radius_deg"}:
        raise AlertPolicyError(f"{where}: [matching] takes within_s and min_radius_deg only")
    for key, value in matching.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise AlertPolicyError(f"{where}: [matching] {key} = {value!r} is not allowed; expected a positive number")
    return AlertPolicies(
        tuple(policies), float(matching.get("within_s", 600.0)), float(matching.get("min_radius_deg", 0.1))
    )


@functools.cache
def default_alert_policies() -> AlertPolicies:
    return load_alert_policies()


def _policy(entry: Any, label: str) -> AlertPolicy:
    if not isinstance(entry, dict):
        raise AlertPolicyError(f"{label}: expected a table")
    unknown = set(entry) - _NUMBERS - _TEXTS - _FLAGS - _LISTS
    if unknown:
        raise AlertPolicyError(f"{label}: unknown key(s) {', '.join(sorted(unknown))}")
    if not isinstance(entry.get("name"), str) or not entry["name"].strip():
        raise AlertPolicyError(f"{label}: name is required and must be text")
    if ("stream" in entry) == ("topic" in entry):
        raise AlertPolicyError(f"{label}: give either stream (a VOEvent IVORN prefix) or topic (a Kafka topic prefix)")
    if "stream" in entry and not (isinstance(entry["stream"], str) and entry["stream"].startswith("ivo://")):
        raise AlertPolicyError(
            f"{label}: stream {entry['stream']!r} is not allowed; expected an IVORN prefix, ivo://..."
        )
    if "topic" in entry and not (isinstance(entry["topic"], str) and entry["topic"].strip()):
        raise AlertPolicyError(f"{label}: topic {entry['topic']!r} is not allowed; expected a Kafka topic prefix")
    values: dict[str, Any] = {}
    for key, value in entry.items():
        if key in _NUMBERS:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or (key in _POSITIVE and value <= 0)
                or value < 0
            ):
                raise AlertPolicyError(
                    f"{label}: {key} = {value!r} is not allowed; "
                    f"expected a {'positive' if key in _POSITIVE else 'non-negative'} number"
                )
            if key in _FRACTIONS and value > 1:
                raise AlertPolicyError(f"{label}: {key} = {value!r} is not allowed; expected a number from 0 to 1")
            values[key] = float(value)
        elif key in _FLAGS:
            if not isinstance(value, bool):
                raise AlertPolicyError(f"{label}: {key} = {value!r} is not allowed; expected true or false")
            values[key] = value
        elif key in _LISTS:
            if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
                raise AlertPolicyError(f"{label}: {key} = {value!r} is not allowed; expected a list of names")
            values[key] = tuple(value)
        elif key == "twilight":
            try:
                values[key] = TwilightLevel(value)
            except ValueError:
                raise AlertPolicyError(
                    f"{label}: twilight = {value!r} is not allowed; expected one of "
                    + ", ".join(level.value for level in TwilightLevel)
                ) from None
        else:
            if not isinstance(value, str):
                raise AlertPolicyError(f"{label}: {key} = {value!r} is not allowed; expected text")
            values[key] = value
    if values.get("max_airmass") is not None and values["max_airmass"] < 1:
        raise AlertPolicyError(f"{label}: max_airmass = {values['max_airmass']:g} is not allowed; expected at least 1")
    return AlertPolicy(**values)
