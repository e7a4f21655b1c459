"""Billing with Stripe (issue 13), against a local stand-in of Stripe's API (tests/stripe_support.py).

The app here has billing on: a secret key, two webhook secrets (rotation), prices for pro and
team, and STRIPE_API_BASE pointing at the stand-in. Webhooks are signed with Stripe's scheme and
verified by the real library.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db
from app.models import CheckoutAttempt, Device, Membership, OutboxMail, StripeEvent, Team, utcnow
from app.services import plans
from tests import stripe_support
from tests.client_support import PASSWORD, csrf_from, get_csrf
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.privacy_support import drain
from tests.stripe_support import event, sign, subscription

OLD_SECRET, NEW_SECRET = "whsec_old_secret", "whsec_new_secret"


@pytest.fixture(scope="module")
def standin():
    found, server = stripe_support.start()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def app(config, standin):
    """This module's app: billing on, Stripe calls go to the stand-in."""
    return create_app(config.with_changes(
        stripe_secret_key="sk_test_standin", stripe_webhook_secret=f"{OLD_SECRET}, {NEW_SECRET}",
        stripe_api_base=standin.url, stripe_prices={"pro": "price_pro", "team": "price_team"},
    ))


@pytest.fixture(autouse=True)
def _fresh_standin(standin):
    standin.reset()
    yield


def team(app, slug: str = "acme") -> Team:
    with app.app_context():
        found = db.session.query(Team).filter_by(slug=slug).one()
        db.session.expunge(found)
        return found


def set_team(app, slug: str = "acme", **values) -> None:
    with app.app_context():
        db.session.query(Team).filter_by(slug=slug).update(values)
        db.session.commit()


def post_event(client, evt: dict, secret: str = NEW_SECRET, timestamp: int | None = None):
    payload = json.dumps(evt)
    # buffered: the response is closed, so in-process jobs run as after a real server's answer.
    return client.post("/stripe/webhook", data=payload, content_type="application/json",
                       headers={"Stripe-Signature": sign(payload, secret, timestamp)}, buffered=True)


def web_login(app, username: str = "the-owner"):
    c = app.test_client()
    token = get_csrf(c, "/login")
    response = c.post("/login", data={"login": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return c


def billing_form(c, slug: str = "acme") -> str:
    page = c.get(f"/teams/{slug}/billing")
    assert page.status_code == 200, page.get_data(as_text=True)
    return csrf_from(page.get_data(as_text=True))


def subscribe(app, client, customer: str = "cus_acme", sub_id: str = "sub_1", price: str = "price_pro",
              created: int | None = None, standin=None):
    """The team as Stripe leaves it after a paid checkout: customer stored, subscription active."""
    set_team(app, stripe_customer_id=customer)
    sub = subscription(sub_id, customer, "active", price, "acme")
    if standin is not None:
        standin.subscriptions[sub_id] = json.loads(json.dumps(sub))
    response = post_event(client, event(f"evt_created_{sub_id}", "customer.subscription.created", sub, created))
    assert response.status_code == 200, response.get_data(as_text=True)
    return sub


# -- plans and limits in the API -------------------------------------------------------------------


def test_team_api_shows_plan_limits_and_usage(world, app, client):
    body = client.get("/api/v1/teams/acme", headers=world.headers["viewer"]).get_json()
    assert body["plan"] == "free" and body["billing_enabled"] is True
    assert body["limits"] == {"devices": 10, "members": 5, "versions": None, "tags": None}
    assert body["usage"] == {"devices": 0, "members": 4}
    world.create_device("sw1")
    subscribe(app, client)
    body = client.get("/api/v1/teams/acme", headers=world.headers["viewer"]).get_json()
    assert body["plan"] == "pro" and body["limits"] == plans.PLAN_LIMITS["pro"]
    assert body["usage"] == {"devices": 1, "members": 4} and body["subscription_status"] == "active"
    # The owner's billing page: the plan, usage against limits, and "manage" instead of "upgrade".
    html = web_login(app).get("/teams/acme/billing").get_data(as_text=True)
    assert 'data-plan="pro"' in html and "Subscription: active" in html
    assert '<td data-usage="devices">1</td><td>200</td>' in html
    assert '<td data-usage="members">4</td><td>10</td>' in html
    assert "Manage subscription" in html and "Upgrade with Stripe Checkout" not in html


# -- checkout and portal ---------------------------------------------------------------------------


def test_checkout_redirects_to_stripe_and_reuses_the_idempotency_key_on_retry(world, app, standin):
    c = web_login(app)
    token = billing_form(c)
    # Stripe fails the first try (the library's own retry included), after the customer is made.
    standin.fail_next(2, "/v1/checkout/sessions")
    first = c.post("/billing/checkout", data={"team": "acme", "plan": "pro", "csrf_token": token})
    assert first.status_code == 302 and first.headers["Location"].endswith("/teams/acme/billing")
    assert "Stripe did not answer" in c.get("/teams/acme/billing").get_data(as_text=True)
    standin.failures.clear()

    retry = c.post("/billing/checkout", data={"team": "acme", "plan": "pro", "csrf_token": token})
    assert retry.status_code == 303
    sessions = standin.calls("POST", "/v1/checkout/sessions")
    assert retry.headers["Location"].startswith(f"{standin.url}/c/pay/cs_test_")
    with app.app_context():
        attempt = db.session.query(CheckoutAttempt).one()
        key, session_url = attempt.idempotency_key, attempt.url
    assert retry.headers["Location"] == session_url
    # Every call of this attempt, the failed ones and the retry, carried the persisted key.
    assert len(sessions) == 3 and {s.headers["idempotency-key"] for s in sessions} == {key}
    params = sessions[-1].params
    assert params["mode"] == "subscription" and params["client_reference_id"] == "acme"
    assert params["subscription_data[metadata][team]"] == "acme" and params["line_items[0][price]"] == "price_pro"
    # One Stripe customer for the team, stored.
    assert len({c.headers.get("idempotency-key") for c in standin.calls("POST", "/v1/customers")}) == 1
    assert params["customer"] == team(app).stripe_customer_id

    # Clicking again (back from Stripe without paying) reuses the attempt: the same session.
    again = c.post("/billing/checkout", data={"team": "acme", "plan": "pro", "csrf_token": token})
    assert again.status_code == 303 and again.headers["Location"] == session_url
    assert standin.calls("POST", "/v1/checkout/sessions")[-1].headers["idempotency-key"] == key
    with app.app_context():
        assert db.session.query(CheckoutAttempt).count() == 1


def test_checkout_bad_input_is_a_message_not_an_error(world, app, standin):
    c = web_login(app)
    token = billing_form(c)
    response = c.post("/billing/checkout", data={"team": "acme", "plan": "gold", "csrf_token": token})
    assert response.status_code == 302
    assert "Not a valid choice" in c.get("/teams/acme/billing").get_data(as_text=True)
    assert c.post("/billing/checkout", data={"team": "acme", "plan": "pro"}).status_code == 400  # no CSRF
    assert c.post("/billing/checkout", data={"team": "nope", "plan": "pro", "csrf_token": token}).status_code == 404
    assert c.post("/billing/checkout", data={"plan": "pro", "csrf_token": token}).status_code == 404
    assert standin.calls("POST", "/v1/checkout/sessions") == []


def test_portal_redirects_to_the_stand_in_portal(world, app, client, standin):
    subscribe(app, client)
    c = web_login(app)
    token = billing_form(c)
    response = c.post("/billing/portal", data={"team": "acme", "csrf_token": token})
    assert response.status_code == 303
    (call,) = standin.calls("POST", "/v1/billing_portal/sessions")
    assert call.params["customer"] == "cus_acme"
    assert call.params["return_url"] == "http://localhost/teams/acme/billing"
    assert response.headers["Location"].startswith(f"{standin.url}/p/session/bps_")
    # A live subscription is managed, not bought twice.
    again = c.post("/billing/checkout", data={"team": "acme", "plan": "team", "csrf_token": token})
    assert again.status_code == 302 and standin.calls("POST", "/v1/checkout/sessions") == []


def test_only_owners_reach_billing(world, app, standin):
    for role in ("admin", "editor", "viewer"):
        c = web_login(app, f"the-{role}")
        assert c.get("/teams/acme/billing").status_code == 403, role
        token = get_csrf(c, "/teams/new")
        for path, data in (("/billing/checkout", {"plan": "pro"}), ("/billing/portal", {})):
            response = c.post(path, data={"team": "acme", "csrf_token": token, **data})
            assert response.status_code == 403, (role, path)
    outsider = web_login(app, "outsider")
    assert outsider.get("/teams/acme/billing").status_code == 404
    token = get_csrf(outsider, "/teams/new")
    assert outsider.post("/billing/checkout", data={"team": "acme", "plan": "pro", "csrf_token": token}
                         ).status_code == 404
    assert standin.requests == []
    owner = web_login(app)
    assert owner.get("/teams/acme/billing").status_code == 200
    assert "/teams/acme/billing" in owner.get("/teams/acme").get_data(as_text=True)
    assert "/teams/acme/billing" not in web_login(app, "the-admin").get("/teams/acme").get_data(as_text=True)


def test_billing_actions_need_a_fresh_login(world, app, standin):
    c = web_login(app)
    token = billing_form(c)
    with c.session_transaction() as session:
        session["_fresh"] = False  # as after a session restored from the remember cookie
    response = c.post("/billing/checkout", data={"team": "acme", "plan": "pro", "csrf_token": token},
                      headers={"Referer": "http://localhost/teams/acme/billing"})
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]
    assert c.post("/billing/portal", data={"team": "acme", "csrf_token": token}).headers["Location"].startswith(
        "/reauth")
    assert standin.requests == []
    # The password typed again makes the session fresh, and back on the billing page it works.
    page = c.get(response.headers["Location"])
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)
    again = c.post(response.headers["Location"], data={"password": PASSWORD,
                                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert again.status_code == 302 and again.headers["Location"].endswith("/teams/acme/billing")
    token = billing_form(c)
    assert c.post("/billing/checkout", data={"team": "acme", "plan": "pro", "csrf_token": token}).status_code == 303


def test_billing_history_lists_invoices(world, app, client, standin):
    subscribe(app, client)
    standin.invoices.append({"id": "in_1", "object": "invoice", "customer": "cus_acme", "created": 1767225600,
                             "amount_paid": 1900, "total": 1900, "currency": "eur", "status": "paid",
                             "number": "ACME-0001", "hosted_invoice_url": "https://invoice.stripe.test/i/in_1"})
    standin.invoices.append({"id": "in_x", "object": "invoice", "customer": "cus_other", "created": 1767225600,
                             "amount_paid": 99900, "currency": "usd", "status": "paid"})
    html = web_login(app).get("/teams/acme/billing").get_data(as_text=True)
    assert "2026-01-01" in html and "19.00 EUR" in html and "paid" in html
    assert 'href="https://invoice.stripe.test/i/in_1"' in html and "ACME-0001" in html
    assert "999.00" not in html
    (call,) = standin.calls("GET", "/v1/invoices")
    assert call.params["customer"] == "cus_acme"


# -- webhooks: signatures --------------------------------------------------------------------------


def _snapshot(app):
    t = team(app)
    with app.app_context():
        return (t.plan, t.subscription_status, t.stripe_subscription_id, db.session.query(StripeEvent).count())


def test_webhook_refuses_unsigned_wrong_secret_stale_and_reserialized_bodies(world, app, client):
    set_team(app, stripe_customer_id="cus_acme")
    evt = event("evt_bad", "customer.subscription.created",
                subscription("sub_1", "cus_acme", "active", "price_pro", "acme"))
    payload = json.dumps(evt)
    before = _snapshot(app)
    cases = {
        "unsigned": {},
        "wrong secret": {"Stripe-Signature": sign(payload, "whsec_someone_else")},
        "stale": {"Stripe-Signature": sign(payload, NEW_SECRET, int(time.time()) - 3600)},
        "garbage header": {"Stripe-Signature": "t=abc,v1=zz"},
    }
    for name, headers in cases.items():
        response = client.post("/stripe/webhook", data=payload, content_type="application/json", headers=headers)
        assert response.status_code == 400, name
        assert response.get_json()["error"]["code"] == "bad_signature", name
    # Signed, then re-serialized on the way (same JSON, other bytes).
    header = sign(payload, NEW_SECRET)
    reserialized = json.dumps(json.loads(payload), indent=2, sort_keys=True)
    response = client.post("/stripe/webhook", data=reserialized, content_type="application/json",
                           headers={"Stripe-Signature": header})
    assert response.status_code == 400
    assert client.post("/stripe/webhook", data=b"\xff\xfe", headers={"Stripe-Signature": header}).status_code == 400
    assert _snapshot(app) == before
    # The very same payload, signed properly, is applied.
    assert client.post("/stripe/webhook", data=payload, content_type="application/json",
                       headers={"Stripe-Signature": header}).status_code == 200
    assert team(app).plan == "pro"


def test_webhook_accepts_both_secrets_during_rotation_and_checks_the_body(world, app, client):
    set_team(app, stripe_customer_id="cus_acme")
    sub = subscription("sub_1", "cus_acme", "active", "price_pro", "acme")
    assert post_event(client, event("evt_a", "customer.subscription.created", sub), OLD_SECRET).status_code == 200
    assert post_event(client, event("evt_b", "customer.subscription.updated", sub), NEW_SECRET).status_code == 200
    for body in ("not json", json.dumps([1]), json.dumps({"id": "evt_c", "type": "x"}),
                 json.dumps({"id": "evt_c", "type": "x", "created": 1, "data": [1]}),
                 json.dumps({"id": "evt_c", "type": "x", "created": 10**20, "data": {"object": {}}}),
                 json.dumps({"id": "evt\u0000c", "type": "x", "created": 1, "data": {"object": {}}})):
        response = client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": sign(body, NEW_SECRET)})
        assert response.status_code == 400, body
    ignored = post_event(client, event("evt_d", "customer.created", {"id": "cus_acme", "object": "customer"}))
    assert ignored.status_code == 200 and ignored.get_json()["outcome"] == "ignored"


# -- webhooks: exactly once, in order ---------------------------------------------------------------


def _owner_mails(app) -> int:
    drain(app)
    with app.app_context():
        return db.session.query(OutboxMail).filter(OutboxMail.subject.like("%payment%failed%")).count()


def test_the_same_event_twice_is_applied_once(world, app, client):
    subscribe(app, client)
    failed = event("evt_fail_1", "invoice.payment_failed",
                   {"id": "in_1", "object": "invoice", "customer": "cus_acme", "subscription": "sub_1"})
    first, second = post_event(client, failed), post_event(client, failed)
    assert first.status_code == second.status_code == 200
    assert first.get_json()["outcome"] == "applied" and second.get_json()["outcome"] == "duplicate"
    assert _owner_mails(app) == 1
    with app.app_context():
        assert db.session.query(StripeEvent).filter_by(id="evt_fail_1").count() == 1


def test_the_same_event_concurrently_is_applied_once(world, app, client):
    """Two deliveries at the same moment (threads, each with its own connection): the primary key
    lets one insert win; the other waits for its commit (PostgreSQL) and answers 200 duplicate."""
    subscribe(app, client)
    failed = event("evt_fail_c", "invoice.payment_failed",
                   {"id": "in_2", "object": "invoice", "customer": "cus_acme", "subscription": "sub_1"})
    payload = json.dumps(failed)
    header = sign(payload, NEW_SECRET)
    barrier = threading.Barrier(4)
    results: list[tuple[int, str]] = []

    def deliver() -> None:
        c = app.test_client()
        barrier.wait()
        response = c.post("/stripe/webhook", data=payload, content_type="application/json",
                          headers={"Stripe-Signature": header}, buffered=True)
        results.append((response.status_code, (response.get_json() or {}).get("outcome", "")))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [(200, "applied"), (200, "duplicate"), (200, "duplicate"), (200, "duplicate")]
    assert _owner_mails(app) == 1
    with app.app_context():
        assert db.session.query(StripeEvent).filter_by(id="evt_fail_c").count() == 1


def test_subscription_deleted_before_checkout_completed_ends_canceled(world, app, client):
    set_team(app, stripe_customer_id="cus_acme")
    now = int(time.time())
    gone = subscription("sub_9", "cus_acme", "canceled", "price_pro", "acme")
    assert post_event(client, event("evt_del", "customer.subscription.deleted", gone, now)).status_code == 200
    completed = {"id": "cs_test_1", "object": "checkout.session", "mode": "subscription", "customer": "cus_acme",
                 "client_reference_id": "acme", "subscription": "sub_9", "payment_status": "paid",
                 "metadata": {"team": "acme", "plan": "pro"}}
    assert post_event(client, event("evt_done", "checkout.session.completed", completed, now - 5)).status_code == 200
    t = team(app)
    assert (t.plan, t.subscription_status, t.stripe_subscription_id) == ("free", "canceled", "sub_9")


def test_checkout_completed_then_subscription_events_in_any_order(world, app, client):
    set_team(app, stripe_customer_id="cus_acme")
    now = int(time.time())
    completed = {"id": "cs_test_2", "object": "checkout.session", "mode": "subscription", "customer": "cus_acme",
                 "client_reference_id": "acme", "subscription": "sub_2", "payment_status": "paid",
                 "metadata": {"team": "acme", "plan": "team"}}
    assert post_event(client, event("evt_c1", "checkout.session.completed", completed, now)).status_code == 200
    assert (team(app).plan, team(app).subscription_status) == ("team", "active")
    # The subscription's own creation event, older than the checkout's, still tells the truth.
    created = subscription("sub_2", "cus_acme", "active", "price_team", "acme")
    assert post_event(client, event("evt_c2", "customer.subscription.created", created, now - 2)).status_code == 200
    assert (team(app).plan, team(app).subscription_status) == ("team", "active")


def test_an_old_update_after_a_newer_one_changes_nothing(world, app, client):
    now = int(time.time())
    subscribe(app, client, created=now - 100)
    newer = subscription("sub_1", "cus_acme", "active", "price_team", "acme")
    older = subscription("sub_1", "cus_acme", "past_due", "price_pro", "acme")
    assert post_event(client, event("evt_new", "customer.subscription.updated", newer, now - 10)).status_code == 200
    response = post_event(client, event("evt_old", "customer.subscription.updated", older, now - 50))
    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored"
    t = team(app)
    assert (t.plan, t.subscription_status) == ("team", "active")
    # And a canceled subscription is never revived by a late update.
    gone = subscription("sub_1", "cus_acme", "canceled", "price_team", "acme")
    assert post_event(client, event("evt_gone", "customer.subscription.deleted", gone, now - 5)).status_code == 200
    assert post_event(client, event("evt_late", "customer.subscription.updated", newer, now)).status_code == 200
    assert (team(app).plan, team(app).subscription_status) == ("free", "canceled")


def test_payment_failed_grace_banner_mail_and_recovery(world, app, client):
    subscribe(app, client)
    now = int(time.time())
    failed = {"id": "in_3", "object": "invoice", "customer": "cus_acme", "subscription": "sub_1"}
    assert post_event(client, event("evt_f", "invoice.payment_failed", failed, now)).status_code == 200
    drain(app)
    t = team(app)
    assert t.payment_failed_at is not None and t.grace_until - t.payment_failed_at == timedelta(days=7)
    with app.app_context():
        mails = db.session.query(OutboxMail).filter(OutboxMail.subject.like("%payment%failed%")).all()
        assert [m.to for m in mails] == ["the-owner@example.com"]
        assert "http://localhost/teams/acme/billing" in mails[0].body
    assert 'data-banner="payment-failed"' in web_login(app).get("/").get_data(as_text=True)
    assert 'data-banner="payment-failed"' not in web_login(app, "the-admin").get("/").get_data(as_text=True)
    # Within the grace period the paid limits hold; after it, the free ones (nothing deleted).
    assert client.get("/api/v1/teams/acme", headers=world.headers["viewer"]).get_json()["plan"] == "pro"
    set_team(app, grace_until=utcnow() - timedelta(seconds=1))
    assert client.get("/api/v1/teams/acme", headers=world.headers["viewer"]).get_json()["plan"] == "free"
    # A late-arriving older failure does not undo a later payment.
    assert post_event(client, event("evt_p", "invoice.paid", dict(failed, status="paid"), now + 5)).status_code == 200
    assert post_event(client, event("evt_f0", "invoice.payment_failed", failed, now + 1)).status_code == 200
    t = team(app)
    assert t.payment_failed_at is None and t.grace_until is None
    assert 'data-banner="payment-failed"' not in web_login(app).get("/").get_data(as_text=True)
    assert client.get("/api/v1/teams/acme", headers=world.headers["viewer"]).get_json()["plan"] == "pro"


# -- limits after a downgrade ----------------------------------------------------------------------


def test_a_pro_team_over_free_limits_after_cancellation_keeps_everything_and_cannot_add(
        world, app, client, make_user, monkeypatch):
    monkeypatch.setitem(plans.PLAN_LIMITS, "free", {"devices": 2, "members": 4})
    now = int(time.time())
    subscribe(app, client, created=now - 60)
    for n in range(3):
        world.create_device(f"sw{n}")
    make_user("extra")
    assert client.post("/api/v1/teams/acme/members", json={"email": "extra@example.com", "role": "viewer"},
                       headers=world.headers["owner"]).status_code == 201
    invited = client.post("/api/v1/teams/acme/members", json={"email": "newbie@example.com", "role": "viewer"},
                          headers=world.headers["owner"])
    assert invited.status_code == 202
    with app.app_context():
        secret = db.session.query(OutboxMail).filter_by(to="newbie@example.com").one().body.split("/invitations/")[1]
        secret = secret.split()[0]

    gone = subscription("sub_1", "cus_acme", "canceled", "price_pro", "acme")
    assert post_event(client, event("evt_cancel", "customer.subscription.deleted", gone, now)).status_code == 200
    body = client.get("/api/v1/teams/acme", headers=world.headers["viewer"]).get_json()
    assert body["plan"] == "free" and body["usage"] == {"devices": 3, "members": 5}
    # Nothing was deleted: every device (and its history) and every member is still there.
    with app.app_context():
        assert db.session.query(Device).count() == 3
        assert db.session.query(Membership).join(Team).filter(Team.slug == "acme").count() == 5
    devices = client.get(f"/api/v1/projects/{world.project_id}/devices", headers=world.headers["viewer"]).get_json()
    assert len(devices["items"]) == 3

    # Every way in is refused with 402 plan_limit naming the limit and the upgrade path.
    refused = client.post(f"/api/v1/projects/{world.project_id}/devices", json={"name": "sw9"},
                          headers=world.headers["editor"])
    assert refused.status_code == 402
    error = refused.get_json()["error"]
    assert error["code"] == "plan_limit" and "2 devices" in error["message"] and "upgrade" in error["message"]
    assert error["upgrade_url"] == "http://localhost/teams/acme/billing"
    refused = client.post("/api/v1/teams/acme/members", json={"email": "more@example.com", "role": "viewer"},
                          headers=world.headers["owner"])
    assert refused.status_code == 402 and "members" in refused.get_json()["error"]["message"]
    # Web form for a device.
    editor = web_login(app, "the-editor")
    page = editor.get(f"/projects/{world.project_id}/devices/new")
    assert page.status_code == 200
    response = editor.post(f"/projects/{world.project_id}/devices/new",
                           data={"name": "sw10", "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 422 and "allows 2 devices" in response.get_data(as_text=True)
    # Accepting the invitation sent while there was room.
    make_user("newbie")
    newbie = web_login(app, "newbie")
    page = newbie.get(f"/invitations/{secret}")
    accepted = newbie.post(f"/invitations/{secret}", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert accepted.status_code == 402 and "upgrade" in accepted.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Device).count() == 3
        assert db.session.query(Membership).join(Team).filter(Team.slug == "acme").count() == 5


# -- reconcile and deletion ------------------------------------------------------------------------


def test_the_reconcile_job_repairs_state_changed_behind_our_back(world, app, client, standin):
    from workers import jobs as job_functions

    subscribe(app, client, standin=standin)
    # Canceled at Stripe while we were down (no webhook arrived).
    standin.subscriptions["sub_1"]["status"] = "canceled"
    # And another team's local row was edited by hand (plan lost) though Stripe still bills it.
    other_sub = subscription("sub_o", "cus_other", "active", "price_team", "other")
    standin.subscriptions["sub_o"] = other_sub
    set_team(app, "other", stripe_customer_id="cus_other", stripe_subscription_id="sub_o",
             subscription_status="active", plan="free")
    with app.app_context():
        job_functions.billing_reconcile()
    assert (team(app).plan, team(app).subscription_status) == ("free", "canceled")
    assert (team(app, "other").plan, team(app, "other").subscription_status) == ("team", "active")
    assert {r.path for r in standin.calls("GET", "/v1/subscriptions/")} == {"/v1/subscriptions/sub_1",
                                                                             "/v1/subscriptions/sub_o"}
    # Canceled teams are not paying: the next run leaves them alone.
    standin.requests.clear()
    with app.app_context():
        job_functions.billing_reconcile()
    assert {r.path for r in standin.calls("GET", "/v1/subscriptions/")} == {"/v1/subscriptions/sub_o"}


def test_billing_sync_command_and_the_daily_schedule(world, app, client, standin, config, monkeypatch, capsys):
    from app.cli import main
    from workers import schedule

    subscribe(app, client, standin=standin)
    standin.subscriptions["sub_1"]["items"]["data"][0]["price"]["id"] = "price_team"  # changed in the dashboard
    for key, value in {"DATABASE_URL": config.database_url, "INFRATRACE_DATA": str(config.data_dir),
                       "SECRET_KEY": "x", "STRIPE_SECRET_KEY": "sk_test_standin", "STRIPE_API_BASE": standin.url,
                       "STRIPE_PRICE_PRO": "price_pro", "STRIPE_PRICE_TEAM": "price_team"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["billing-sync"]) == 0
    assert "1 paying team(s) re-read from Stripe, 1 repaired" in capsys.readouterr().out
    assert team(app).plan == "team"

    enqueued: list[str] = []
    monkeypatch.setattr(schedule.job_queue, "enqueue", lambda name, *ids: enqueued.append(name))
    monkeypatch.setattr(schedule, "sweep_mirrors", lambda: 0)
    monkeypatch.setattr(schedule, "schedule_maintenance", lambda: [])
    monkeypatch.setattr(schedule, "reconcile_recent", lambda *args: None)
    state: dict[str, float] = {}
    with app.app_context():
        schedule.tick(1000.0, state)
        schedule.tick(1000.0 + 3600, state)
        schedule.tick(1000.0 + schedule.BILLING_INTERVAL, state)
    assert enqueued.count("billing_reconcile") == 2


def test_deleting_the_account_that_solely_owns_a_paying_team_cancels_it(world, app, client, standin):
    set_team(app, "other", stripe_customer_id="cus_other")
    sub = subscription("sub_o", "cus_other", "active", "price_pro", "other")
    standin.subscriptions["sub_o"] = sub
    assert post_event(client, event("evt_o", "customer.subscription.created", sub)).status_code == 200
    assert team(app, "other").plan == "pro"
    response = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=world.headers["outsider"],
                             buffered=True)
    assert response.status_code == 202
    deadline = time.monotonic() + 10
    while not standin.calls("DELETE", "/v1/subscriptions/") and time.monotonic() < deadline:
        drain(app)
        time.sleep(0.05)
    (call,) = standin.calls("DELETE", "/v1/subscriptions/")
    assert call.path == "/v1/subscriptions/sub_o" and call.headers["idempotency-key"] == "infratrace-cancel-sub_o"
    deadline = time.monotonic() + 10
    while team(app, "other").subscription_status != "canceled" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (team(app, "other").plan, team(app, "other").subscription_status) == ("free", "canceled")
    # A team that other people keep is not touched.
    assert standin.calls("DELETE", "/v1/subscriptions/sub_1") == []


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="row-lock waits are observable in PostgreSQL only (pg_stat_activity)")
def test_a_delivery_racing_an_open_transaction_of_the_same_event_waits_and_is_a_duplicate(world, app, client):
    """The first delivery has inserted the event id but not committed yet; the second one's insert
    waits on the unique key (seen in pg_stat_activity), then fails: 200 duplicate, no second effect."""
    subscribe(app, client)
    failed = event("evt_race", "invoice.payment_failed",
                   {"id": "in_9", "object": "invoice", "customer": "cus_acme", "subscription": "sub_1"})
    with app.app_context():
        # A fresh pool for the session-wide app: a connection some earlier test left checked out must
        # not make the second delivery queue for a connection instead of reaching its insert.
        db.engine.dispose()
    engine = create_engine(app.config["INFRATRACE"].database_url)
    first = engine.connect()
    transaction = first.begin()
    first.execute(text("INSERT INTO stripe_events (id, type, outcome, created_at, received_at) "
                       "VALUES ('evt_race', 'invoice.payment_failed', 'first', now(), now())"))
    results: list[tuple[int, str]] = []
    second = threading.Thread(target=lambda: results.append(
        (lambda r: (r.status_code, r.get_json()["outcome"]))(post_event(app.test_client(), failed))))
    second.start()
    # Autocommit: PostgreSQL snapshots pg_stat_activity once per transaction, so a watcher inside one
    # transaction would keep seeing the moment of its first poll, before the second delivery got there.
    watcher = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    deadline, waiting = time.monotonic() + 30, 0
    while time.monotonic() < deadline and second.is_alive():
        waiting = watcher.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO stripe_events%'"
        )).scalar()
        if waiting:
            break
        time.sleep(0.02)
    assert waiting, f"the second delivery never waited on the first one's insert (it answered {results})"
    transaction.commit()
    second.join(timeout=30)
    first.close()
    watcher.close()
    engine.dispose()
    assert results == [(200, "duplicate")]
    assert team(app).payment_failed_at is None  # the (simulated) first delivery had no effect; nor had this one
    assert _owner_mails(app) == 0


def _wait_canceled(app, standin, slug: str) -> None:
    deadline = time.monotonic() + 10
    while (not standin.calls("DELETE", "/v1/subscriptions/") or team(app, slug).subscription_status != "canceled") \
            and time.monotonic() < deadline:
        drain(app)
        time.sleep(0.05)


def test_deleting_a_paying_team_cancels_its_subscription(world, app, client, standin):
    sub = subscribe(app, client, standin=standin)
    assert sub["id"] == "sub_1"
    # Only owners, and only with the slug typed as confirmation; bad input is a 4xx, never a 500.
    for role in ("admin", "editor", "viewer"):
        assert client.delete("/api/v1/teams/acme", json={"confirm": "acme"}, headers=world.headers[role]
                             ).status_code == 403
    assert client.delete("/api/v1/teams/acme", json={"confirm": "other"}, headers=world.headers["outsider"]
                         ).status_code == 404
    for body in ({}, {"confirm": "acm"}, {"confirm": 7}, {"confirm": "acme", "x": 1}):
        response = client.delete("/api/v1/teams/acme", json=body, headers=world.headers["owner"])
        assert response.status_code in (400, 422), body
    assert standin.requests == [] and team(app).deleted_at is None

    response = client.delete("/api/v1/teams/acme", json={"confirm": "acme"}, headers=world.headers["owner"],
                             buffered=True)
    assert response.status_code == 202 and response.get_json()["purge_after"]
    _wait_canceled(app, standin, "acme")
    (call,) = standin.calls("DELETE", "/v1/subscriptions/")
    assert call.path == "/v1/subscriptions/sub_1"
    assert (team(app).plan, team(app).subscription_status) == ("free", "canceled")
    # Nobody reaches the team any more; its data waits for the purge.
    for role in ("owner", "admin", "viewer"):
        assert client.get("/api/v1/teams/acme", headers=world.headers[role]).status_code == 404
    with app.app_context():
        assert db.session.query(Membership).join(Team).filter(Team.slug == "acme").count() == 0
    assert team(app).deleted_at is not None and team(app).purge_after - team(app).deleted_at == timedelta(days=30)
    from app.services.purge import purge

    with app.app_context():
        purge(now=utcnow() + timedelta(days=29))
        assert db.session.query(Team).filter_by(slug="acme").count() == 1
        purge(now=utcnow() + timedelta(days=31))
        assert db.session.query(Team).filter_by(slug="acme").count() == 0
        assert db.session.query(Team).filter_by(slug="other").count() == 1


def test_deleting_a_team_from_its_page(world, app, client, standin):
    subscribe(app, client, standin=standin)
    admin = web_login(app, "the-admin")
    page = admin.get("/teams/acme").get_data(as_text=True)
    assert "Delete team" not in page
    assert admin.post("/teams/acme/delete", data={"confirm": "acme", "csrf_token": csrf_from(page)}).status_code == 403
    owner = web_login(app)
    page = owner.get("/teams/acme").get_data(as_text=True)
    assert "Delete team" in page and "the subscription is canceled" in page
    wrong = owner.post("/teams/acme/delete", data={"confirm": "nope", "csrf_token": csrf_from(page)})
    assert wrong.status_code == 302 and "Type the team" in owner.get("/teams/acme").get_data(as_text=True)
    done = owner.post("/teams/acme/delete", data={"confirm": "acme", "csrf_token": csrf_from(page)}, buffered=True)
    assert done.status_code == 302
    _wait_canceled(app, standin, "acme")
    assert team(app).subscription_status == "canceled" and owner.get("/teams/acme").status_code == 404
