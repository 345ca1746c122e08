"""The change-rules file: the packaged rules, and broken files refused with the entry named."""

from __future__ import annotations

from pathlib import Path

import pytest

from obslab.catalog.changes.change_rules import ChangeRulesError, default_change_rules, load_change_rules
from obslab.catalog.types import RevisionKind

PACKAGED = Path(__file__).resolve().parents[2] / "src" / "obslab" / "catalog" / "changes" / "change_rules.toml"


def test_packaged_rules_have_the_ocat_areas_in_working_order() -> None:
    rules = default_change_rules()
    assert [(a.key, a.role, a.position) for a in rules.areas] == [
        ("general", "arcops", 1),
        ("acis", "arcops", 2),
        ("acis_si", "acis", 3),
        ("hrc_si", "hrc", 4),
        ("verification", "usint", 5),
    ]
    assert rules.submitters == {"usint"} and rules.undo_within_hours == 48
    assert (rules.recipients.mission_planning, rules.recipients.several_observations) == ("mp", "arcops")
    assert rules.recipients.chained_types == {"TOO", "DDT"}
    group_of = {"frame_time": "acis", "ra": "target", "multiple_spectral_lines": "acis"}
    acis_si = rules.area("acis_si")
    assert acis_si.needed(RevisionKind.NORMAL, {"frame_time"}, group_of, {"ACIS-S"})
    assert acis_si.needed(RevisionKind.NORMAL, {"ra"}, group_of, {"ACIS-I"})
    assert not acis_si.needed(RevisionKind.NORMAL, {"multiple_spectral_lines"}, group_of, {"ACIS-S"})
    assert not acis_si.needed(RevisionKind.NORMAL, {"frame_time"}, group_of, {"HRC-I"})
    assert rules.area("general").needed(RevisionKind.SPLIT, set(), group_of, {"HRC-S"})
    assert not rules.area("general").needed(RevisionKind.APPROVE_AS_IS, {"ra"}, group_of, {"HRC-S"})


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('role = "acis"', 'role = "acis_team"', ["area 'acis_si'", "unknown role 'acis_team'"]),
        (
            'groups = ["acis", "acis_windows"]\n\n[[area]]\nkey = "acis_si"',
            'groups = ["acis", "acis_window"]\n\n[[area]]\nkey = "acis_si"',
            ["area 'acis'", "'groups' names unknown group 'acis_window'"],
        ),
        (
            'parameters = ["hrc_si_mode"]',
            'parameters = ["hrc_mode"]',
            ["area 'hrc_si'", "unknown parameter 'hrc_mode'"],
        ),
        (
            'instruments = ["HRC-I", "HRC-S"]',
            'instruments = ["HRC-X"]',
            ["area 'hrc_si'", "unknown instrument 'HRC-X'"],
        ),
        ('kinds = ["clone"]', 'kinds = ["split"]', ["area 'general'", "unknown kind 'split'"]),
        ('key = "acis"\n', 'key = "general"\n', ["area 'general'", "duplicate key"]),
        ('key = "hrc_si"', 'key = "verification"', ["area 'verification'", "reserved"]),
        (
            "large_shift_arcmin = 8.0",
            "large_shift_arcmin = -8.0",
            ["warnings", "'large_shift_arcmin' must be a non-negative number"],
        ),
        ("within_hours = 48", "within_hours = true", ["undo", "'within_hours' must be a non-negative number"]),
        ('label = "HRC SI mode"', 'label = "HRC SI mode"\ncolour = "red"', ["area 'hrc_si'", "unknown key 'colour'"]),
        (
            '[verification]\nlabel = "Verification"\n',
            "[verification]\n",
            ["verification", "missing required key 'label'"],
        ),
        ('submitters = ["usint"]', 'submitters = ["poc"]', ["top level", "unknown role 'poc'"]),
        ("\n[undo]\n", "\n[undo\n", ["not valid TOML"]),
        (
            'mission_planning = "mp"',
            'mission_planning = "planners"',
            ["recipients: 'mission_planning'", "unknown role 'planners'"],
        ),
        (
            'chained_types = ["TOO", "DDT"]',
            'chained_types = ["TOO", "URGENT"]',
            ["recipients", "unknown observation type 'URGENT'"],
        ),
        (
            'several_observations = "arcops"',
            'several_observation = "arcops"',
            ["recipients", "unknown key 'several_observation'"],
        ),
    ],
)
def test_broken_rules_are_refused_with_the_entry_named(tmp_path: Path, old: str, new: str, expected: list[str]) -> None:
    text = PACKAGED.read_text()
    assert old in text, old
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ChangeRulesError) as refused:
        load_change_rules(path)
    for fragment in [str(path), *expected]:
        assert fragment in str(refused.value)
