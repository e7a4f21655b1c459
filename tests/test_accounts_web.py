"""Sign-up, log-in, sessions, CSRF, redirects and rate limits through the real web forms."""

from __future__ import annotations

import pytest

from tests.client_support import PASSWORD, csrf_from, get_csrf


def signup(client, **fields):
    data = {"email": "bob@example.com", "username": "bob", "password": PASSWORD, "age_confirmed": "y"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    data["csrf_token"] = get_csrf(client, "/signup")
    return client.post("/signup", data=data)


def test_signup_creates_account_and_logs_in(client):
    response = signup(client)
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert b"Create your first team" in client.get("/").data


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"email": ""}, "email", "Email is required"),
        ({"username": "-bad-"}, "username", "Username: 1-39"),
        ({"username": "admin"}, "username", "reserved"),
        ({"username": ""}, "username", "Username is required"),
        ({"password": "short"}, "password", "at least 10 characters"),
        ({"password": "é" * 37}, "password", "at most 72 bytes"),
        ({"age_confirmed": None}, "age_confirmed", "16 or older"),
    ],
)
def test_signup_field_errors(client, fields, field, message):
    response = signup(client, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'data-field="{field}"' in html
    assert message in html
    # nothing was created
    assert client.get("/").status_code == 200 and b"Every version" in client.get("/").data


def test_duplicate_email_and_username_are_case_insensitive(client, make_user):
    make_user("Carol", email="Carol@Example.com")
    response = signup(client, email="carol@EXAMPLE.com", username="someone")
    assert response.status_code == 422 and b"already exists" in response.data
    response = signup(client, email="other@example.com", username="CAROL")
    assert response.status_code == 422 and b"taken" in response.data


def test_login_by_email_and_by_username(client, make_user, login):
    make_user("dave", email="dave@example.com")
    assert login("dave@example.com").status_code == 302
    client.post("/logout", data={"csrf_token": get_csrf(client, "/settings/profile")})
    assert client.get("/settings/profile").status_code == 302
    assert login("DAVE").status_code == 302
    assert client.get("/settings/profile").status_code == 200


def test_unknown_user_and_wrong_password_answer_alike(client, make_user, login):
    make_user("erin")
    wrong = login("erin", "wrong password!!")
    unknown = login("nobody-here", "wrong password!!")
    assert wrong.status_code == unknown.status_code == 401
    assert b"Login or password is not correct." in wrong.data
    assert b"Login or password is not correct." in unknown.data


def test_multibyte_password_policy_same_at_set_and_verify(client, make_user, login):
    # 24 three-byte characters = 72 bytes: accepted, and verifies exactly (no truncation surprises).
    password = "€" * 24
    make_user("frank", password=password)
    assert login("frank", password).status_code == 302
    client.post("/logout", data={"csrf_token": get_csrf(client, "/settings/profile")})
    # One more character is over 72 bytes: refused at verify too, not silently truncated to a match.
    assert login("frank", password + "€").status_code == 401


def test_csrf_token_required_on_forms(client, make_user):
    make_user("gina")
    response = client.post("/login", data={"login": "gina", "password": PASSWORD})
    assert response.status_code == 400
    response = client.post("/signup", data={"email": "x@example.com", "username": "x", "password": PASSWORD,
                                            "age_confirmed": "y", "csrf_token": "forged"})
    assert response.status_code == 400


def test_password_change_ends_other_sessions_and_remember_cookies(app, make_user, login):
    make_user("hank")
    first, second = app.test_client(), app.test_client()
    login("hank", c=first)
    token = get_csrf(second, "/login")
    second.post("/login", data={"login": "hank", "password": PASSWORD, "remember": "y", "csrf_token": token})
    assert second.get("/settings/profile").status_code == 200
    page = first.get("/settings/profile").get_data(as_text=True)
    response = first.post("/settings/password", data={
        "csrf_token": csrf_from(page), "pw-current_password": PASSWORD, "pw-new_password": "a brand new secret"})
    assert response.status_code == 302
    assert first.get("/settings/profile").status_code == 200, "the session that changed it continues"
    second.delete_cookie("session")  # even with the remember-cookie alone, the old session is void
    assert second.get("/settings/profile").status_code == 302


def test_password_change_checks_current_password(client, make_user, login):
    make_user("ivy")
    login("ivy")
    page = client.get("/settings/profile").get_data(as_text=True)
    response = client.post("/settings/password", data={
        "csrf_token": csrf_from(page), "pw-current_password": "wrong one!!", "pw-new_password": "a brand new secret"})
    assert response.status_code == 422 and b"current password is not correct" in response.data


def test_new_session_on_login(client, make_user, login):
    make_user("jack")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login("jack")
    with client.session_transaction() as session:
        assert "planted" not in session


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/x",
                                    "javascript:alert(1)"])
def test_open_redirect_refused(client, make_user, login, target):
    make_user("kate")
    response = login("kate", next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_same_site_next_is_followed(client, make_user, login):
    make_user("liam")
    response = login("liam", next_url="/settings/tokens")
    assert response.headers["Location"] == "/settings/tokens"


def test_login_rate_limited_per_account(client, make_user, login):
    make_user("mona")
    statuses = [login("mona", "wrong password!!").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    # The limit is per account: another login is still allowed from the same address.
    make_user("nick")
    assert login("nick").status_code == 302


def test_profile_correction(client, make_user, login):
    make_user("olga")
    make_user("pete")
    login("olga")
    page = client.get("/settings/profile").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "email": "olga.new@example.com", "username": "olga2",
            "display_name": "Olga N", "company": "ACME", "job_title": "NetOps"}
    assert client.post("/settings/profile", data=data).status_code == 302
    html = client.get("/settings/profile").get_data(as_text=True)
    for value in ("olga.new@example.com", "olga2", "Olga N", "ACME", "NetOps"):
        assert value in html
    data["username"] = "PETE"
    response = client.post("/settings/profile", data=data)
    assert response.status_code == 422 and b"taken" in response.data


def test_session_cookie_flags(client, make_user, login):
    make_user("quinn")
    response = login("quinn")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_when_public_url_is_https(config):
    from app import create_app

    app = create_app(config.with_changes(public_url="https://trace.example"))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_logout_requires_post(client, make_user, login):
    make_user("rita")
    login("rita")
    assert client.get("/logout").status_code == 405
    assert client.get("/settings/profile").status_code == 200
