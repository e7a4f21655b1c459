"""A person signs up, makes a team, invites a colleague and creates a token, in a real browser."""

from __future__ import annotations

import pytest

from tests.client_support import PASSWORD

pytestmark = pytest.mark.browser


def test_signup_team_invite_and_token(page, make_user):
    make_user("colleague")
    page.goto("/signup")
    page.fill("input[name=email]", "web@example.com")
    page.fill("input[name=username]", "webuser")
    page.fill("input[name=password]", "short")
    page.click("main button[type=submit]")
    assert "at least 10 characters" in page.inner_text("[data-field=password]")
    assert "16 or older" in page.inner_text("[data-field=age_confirmed]")
    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=age_confirmed]")
    page.click("main button[type=submit]")
    page.wait_for_url("**/")
    assert "Create your first team" in page.content()

    page.click("text=Create your first team")
    page.fill("input[name=name]", "Field Ops")
    page.click("main button[type=submit]")
    page.wait_for_url("**/teams/field-ops")
    page.fill("form.row input[name=email]", "colleague@example.com")
    page.select_option("form.row select[name=role]", "editor")
    page.click("form.row button[type=submit]")
    assert "Member added." in page.inner_text(".flash")
    assert "colleague" in page.inner_text("table.list")

    page.click("text=Tokens")
    page.fill("input[name=name]", "laptop")
    page.click("button:has-text('Create token')")
    token = page.inner_text("#new-token")
    assert token.startswith("itr_")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Revoke')")
    assert "Token revoked." in page.inner_text(".flash")


def test_login_error_and_logout(page, make_user):
    make_user("walker")
    page.goto("/login")
    page.fill("input[name=login]", "walker")
    page.fill("input[name=password]", "not the password")
    page.click("main button[type=submit]")
    assert "Login or password is not correct." in page.content()
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/")
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login")
    assert "You are logged out." in page.content()
