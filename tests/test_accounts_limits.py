"""Issue 12, finding 3: failure limits that protect accounts instead of locking their owners out.

The test config allows 5 failures per (IP, account) in 15 minutes and 1000 per IP per minute.
"""

from __future__ import annotations

import base64

import pytest

from app import create_app
from app.config import Config
from app.extensions import db
from app.models import AuthFailureCounter
from tests.client_support import PASSWORD, bearer, config_changes, from_ip, get_csrf
from tests.githttp_support import *  # noqa: F403  (fixtures: world)
from tests.githttp_support import username

REPO = "/git/acme/core/sw1.git/info/refs?service=git-upload-pack"


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def web_login(client, login: str, password: str):
    token = get_csrf(client, "/login")
    return client.post("/login", data={"login": login, "password": password, "csrf_token": token})


def test_valid_git_token_works_after_ten_failures_from_another_ip(app, world):
    attacker = from_ip(app, "203.0.113.9")
    statuses = [attacker.get(REPO, headers=basic(username("viewer"), "wrong-token")).status_code for _ in range(10)]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 5
    owner = from_ip(app, "198.51.100.7")
    for _ in range(3):
        assert owner.get(REPO, headers=basic(username("viewer"), world.tokens["viewer"])).status_code == 200


def test_valid_git_token_works_after_ten_wrong_tokens_from_the_same_ip(app, world):
    """A stale token in a credential helper (pygit2 retries each 401) never locks the real one out."""
    client = from_ip(app, "198.51.100.7")
    for _ in range(10):
        client.get(REPO, headers=basic(username("viewer"), "stale-token"))
    limited = client.get(REPO, headers=basic(username("viewer"), "stale-token"))
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    for _ in range(3):
        assert client.get(REPO, headers=basic(username("viewer"), world.tokens["viewer"])).status_code == 200


def test_valid_bearer_token_works_when_the_ip_budget_is_spent(app, make_user, token_for):
    uid, _ = make_user("alice")
    secret = token_for(uid)
    client = from_ip(app, "198.51.100.7")
    with config_changes(app, login_limit_per_ip="3 per minute"):
        statuses = [client.get("/api/v1/me", headers=bearer("itr_wrong")).status_code for _ in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        limited = client.get("/api/v1/me", headers=bearer("itr_wrong"))
        assert limited.get_json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_web_login_failures_from_another_ip_do_not_lock_the_owner_out(app, make_user):
    make_user("alice")
    attacker = from_ip(app, "203.0.113.9")
    statuses = [web_login(attacker, "alice", "wrong password!").status_code for _ in range(7)]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    # The attacker's pair is spent, even with the right password (no guessing past the limit)...
    assert web_login(attacker, "alice", PASSWORD).status_code == 429
    # ...while the owner, from their own address, signs in.
    assert web_login(from_ip(app, "198.51.100.7"), "alice", PASSWORD).status_code == 302


def test_successful_logins_do_not_consume_the_failure_budget(app, make_user):
    make_user("alice")
    client = from_ip(app, "198.51.100.7")
    for _ in range(8):
        assert web_login(client, "alice", PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": get_csrf(client, "/settings/profile")})
    for _ in range(4):
        assert web_login(client, "alice", "wrong password!").status_code == 401
    assert web_login(client, "alice", PASSWORD).status_code == 302


def test_token_creation_with_basic_shares_the_failure_budget(app, make_user, client):
    make_user("alice")
    for _ in range(5):
        response = client.post("/api/v1/tokens", json={"name": "x"}, headers=basic("alice", "nope nope!!"))
        assert response.status_code == 401
    response = client.post("/api/v1/tokens", json={"name": "x"}, headers=basic("alice", PASSWORD))
    assert response.status_code == 429 and response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1
    # Another address with the right password is not affected.
    other = from_ip(app, "198.51.100.7").post("/api/v1/tokens", json={"name": "x"}, headers=basic("alice", PASSWORD))
    assert other.status_code == 201


def test_web_login_429_says_when_to_retry(app, make_user, client):
    make_user("alice")
    for _ in range(5):
        web_login(client, "alice", "wrong password!")
    response = web_login(client, "alice", "wrong password!")
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 15 * 60
    assert f"Try again in {wait} seconds" in response.get_data(as_text=True)


def test_counters_are_shared_by_every_server_process(app, config, make_user):
    """Two app instances (two gunicorn workers) see one budget: SQL or Redis, never process memory."""
    make_user("alice")
    second = create_app(config)
    first_client = from_ip(app, "203.0.113.9")
    second_client = from_ip(second, "203.0.113.9")
    statuses = []
    for n in range(6):
        target = first_client if n % 2 == 0 else second_client
        statuses.append(web_login(target, "alice", "wrong password!").status_code)
    assert statuses == [401] * 5 + [429]
    assert web_login(first_client, "alice", "wrong password!").status_code == 429
    if not config.redis_url:
        with app.app_context():
            assert db.session.query(AuthFailureCounter).count() >= 2


def test_trusted_proxy_hops_give_each_client_its_own_budget(config, make_user):
    make_user("alice")
    proxied = create_app(config.with_changes(trusted_proxies=1))
    proxy = from_ip(proxied, "10.0.0.2")

    def through_proxy(client_ip: str, password: str) -> int:
        token = get_csrf(proxy, "/login")
        return proxy.post("/login", data={"login": "alice", "password": password, "csrf_token": token},
                          headers={"X-Forwarded-For": client_ip}).status_code

    for _ in range(5):
        assert through_proxy("203.0.113.9", "wrong password!") == 401
    assert through_proxy("203.0.113.9", "wrong password!") == 429
    assert through_proxy("198.51.100.7", PASSWORD) == 302


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, make_user):
    make_user("alice")
    client = from_ip(app, "10.0.0.2")
    for n in range(5):
        token = get_csrf(client, "/login")
        client.post("/login", data={"login": "alice", "password": "wrong password!", "csrf_token": token},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"})
    token = get_csrf(client, "/login")
    spoofed = client.post("/login", data={"login": "alice", "password": PASSWORD, "csrf_token": token},
                          headers={"X-Forwarded-For": "198.51.100.99"})
    assert spoofed.status_code == 429


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_trusted_proxies_must_be_a_hop_count(tmp_path, value):
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        Config.from_env({"INFRATRACE_DATA": str(tmp_path), "TRUSTED_PROXIES": value, "SECRET_KEY": "x"})
    assert Config.from_env({"INFRATRACE_DATA": str(tmp_path), "TRUSTED_PROXIES": "2",
                            "SECRET_KEY": "x"}).trusted_proxies == 2


def test_sql_counters_without_redis(app):
    """The embedded-default store (also what PostgreSQL without Redis uses): an upsert per window."""
    from app.services import auth_limits

    with config_changes(app, redis_url=None), app.test_request_context():
        for _ in range(5):
            assert auth_limits.retry_after("192.0.2.1", "alice") is None
            auth_limits.record_failure("192.0.2.1", "alice")
        assert auth_limits.retry_after("192.0.2.1", "alice") >= 1
        assert auth_limits.retry_after("192.0.2.2", "alice") is None
        assert auth_limits.failures_in_window("192.0.2.1", "alice") == 5
        rows = db.session.query(AuthFailureCounter).all()
        assert len(rows) == 2 and all("alice" not in row.key for row in rows)  # the login is hashed
