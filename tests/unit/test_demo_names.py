"""Demo target names that carry a date are dated before the day the demo is loaded."""

from __future__ import annotations

import re
from datetime import date
from random import Random

import pytest

from obslab.demo.targets import generated_name


@pytest.mark.parametrize("today", [date(2026, 12, 1), date(2031, 1, 2)])
def test_dated_names_lie_in_the_past(today: date) -> None:
    rng = Random(7)
    names = [generated_name(rng, rng.uniform(0, 360), rng.uniform(-90, 90), today=today) for _ in range(3000)]
    bursts = [m[1] for name in names if (m := re.fullmatch(r"GRB (\d{6})[AB]", name))]
    supernovae = [int(m[1]) for name in names if (m := re.fullmatch(r"SN (\d{4})[a-z]{3}", name))]
    assert len(bursts) > 50 and len(supernovae) > 50
    assert all(date(2000 + int(d[:2]), int(d[2:4]), int(d[4:])) < today for d in bursts)
    assert all(today.year - 3 <= year <= today.year for year in supernovae)
