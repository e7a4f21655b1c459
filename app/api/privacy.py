"""The caller's data: export (/api/v1/export) and account deletion (DELETE /api/v1/me)."""

from __future__ import annotations

from flask import Response, jsonify, request, stream_with_context, url_for

from app.api import bp
from app.api.auth import api_user, via_session
from app.extensions import db
from app.http.common import iso, json_body, public_url
from app.models import DataExport
from app.services import deletion, exports, freshness
from app.services.errors import ServiceError
from app.services.validation import check_fields
from app.storage.objectstore import content_disposition


def export_json(export: DataExport) -> dict[str, object]:
    data: dict[str, object] = {
        "id": export.id,
        "status": export.status,
        "created_at": iso(export.created_at),
        "started_at": iso(export.started_at),
        "finished_at": iso(export.finished_at),
        "expires_at": iso(export.expires_at),
        "progress": {"devices_done": export.devices_done, "devices_total": export.devices_total},
    }
    if export.status == "done":
        data["download_url"] = public_url(url_for("api.download_export", export_id=export.id))
        data["size"] = export.size
    if export.status == "failed":
        data["error"] = "The export could not be built; start a new one."
    return data


@bp.post("/export")
def start_export():  # type: ignore[no-untyped-def]
    if request.data:
        check_fields(json_body(), set())
    if via_session():
        freshness.require_fresh()
    export = exports.start_export(api_user())
    db.session.commit()  # the job is sent once this commits
    return jsonify({**export_json(export), "status": "queued"}), 202


@bp.get("/export")
def list_exports():  # type: ignore[no-untyped-def]
    return jsonify({"items": [export_json(e) for e in exports.list_exports(api_user())], "next_cursor": None})


@bp.get("/export/<export_id>")
def get_export(export_id: str):  # type: ignore[no-untyped-def]
    return jsonify(export_json(exports.get_export(api_user(), export_id)))


@bp.get("/export/<export_id>/download")
def download_export(export_id: str):  # type: ignore[no-untyped-def]
    export, chunks = exports.open_download(api_user(), export_id)
    response = Response(stream_with_context(chunks), mimetype="application/json")
    response.headers["Content-Disposition"] = content_disposition(
        f"infratrace-export-{export.created_at:%Y%m%d}-{export.id[:8]}.json")
    if export.size is not None:
        response.headers["Content-Length"] = str(export.size)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.delete("/me")
def delete_me():  # type: ignore[no-untyped-def]
    body = json_body() if request.data else {}
    check_fields(body, {"password"}, required=("password",))
    user = api_user()
    try:
        purge_after = deletion.request_deletion(user, body.get("password"), ip=request.remote_addr)
    except ServiceError:
        db.session.commit()  # keep the failed attempt in the security log
        raise
    db.session.commit()
    return jsonify({
        "status": "deleted",
        "deleted_at": iso(user.deleted_at),
        "purge_after": iso(purge_after),
        "message": "Your account is closed. Everything is purged after the date in purge_after.",
    }), 202
