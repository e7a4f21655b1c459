"""Issue 12, policy promise: password reset by a single-use, expiring link bound to the password hash."""

from __future__ import annotations

import time

from tests.accounts_support import link_in, mails
from tests.client_support import PASSWORD, bearer, csrf_from, get_csrf

NEW = "a brand new password"


def forgot(client, email: str):
    csrf = get_csrf(client, "/forgot-password")
    response = client.post("/forgot-password", data={"email": email, "csrf_token": csrf})
    response.get_data()
    response.close()  # as every server does: the mail job runs once the response is sent
    return response


def reset_link(app, email: str = "alice@example.com") -> str:
    [mail] = [m for m in mails(app, email) if "Reset" in m.subject]
    return link_in(mail, "/reset-password/")


def choose(client, path: str, password: str = NEW):
    csrf = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={"new_password": password, "csrf_token": csrf})


def login_status(client, password: str) -> int:
    token = get_csrf(client, "/login")
    return client.post("/login", data={"login": "alice", "password": password, "csrf_token": token}).status_code


def test_same_answer_whether_or_not_the_address_exists(app, client, make_user):
    make_user("alice")
    make_user("unverified", verified=False)
    known = forgot(app.test_client(), "alice@example.com")
    unknown = forgot(app.test_client(), "nobody@example.com")
    unverified = forgot(app.test_client(), "unverified@example.com")
    invalid = forgot(app.test_client(), "not an address")
    assert known.status_code == unknown.status_code == unverified.status_code == invalid.status_code == 200
    assert known.data == unknown.data == unverified.data == invalid.data
    # Only the verified address gets a mail; nothing goes to the others.
    assert len([m for m in mails(app, "alice@example.com") if "Reset" in m.subject]) == 1
    assert not [m for m in mails(app) if "Reset" in m.subject and m.to != "alice@example.com"]


def test_the_mail_leaves_after_the_response_so_timing_does_not_tell(app, make_user, monkeypatch):
    """The request itself never sends mail (slow SMTP would give the address away): a job does."""
    from app.services import credentials

    make_user("alice")
    sent_during_request = []
    real_send = credentials.send_mail

    def spy(*args, **kwargs):
        from flask import has_request_context

        sent_during_request.append(has_request_context())
        return real_send(*args, **kwargs)

    monkeypatch.setattr(credentials, "send_mail", spy)
    forgot(app.test_client(), "alice@example.com")
    assert sent_during_request == [False]


def test_reset_link_sets_the_password_once_and_ends_every_session(app, client, make_user, token_for):
    uid, _ = make_user("alice")
    secret = token_for(uid)
    # A remembered session on another device, before the reset.
    other = app.test_client()
    token = get_csrf(other, "/login")
    other.post("/login", data={"login": "alice", "password": PASSWORD, "remember": "y", "csrf_token": token})
    assert other.get("/settings/profile").status_code == 200
    remember = other.get_cookie("remember_token").value
    forgot(client, "alice@example.com")
    path = reset_link(app)
    page = client.get(path).get_data(as_text=True)
    assert "personal access tokens keep working" in page
    response = choose(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert other.get("/settings/profile").status_code == 302  # the other session ended
    replay = app.test_client()
    replay.set_cookie("remember_token", remember, domain="localhost")
    assert replay.get("/settings/profile").status_code == 302  # and its remember cookie
    assert login_status(app.test_client(), PASSWORD) == 401
    assert login_status(app.test_client(), NEW) == 302
    # Tokens stay.
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    # The link was single-use: the hash it was bound to is gone.
    again = app.test_client().get(path)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)


def test_a_password_change_voids_an_outstanding_reset_link(app, client, make_user, login):
    make_user("alice")
    forgot(app.test_client(), "alice@example.com")
    path = reset_link(app)
    login("alice")
    csrf = csrf_from(client.get("/settings/profile").get_data(as_text=True))
    client.post("/settings/password", data={"csrf_token": csrf, "pw-current_password": PASSWORD,
                                            "pw-new_password": "changed it myself"})
    assert app.test_client().get(path).status_code == 400


def test_reset_links_expire_after_an_hour(app, make_user, monkeypatch):
    make_user("alice")
    forgot(app.test_client(), "alice@example.com")
    path = reset_link(app)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3601)
    response = app.test_client().get(path)
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)


def test_bad_new_passwords_and_forged_links(app, make_user):
    make_user("alice")
    client = app.test_client()
    forgot(client, "alice@example.com")
    path = reset_link(app)
    assert choose(client, path, "short").status_code == 422
    assert choose(client, path, "é" * 40).status_code == 422
    assert client.get("/reset-password/forged").status_code == 400
    assert client.get(path + "x").status_code == 400
    # The failed attempts did not use the link up.
    assert choose(client, path).status_code == 302


def test_forgot_password_form_errors(client):
    response = client.post("/forgot-password", data={"email": "", "csrf_token": get_csrf(client, "/forgot-password")})
    assert response.status_code == 422
    assert client.post("/forgot-password", data={"email": "a@b.example"}).status_code in (400, 422)  # no CSRF
    assert b"Forgot your password?" in client.get("/login").data
