"""Request-rate limits (Flask-Limiter, app/http/rate_limits.py) on password checks and on requests that
send mail. Unlike the failed-sign-in budgets (tests/test_accounts_limits.py, which also covers wrong
tokens meeting a 429 while a correct one always passes), these count every POST, successes included."""

from __future__ import annotations

import base64

import pytest

from app.config import Config
from tests.accounts_support import mails
from tests.client_support import PASSWORD, config_changes, from_ip, get_csrf
from tests.privacy_support import drain


def _login(client, password: str = PASSWORD):
    token = get_csrf(client, "/login")
    return client.post("/login", data={"login": "alice", "password": password, "csrf_token": token})


def _forgot(client, email: str):
    token = get_csrf(client, "/forgot-password")
    response = client.post("/forgot-password", data={"email": email, "csrf_token": token})
    response.close()  # the mail job runs once the response is sent (in-process), or in RQ:
    drain(client.application)
    return response


def _signup(client, username: str):
    data = {"email": f"{username}@example.com", "username": username, "password": PASSWORD, "age_confirmed": "y",
            "csrf_token": get_csrf(client, "/signup")}
    return client.post("/signup", data=data)


def _retry_after(response) -> int:
    wait = int(response.headers["Retry-After"])
    assert wait >= 1
    return wait


def test_sign_ins_from_one_address_are_capped_successful_ones_too(app, make_user):
    make_user("alice")
    with config_changes(app, sign_in_rate_limit="3 per minute"):
        # Fresh clients (no session): each POST checks the password, as a script signing in over and over would.
        assert [_login(from_ip(app, "203.0.113.9")).status_code for _ in range(3)] == [302, 302, 302]
        limited = _login(from_ip(app, "203.0.113.9"))
        assert limited.status_code == 429 and limited.mimetype == "text/html"
        assert _retry_after(limited) <= 60
        assert "Too many requests" in limited.get_data(as_text=True)
        # Viewing the form is not limited, and another address signs in.
        assert from_ip(app, "203.0.113.9").get("/login").status_code == 200
        assert _login(from_ip(app, "198.51.100.7")).status_code == 302


def test_the_429_page_is_in_the_readers_language(app, make_user):
    make_user("alice")
    client = from_ip(app, "203.0.113.9")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    with config_changes(app, sign_in_rate_limit="1 per minute"):
        _login(client, "wrong password!")
        limited = _login(client)
    assert limited.status_code == 429 and "Zu viele Anfragen" in limited.get_data(as_text=True)


def test_token_creation_with_a_password_is_capped(app, make_user):
    make_user("alice")
    basic = {"Authorization": "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()}
    client = from_ip(app, "203.0.113.9")
    with config_changes(app, sign_in_rate_limit="2 per minute"):
        statuses = [client.post("/api/v1/tokens", json={"name": f"t{n}"}, headers=basic).status_code
                    for n in range(3)]
        assert statuses == [201, 201, 429]
        limited = client.post("/api/v1/tokens", json={"name": "t"}, headers=basic)
    assert limited.get_json()["error"]["code"] == "rate_limited" and _retry_after(limited) <= 60


def test_sign_ups_from_one_address_are_capped(app):
    client = from_ip(app, "203.0.113.9")
    with config_changes(app, mail_rate_limit="2 per hour"):
        assert _signup(client, "one").status_code == 302
        assert _signup(from_ip(app, "203.0.113.9"), "two").status_code == 302
        limited = _signup(from_ip(app, "203.0.113.9"), "three")
        assert limited.status_code == 429 and _retry_after(limited) <= 3600
        assert not mails(app, "three@example.com"), "no account and no mail past the limit"
        assert _signup(from_ip(app, "198.51.100.7"), "four").status_code == 302


def test_password_reset_requests_are_capped_per_address_and_per_typed_email(app, make_user):
    make_user("alice")
    make_user("bob")
    with config_changes(app, mail_rate_limit="2 per hour"):
        attacker = from_ip(app, "203.0.113.9")
        assert [_forgot(attacker, "alice@example.com").status_code for _ in range(2)] == [200, 200]
        assert _forgot(attacker, "bob@example.com").status_code == 429, "one budget per client address"
        # From elsewhere, Alice's inbox is still protected (a budget per address typed)...
        assert _forgot(from_ip(app, "198.51.100.7"), "alice@example.com").status_code == 429
        # ...and anyone else's reset still works.
        assert _forgot(from_ip(app, "198.51.100.7"), "bob@example.com").status_code == 200
    assert len([m for m in mails(app, "alice@example.com") if "/reset-password/" in m.body]) == 2


def test_one_mail_budget_per_address_across_sign_up_and_reset(app, make_user):
    make_user("alice")
    client = from_ip(app, "203.0.113.9")
    with config_changes(app, mail_rate_limit="2 per hour"):
        assert _signup(client, "one").status_code == 302
        assert _forgot(from_ip(app, "203.0.113.9"), "alice@example.com").status_code == 200
        assert _signup(from_ip(app, "203.0.113.9"), "two").status_code == 429


@pytest.mark.parametrize("name", ["SIGN_IN_RATE_LIMIT", "MAIL_RATE_LIMIT"])
def test_a_malformed_rate_is_refused_at_start_up(tmp_path, name):
    env = {"INFRATRACE_DATA": str(tmp_path), "SECRET_KEY": "x"}
    with pytest.raises(ValueError, match=name):
        Config.from_env({**env, name: "lots"})
    assert getattr(Config.from_env({**env, name: "5 per hour"}), name.lower()) == "5 per hour"
