"""The role catalogue every deployment starts with (pure: the tables live in access.py)."""

from __future__ import annotations

#: The role that holds every other role.
ADMIN_ROLE = "admin"
#: The roles every deployment starts with (seeded by the first migration). Sign-off areas,
#: scheduling and pipeline permissions are expressed in terms of these names.
STANDARD_ROLES: dict[str, str] = {
    "admin": "administrator: may do everything, manages users, roles and API keys",
    "usint": "support scientist (USINT/POC): submits, verifies and approves change requests, duty roster",
    "arcops": "operations: signs off general and ACIS changes",
    "acis": "ACIS instrument team: signs off ACIS SI-mode changes",
    "hrc": "HRC instrument team: signs off HRC SI-mode changes",
    "mp": "mission planning: receives scheduling-impact warnings",
    "scheduler": "night operator: plans and re-plans the night, accepts alerts",
    "pipeline": "pipeline scientist: ingests nights, runs and reprocesses reductions",
    "staff": "observatory staff: reads everything, changes nothing",
    "telescope": "telescope software: pushes instrument configurations and alerts with an API key",
}
