"""Issue 12, finding 5: a team always keeps a live owner; deleted accounts stop counting at once."""

from __future__ import annotations

from app.extensions import db
from app.models import User
from app.services import deletion
from tests.client_support import PASSWORD, bearer


def _team_with_two_owners(client, make_user, token_for):
    alice, _ = make_user("alice")
    bob, _ = make_user("bob")
    make_user("carol")
    owner = bearer(token_for(alice))
    assert client.post("/api/v1/teams", json={"name": "Alpha"}, headers=owner).status_code == 201
    for name, role in (("bob", "owner"), ("carol", "editor")):
        added = client.post("/api/v1/teams/alpha/members", json={"email": f"{name}@example.com", "role": role},
                            headers=owner)
        assert added.status_code == 201
    return alice, bob, owner


def _delete_account(app, user_id: str) -> None:
    with app.test_request_context():
        deletion.request_deletion(db.session.get(User, user_id), PASSWORD)
        db.session.commit()


def test_last_live_owner_cannot_demote_themselves_when_the_other_owner_was_deleted(app, client, make_user,
                                                                                   token_for):
    _alice, bob, owner = _team_with_two_owners(client, make_user, token_for)
    _delete_account(app, bob)
    response = client.patch("/api/v1/teams/alpha/members/alice", json={"role": "admin"}, headers=owner)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "last_owner"
    roles = {m["username"]: m["role"] for m in
             client.get("/api/v1/teams/alpha/members", headers=owner).get_json()["items"]}
    assert roles["alice"] == "owner"


def test_last_live_owner_cannot_leave_when_the_other_owner_was_deleted(app, client, make_user, token_for):
    _alice, bob, owner = _team_with_two_owners(client, make_user, token_for)
    _delete_account(app, bob)
    response = client.delete("/api/v1/teams/alpha/members/alice", headers=owner)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "last_owner"


def test_with_two_live_owners_one_may_step_down(client, make_user, token_for):
    _alice, _bob, owner = _team_with_two_owners(client, make_user, token_for)
    assert client.patch("/api/v1/teams/alpha/members/alice", json={"role": "admin"}, headers=owner).status_code == 200


def test_a_deleted_owner_may_be_demoted_or_removed_by_the_live_one(app, client, make_user, token_for):
    _alice, bob, owner = _team_with_two_owners(client, make_user, token_for)
    _delete_account(app, bob)
    assert client.patch("/api/v1/teams/alpha/members/bob", json={"role": "viewer"}, headers=owner).status_code == 200
    assert client.delete("/api/v1/teams/alpha/members/bob", headers=owner).status_code == 204


def test_web_leave_is_refused_for_the_last_live_owner(app, client, make_user, token_for, login):
    from tests.client_support import csrf_from

    _alice, bob, _owner = _team_with_two_owners(client, make_user, token_for)
    _delete_account(app, bob)
    login("alice")
    csrf = csrf_from(client.get("/teams/alpha").get_data(as_text=True))
    response = client.post("/teams/alpha/members/alice/remove", data={"csrf_token": csrf}, follow_redirects=True)
    assert "at least one owner" in response.get_data(as_text=True)
    assert client.get("/teams/alpha").status_code == 200
