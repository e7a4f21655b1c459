"""Equipment versions: /api/v1/devices/<id>/versions, /diff and /tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import jsonify, request

from app.api import bp
from app.api.auth import api_actor, api_user
from app.http.common import iso, json_body, page_limit, public_url
from app.http.downloads import raw_file_response
from app.services import compare, versions


def _times(item: dict[str, Any]) -> dict[str, Any]:
    return {k: iso(v) if isinstance(v, datetime) else v for k, v in item.items()}


def _commit_url(device_id: str, sha: str) -> str:
    return public_url(f"/devices/{device_id}/versions/{sha}")


@bp.post("/devices/<device_id>/versions")
def write_version(device_id: str):  # type: ignore[no-untyped-def]
    data, changed = versions.write_version(api_actor(), device_id, json_body())
    data = _times(data)
    data["web_url"] = _commit_url(device_id, data["commit"]) if data["commit"] else None
    return jsonify(data), 201 if changed else 200


@bp.post("/devices/<device_id>/versions/import")
def import_versions(device_id: str):  # type: ignore[no-untyped-def]
    data = versions.import_versions(api_actor(), device_id, json_body())
    data["commits"] = [_times(c) | {"web_url": _commit_url(device_id, c["commit"])} for c in data["commits"]]
    return jsonify(data), 201


@bp.get("/devices/<device_id>/versions")
def list_versions(device_id: str):  # type: ignore[no-untyped-def]
    page = versions.history(api_user(), device_id, request.args.get("path") or None, page_limit(),
                            request.args.get("cursor") or None)
    # In place, one pass: every history request pays this for each of its rows.
    base = public_url(f"/devices/{device_id}/versions/")
    for item in page["items"]:
        item["created_at"] = iso(item["created_at"])
        item["web_url"] = base + item["commit"]
    return jsonify(page)


@bp.get("/devices/<device_id>/versions/<rev>")
def get_version(device_id: str, rev: str):  # type: ignore[no-untyped-def]
    device, snap, tags, author = versions.read_version(api_user(), device_id, rev)
    configs: dict[str, str] = {}
    binary: dict[str, str] = {}
    for name, data in sorted(snap.configs.items()):
        text, b64 = versions.encode_content(data)
        if text is not None:
            configs[name] = text
        else:
            binary[name] = b64  # type: ignore[assignment]
    return jsonify({
        "commit": snap.commit,
        "parent": snap.parents[0] if snap.parents else None,
        "parents": snap.parents,
        "message": snap.message,
        "author": author,
        "created_at": iso(snap.created_at),
        "tags": tags,
        "device": snap.device,
        "configs": configs,
        # Configs that are not UTF-8 text, base64-encoded (the same shape `POST` accepts).
        "configs_base64": binary,
        "ports": snap.ports,
        "photos": snap.photos,
        # JSON files of this version that cannot be read (their field above is empty).
        "unreadable": list(snap.unreadable),
        "web_url": _commit_url(device.id, snap.commit),
    })


@bp.get("/devices/<device_id>/versions/<rev>/files/<path:path>")
def get_file(device_id: str, rev: str, path: str):  # type: ignore[no-untyped-def]
    data = versions.read_file(api_user(), device_id, rev, path)
    return raw_file_response(data, path)


@bp.get("/devices/<device_id>/diff")
def get_diff(device_id: str):  # type: ignore[no-untyped-def]
    device, result = compare.diff_for(api_user(), device_id, request.args)
    body = versions.diff_json(result)
    query = urlencode({"from": result.from_commit, "to": result.to_commit})
    body["web_url"] = public_url(f"/devices/{device.id}/compare?{query}")
    body["patch_url"] = public_url(f"/devices/{device.id}/compare.patch?{query}")
    return jsonify(body)


@bp.get("/devices/<device_id>/tags")
def list_tags(device_id: str):  # type: ignore[no-untyped-def]
    tags = versions.list_tags(api_user(), device_id)
    return jsonify({"items": [_times(versions.tag_json(t)) for t in tags], "next_cursor": None})


@bp.post("/devices/<device_id>/tags")
def create_tag(device_id: str):  # type: ignore[no-untyped-def]
    tag = versions.create_tag(api_actor(), device_id, json_body())
    return jsonify(_times(versions.tag_json(tag))), 201


@bp.delete("/devices/<device_id>/tags/<path:name>")
def delete_tag(device_id: str, name: str):  # type: ignore[no-untyped-def]
    versions.delete_tag(api_actor(), device_id, name)
    return "", 204
