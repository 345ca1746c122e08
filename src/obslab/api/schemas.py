"""The API's request and response bodies, built from the domain's read models (``ConfigVersion.as_dict`` and kin)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from obslab.configs.types import ConfigVersion

#: A focal plane as the TCS reports it: the placeholder and one IFU (the shape is configs/hardware.py's).
HARDWARE_STATUS: dict[str, Any] = {
    "timestamp": "2026-12-06T20:15:00Z",
    "ifus": {
        "000": {
            "ifuid": "900",
            "specid": 900,
            "specslot": 900,
            "x_fp": 0.0,
            "y_fp": 0.0,
            "ifurot": 0.0,
            "platesc": 1.0,
        },
        "013": {
            "ifuid": "021",
            "specid": 8,
            "specslot": 1,
            "x_fp": -400.031,
            "y_fp": -200.0,
            "ifurot": 0.0,
            "platesc": 1.0,
        },
    },
}
#: The accepted body of ``POST /fplane``, as Swagger UI offers it.
FPLANE_UPDATE_EXAMPLES: dict[str, dict[str, Any]] = {
    "commit": {
        "summary": "Record the focal plane the TCS read",
        "value": {"config": HARDWARE_STATUS, "commit": True},
    },
    "dry_run": {
        "summary": "Preview the resulting file and the changes, writing nothing",
        "value": {"config": HARDWARE_STATUS, "commit": "no"},
    },
}


class FplaneUpdate(BaseModel):
    """``{"config": <hardware status>, "commit": true|false}``, as the TCS's daily job posts it."""

    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any] = Field(
        description="The TCS hardware status: `timestamp` (ISO 8601, UTC when no zone is given; at most 6 hours "
        "old) and `ifus`, each occupied seat (IFUSLOT) to its `x_fp`, `y_fp`, `specid`, `specslot`, `ifuid`, "
        "`ifurot`, `platesc`. Other keys are other hardware and are ignored."
    )
    commit: bool | int | str = Field(
        description="false: a dry run, answering the resulting file and the changes while writing nothing. "
        "Read tolerantly: true/false, 1/0, yes/no, on/off, y/n, t/f."
    )


class Change(BaseModel):
    key: str
    attribute: str
    before: Any
    after: Any


class Diff(BaseModel):
    """Items added, removed and changed attribute by attribute."""

    added: list[str]
    removed: list[str]
    changed: list[Change]


class FplaneUpdateResult(BaseModel):
    fplane: str = Field(description="The resulting fplane file.")
    diff: Diff = Field(description="From the configuration in force at the timestamp to the one reported.")
    warnings: list[str]
    committed: bool = Field(description="Whether a version was recorded (false for a dry run or no change).")
    version_number: int | None = Field(description="The version recorded; null when nothing was.")
    previous_version: int | None = Field(description="The version in force at the timestamp before this update.")


class Version(BaseModel):
    """One record of an instrument's configuration, on both time axes (``ConfigVersion``)."""

    instrument: str
    version_number: int
    valid_from: str
    valid_to: str | None
    recorded_at: str
    superseded_at: str | None
    recorded_by: str | None
    source: str
    comment: str
    items: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, version: ConfigVersion) -> Version:
        return cls.model_validate(version.as_dict())
