"""Search within a team: GET /api/v1/teams/<team>/search?q=, results grouped by type."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import jsonify, request

from app.api import bp
from app.api.auth import api_user
from app.api.networks import network_json
from app.api.projects import project_json
from app.api.tasks import task_json
from app.http.common import page_limit, public_url
from app.models import Device
from app.services import search, teams


def device_web_path(device: Device) -> str:
    return f"/devices/{device.id}"


def device_summary(device: Device) -> dict[str, Any]:
    return {
        "id": device.id,
        "project_id": device.project_id,
        "name": device.name,
        "slug": device.slug,
        "serial": device.serial,
        "management_ips": list(device.management_ips or []),
        "status": device.status,
        "web_url": public_url(device_web_path(device)),
    }


@bp.get("/teams/<slug>/search")
def search_team(slug: str):  # type: ignore[no-untyped-def]
    team = teams.team_access(api_user(), slug)
    per_type = page_limit() if request.args.get("limit") else search.DEFAULT_PER_TYPE
    found = search.search(team, request.args.get("q"), per_type=per_type)
    return jsonify({
        "q": found.query,
        "results": {
            "projects": [project_json(p) for p in found.projects],
            "devices": [device_summary(d) for d in found.devices],
            "networks": [network_json(n) for n in found.networks],
            "tasks": [task_json(t) for t in found.tasks],
        },
        "truncated": sorted(found.truncated),
        "web_url": public_url(f"/teams/{team.team.slug}/search?q=") + quote(found.query, safe=""),
    })
