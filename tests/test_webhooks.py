"""Change notifications: signed webhooks delivered to a local receiver, retries, the delivery log,
the test ping, and e-mail to watchers.

The receiver is a real HTTP server on 127.0.0.1 that checks every signature the way the README
tells receivers to. Retries are driven by calling the scheduler's `retry_due` with a clock moved
past each backoff, so no test sleeps.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMail, Webhook, WebhookDelivery, utcnow
from app.services import notifications
from tests.client_support import assert_error, get_csrf
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.privacy_support import drain
from tests.webhook_support import Receiver, private_webhooks_fixture, receivers_fixture  # noqa: F401  (fixtures)

# The receiver listens on 127.0.0.1: these tests run as an on-premises install that allows it.
pytestmark = pytest.mark.usefixtures("private_webhooks")


def _add_hook(world, receiver: Receiver, **body) -> dict:
    response = world.client.post(f"/api/v1/projects/{world.project_id}/webhooks",
                                 json={"url": receiver.url, **body}, headers=world.headers["admin"])
    assert response.status_code == 201, response.get_data(as_text=True)
    hook = response.get_json()
    assert hook["secret"].startswith("whsec_")
    receiver.secret = hook["secret"]
    return hook


def _create_device(world, name: str) -> dict:
    response = world.client.post(f"/api/v1/projects/{world.project_id}/devices", json={"name": name},
                                 headers=world.headers["editor"])
    assert response.status_code == 201, response.get_data(as_text=True)
    response.close()  # as a WSGI server does: in-process jobs run once the response is closed
    return response.get_json()


def _write(world, device_id: str, expect: int = 201, **body) -> dict:
    body.setdefault("message", "change")
    response = world.client.post(f"/api/v1/devices/{device_id}/versions", json=body, headers=world.headers["editor"])
    assert response.status_code == expect, response.get_data(as_text=True)
    response.close()
    return response.get_json()


def _deliveries(world, hook: dict) -> list[dict]:
    response = world.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=world.headers["admin"])
    assert response.status_code == 200
    return response.get_json()["items"]


def _retry_after(app, delivery_id: str) -> str | None:
    """The scheduler's next look, once the delivery's backoff has passed; returns its status."""
    with app.app_context():
        due = db.session.get(WebhookDelivery, delivery_id).next_attempt_at
        db.session.remove()
        if due is None:
            return None
        return notifications.deliver(delivery_id, now=due + timedelta(seconds=1))


def test_version_event_is_signed_and_carries_the_compare_url(world, app, receivers):
    receiver = receivers()
    hook = _add_hook(world, receiver, events=["version.created"])
    device = _create_device(world, "sw1")
    written = _write(world, device["id"], configs={"running": "hostname sw1\n"}, message="first config")
    drain(app)
    assert len(receiver.received) == 1 and receiver.received[0]["valid"]
    event = receiver.received[0]
    payload = event["body"]
    assert payload["type"] == "version.created" and event["headers"]["InfraTrace-Event"] == "version.created"
    assert event["headers"]["InfraTrace-Delivery"] == payload["id"]
    assert payload["device"]["id"] == device["id"] and payload["head"] == written["commit"]
    assert payload["versions"][0]["message"] == "first config"
    assert payload["versions"][0]["files"][0]["path"] == "configs/running"
    assert payload["web_url"] == (f"http://localhost/devices/{device['id']}/compare?from={written['parent']}"
                                  f"&to={written['commit']}")
    # device.created was not subscribed: only the version event went out.
    [delivery] = _deliveries(world, hook)
    assert delivery["status"] == "delivered" and delivery["response_status"] == 200 and delivery["attempts"] == 1
    # The signature covers the body: the same header on another body does not verify.
    header = event["headers"]["InfraTrace-Signature"]
    assert header.startswith("t=") and ",v1=" in header
    assert not notifications.verify_signature(hook["secret"], header, b'{"type":"forged"}')


def test_device_events_and_an_unchanged_write_sends_nothing(world, app, receivers):
    receiver = receivers()
    _add_hook(world, receiver, events=["device.created", "device.deleted"])
    device = _create_device(world, "sw2")
    drain(app)
    assert [r["body"]["type"] for r in receiver.accepted] == ["device.created"]
    assert receiver.accepted[0]["body"]["device"]["name"] == "sw2"
    _write(world, device["id"], configs={"a": "1\n"})
    _write(world, device["id"], configs={"a": "1\n"}, expect=200)
    response = world.client.delete(f"/api/v1/devices/{device['id']}", headers=world.headers["admin"])
    assert response.status_code == 204
    response.close()
    drain(app)
    assert [r["body"]["type"] for r in receiver.accepted] == ["device.created", "device.deleted"]
    assert all(r["valid"] for r in receiver.received)


def test_a_receiver_failing_three_times_gets_the_event_once(world, app, receivers):
    receiver = receivers(statuses=[500, 503, 502])
    hook = _add_hook(world, receiver, events=["version.created"])
    device = _create_device(world, "sw3")
    _write(world, device["id"], configs={"running": "x\n"})
    drain(app)
    [delivery] = _deliveries(world, hook)
    assert delivery["status"] == "pending" and delivery["attempts"] == 1 and delivery["response_status"] == 500
    # Not due yet: the scheduler's look now sends nothing.
    with app.app_context():
        assert notifications.deliver(delivery["id"]) is None
    statuses = [_retry_after(app, delivery["id"]) for _ in range(3)]
    assert statuses == ["pending", "pending", "delivered"]
    assert _retry_after(app, delivery["id"]) is None  # delivered: never sent again
    assert [r["status"] for r in receiver.received] == [500, 503, 502, 200]
    assert len(receiver.accepted) == 1 and receiver.accepted[0]["body"]["id"] == delivery["id"]
    # Every attempt carried the same delivery id, so a receiver can drop duplicates.
    assert {r["headers"]["InfraTrace-Delivery"] for r in receiver.received} == {delivery["id"]}
    [after] = _deliveries(world, hook)
    assert after["status"] == "delivered" and after["attempts"] == 4


def test_backoff_grows_and_a_receiver_down_throughout_leaves_a_failed_visible_delivery(world, app, receivers,
                                                                                        login, client):
    receiver = receivers()
    hook = _add_hook(world, receiver, events=["version.created"])
    receiver.close()  # down from the start: connection refused on every attempt
    device = _create_device(world, "sw4")
    _write(world, device["id"], configs={"running": "x\n"})
    drain(app)
    delivery_id = _deliveries(world, hook)[0]["id"]
    gaps = []
    with app.app_context():
        for _ in range(notifications.MAX_ATTEMPTS - 1):
            row = db.session.get(WebhookDelivery, delivery_id)
            gaps.append((row.next_attempt_at - row.last_attempt_at).total_seconds())
            db.session.remove()
            _retry_after(app, delivery_id)
        row = db.session.get(WebhookDelivery, delivery_id)
        assert row.status == "failed" and row.attempts == notifications.MAX_ATTEMPTS
        assert gaps == notifications.RETRY_DELAYS and sum(gaps) >= 10 * 3600  # retried for hours
        assert notifications.retry_due(now=utcnow() + timedelta(days=2)) == 0
    [failed] = _deliveries(world, hook)
    assert failed["status"] == "failed" and failed["response_status"] is None
    assert "Connection" in failed["error"] or "refused" in failed["error"]
    # ... and visible on the project page.
    login("the-admin")
    page = client.get(f"/projects/{world.project_id}/webhooks").get_data(as_text=True)
    assert receiver.url in page and "failed" in page and "refused" in page.lower()


def test_send_test_button_and_api(world, app, receivers, login, client):
    receiver = receivers()
    hook = _add_hook(world, receiver)
    response = world.client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=world.headers["admin"])
    assert response.status_code == 202
    response.close()
    drain(app)
    assert [r["body"]["type"] for r in receiver.accepted] == ["ping"]
    login("the-admin")
    page = client.get(f"/projects/{world.project_id}/webhooks")
    assert page.status_code == 200
    token = get_csrf(client, f"/projects/{world.project_id}/webhooks")
    response = client.post(f"/webhooks/{hook['id']}/test", data={"csrf_token": token})
    assert response.status_code == 302
    response.close()
    drain(app)
    assert [r["body"]["type"] for r in receiver.accepted] == ["ping", "ping"]
    page = client.get(f"/projects/{world.project_id}/webhooks").get_data(as_text=True)
    assert page.count("delivered") >= 2 and "whsec_" not in page


def test_webhook_management_validation_and_permissions(world, app, login, client):
    url = f"/api/v1/projects/{world.project_id}/webhooks"
    for body, field in (
        ({"url": "ftp://example.net/x"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "http://"}, "url"),
        ({"url": "http://user:pw@example.net/"}, "url"),
        ({"url": "http://example.net:99999/"}, "url"),
        ({"url": 5}, "url"),
        ({"url": "http://example.net/", "events": ["nope"]}, "events"),
        ({"url": "http://example.net/", "events": []}, "events"),
        ({"url": "http://example.net/", "active": "yes"}, "active"),
        ({"url": "http://example.net/", "extra": 1}, None),
        ({}, "url"),
    ):
        response = world.client.post(url, json=body, headers=world.headers["admin"])
        assert response.status_code in (400, 422), (body, response.get_data(as_text=True))
        error = response.get_json()["error"]
        assert error["code"] and error["message"]
        if field:
            assert error.get("field") == field, (body, error)
    assert world.client.post(url, data="not json", headers={**world.headers["admin"],
                                                              "Content-Type": "application/json"}).status_code == 400
    assert_error(world.client.post(url, json={"url": "https://example.net/h"}, headers=world.headers["editor"]),
                 403, "forbidden")
    assert world.client.get(url, headers=world.headers["outsider"]).status_code == 404
    created = world.client.post(url, json={"url": "https://example.net/h"}, headers=world.headers["admin"]).get_json()
    hook_url = f"/api/v1/webhooks/{created['id']}"
    assert world.client.get(url, headers=world.headers["admin"]).get_json()["items"][0].get("secret") is None
    assert world.client.patch(hook_url, json={"url": "gopher://x"}, headers=world.headers["admin"]).status_code == 422
    patched = world.client.patch(hook_url, json={"events": ["device.deleted"], "active": False},
                                 headers=world.headers["admin"])
    assert patched.status_code == 200 and patched.get_json()["events"] == ["device.deleted"]
    assert world.client.get(f"{hook_url}/deliveries", headers=world.headers["outsider"]).status_code == 404
    assert world.client.get(f"{hook_url}/deliveries?limit=x", headers=world.headers["admin"]).status_code == 422
    assert world.client.post("/api/v1/webhooks/nope/test", headers=world.headers["admin"]).status_code == 404
    assert world.client.delete(hook_url, headers=world.headers["editor"]).status_code == 403
    assert world.client.delete(hook_url, headers=world.headers["admin"]).status_code == 204
    with app.app_context():
        assert db.session.scalar(select(Webhook.id)) is None
    # The page form refuses a bad URL with a message, not a 500.
    login("the-admin")
    token = get_csrf(client, f"/projects/{world.project_id}/webhooks")
    response = client.post(f"/projects/{world.project_id}/webhooks",
                           data={"csrf_token": token, "url": "ftp://x", "events": ["version.created"]})
    assert response.status_code == 422 and "http or https" in response.get_data(as_text=True)
    # Not an admin: the page still lets one watch, but shows no webhooks and refuses their forms.
    editor = app.test_client()
    login("the-editor", c=editor)
    page = editor.get(f"/projects/{world.project_id}/webhooks")
    assert page.status_code == 200 and "Add a webhook" not in page.get_data(as_text=True)
    token = get_csrf(editor, f"/projects/{world.project_id}/webhooks")
    response = editor.post(f"/projects/{world.project_id}/webhooks",
                           data={"csrf_token": token, "url": "https://example.net/", "events": ["version.created"]})
    assert response.status_code == 403
    assert editor.post("/webhooks/nope/test", data={"csrf_token": token}).status_code == 404
    assert editor.get("/projects/nope/webhooks").status_code == 404
    response = editor.post(f"/projects/{world.project_id}/watch", data={"csrf_token": token, "mode": "digest"})
    assert response.status_code == 302
    assert editor.post(f"/projects/{world.project_id}/watch", data={"csrf_token": token, "mode": "x"}
                       ).status_code == 422


def test_watchers_get_a_mail_per_change_or_a_daily_digest(world, app):
    device = _create_device(world, "sw5")
    other = _create_device(world, "sw6")
    editor, viewer = world.headers["editor"], world.headers["viewer"]
    assert world.client.put(f"/api/v1/devices/{device['id']}/watch", json={"mode": "each"},
                            headers=viewer).status_code == 200
    assert world.client.put(f"/api/v1/projects/{world.project_id}/watch", json={"mode": "digest"},
                            headers=editor).status_code == 200
    assert world.client.put(f"/api/v1/devices/{device['id']}/watch", json={"mode": "hourly"},
                            headers=viewer).status_code == 422
    assert world.client.put(f"/api/v1/devices/{device['id']}/watch", headers=world.headers["outsider"]
                            ).status_code == 404
    assert len(world.client.get("/api/v1/me/watches", headers=viewer).get_json()["items"]) == 1
    with app.app_context():
        db.session.query(OutboxMail).delete()  # the team's invitation mails
        db.session.commit()
    _write(world, device["id"], configs={"running": "v1\n"}, message="first change")
    _write(world, other["id"], configs={"running": "v1\n"}, message="other device")
    drain(app)
    with app.app_context():
        mails = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        assert [m.to for m in mails] == ["the-viewer@example.com"]
        assert "first change" in mails[0].body and f"/devices/{device['id']}/compare?" in mails[0].body
        assert notifications.send_digests() == 1
        [digest] = db.session.scalars(select(OutboxMail).where(OutboxMail.subject.contains("digest"))).all()
        assert digest.to == "the-editor@example.com"
        assert "first change" in digest.body and "other device" in digest.body
        assert notifications.send_digests() == 0  # nothing new since the last digest
    assert world.client.delete(f"/api/v1/devices/{device['id']}/watch", headers=viewer).status_code == 204
    _write(world, device["id"], configs={"running": "v2\n"})
    drain(app)
    with app.app_context():
        assert db.session.query(OutboxMail).filter_by(to="the-viewer@example.com").count() == 1
