"""Tokens, /me, the JSON error shape, and scopes over the API."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import ApiToken
from tests.client_support import PASSWORD, assert_error, bearer


def basic(login: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


def test_create_token_with_basic_and_use_it(client, make_user):
    make_user("alice")
    response = client.post("/api/v1/tokens", json={"name": "ci", "scopes": ["read", "write"]},
                           headers=basic("alice"))
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= {"id", "name", "token", "scopes", "created_at"}
    assert body["scopes"] == ["read", "write"]
    me = client.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json()["username"] == "alice" and me.get_json()["teams"] == []
    listed = client.get("/api/v1/tokens", headers=bearer(body["token"])).get_json()["items"]
    assert [t["id"] for t in listed] == [body["id"]]
    assert "token" not in listed[0], "secrets are shown once only"
    assert listed[0]["last_used_at"] is not None


def test_token_is_stored_hashed(app, client, make_user):
    make_user("alice")
    secret = client.post("/api/v1/tokens", json={"name": "x"}, headers=basic("alice")).get_json()["token"]
    with app.app_context():
        stored = db.session.query(ApiToken).one()
        assert secret not in (stored.token_hash, stored.prefix)
        assert len(stored.token_hash) == 64


def test_create_token_bad_credentials_and_validation(client, make_user):
    make_user("alice")
    assert_error(client.post("/api/v1/tokens", json={"name": "x"}), 401)
    assert_error(client.post("/api/v1/tokens", json={"name": "x"}, headers=basic("alice", "wrong pass!!")), 401,
                 "bad_credentials")
    assert_error(client.post("/api/v1/tokens", data="{nope", headers=basic("alice"),
                             content_type="application/json"), 400, "malformed")
    error = assert_error(client.post("/api/v1/tokens", json={"name": "x", "scopes": ["admin"]},
                                     headers=basic("alice")), 422)
    assert error["field"] == "scopes"
    error = assert_error(client.post("/api/v1/tokens", json={"name": "x", "colour": "red"}, headers=basic("alice")),
                         422, "unknown_field")
    assert error["field"] == "colour"
    assert_error(client.post("/api/v1/tokens", json={"scopes": ["read"]}, headers=basic("alice")), 422, "required")


def test_read_scope_cannot_write(client, make_user, token_for):
    uid, _ = make_user("alice")
    read_only = token_for(uid, ("read",))
    assert client.get("/api/v1/me", headers=bearer(read_only)).status_code == 200
    assert_error(client.post("/api/v1/teams", json={"name": "Net"}, headers=bearer(read_only)), 403,
                 "insufficient_scope")


def test_revoked_token_refused_at_once(client, make_user, token_for):
    uid, _ = make_user("alice")
    secret = token_for(uid)
    token_id = client.get("/api/v1/tokens", headers=bearer(secret)).get_json()["items"][0]["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=bearer(secret)).status_code == 204
    assert_error(client.get("/api/v1/me", headers=bearer(secret)), 401, "invalid_token")


def test_expired_token_refused(app, client, make_user, token_for):
    uid, _ = make_user("alice")
    secret = token_for(uid)
    with app.app_context():
        token = db.session.query(ApiToken).one()
        token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(secret)), 401)


def test_token_with_expiry_in_the_past_is_refused(client, make_user):
    make_user("alice")
    error = assert_error(client.post("/api/v1/tokens", json={"name": "x", "expires_at": "2001-01-01T00:00:00Z"},
                                     headers=basic("alice")), 422)
    assert error["field"] == "expires_at"


def test_cannot_revoke_someone_elses_token(client, make_user, token_for):
    a, _ = make_user("alice")
    b, _ = make_user("bob")
    alice_token = token_for(a)
    bob_token = token_for(b)
    bob_token_id = client.get("/api/v1/tokens", headers=bearer(bob_token)).get_json()["items"][0]["id"]
    assert_error(client.delete(f"/api/v1/tokens/{bob_token_id}", headers=bearer(alice_token)), 404)


def test_error_shapes(client, make_user, token_for):
    uid, _ = make_user("alice")
    secret = token_for(uid)
    assert_error(client.get("/api/v1/me"), 401)
    assert_error(client.get("/api/v1/me", headers=bearer("itr_garbage")), 401)
    assert_error(client.get("/api/v1/nothing/here", headers=bearer(secret)), 404)
    assert_error(client.get("/api/v1/nothing/here"), 404)
    assert_error(client.post("/api/v1/teams", data="[1,2", headers=bearer(secret), content_type="application/json"),
                 400)
    assert_error(client.post("/api/v1/teams", json=[1, 2], headers=bearer(secret)), 400)
    assert_error(client.post("/api/v1/teams", json={"name": ""}, headers=bearer(secret)), 422)
    assert_error(client.put("/api/v1/me", headers=bearer(secret)), 405)


def test_session_cookie_api_write_needs_csrf_header(client, make_user, login):
    make_user("alice")
    login("alice")
    assert client.get("/api/v1/me").status_code == 200
    assert_error(client.post("/api/v1/teams", json={"name": "Net"}), 400, "csrf")


def test_token_rate_limit_counts_failures(client, make_user):
    make_user("alice")
    statuses = [client.post("/api/v1/tokens", json={"name": "x"}, headers=basic("alice", "nope nope!!")).status_code
                for _ in range(6)]
    assert statuses[-1] == 429
    response = client.post("/api/v1/tokens", json={"name": "x"}, headers=basic("alice", "nope nope!!"))
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0


def test_deleted_account_token_refused(app, client, make_user, token_for):
    from app.models import User

    uid, _ = make_user("alice")
    secret = token_for(uid)
    with app.app_context():
        db.session.get(User, uid).deleted_at = datetime.now(UTC)
        db.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(secret)), 401)
