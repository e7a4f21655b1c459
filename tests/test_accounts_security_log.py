"""Issue 12, policy promise: security log and alerts (new sign-ins, bursts of failures, anomalies)."""

from __future__ import annotations

from app.extensions import db
from app.models import SecurityEvent
from tests.accounts_support import mails
from tests.client_support import PASSWORD, bearer, get_csrf

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0 Safari/537.36")


def browser(app, ip: str, agent: str):
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": ip, "HTTP_USER_AGENT": agent})
    return client


def web_login(client, login: str = "alice", password: str = PASSWORD) -> int:
    token = get_csrf(client, "/login")
    return client.post("/login", data={"login": login, "password": password, "csrf_token": token}).status_code


def alerts(app, kind: str = "New sign-in") -> list:
    return [m for m in mails(app, "alice@example.com") if kind in m.subject]


def test_sign_in_from_a_new_browser_or_network_mails_the_user(app, make_user):
    make_user("alice")
    assert web_login(browser(app, "198.51.100.7", FIREFOX)) == 302  # the first sign-in is the baseline
    assert alerts(app) == []
    assert web_login(browser(app, "198.51.100.99", FIREFOX)) == 302  # same /24, same browser
    assert alerts(app) == []
    assert web_login(browser(app, "203.0.113.5", FIREFOX)) == 302  # new network
    [mail] = alerts(app)
    assert "a new network" in mail.body and "203.0.113.5" in mail.body and "Firefox on Linux" in mail.body
    assert web_login(browser(app, "203.0.113.5", CHROME_WIN)) == 302  # new browser
    assert len(alerts(app)) == 2 and "a new browser" in alerts(app)[-1].body
    assert PASSWORD not in "".join(m.body for m in mails(app))


def test_repeated_failures_mail_the_user_once_per_window(app, make_user):
    make_user("alice")
    for n in range(12):
        web_login(browser(app, f"203.0.113.{n}", FIREFOX), password="wrong password!")
    [mail] = alerts(app, "Failed sign-in")
    assert "not locked" in mail.body
    # Token failures over git count too, and still only one mail in the window.
    git = browser(app, "203.0.113.77", "git/2.43")
    for _ in range(3):
        git.get("/git/x/y/z.git/info/refs?service=git-upload-pack",
                headers={"Authorization": "Basic YWxpY2U6bm9wZQ=="})  # alice:nope
    assert len(alerts(app, "Failed sign-in")) == 1


def test_users_see_their_own_security_events(app, make_user, token_for):
    uid, _ = make_user("alice")
    make_user("bob")
    client = browser(app, "198.51.100.7", FIREFOX)
    web_login(client, password="wrong password!")
    web_login(client)
    token_for(uid)
    web_login(browser(app, "198.51.100.8", FIREFOX), "bob")
    page = client.get("/settings/security").get_data(as_text=True)
    for text in ("Signed in", "Failed sign-in", "Token created", "198.51.100.7", "Firefox on Linux"):
        assert text in page, text
    assert "198.51.100.8" not in page  # bob's sign-in is not alice's business


def test_owners_see_their_teams_events_and_nobody_else_does(app, client, make_user, token_for):
    owner_id, _ = make_user("alice")
    make_user("bob")
    make_user("mallory")
    owner = bearer(token_for(owner_id))
    client.post("/api/v1/teams", json={"name": "Acme"}, headers=owner)
    client.post("/api/v1/teams/acme/members", json={"email": "bob@example.com", "role": "admin"}, headers=owner)
    web_login(browser(app, "198.51.100.8", CHROME_WIN), "bob")
    web_login(browser(app, "198.51.100.9", FIREFOX), "mallory")
    alice = browser(app, "198.51.100.7", FIREFOX)
    web_login(alice)
    page = alice.get("/teams/acme/security").get_data(as_text=True)
    assert "bob" in page and "198.51.100.8" in page and "Chrome on Windows" in page
    assert "mallory" not in page and "198.51.100.9" not in page
    bob = browser(app, "198.51.100.8", CHROME_WIN)
    web_login(bob, "bob")
    assert bob.get("/teams/acme/security").status_code == 403  # admins are not owners
    mallory = browser(app, "198.51.100.9", FIREFOX)
    web_login(mallory, "mallory")
    assert mallory.get("/teams/acme/security").status_code == 404


def test_site_admins_see_recent_anomalies(app, config, make_user):
    from app import create_app

    make_user("alice")
    make_user("root1")
    for n in range(21):
        web_login(browser(app, "203.0.113.66", FIREFOX), login=f"nobody{n}", password="wrong password!")
    for n in range(4):
        web_login(browser(app, f"192.0.2.{n * 60}", FIREFOX))
    admin_app = create_app(config.with_changes(site_admins=frozenset({"root1"})))
    admin = browser(admin_app, "198.51.100.1", FIREFOX)
    assert web_login(admin, "root1") == 302
    page = admin.get("/admin/security").get_data(as_text=True)
    assert "203.0.113.66" in page and "<td>21</td>" in page
    assert "<td>alice</td><td>4</td>" in page
    other = browser(app, "198.51.100.2", FIREFOX)
    web_login(other)
    assert other.get("/admin/security").status_code == 404


def test_events_record_browser_and_never_secrets(app, make_user):
    make_user("alice")
    web_login(browser(app, "198.51.100.7", FIREFOX), password="wrong password!")
    with app.app_context():
        events = db.session.query(SecurityEvent).all()
        assert any(e.user_agent == FIREFOX for e in events)
        assert not any("wrong password" in (e.detail or "") for e in events)
