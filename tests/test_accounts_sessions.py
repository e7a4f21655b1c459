"""Issue 12, findings 1 and 2: logout really logs out, and sensitive actions need a fresh login."""

from __future__ import annotations

from tests.client_support import PASSWORD, csrf_from, get_csrf


def _login_remembered(client, name: str = "alice") -> None:
    token = get_csrf(client, "/login")
    response = client.post("/login", data={"login": name, "password": PASSWORD, "remember": "y", "csrf_token": token})
    assert response.status_code == 302
    assert client.get_cookie("remember_token") is not None


def _set_cookies_of(app, cookies: dict[str, str]):
    fresh = app.test_client()
    for name, value in cookies.items():
        fresh.set_cookie(name, value, domain="localhost")
    return fresh


def _signed_in(client) -> bool:
    return client.get("/settings/profile").status_code == 200


def _logout(client):
    page = client.get("/settings/profile").get_data(as_text=True)
    return client.post("/logout", data={"csrf_token": csrf_from(page)})


def test_logout_expires_the_remember_cookie_with_the_same_attributes(client, make_user):
    make_user("alice")
    _login_remembered(client)
    response = _logout(client)
    remember = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]
    assert len(remember) == 1, remember
    header = remember[0]
    assert "Expires=Thu, 01 Jan 1970" in header and "Max-Age=0" in header
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    # The next page load does not sign the user back in.
    assert client.get_cookie("remember_token") is None
    assert not _signed_in(client)


def test_logout_expiry_is_secure_when_the_site_is_https(app, client, make_user):
    make_user("alice")
    _login_remembered(client)
    app.config["REMEMBER_COOKIE_SECURE"] = True
    try:
        response = _logout(client)
    finally:
        app.config["REMEMBER_COOKIE_SECURE"] = False
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "Secure" in header


def test_session_and_remember_cookie_captured_before_logout_are_dead_after(app, client, make_user):
    make_user("alice")
    _login_remembered(client)
    session_cookie = client.get_cookie("session").value
    remember_cookie = client.get_cookie("remember_token").value
    # Before the logout, each cookie alone signs in (the copy an attacker would take).
    assert _signed_in(_set_cookies_of(app, {"session": session_cookie}))
    assert _signed_in(_set_cookies_of(app, {"remember_token": remember_cookie}))
    assert _logout(client).status_code == 302
    assert not _signed_in(_set_cookies_of(app, {"session": session_cookie}))
    assert not _signed_in(_set_cookies_of(app, {"remember_token": remember_cookie}))
    assert not _signed_in(_set_cookies_of(app, {"session": session_cookie, "remember_token": remember_cookie}))


def _remember_only_client(app, client, name: str = "alice"):
    _login_remembered(client, name)
    return _set_cookies_of(app, {"remember_token": client.get_cookie("remember_token").value})


def test_remember_cookie_alone_cannot_mint_a_token_on_the_web(app, client, make_user):
    make_user("alice")
    stale = _remember_only_client(app, client)
    page = stale.get("/settings/tokens")
    assert page.status_code == 200  # reading is fine
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "name": "stolen", "scopes": "read,write"}
    response = stale.post("/settings/tokens", data=data, headers={"Referer": "http://localhost/settings/tokens"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/reauth?next=/settings/tokens")
    assert b"stolen" not in stale.get("/settings/tokens").data
    # Typing the password makes the session fresh; then it works.
    reauth = stale.get("/reauth?next=/settings/tokens").get_data(as_text=True)
    wrong = stale.post("/reauth?next=/settings/tokens",
                       data={"csrf_token": csrf_from(reauth), "password": "nope nope!"})
    assert wrong.status_code == 401
    ok = stale.post("/reauth?next=/settings/tokens", data={"csrf_token": csrf_from(reauth), "password": PASSWORD})
    assert ok.status_code == 302 and ok.headers["Location"] == "/settings/tokens"
    done = stale.post("/settings/tokens", data=data)
    assert done.status_code == 200 and b"new-token" in done.data


def test_remember_cookie_alone_cannot_mint_a_token_or_export_through_the_api(app, client, make_user):
    make_user("alice")
    stale = _remember_only_client(app, client)
    csrf = csrf_from(stale.get("/settings/tokens").get_data(as_text=True))
    response = stale.post("/api/v1/tokens", json={"name": "stolen", "scopes": ["read", "write"]},
                          headers={"X-CSRFToken": csrf})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "fresh_login_required"
    response = stale.post("/api/v1/export", headers={"X-CSRFToken": csrf})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "fresh_login_required"
    # A fresh session (password typed) may create a token through the API, with the CSRF header.
    fresh_csrf = csrf_from(client.get("/settings/tokens").get_data(as_text=True))
    assert client.post("/api/v1/tokens", json={"name": "x"}).status_code == 400  # no CSRF header
    created = client.post("/api/v1/tokens", json={"name": "ok", "scopes": ["read"]},
                          headers={"X-CSRFToken": fresh_csrf})
    assert created.status_code == 201 and created.get_json()["token"].startswith("itr_")


def test_remember_cookie_alone_cannot_change_email_export_or_delete(app, client, make_user):
    make_user("alice")
    stale = _remember_only_client(app, client)
    page = stale.get("/settings/profile").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "email": "attacker@evil.example", "username": "alice",
            "display_name": "", "company": "", "job_title": ""}
    response = stale.post("/settings/profile", data=data)
    assert response.status_code == 302 and response.headers["Location"].startswith("/reauth")
    assert b"attacker@evil.example" not in stale.get("/settings/profile").data
    # Other profile fields stay editable without a password (correction at any time).
    data.update(email="alice@example.com", display_name="Alice A")
    assert stale.post("/settings/profile", data=data).headers["Location"] == "/settings/profile"
    privacy = stale.get("/settings/privacy").get_data(as_text=True)
    csrf = csrf_from(privacy)
    assert stale.post("/settings/privacy/export", data={"csrf_token": csrf}).headers["Location"].startswith("/reauth")
    assert b"being prepared" not in stale.get("/settings/privacy").data
    deleted = stale.post("/settings/privacy/delete", data={"csrf_token": csrf, "del-password": PASSWORD})
    assert deleted.headers["Location"].startswith("/reauth")
    assert _signed_in(stale)
    password = stale.post("/settings/password", data={"csrf_token": csrf, "pw-current_password": PASSWORD,
                                                      "pw-new_password": "another long password"})
    assert password.headers["Location"].startswith("/reauth")


def test_ownership_transfer_needs_a_fresh_login(app, client, make_user, token_for):
    from tests.client_support import bearer

    alice, _ = make_user("alice")
    make_user("bob")
    owner = bearer(token_for(alice))
    client.post("/api/v1/teams", json={"name": "Alpha"}, headers=owner)
    client.post("/api/v1/teams/alpha/members", json={"email": "bob@example.com", "role": "editor"}, headers=owner)
    stale = _remember_only_client(app, app.test_client())
    csrf = csrf_from(stale.get("/teams/alpha").get_data(as_text=True))
    response = stale.post("/teams/alpha/members/bob/role", data={"csrf_token": csrf, "role": "owner"})
    assert response.headers["Location"].startswith("/reauth")
    api = stale.patch("/api/v1/teams/alpha/members/bob", json={"role": "owner"}, headers={"X-CSRFToken": csrf})
    assert api.status_code == 401 and api.get_json()["error"]["code"] == "fresh_login_required"
    members = client.get("/api/v1/teams/alpha/members", headers=owner).get_json()["items"]
    assert {m["username"]: m["role"] for m in members}["bob"] == "editor"
    # Ordinary role changes do not ask.
    ok = stale.post("/teams/alpha/members/bob/role", data={"csrf_token": csrf, "role": "viewer"})
    assert ok.headers["Location"] == "/teams/alpha"


def test_a_fresh_login_goes_stale_after_the_window(app, client, make_user):
    make_user("alice")
    token = get_csrf(client, "/login")
    client.post("/login", data={"login": "alice", "password": PASSWORD, "csrf_token": token})
    with client.session_transaction() as sess:
        sess["_fresh_at"] -= 2 * 3600
    page = client.get("/settings/tokens").get_data(as_text=True)
    response = client.post("/settings/tokens", data={"csrf_token": csrf_from(page), "name": "x", "scopes": "read"})
    assert response.headers["Location"].startswith("/reauth")
