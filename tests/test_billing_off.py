"""Billing off (no STRIPE_SECRET_KEY, the embedded default): every team is unlimited, the UI says
so instead of billing pages, and the billing endpoints do nothing."""

from __future__ import annotations

import json

from app.extensions import db
from app.models import StripeEvent
from tests.client_support import PASSWORD, get_csrf
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.stripe_support import event, sign


def test_every_team_is_unlimited_and_the_ui_says_so(world, app, client):
    assert not app.config["INFRATRACE"].stripe_secret_key
    body = client.get("/api/v1/teams/acme", headers=world.headers["viewer"]).get_json()
    assert body["plan"] == "unlimited" and body["billing_enabled"] is False
    assert set(body["limits"].values()) == {None} and body["usage"] == {"devices": 0, "members": 4}
    for n in range(12):  # more than any paid plan's free tier
        world.create_device(f"sw{n}")
    for n in range(3):
        response = client.post("/api/v1/teams/acme/members", json={"email": f"new{n}@example.com", "role": "viewer"},
                               headers=world.headers["owner"])
        assert response.status_code == 202

    c = app.test_client()
    c.post("/login", data={"login": "the-owner", "password": PASSWORD, "csrf_token": get_csrf(c, "/login")})
    page = c.get("/teams/acme/billing")
    assert page.status_code == 200 and 'data-billing="off"' in page.get_data(as_text=True)
    assert "Billing is off" in page.get_data(as_text=True)
    token = get_csrf(c, "/teams/new")
    assert c.post("/billing/checkout", data={"team": "acme", "plan": "pro", "csrf_token": token}).status_code == 404
    assert c.post("/billing/portal", data={"team": "acme", "csrf_token": token}).status_code == 404

    payload = json.dumps(event("evt_1", "customer.subscription.created", {"id": "sub_1", "status": "active"}))
    response = client.post("/stripe/webhook", data=payload, headers={"Stripe-Signature": sign(payload, "whsec_x")})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "billing_off"
    with app.app_context():
        assert db.session.query(StripeEvent).count() == 0
