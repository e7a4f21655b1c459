"""Reading the audit trail: per team and per object, for admins and owners ("team.audit")."""

from __future__ import annotations

import re

from sqlalchemy import Select, select

from app.models import AuditEvent
from app.services.errors import ValidationError
from app.services.teams import TeamAccess

# The types the UI offers as filters; other features may record more (e.g. tags), so the filter only
# checks the shape of the name rather than this list.
AUDIT_OBJECT_TYPES = ("project", "device", "network", "task", "comment")
OBJECT_TYPE_RE = re.compile(r"^[a-z_]{1,30}$")


def events_query(access: TeamAccess, object_type: str | None = None, object_id: str | None = None) -> Select:
    access.require("team.audit")
    stmt = select(AuditEvent).where(AuditEvent.team_id == access.team.id)
    if object_type:
        if not OBJECT_TYPE_RE.match(object_type):
            raise ValidationError("'object_type' must be a type name such as %(choices)s.",
                                  field="object_type", code="invalid",
                                  params={"choices": ", ".join(AUDIT_OBJECT_TYPES)})
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        if len(object_id) > 64:
            raise ValidationError("'object_id' must be at most 64 characters.", field="object_id",
                                  code="too_long")
        stmt = stmt.where(AuditEvent.object_id == object_id)
    return stmt
