"""Account deletion: DELETE /api/v1/me and Settings → Privacy lock the account out at once."""

from __future__ import annotations

import base64

from app.extensions import db
from app.models import ApiToken, SecurityEvent, Team, User
from tests.client_support import PASSWORD, assert_error, csrf_from, get_csrf
from tests.device_support import world_fixture  # noqa: F401  (fixture)

GIT_REFS = "/git/acme/core/sw1.git/info/refs?service=git-upload-pack"


def _basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def _remembered_client(app, login_name: str):
    c = app.test_client()
    token = get_csrf(c, "/login")
    response = c.post("/login", data={"login": login_name, "password": PASSWORD, "remember": "y", "csrf_token": token})
    assert response.status_code == 302
    return c


def test_deletion_ends_every_kind_of_access_now(world, app, client):
    world.create_device("sw1")
    editor_token = world.headers["editor"]["Authorization"].split()[1]
    session_client = _remembered_client(app, "the-editor")
    remember_only = _remembered_client(app, "the-editor")
    remember_only.delete_cookie("session")  # a later visit with nothing but the remember-cookie
    assert session_client.get("/settings/profile").status_code == 200
    assert client.get(GIT_REFS, headers=_basic("the-editor", editor_token)).status_code == 200

    response = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=world.headers["editor"])
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    assert body["purge_after"].endswith("Z") and body["deleted_at"].endswith("Z")

    assert session_client.get("/settings/profile").status_code == 302, "the browser session is void"
    assert remember_only.get("/settings/profile").status_code == 302, "the remember-cookie is void"
    assert_error(client.get("/api/v1/me", headers=world.headers["editor"]), 401)
    assert client.get(GIT_REFS, headers=_basic("the-editor", editor_token)).status_code == 401
    with app.app_context():
        user = db.session.get(User, world.user_ids["editor"])
        assert user.deleted_at is not None and (user.purge_after - user.deleted_at).days == 30
        tokens = db.session.query(ApiToken).filter_by(user_id=user.id).all()
        assert tokens and all(t.revoked_at is not None for t in tokens)
        kinds = [e.kind for e in db.session.query(SecurityEvent).filter_by(user_id=user.id)]
        assert "account_deleted" in kinds
    # Everyone else carries on.
    assert client.get(GIT_REFS, headers=_basic("the-owner", world.headers["owner"]["Authorization"].split()[1])
                      ).status_code == 200


def test_password_is_required_and_checked(world, app, client):
    headers = world.headers["editor"]
    assert_error(client.delete("/api/v1/me", headers=headers), 422, "required")
    assert_error(client.delete("/api/v1/me", json={}, headers=headers), 422, "required")
    assert_error(client.delete("/api/v1/me", json={"password": 12}, headers=headers), 422)
    assert_error(client.delete("/api/v1/me", json={"password": PASSWORD, "now": 1}, headers=headers), 422,
                 "unknown_field")
    error = assert_error(client.delete("/api/v1/me", json={"password": "not my password"}, headers=headers),
                         403, "wrong_password")
    assert "password" in error["message"]
    assert client.get("/api/v1/me", headers=headers).status_code == 200, "nothing happened"
    with app.app_context():
        assert db.session.get(User, world.user_ids["editor"]).deleted_at is None
        kinds = [e.kind for e in db.session.query(SecurityEvent).filter_by(user_id=world.user_ids["editor"])]
        assert "account_delete_failed" in kinds


def test_sole_owner_is_refused_and_solo_team_is_scheduled(world, app, client):
    error = assert_error(client.delete("/api/v1/me", json={"password": PASSWORD}, headers=world.headers["owner"]),
                         409, "sole_owner")
    assert error["teams"] == ["acme"] and "acme" in error["message"]
    assert client.get("/api/v1/me", headers=world.headers["owner"]).status_code == 200

    # With a second owner, the first may go; the team stays.
    assert client.patch("/api/v1/teams/acme/members/the-admin", json={"role": "owner"},
                        headers=world.headers["owner"]).status_code == 200
    assert client.delete("/api/v1/me", json={"password": PASSWORD}, headers=world.headers["owner"]).status_code == 202

    # The outsider is alone in team "other": it is scheduled for deletion with them.
    response = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=world.headers["outsider"])
    assert response.status_code == 202
    with app.app_context():
        other = db.session.query(Team).filter_by(slug="other").one()
        acme = db.session.query(Team).filter_by(slug="acme").one()
        outsider = db.session.query(User).filter_by(username="outsider").one()
        assert other.deleted_at is not None and other.purge_after == outsider.purge_after
        assert acme.deleted_at is None


def test_deleted_account_cannot_log_in_and_its_identity_stays_reserved(world, app, client, login):
    assert client.delete("/api/v1/me", json={"password": PASSWORD}, headers=world.headers["viewer"]).status_code == 202
    deleted = login("the-viewer", PASSWORD, c=app.test_client())
    wrong = login("the-admin", "a wrong password", c=app.test_client())
    assert deleted.status_code == wrong.status_code == 401
    assert b"Login or password is not correct." in deleted.data
    # A token cannot be minted with the password either.
    response = client.post("/api/v1/tokens", json={"name": "x"}, headers=_basic("the-viewer", PASSWORD))
    assert_error(response, 401, "bad_credentials")

    signup = app.test_client()
    page = signup.get("/signup").get_data(as_text=True)
    response = signup.post("/signup", data={"email": "THE-VIEWER@example.com", "username": "The-Viewer",
                                            "password": "another fine password", "age_confirmed": "y",
                                            "csrf_token": csrf_from(page)})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "An account with this email already exists." in text and "This username is taken." in text
    # Nor can anyone rename themselves into it.
    with app.app_context():
        import pytest

        from app.services import accounts
        from app.services.errors import ValidationError

        editor = db.session.get(User, world.user_ids["editor"])
        with pytest.raises(ValidationError):
            accounts.update_profile(editor, {"username": "the-viewer"})
        with pytest.raises(ValidationError):
            accounts.update_profile(editor, {"email": "the-viewer@example.com"})


def test_delete_from_the_settings_page(world, app, login):
    c = app.test_client()
    login("the-editor", c=c)
    page = c.get("/settings/privacy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Delete my account" in html and "Export my data" in html
    wrong = c.post("/settings/privacy/delete", data={"csrf_token": csrf_from(html), "del-password": "nope nope"})
    assert wrong.status_code == 403 and "not correct" in wrong.get_data(as_text=True)
    assert c.get("/settings/profile").status_code == 200
    empty = c.post("/settings/privacy/delete", data={"csrf_token": csrf_from(html), "del-password": ""})
    assert empty.status_code == 422
    done = c.post("/settings/privacy/delete", data={"csrf_token": csrf_from(html), "del-password": PASSWORD})
    assert done.status_code == 302 and "/login" in done.headers["Location"]
    assert c.get("/settings/profile").status_code == 302
    assert_error(c.get("/api/v1/me"), 401)


def test_sole_owner_is_told_on_the_settings_page(world, app, login):
    c = app.test_client()
    login("the-owner", c=c)
    html = c.get("/settings/privacy").get_data(as_text=True)
    assert 'id="sole-owner"' in html and "Acme" in html
    response = c.post("/settings/privacy/delete", data={"csrf_token": csrf_from(html), "del-password": PASSWORD})
    assert response.status_code == 409
    assert c.get("/settings/profile").status_code == 200
