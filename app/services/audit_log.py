"""Reading the audit trail: per team and per object, for admins and owners ("team.audit")."""

from __future__ import annotations

from sqlalchemy import Select, select

from app.models import AuditEvent
from app.services.errors import ValidationError
from app.services.teams import TeamAccess

AUDIT_OBJECT_TYPES = ("project", "device", "network", "task", "comment")


def events_query(access: TeamAccess, object_type: str | None = None, object_id: str | None = None) -> Select:
    access.require("team.audit")
    stmt = select(AuditEvent).where(AuditEvent.team_id == access.team.id)
    if object_type:
        if object_type not in AUDIT_OBJECT_TYPES:
            raise ValidationError(f"'object_type' must be one of: {', '.join(AUDIT_OBJECT_TYPES)}.",
                                  field="object_type", code="invalid_choice")
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        if len(object_id) > 64:
            raise ValidationError("'object_id' must be at most 64 characters.", field="object_id",
                                  code="too_long")
        stmt = stmt.where(AuditEvent.object_id == object_id)
    return stmt
