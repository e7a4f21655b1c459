"""Webhooks never reach private addresses (SSRF), unless an on-premises install allows them.

By default a webhook URL whose host resolves to a loopback, private, link-local, multicast,
reserved or unspecified address (IPv4, IPv6, IPv4 inside IPv6) is refused when it is saved (API
and page) and again at each delivery attempt, which connects only to the address it checked.
Redirects are never followed. INFRATRACE_WEBHOOK_ALLOW_PRIVATE=1 turns the check off.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.config import Config
from app.extensions import db
from app.models import WebhookDelivery
from app.services import notifications, webhook_targets
from tests.client_support import get_csrf
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.privacy_support import drain
from tests.webhook_support import allow_private_webhooks, receivers_fixture  # noqa: F401  (fixture)

# One URL per kind of address, IPv4 and IPv6, literal or by name: each must be refused.
REFUSED = {
    "http://127.0.0.1/hook": "loopback",
    "http://127.1.2.3:8080/hook": "loopback",
    "http://localhost:5000/hook": "loopback",
    "http://2130706433/hook": "loopback",  # 127.0.0.1 written as one number
    "http://[::1]/hook": "loopback",
    "http://[::ffff:127.0.0.1]/hook": "loopback",  # IPv4-mapped IPv6
    "http://10.0.0.5/hook": "private",
    "http://172.16.3.4/hook": "private",
    "https://192.168.1.1/hook": "private",
    "http://100.64.0.1/hook": "private",  # carrier-grade NAT: not globally routable
    "http://[fd00::1]/hook": "private",
    "http://[::ffff:10.0.0.1]/hook": "private",
    "http://169.254.169.254/latest/meta-data/": "link-local",  # cloud metadata
    "http://[fe80::1]/hook": "link-local",
    "http://[::ffff:169.254.169.254]/": "link-local",
    "http://[64:ff9b::a9fe:a9fe]/": "link-local",  # NAT64 of 169.254.169.254
    "http://224.0.0.1/hook": "multicast",
    "http://[ff02::1]/hook": "multicast",
    "http://240.0.0.1/hook": "reserved",
    "http://0.0.0.0:8000/hook": "unspecified",
    "http://[::]/hook": "unspecified",
}


def test_every_kind_of_non_public_address_is_named():
    for url, kind in REFUSED.items():
        host = urlsplit(url).hostname
        if host in ("localhost", "2130706433"):
            continue  # names: resolved below, through the API
        assert webhook_targets.address_kind(host) == kind, url
    for public in ("93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert webhook_targets.address_kind(public) is None, public


def test_the_api_refuses_each_on_save_and_on_change(world):
    url = f"/api/v1/projects/{world.project_id}/webhooks"
    for target, kind in REFUSED.items():
        response = world.client.post(url, json={"url": target}, headers=world.headers["admin"])
        assert response.status_code == 422, (target, response.get_data(as_text=True))
        error = response.get_json()["error"]
        assert error["code"] == "private_address" and error["field"] == "url", (target, error)
        assert f"{kind} address" in error["message"], (target, error)
    # A public address is saved (literal: no DNS needed), and cannot be changed to a private one.
    created = world.client.post(url, json={"url": "https://93.184.216.34/hook"}, headers=world.headers["admin"])
    assert created.status_code == 201, created.get_data(as_text=True)
    hook_url = f"/api/v1/webhooks/{created.get_json()['id']}"
    response = world.client.patch(hook_url, json={"url": "http://169.254.169.254/"}, headers=world.headers["admin"])
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "private_address"
    assert world.client.get(hook_url, headers=world.headers["admin"]).get_json()["url"] == "https://93.184.216.34/hook"


def test_the_page_form_refuses_each_with_a_message(world, app, login, client):
    login("the-admin")
    page = f"/projects/{world.project_id}/webhooks"
    for target, kind in REFUSED.items():
        token = get_csrf(client, page)
        response = client.post(page, data={"csrf_token": token, "url": target, "events": ["version.created"]})
        text = response.get_data(as_text=True)
        assert response.status_code == 422, (target, text[:500])
        assert "public address" in text and f"{kind} address" in text, target
    assert world.client.get(f"/api/v1/projects/{world.project_id}/webhooks",
                            headers=world.headers["admin"]).get_json()["items"] == []


def _saved_while_allowed(world, app, monkeypatch, target: str) -> dict:
    """A webhook saved while private targets were allowed (or before this check existed)."""
    with monkeypatch.context() as allowed:
        allow_private_webhooks(app, allowed)
        response = world.client.post(f"/api/v1/projects/{world.project_id}/webhooks", json={"url": target},
                                     headers=world.headers["admin"])
    assert response.status_code == 201, response.get_data(as_text=True)
    assert app.config["INFRATRACE"].webhook_allow_private is False
    return response.get_json()


def _ping(world, app, hook: dict) -> dict:
    response = world.client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=world.headers["admin"])
    assert response.status_code == 202
    response.close()
    drain(app)
    [delivery] = world.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries",
                                  headers=world.headers["admin"]).get_json()["items"]
    return delivery


def test_delivery_refuses_a_private_address_saved_earlier(world, app, receivers, monkeypatch):
    receiver = receivers()
    hook = _saved_while_allowed(world, app, monkeypatch, receiver.url)
    delivery = _ping(world, app, hook)
    assert receiver.received == []
    assert delivery["status"] == "pending" and delivery["attempts"] == 1 and delivery["response_status"] is None
    assert "Refused" in delivery["error"] and "loopback address" in delivery["error"]
    # The same webhook on an install that allows private targets is delivered.
    allow_private_webhooks(app, monkeypatch)
    receiver.secret = hook["secret"]
    assert _retry(app, hook) == "delivered"
    assert [r["valid"] for r in receiver.received] == [True]


def _retry(app, hook: dict) -> str | None:
    """The scheduler's next look at the webhook's one delivery, once its backoff has passed."""
    with app.app_context():
        row = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook["id"])).one()
        due, delivery_id = row.next_attempt_at, row.id
        db.session.remove()
        return notifications.deliver(delivery_id, now=due + timedelta(seconds=1))


def test_delivery_checks_dns_again_and_connects_only_to_the_address_it_checked(world, app, receivers,
                                                                              monkeypatch):
    """A name that was public when saved and points inside later (DNS rebinding) is refused; an
    attempt never resolves the name twice, so a second answer cannot swap the address."""
    receiver = receivers()
    port = receiver.server.server_address[1]
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection
    answers: list[str] = []  # what the fake DNS answers for hooks.example.test, one per lookup
    lookups: list[str] = []
    connects: list[tuple] = []

    def fake_getaddrinfo(host, *args, **kwargs):
        if host != "hooks.example.test":
            return real_getaddrinfo(host, *args, **kwargs)
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        lookups.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    def fake_connect(address, *args, **kwargs):
        if address[0] == "93.184.216.34":
            connects.append(address)
            raise ConnectionRefusedError(111, "Connection refused (the public address, in this test)")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", fake_connect)
    target = f"http://hooks.example.test:{port}/hook"
    answers[:] = ["93.184.216.34"]
    created = world.client.post(f"/api/v1/projects/{world.project_id}/webhooks", json={"url": target},
                                headers=world.headers["admin"])
    assert created.status_code == 201, created.get_data(as_text=True)
    hook = created.get_json()
    # Rebound to loopback after the save: refused at delivery, nothing reaches the receiver.
    answers[:] = ["127.0.0.1"]
    delivery = _ping(world, app, hook)
    assert receiver.received == [] and "loopback address" in delivery["error"]
    # Public at the check, loopback at a second lookup: the attempt connects to the checked address.
    answers[:] = ["93.184.216.34", "127.0.0.1"]
    lookups.clear()
    assert _retry(app, hook) == "pending"
    assert lookups == ["93.184.216.34"] and connects == [("93.184.216.34", port)]
    assert receiver.received == []


def test_redirects_are_never_followed(world, app, receivers, monkeypatch):
    allow_private_webhooks(app, monkeypatch)
    inside = receivers()
    bouncer = receivers(redirect=inside.url)
    response = world.client.post(f"/api/v1/projects/{world.project_id}/webhooks", json={"url": bouncer.url},
                                 headers=world.headers["admin"])
    hook = response.get_json()
    bouncer.secret = hook["secret"]
    delivery = _ping(world, app, hook)
    assert len(bouncer.received) == 1 and inside.received == []
    assert delivery["status"] == "pending" and delivery["response_status"] == 307
    assert "not followed" in delivery["error"]


def test_the_setting_is_read_from_the_environment(tmp_path):
    base = {"INFRATRACE_DATA": str(tmp_path), "SECRET_KEY": "k"}
    assert Config.from_env(base).webhook_allow_private is False
    assert Config.from_env({**base, "INFRATRACE_WEBHOOK_ALLOW_PRIVATE": "1"}).webhook_allow_private is True
    assert Config.from_env({**base, "INFRATRACE_WEBHOOK_ALLOW_PRIVATE": "0"}).webhook_allow_private is False


@pytest.mark.parametrize("target", ["http://127.0.0.1:9/hook", "http://[::1]:9/hook", "http://10.1.1.1/"])
def test_an_install_that_allows_private_targets_saves_them(world, app, monkeypatch, target):
    allow_private_webhooks(app, monkeypatch)
    response = world.client.post(f"/api/v1/projects/{world.project_id}/webhooks", json={"url": target},
                                 headers=world.headers["admin"])
    assert response.status_code == 201, response.get_data(as_text=True)
