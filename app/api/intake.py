"""Collectors and intake rules: Oxidized's http output, the curl upload, a project's rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import jsonify, request

from app.api import bp
from app.api.auth import api_actor, api_user
from app.http.common import iso, json_body, public_url
from app.services import intake

# Where a collector may put the commit message of an upload, besides `?message=`.
MESSAGE_HEADER = "X-InfraTrace-Message"


def _with_urls(data: dict[str, Any]) -> dict[str, Any]:
    data = {k: iso(v) if isinstance(v, datetime) else v for k, v in data.items()}
    data["web_url"] = public_url(f"/devices/{data['device']}")
    if data.get("commit"):
        data["version_url"] = public_url(f"/devices/{data['device']}/versions/{data['commit']}")
    return data


@bp.post("/projects/<project_id>/oxidized", endpoint="oxidized")
def oxidized(project_id: str):  # type: ignore[no-untyped-def]
    # Always 200 on success, changed or not: Oxidized counts only 200 as a stored backup.
    return jsonify(_with_urls(intake.oxidized(api_actor(), project_id, json_body()))), 200


@bp.put("/projects/<project_id>/devices/by-name/<name>/configs/<path:config>", endpoint="upload_config")
def upload_config(project_id: str, name: str, config: str):  # type: ignore[no-untyped-def]
    message = request.args.get("message")
    if message is None:
        message = request.headers.get(MESSAGE_HEADER)
    data, changed = intake.upload(api_actor(), project_id, name, config, request.get_data(cache=False), message)
    return jsonify(_with_urls(data)), 201 if changed else 200


@bp.get("/projects/<project_id>/rules")
def get_rules(project_id: str):  # type: ignore[no-untyped-def]
    return jsonify(intake.get_rules(api_user(), project_id))


@bp.put("/projects/<project_id>/rules")
def put_rules(project_id: str):  # type: ignore[no-untyped-def]
    return jsonify(intake.put_rules(api_user(), project_id, json_body()))


@bp.post("/projects/<project_id>/rules/preview")
def preview_rules(project_id: str):  # type: ignore[no-untyped-def]
    result = intake.preview(api_user(), project_id, json_body())
    for item in result["versions"]:
        item["created_at"] = iso(item["created_at"])
    return jsonify(result)
