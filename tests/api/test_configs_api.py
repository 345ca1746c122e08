"""GET /api/v1/configs over the demo: instruments, a configuration valid at a time and as recorded then, history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from obslab.configs.types import ConfigVersion
from tests.api.http import call


def stamp(moment) -> str:  # noqa: ANN001 - a datetime
    return f"{moment:%Y-%m-%dT%H:%M:%S}"


def test_the_instruments(demo_api: str) -> None:
    assert call(demo_api, "GET", "/api/v1/configs").json() == ["ROBO-CAM", "VIRUS"]


def test_now_by_default_as_the_domain_serialises_it(demo_api: str, virus: dict[int, ConfigVersion]) -> None:
    answer = call(demo_api, "GET", "/api/v1/configs/VIRUS").json()
    assert answer == virus[6].as_dict()


def test_valid_at_a_time_is_the_record_believed_now(demo_api: str, virus: dict[int, ConfigVersion]) -> None:
    inside = virus[4].valid_from + timedelta(days=1)
    answer = call(demo_api, "GET", f"/api/v1/configs/VIRUS?valid_at={stamp(inside)}").json()
    assert answer["version_number"] == 5 and answer["superseded_at"] is None


def test_known_at_a_time_before_the_correction_is_what_was_believed_then(
    demo_api: str, virus: dict[int, ConfigVersion]
) -> None:
    inside = virus[4].valid_from + timedelta(days=1)
    assert virus[4].superseded_at is not None
    before_correction = virus[4].superseded_at - timedelta(days=1)
    path = f"/api/v1/configs/VIRUS?valid_at={stamp(inside)}&known_at={stamp(before_correction)}"
    answer = call(demo_api, "GET", path).json()
    assert answer["version_number"] == 4 and answer["items"] == virus[4].as_dict()["items"]
    after = call(demo_api, "GET", f"/api/v1/configs/VIRUS?valid_at={stamp(inside)}&known_at=latest").json()
    assert after["version_number"] == 5


def test_valid_at_takes_every_date_form(demo_api: str, virus: dict[int, ConfigVersion]) -> None:
    night = virus[6].valid_from.date()
    assert (
        call(demo_api, "GET", f"/api/v1/configs/VIRUS?valid_at={night - timedelta(days=1):%Y%m%d}").json()[
            "version_number"
        ]
        == 5
    )
    assert call(demo_api, "GET", f"/api/v1/configs/VIRUS?valid_at={night:%Y%m%d}").json()["version_number"] == 6


def test_history_lists_every_record_corrections_included(demo_api: str, virus: dict[int, ConfigVersion]) -> None:
    answer = call(demo_api, "GET", "/api/v1/configs/VIRUS/history").json()
    assert [entry["version_number"] for entry in answer] == [1, 2, 3, 4, 5, 6]
    assert answer == [virus[n].as_dict() for n in range(1, 7)]
    assert [entry["superseded_at"] is not None for entry in answer] == [False, False, False, True, False, False]


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/api/v1/configs/NOPE", 404, "no instrument 'NOPE' has a recorded configuration (known: ROBO-CAM, VIRUS)"),
        ("/api/v1/configs/NOPE/history", 404, "known: ROBO-CAM, VIRUS"),
        ("/api/v1/configs/VIRUS?valid_at=20000101", 404, "VIRUS has no configuration recorded for 2000-01-02T07:00"),
        ("/api/v1/configs/VIRUS?valid_at=soon", 400, "valid_at: 'soon' is not allowed"),
        ("/api/v1/configs/VIRUS?known_at=2018-13-01", 400, "known_at: '2018-13-01' is not allowed"),
    ],
)
def test_refusals(demo_api: str, path: str, status: int, words: str) -> None:
    reply = call(demo_api, "GET", path)
    assert reply.status == status and words in reply.json()["message"], reply.text
