"""Issue 12, policy promise: notice of policy changes (email, in-app banner until dismissed, version)."""

from __future__ import annotations

import pytest

from app.cli import main
from app.extensions import db
from app.models import User, utcnow
from app.services.policy import BASE_VERSION
from tests.accounts_support import mails
from tests.client_support import PASSWORD, csrf_from, get_csrf


@pytest.fixture
def cli_env(monkeypatch, config):
    monkeypatch.setenv("INFRATRACE_DATA", str(config.data_dir))
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("SECRET_KEY", config.secret_key)
    monkeypatch.setenv("PUBLIC_URL", "http://localhost")
    if config.redis_url:
        monkeypatch.setenv("REDIS_URL", config.redis_url)


def _publish(tmp_path, version: str, text: str = "We now keep security logs for 90 days.") -> int:
    summary = tmp_path / "summary.txt"
    summary.write_text(text)
    return main(["notify-policy-change", "--version", version, "--summary", str(summary)])


def test_signup_records_the_accepted_version_and_the_privacy_page_states_it(app, client):
    data = {"email": "bob@example.com", "username": "bob", "password": PASSWORD, "age_confirmed": "y",
            "csrf_token": get_csrf(client, "/signup")}
    client.post("/signup", data=data)
    with app.app_context():
        assert db.session.query(User).one().policy_version_accepted == BASE_VERSION
    public = client.get("/privacy").get_data(as_text=True)
    assert f"Current version: {BASE_VERSION}" in public
    assert f"Privacy policy version {BASE_VERSION}" in client.get("/settings/privacy").get_data(as_text=True)


def test_notify_policy_change_mails_every_active_user_and_shows_a_banner_until_dismissed(
        app, client, make_user, login, cli_env, tmp_path, capsys):
    make_user("alice")
    make_user("bob")
    gone, _ = make_user("carol")
    with app.app_context():
        db.session.get(User, gone).deleted_at = utcnow()
        db.session.commit()
    assert _publish(tmp_path, "2027-01-15") == 0
    assert "2 active user(s) notified" in capsys.readouterr().out
    notified = {m.to for m in mails(app) if "privacy policy changes" in m.subject}
    assert notified == {"alice@example.com", "bob@example.com"}
    assert "90 days" in mails(app, "alice@example.com")[-1].body
    login("alice")
    page = client.get("/").get_data(as_text=True)
    assert 'id="policy-banner"' in page and "2027-01-15" in page and "90 days" in page
    assert 'id="policy-banner"' in client.get("/settings/profile").get_data(as_text=True)  # on every page
    assert "Current version: 2027-01-15" in client.get("/privacy").get_data(as_text=True)
    response = client.post("/policy-notice/dismiss", data={"csrf_token": csrf_from(page), "next": "/settings/profile"})
    assert response.headers["Location"] == "/settings/profile"
    assert 'id="policy-banner"' not in client.get("/").get_data(as_text=True)
    # Someone who signs up under the new version never sees the banner for it.
    fresh = app.test_client()
    fresh.post("/signup", data={"email": "dan@example.com", "username": "dan", "password": PASSWORD,
                                "age_confirmed": "y", "csrf_token": get_csrf(fresh, "/signup")})
    assert 'id="policy-banner"' not in fresh.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.query(User).filter_by(username_key="dan").one().policy_version_accepted == "2027-01-15"


@pytest.mark.parametrize("version, text, message", [
    ("next week", "x", "must be a date"),
    ("2020-01-01", "x", "not newer"),
    ("2027-02-01", "   ", "empty"),
])
def test_bad_policy_versions_are_refused(app, cli_env, tmp_path, capsys, version, text, message):
    assert _publish(tmp_path, version, text) == 2
    assert message in capsys.readouterr().err
    assert mails(app) == []


def test_missing_summary_file(cli_env, tmp_path, capsys):
    assert main(["notify-policy-change", "--version", "2027-01-01", "--summary", str(tmp_path / "nope")]) == 2
    assert "Cannot read" in capsys.readouterr().err
