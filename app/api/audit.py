"""The audit trail over the API: GET /api/v1/teams/<team>/audit?object_type=&object_id= (admins, owners)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from app.api import bp
from app.api.auth import api_user
from app.http.common import iso, paginate, public_url
from app.models import AuditEvent
from app.services import audit_log, teams


def event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "actor": event.actor.username if event.actor else None,
        "changes": event.changes or {},
        "request_id": event.request_id,
        "ip": event.ip,
        "created_at": iso(event.created_at),
    }


@bp.get("/teams/<slug>/audit")
def team_audit(slug: str):  # type: ignore[no-untyped-def]
    team = teams.team_access(api_user(), slug)
    stmt = audit_log.events_query(team, request.args.get("object_type"), request.args.get("object_id"))
    page = paginate(stmt, (AuditEvent.created_at, AuditEvent.id), event_json, descending=True)
    page["web_url"] = public_url(f"/teams/{team.team.slug}/audit")
    return jsonify(page)
