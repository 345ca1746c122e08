"""Every table obslab owns, imported in one place so the metadata (and Alembic) sees all of them."""

from obslab.access import ApiKey, Role, User, user_roles
from obslab.audit import AuditEvent
from obslab.catalog.models import DutyShift, Observation, ObservationParameter, Revision, RevisionValue, SignOff
from obslab.configs.models import ConfigurationItem, InstrumentConfiguration
from obslab.db import Base
from obslab.notify import Notification
from obslab.observing.models import DataProduct, Exposure, FrameFile, Metric, Night, NightLoss, PipelineStage
from obslab.reports.models import Report
from obslab.scheduling.models import (
    Alert,
    AlertSkyMap,
    ObservingRequest,
    RequestRejection,
    RequestWindow,
    Schedule,
    ScheduledBlock,
)

__all__ = [
    "Alert",
    "AlertSkyMap",
    "ApiKey",
    "AuditEvent",
    "Base",
    "ConfigurationItem",
    "DataProduct",
    "DutyShift",
    "Exposure",
    "FrameFile",
    "InstrumentConfiguration",
    "Metric",
    "Night",
    "NightLoss",
    "Notification",
    "Observation",
    "ObservationParameter",
    "ObservingRequest",
    "PipelineStage",
    "Report",
    "RequestRejection",
    "RequestWindow",
    "Revision",
    "RevisionValue",
    "Role",
    "Schedule",
    "ScheduledBlock",
    "SignOff",
    "User",
    "user_roles",
]
