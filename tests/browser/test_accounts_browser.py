"""Issue 12 in a real browser: logout, fresh-login prompts, password reset and email verification
through the mail outbox, and the policy-change banner."""

from __future__ import annotations

import time

import pytest

from app.extensions import db
from tests.accounts_support import link_in, mails
from tests.client_support import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, name: str = "walker", password: str = PASSWORD, remember: bool = False) -> None:
    page.goto("/login")
    page.fill("input[name=login]", name)
    page.fill("input[name=password]", password)
    if remember:
        page.check("input[name=remember]")
    page.click("main button[type=submit]")
    page.wait_for_url("**/")


def wait_for_mail(app, to: str, subject: str, timeout: float = 15.0):
    """The mail job runs after the response is sent: poll the outbox with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in mails(app, to) if subject in m.subject]
        if found:
            return found[-1]
        assert time.monotonic() < deadline, f"no {subject!r} mail to {to}"
        time.sleep(0.05)


def cookie_names(page) -> set[str]:
    return {cookie["name"] for cookie in page.context.cookies()}


def test_logout_ends_session_and_remember_cookie(page, make_user):
    make_user("walker")
    log_in(page, remember=True)
    assert {"session", "remember_token"} <= cookie_names(page)
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login")
    assert "remember_token" not in cookie_names(page)
    page.goto("/settings/profile")
    page.wait_for_url("**/login**")
    assert "Log in" in page.inner_text("h1")


def test_a_remembered_browser_is_asked_for_the_password_before_minting_a_token(page, make_user):
    make_user("walker")
    log_in(page, remember=True)
    remember = next(c for c in page.context.cookies() if c["name"] == "remember_token")
    page.context.clear_cookies()  # the browser was closed: only the remember cookie is left
    page.context.add_cookies([remember])
    page.goto("/settings/tokens")
    page.fill("input[name=name]", "laptop")
    page.click("button:has-text('Create token')")
    page.wait_for_url("**/reauth**")
    assert "Please confirm your password" in page.inner_text(".flash")
    page.fill("input[name=password]", "not the password")
    page.click("main button[type=submit]")
    assert "This password is not correct." in page.content()
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/settings/tokens")
    page.fill("input[name=name]", "laptop")
    page.click("button:has-text('Create token')")
    assert page.inner_text("#new-token").startswith("itr_")


def test_password_reset_through_the_outbox(page, app, make_user):
    make_user("walker")
    page.goto("/login")
    page.click("text=Forgot your password?")
    page.fill("input[name=email]", "walker@example.com")
    page.click("main button[type=submit]")
    assert "If an account with a verified email address matches" in page.inner_text("#message")
    mail = wait_for_mail(app, "walker@example.com", "Reset")
    page.goto(link_in(mail, "/reset-password/"))
    assert "personal access tokens keep working" in page.content()
    page.fill("input[name=new_password]", "short")
    page.click("main button[type=submit]")
    assert "at least 10 characters" in page.content()
    page.fill("input[name=new_password]", "a brand new password")
    page.click("main button[type=submit]")
    page.wait_for_url("**/login")
    assert "every session signed out" in page.inner_text(".flash")
    log_in(page, password="a brand new password")
    page.goto(link_in(mail, "/reset-password/"))
    assert "already used" in page.inner_text("#message")


def test_verification_link_from_the_outbox(page, app):
    page.goto("/signup")
    page.fill("input[name=email]", "fresh@example.com")
    page.fill("input[name=username]", "freshuser")
    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=age_confirmed]")
    page.click("main button[type=submit]")
    page.wait_for_url("**/")
    page.goto("/settings/profile")
    assert "not verified yet" in page.inner_text("#email-status")
    page.click("text=Outbox")
    assert "Verify your email address" in page.content()
    [mail] = mails(app, "fresh@example.com")
    page.goto(link_in(mail, "/verify-email/"))
    assert "is verified" in page.inner_text("#message")
    page.goto("/settings/profile")
    assert "Email verified." in page.inner_text("#email-status")


def test_policy_banner_until_dismissed(page, app, make_user):
    from app.services.policy import publish

    make_user("walker")
    with app.app_context():
        publish("2027-03-01", "Security logs are now kept for 90 days.")
        db.session.commit()
    log_in(page)
    assert "Security logs are now kept for 90 days." in page.inner_text("#policy-banner")
    page.goto("/settings/profile")
    assert page.is_visible("#policy-banner")
    page.click("#policy-banner button:has-text('Dismiss')")
    page.wait_for_url("**/settings/profile")
    assert not page.is_visible("#policy-banner")
    page.goto("/")
    assert not page.is_visible("#policy-banner")
    page.goto("/privacy")
    assert "Current version: 2027-03-01" in page.inner_text("#policy-version")
