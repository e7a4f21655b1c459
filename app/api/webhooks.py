"""Change notifications: project webhooks, their delivery log, the test ping, and watches."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp
from app.api.auth import api_user
from app.http.common import json_body
from app.services import notifications as notes
from app.services.errors import ValidationError


@bp.get("/projects/<project_id>/webhooks")
def list_webhooks(project_id: str):  # type: ignore[no-untyped-def]
    hooks = notes.list_webhooks(api_user(), project_id)
    return jsonify({"items": [notes.webhook_json(h) for h in hooks]})


@bp.post("/projects/<project_id>/webhooks")
def create_webhook(project_id: str):  # type: ignore[no-untyped-def]
    hook, secret = notes.create_webhook(api_user(), project_id, json_body())
    return jsonify(notes.webhook_json(hook, secret)), 201


@bp.get("/webhooks/<webhook_id>")
def get_webhook(webhook_id: str):  # type: ignore[no-untyped-def]
    hook, _ = notes.list_deliveries(api_user(), webhook_id, limit=1)
    return jsonify(notes.webhook_json(hook))


@bp.patch("/webhooks/<webhook_id>")
def update_webhook(webhook_id: str):  # type: ignore[no-untyped-def]
    return jsonify(notes.webhook_json(notes.update_webhook(api_user(), webhook_id, json_body())))


@bp.delete("/webhooks/<webhook_id>")
def delete_webhook(webhook_id: str):  # type: ignore[no-untyped-def]
    notes.delete_webhook(api_user(), webhook_id)
    return "", 204


@bp.get("/webhooks/<webhook_id>/deliveries")
def list_deliveries(webhook_id: str):  # type: ignore[no-untyped-def]
    raw = request.args.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        raise ValidationError("'limit' must be a whole number from 1 to 200.", field="limit", code="invalid")
    _, deliveries = notes.list_deliveries(api_user(), webhook_id, int(raw))
    return jsonify({"items": [notes.delivery_json(d) for d in deliveries]})


@bp.post("/webhooks/<webhook_id>/test")
def test_webhook(webhook_id: str):  # type: ignore[no-untyped-def]
    return jsonify(notes.delivery_json(notes.send_test(api_user(), webhook_id))), 202


def _watch_body() -> dict:
    return json_body() if request.get_data() else {}


@bp.put("/devices/<device_id>/watch")
def watch_device(device_id: str):  # type: ignore[no-untyped-def]
    return jsonify(notes.watch_json(notes.watch(api_user(), _watch_body(), device_id=device_id)))


@bp.delete("/devices/<device_id>/watch")
def unwatch_device(device_id: str):  # type: ignore[no-untyped-def]
    notes.unwatch(api_user(), device_id=device_id)
    return "", 204


@bp.put("/projects/<project_id>/watch")
def watch_project(project_id: str):  # type: ignore[no-untyped-def]
    return jsonify(notes.watch_json(notes.watch(api_user(), _watch_body(), project_id=project_id)))


@bp.delete("/projects/<project_id>/watch")
def unwatch_project(project_id: str):  # type: ignore[no-untyped-def]
    notes.unwatch(api_user(), project_id=project_id)
    return "", 204


@bp.get("/me/watches")
def my_watches():  # type: ignore[no-untyped-def]
    return jsonify({"items": [notes.watch_json(w) for w in notes.list_watches(api_user())]})
