"""Teams, members and invitations over the API and the web pages."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import OutboxMail
from tests.client_support import assert_error, bearer, csrf_from, get_csrf


def test_create_team_makes_owner(client, make_user, token_for):
    uid, _ = make_user("alice")
    secret = token_for(uid)
    response = client.post("/api/v1/teams", json={"name": "Core Network"}, headers=bearer(secret))
    assert response.status_code == 201
    body = response.get_json()
    assert body["slug"] == "core-network" and body["role"] == "owner" and body["plan"]
    again = client.post("/api/v1/teams", json={"name": "Core Network"}, headers=bearer(secret)).get_json()
    assert again["slug"] == "core-network-2"
    team = client.get("/api/v1/teams/core-network", headers=bearer(secret)).get_json()
    assert team["name"] == "Core Network" and "limits" in team
    me = client.get("/api/v1/me", headers=bearer(secret)).get_json()
    assert {"slug": "core-network", "name": "Core Network", "role": "owner"} in me["teams"]


def test_other_team_is_404(client, make_user, token_for):
    a, _ = make_user("alice")
    b, _ = make_user("bob")
    client.post("/api/v1/teams", json={"name": "Alpha"}, headers=bearer(token_for(a)))
    assert_error(client.get("/api/v1/teams/alpha", headers=bearer(token_for(b))), 404)
    assert_error(client.get("/api/v1/teams/alpha/members", headers=bearer(token_for(b))), 404)


def test_add_existing_user_and_change_role_and_remove(client, make_user, token_for):
    a, _ = make_user("alice")
    make_user("bob")
    owner = bearer(token_for(a))
    client.post("/api/v1/teams", json={"name": "Alpha"}, headers=owner)
    response = client.post("/api/v1/teams/alpha/members", json={"email": "BOB@example.com", "role": "editor"},
                           headers=owner)
    assert response.status_code == 201 and response.get_json()["role"] == "editor"
    assert_error(client.post("/api/v1/teams/alpha/members", json={"email": "bob@example.com", "role": "viewer"},
                             headers=owner), 409)
    assert_error(client.post("/api/v1/teams/alpha/members", json={"email": "bob@example.com", "role": "king"},
                             headers=owner), 422)
    changed = client.patch("/api/v1/teams/alpha/members/bob", json={"role": "admin"}, headers=owner)
    assert changed.status_code == 200 and changed.get_json()["role"] == "admin"
    members = client.get("/api/v1/teams/alpha/members", headers=owner).get_json()["items"]
    assert {(m["username"], m["role"]) for m in members} == {("alice", "owner"), ("bob", "admin")}
    assert client.delete("/api/v1/teams/alpha/members/bob", headers=owner).status_code == 204
    assert_error(client.delete("/api/v1/teams/alpha/members/bob", headers=owner), 404)


def test_team_keeps_an_owner(client, make_user, token_for):
    a, _ = make_user("alice")
    owner = bearer(token_for(a))
    client.post("/api/v1/teams", json={"name": "Alpha"}, headers=owner)
    assert_error(client.patch("/api/v1/teams/alpha/members/alice", json={"role": "admin"}, headers=owner), 409,
                 "last_owner")
    assert_error(client.delete("/api/v1/teams/alpha/members/alice", headers=owner), 409, "last_owner")


def test_invitation_for_new_user_by_mail_single_use(app, client, make_user, token_for, login):
    a, _ = make_user("alice")
    owner = bearer(token_for(a))
    client.post("/api/v1/teams", json={"name": "Alpha"}, headers=owner)
    response = client.post("/api/v1/teams/alpha/members", json={"email": "newbie@example.com", "role": "viewer"},
                           headers=owner)
    assert response.status_code == 202 and response.get_json()["status"] == "invited"
    with app.app_context():
        mail = db.session.query(OutboxMail).filter_by(to="newbie@example.com").one()
        link = re.search(r"http://localhost(/invitations/\S+)", mail.body).group(1)
    make_user("newbie", email="newbie@example.com")
    visitor = app.test_client()
    assert visitor.get(link).status_code == 302  # must log in first
    login("newbie", c=visitor)
    page = visitor.get(link)
    assert page.status_code == 200 and b"Join Alpha" in page.data
    accepted = visitor.post(link, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert accepted.status_code == 302
    members = client.get("/api/v1/teams/alpha/members", headers=owner).get_json()["items"]
    assert ("newbie", "viewer") in {(m["username"], m["role"]) for m in members}
    assert visitor.get(link).status_code == 404, "the link works once"


def test_expired_invitation_refused(app, client, make_user, token_for, login):
    from datetime import UTC, datetime, timedelta

    from app.models import Invitation

    a, _ = make_user("alice")
    owner = bearer(token_for(a))
    client.post("/api/v1/teams", json={"name": "Alpha"}, headers=owner)
    client.post("/api/v1/teams/alpha/members", json={"email": "late@example.com", "role": "viewer"}, headers=owner)
    with app.app_context():
        link = re.search(r"(/invitations/\S+)", db.session.query(OutboxMail).one().body).group(1)
        invitation = db.session.query(Invitation).one()
        invitation.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    make_user("late", email="late@example.com")
    login("late")
    assert client.get(link).status_code == 404


def test_team_pages(client, make_user, login):
    make_user("alice")
    make_user("bob")
    login("alice")
    assert b"Create your first team" in client.get("/").data
    token = get_csrf(client, "/teams/new")
    response = client.post("/teams/new", data={"name": "Edge", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/teams/edge"
    page = client.get("/teams/edge").get_data(as_text=True)
    assert "Invite" in page and "alice" in page
    client.post("/teams/edge/members", data={"email": "bob@example.com", "role": "editor",
                                             "csrf_token": csrf_from(page)})
    page = client.get("/teams/edge").get_data(as_text=True)
    assert "bob" in page
    client.post("/teams/edge/members/bob/role", data={"role": "viewer", "csrf_token": csrf_from(page)})
    page = client.get("/teams/edge").get_data(as_text=True)
    assert 'value="viewer" selected' in page or "selected value=\"viewer\"" in page
    empty = client.post("/teams/new", data={"name": "", "csrf_token": token})
    assert empty.status_code == 422 and b"Name is required" in empty.data
    assert client.get("/teams/nope").status_code == 404


def test_outbox_shows_dev_mail(client, make_user, login, token_for):
    a, _ = make_user("alice")
    make_user("bob")
    client.post("/api/v1/teams", json={"name": "Alpha"}, headers=bearer(token_for(a)))
    client.post("/api/v1/teams/alpha/members", json={"email": "bob@example.com", "role": "viewer"},
                headers=bearer(token_for(a)))
    login("bob")
    assert b"You were added to Alpha" in client.get("/dev/outbox").data
