"""Alarm rules as data: each kind fires when it should and not otherwise; broken files are refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from obslab.observing.alarm_rules import AlarmRuleError, default_alarm_rules, load_alarm_rules


def rule(tmp_path: Path, body: str) -> object:
    path = tmp_path / "rules.toml"
    path.write_text(f'[[rule]]\nname = "r"\nmetric = "m"\nnotify = ["staff"]\n{body}\n')
    return load_alarm_rules(path).rules[0]


@pytest.mark.parametrize(
    ("body", "values", "fires"),
    [
        ("outside = [5.0, 20.0]", [10.0, 4.9], True),
        ("outside = [5.0, 20.0]", [4.0, 5.0], False),  # only the newest value counts; the edge is inside
        ("mean_outside = [0.0, 2.0]\nlast = 3", [1.0, 2.5, 2.6, 2.7], True),
        ("mean_outside = [0.0, 2.0]\nlast = 3", [9.0, 2.5, 1.0, 2.4], False),  # mean 1.97: one bad value is not poor
        ("mean_outside = [0.0, 2.0]\nlast = 3", [3.0, 3.0], False),  # too few values yet: never from missing history
        ("change_above = 1.0", [10.0, 11.5], True),
        ("change_above = 1.0", [10.0, 9.0], False),  # exactly 1.0 is not above
        ("change_above = 0.5\nrelative = true", [10.0, 4.0], True),
        ("change_above = 0.5\nrelative = true", [10.0, 6.0], False),
        ("inside = [0.03, 0.3]\nfewer_than = 3\nlast = 5", [0.1, 0.5, 0.1, 0.6, 0.7], True),
        ("inside = [0.03, 0.3]\nfewer_than = 3\nlast = 5", [0.1, 0.5, 0.1, 0.6, 0.2], False),
        ("all = [{ outside = [2.0, 100.0] }, { change_above = 0.5, relative = true }]", [10.0, 1.5], True),
        ("all = [{ outside = [2.0, 100.0] }, { change_above = 0.5, relative = true }]", [1.8, 1.5], False),
        ("any = [{ outside = [2.0, 100.0] }, { change_above = 0.5, relative = true }]", [1.8, 1.5], True),
        ("any = [{ outside = [2.0, 100.0] }, { change_above = 0.5, relative = true }]", [10.0, 9.0], False),
    ],
)
def test_each_kind_fires_when_it_should_and_not_otherwise(
    tmp_path: Path, body: str, values: list[float], fires: bool
) -> None:
    fired, decided_on = rule(tmp_path, body).evaluate(values)  # type: ignore[attr-defined]
    assert fired is fires
    assert decided_on == values[-len(decided_on) :] and decided_on[-1] == values[-1]


def test_scope_limits_a_rule_to_its_instrument_filter_and_mode(tmp_path: Path) -> None:
    scoped = rule(tmp_path, 'filter = "Si"\ncamera_mode = "6"\noutside = [0.0, 1.0]')
    assert scoped.applies({"filter": "Si", "camera_mode": "6", "instrument": "ROBO-CAM"})  # type: ignore[attr-defined]
    assert not scoped.applies({"filter": "Sr", "camera_mode": "6"})  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "expected exactly one of outside, mean_outside, change_above, inside"),
        ("outside = [5.0, 1.0]", "outside = [5.0, 1.0] is not allowed; expected [low, high] with low <= high"),
        ("mean_outside = [0.0, 2.0]", "last = None is not allowed; expected a whole number >= 1"),
        ("inside = [0, 1]\nfewer_than = 6\nlast = 5", "fewer_than = 6 is more than last = 5"),
        ("change_above = -1", "change_above = -1 is not allowed"),
        ("outside = [0, 1]\nlast = 3", "last not allowed with outside"),
        ("all = []", "all must be a list of conditions"),
    ],
)
def test_a_broken_rule_is_refused_naming_file_rule_and_problem(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(AlarmRuleError, match="rules.toml: rule 1 \\(r\\)") as refused:
        rule(tmp_path, body)
    assert message in str(refused.value)


def test_the_packaged_rules_load_and_names_are_unique(tmp_path: Path) -> None:
    packaged = {r.name: r for r in default_alarm_rules().rules}
    assert set(packaged) == {"strehl-collapse", "seeing-poor", "fwhm-unstable", "sky-jump", "dark-level-drift"}
    # The sky rule fires on a doubling, not on the noise of a steady sky; the dark rule on one camera mode's series.
    assert packaged["sky-jump"].evaluate([30.0, 61.0])[0] and not packaged["sky-jump"].evaluate([30.0, 45.0])[0]
    assert packaged["dark-level-drift"].metric == "dark_level_adu:6"
    assert packaged["dark-level-drift"].evaluate([102.8, 108.0])[0]
    assert not packaged["dark-level-drift"].evaluate([102.8, 103.5])[0]
    twice = tmp_path / "twice.toml"
    twice.write_text('[[rule]]\nname = "a"\nmetric = "m"\nnotify = ["x"]\noutside = [0, 1]\n' * 2)
    with pytest.raises(AlarmRuleError, match="the rule name\\(s\\) a are used twice"):
        load_alarm_rules(twice)
