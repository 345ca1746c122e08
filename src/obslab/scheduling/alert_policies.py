"""Alert policies as data: which alerts become requests, with what priority and constraints; checked entry by entry."""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from obslab.errors import ObslabError
from obslab.scheduling.types import TwilightLevel
from obslab.scheduling.voevent import VOEvent


class AlertPolicyError(ObslabError):
    """The alert policy file is broken; the message names the file, the entry and the problem."""

    code = "invalid_alert_policies"


@dataclass(frozen=True)
class AlertPolicy:
    """One rule: which alerts it matches and the request an accepted one becomes."""

    name: str
    stream: str
    ivorn_contains: str | None = None
    accept: bool = True
    max_error_deg: float | None = None
    max_age_hours: float | None = None
    min_importance: float | None = None
    priority: float = 1.0
    duration_s: float = 600.0
    overhead_s: float = 0.0
    twilight: TwilightLevel = TwilightLevel.ASTRONOMICAL
    max_airmass: float | None = None
    min_altitude_deg: float | None = None
    min_moon_separation_deg: float | None = None
    window_hours: float = 24.0

    def matches(self, event: VOEvent) -> bool:
        return event.ivorn.startswith(self.stream) and (
            self.ivorn_contains is None or self.ivorn_contains in event.ivorn
        )


@dataclass(frozen=True)
class AlertPolicies:
    """The policies in order (first match decides) and the cross-instrument matching rule."""

    policies: tuple[AlertPolicy, ...]
    match_within_s: float = 600.0
    match_min_radius_deg: float = 0.1

    def first_match(self, event: VOEvent) -> AlertPolicy | None:
        return next((policy for policy in self.policies if policy.matches(event)), None)


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
}
_TEXTS = {"name", "stream", "ivorn_contains", "twilight"}
_POSITIVE = {"duration_s", "window_hours", "max_error_deg", "max_age_hours"}


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
    unknown = set(entry) - _NUMBERS - _TEXTS - {"accept"}
    if unknown:
        raise AlertPolicyError(f"{label}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("name", "stream"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise AlertPolicyError(f"{label}: {key} is required and must be text")
    if not entry["stream"].startswith("ivo://"):
        raise AlertPolicyError(
            f"{label}: stream {entry['stream']!r} is not allowed; expected an IVORN prefix, ivo://..."
        )
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
            values[key] = float(value)
        elif key == "accept":
            if not isinstance(value, bool):
                raise AlertPolicyError(f"{label}: accept = {value!r} is not allowed; expected true or false")
            values[key] = value
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
