"""Issue 12, finding 4: an address must be verified (signed, expiring link) before it joins a team."""

from __future__ import annotations

import time

from app.extensions import db
from app.models import Invitation, Membership, User
from tests.accounts_support import link_in, mails
from tests.client_support import PASSWORD, bearer, csrf_from, get_csrf


def signup(client, email: str = "newhire@acme.example", username: str = "newhire"):
    data = {"email": email, "username": username, "password": PASSWORD, "age_confirmed": "y",
            "csrf_token": get_csrf(client, "/signup")}
    return client.post("/signup", data=data)


def _user(app, username: str) -> User:
    with app.app_context():
        user = db.session.query(User).filter_by(username_key=username).one()
        db.session.expunge(user)
        return user


def test_signup_mails_a_verification_link_that_verifies(app, client):
    assert signup(client).status_code == 302
    assert _user(app, "newhire").email_verified_at is None
    [mail] = mails(app, "newhire@acme.example")
    path = link_in(mail, "/verify-email/")
    other = app.test_client()  # the link works from any browser (the mail may be read elsewhere)
    response = other.get(path)
    assert response.status_code == 200 and "is verified" in response.get_data(as_text=True)
    assert _user(app, "newhire").email_verified_at is not None


def test_forged_or_tampered_links_are_refused(app, client):
    signup(client)
    path = link_in(mails(app, "newhire@acme.example")[0], "/verify-email/")
    assert client.get(path[:-3] + "abc").status_code == 400
    assert client.get("/verify-email/not-a-token").status_code == 400
    assert _user(app, "newhire").email_verified_at is None


def test_verification_links_expire(app, client, monkeypatch):
    signup(client)
    path = link_in(mails(app, "newhire@acme.example")[0], "/verify-email/")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 4 * 24 * 3600)
    response = client.get(path)
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)


def test_unverified_account_is_invited_not_added(app, client, make_user, token_for):
    """Whoever registers newhire@acme.example first does not become the new hire's editor."""
    owner_id, _ = make_user("owner")
    owner = bearer(token_for(owner_id))
    client.post("/api/v1/teams", json={"name": "Acme"}, headers=owner)
    attacker = app.test_client()
    signup(attacker)  # unverified
    response = client.post("/api/v1/teams/acme/members", json={"email": "newhire@acme.example", "role": "editor"},
                           headers=owner)
    assert response.status_code == 202 and response.get_json()["status"] == "invited"
    with app.app_context():
        assert db.session.query(Membership).join(User).filter(User.username_key == "newhire").count() == 0
        assert db.session.query(Invitation).filter_by(email="newhire@acme.example").count() == 1
    listed = client.get("/api/v1/teams/acme/members", headers=owner).get_json()
    assert [i["email"] for i in listed["invitations"]] == ["newhire@acme.example"]
    assert "newhire" not in [m["username"] for m in listed["items"]]
    # The invitation went to the mailbox; the attacker's session cannot see the team.
    assert attacker.get("/teams/acme").status_code == 404
    assert any("Invitation to join Acme" in m.subject for m in mails(app, "newhire@acme.example"))
    # Adding them again answers the same (no duplicate member, still invited).
    again = client.post("/api/v1/teams/acme/members", json={"email": "newhire@acme.example", "role": "editor"},
                        headers=owner)
    assert again.status_code == 202


def test_verified_account_is_added_at_once_and_the_owner_sees_pending_invites_on_the_page(app, client, make_user,
                                                                                           token_for, login):
    owner_id, _ = make_user("owner")
    make_user("verified")
    make_user("pending", verified=False)
    owner = bearer(token_for(owner_id))
    client.post("/api/v1/teams", json={"name": "Acme"}, headers=owner)
    added = client.post("/api/v1/teams/acme/members", json={"email": "verified@example.com", "role": "viewer"},
                        headers=owner)
    assert added.status_code == 201
    login("owner")
    csrf = csrf_from(client.get("/teams/acme").get_data(as_text=True))
    client.post("/teams/acme/members", data={"csrf_token": csrf, "email": "pending@example.com", "role": "editor"})
    page = client.get("/teams/acme").get_data(as_text=True)
    assert "pending@example.com as editor, pending" in page


def test_email_change_needs_verification_again_and_tells_the_old_address(app, client, make_user, login):
    make_user("alice")
    login("alice")
    page = client.get("/settings/profile").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "email": "alice.new@example.com", "username": "alice",
            "display_name": "", "company": "", "job_title": ""}
    assert client.post("/settings/profile", data=data).status_code == 302
    assert _user(app, "alice").email_verified_at is None
    [notice] = mails(app, "alice@example.com")
    assert "changed" in notice.subject and "alice.new@example.com" in notice.body
    [verify] = mails(app, "alice.new@example.com")
    path = link_in(verify, "/verify-email/")
    assert client.get(path).status_code == 200
    assert _user(app, "alice").email_verified_at is not None


def test_a_link_sent_to_the_old_address_stops_working_after_a_change(app, client, make_user, login):
    signup(client, email="first@example.com", username="first")
    old_link = link_in(mails(app, "first@example.com")[0], "/verify-email/")
    page = client.get("/settings/profile").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "email": "second@example.com", "username": "first",
            "display_name": "", "company": "", "job_title": ""}
    assert client.post("/settings/profile", data=data).status_code == 302
    assert client.get(old_link).status_code == 400
    assert _user(app, "first").email_verified_at is None


def test_resend_verification(app, client):
    signup(client)
    csrf = csrf_from(client.get("/settings/profile").get_data(as_text=True))
    assert client.post("/verify-email/resend", data={"csrf_token": csrf}).status_code == 302
    assert len(mails(app, "newhire@acme.example")) == 2
