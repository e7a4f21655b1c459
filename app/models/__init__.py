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

__all__ = [
    "ROLES",
    "ApiToken",
    "Base",
    "Invitation",
    "Membership",
    "OutboxMail",
    "SecurityEvent",
    "Team",
    "User",
    "new_id",
    "utcnow",
]
