"""The audit trail: every create, update and delete of inventory writes one event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g, has_request_context, request

from app.extensions import db
from app.models import AuditEvent, User


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{"field": {"from": old, "to": new}} for the fields that changed."""
    return {
        key: {"from": _plain(before.get(key)), "to": _plain(after.get(key))}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def record(
    team_id: str | None,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Adds the event to the current transaction: it commits, or rolls back, with the change itself."""
    event = AuditEvent(
        team_id=team_id,
        actor_id=actor.id if actor else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes={key: value for key, value in (changes or {}).items()},
        request_id=g.get("request_id", "") if has_request_context() else "",
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
