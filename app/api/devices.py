"""Devices: /api/v1/projects/<id>/devices and /api/v1/devices/<id>."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from app.api import bp
from app.api.auth import api_actor, api_user
from app.http.common import clone_url, iso, json_body, paginate, public_url
from app.models import Device
from app.services import devices
from app.services.access import project_access
from app.services.mirrors import mirror_state


def device_json(device: Device) -> dict[str, Any]:
    ips = list(device.management_ips or [])
    return {
        "id": device.id,
        "slug": device.slug,
        "project_id": device.project_id,
        "team": device.team.slug,
        "name": device.name,
        "vendor": device.vendor,
        "model": device.model,
        "serial": device.serial,
        "management_ip": ips[0] if ips else None,
        "management_ips": ips,
        "location": device.location,
        "status": device.status,
        "custom_fields": device.custom_fields or {},
        "archived": device.archived_at is not None,
        "archived_at": iso(device.archived_at),
        "head_commit": device.head_commit,
        "version_count": device.version_count,
        "last_changed_at": iso(device.last_changed_at),
        "mirrored_head": device.mirrored_head,
        "mirrored_at": iso(device.mirrored_at),
        "mirror_error": device.mirror_error,
        "mirror": mirror_state(device),
        "created_at": iso(device.created_at),
        "updated_at": iso(device.updated_at),
        "clone_url": clone_url(device),
        "web_url": public_url(f"/devices/{device.id}"),
    }


@bp.get("/projects/<project_id>/devices")
def list_devices(project_id: str):  # type: ignore[no-untyped-def]
    project, access = project_access(api_user(), project_id)
    query = devices.list_devices_query(access, project)
    return jsonify(paginate(query, [Device.slug, Device.id], device_json))


@bp.post("/projects/<project_id>/devices")
def create_device(project_id: str):  # type: ignore[no-untyped-def]
    device, _ = devices.create_device(api_actor(), project_id, json_body())
    return jsonify(device_json(device)), 201


@bp.get("/devices/<device_id>")
def get_device(device_id: str):  # type: ignore[no-untyped-def]
    device, _ = devices.get_device(api_user(), device_id)
    return jsonify(device_json(device))


@bp.patch("/devices/<device_id>")
def update_device(device_id: str):  # type: ignore[no-untyped-def]
    device, _ = devices.update_device(api_actor(), device_id, json_body())
    return jsonify(device_json(device))


@bp.post("/devices/<device_id>/archive")
def archive_device(device_id: str):  # type: ignore[no-untyped-def]
    device, _ = devices.set_archived(api_actor(), device_id, True)
    return jsonify(device_json(device))


@bp.post("/devices/<device_id>/unarchive")
def unarchive_device(device_id: str):  # type: ignore[no-untyped-def]
    device, _ = devices.set_archived(api_actor(), device_id, False)
    return jsonify(device_json(device))


@bp.delete("/devices/<device_id>")
def delete_device(device_id: str):  # type: ignore[no-untyped-def]
    devices.delete_device(api_actor(), device_id)
    return "", 204
