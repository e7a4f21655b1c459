"""SQLAlchemy 2 typed models: every table of the SQL store. Import from here."""

from app.models.accounts import (
    ROLES,
    ApiToken,
    Invitation,
    Membership,
    OutboxMail,
    SecurityEvent,
    Team,
    User,
)
from app.models.base import Base, new_id, utcnow
from app.models.inventory import (
    DEVICE_STATUSES,
    PROJECT_STATUSES,
    TASK_STATUSES,
    AuditEvent,
    Device,
    Network,
    Project,
    Task,
    TaskComment,
    Vlan,
)
from app.models.privacy import EXPORT_STATUSES, DataExport
from app.models.versions import CommitPath, CommitRecord, TeamPhoto

__all__ = [
    "DEVICE_STATUSES",
    "EXPORT_STATUSES",
    "DataExport",
    "PROJECT_STATUSES",
    "ROLES",
    "TASK_STATUSES",
    "AuditEvent",
    "CommitPath",
    "CommitRecord",
    "Device",
    "Network",
    "Project",
    "Task",
    "TaskComment",
    "Vlan",
    "ApiToken",
    "Base",
    "Invitation",
    "Membership",
    "OutboxMail",
    "SecurityEvent",
    "Team",
    "TeamPhoto",
    "User",
    "new_id",
    "utcnow",
]
