"""Account mails are written in the account's language (saved with it), not in the language of the
request that causes them, and not English just because a background job sends them."""

from __future__ import annotations

from app.extensions import db
from app.models import User
from tests.accounts_support import mails
from tests.client_support import PASSWORD, get_csrf
from tests.privacy_support import drain

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def _german_client(app):
    client = app.test_client()
    client.environ_base.update({"HTTP_ACCEPT_LANGUAGE": GERMAN["Accept-Language"]})
    return client


def _signup(client, username: str = "greta"):
    data = {"email": f"{username}@example.com", "username": username, "password": PASSWORD, "age_confirmed": "y",
            "csrf_token": get_csrf(client, "/signup")}
    assert client.post("/signup", data=data).status_code == 302


def _locale(app, username: str) -> str | None:
    with app.app_context():
        locale = db.session.query(User).filter_by(username_key=username).one().locale
        db.session.remove()
        return locale


def _forgot(app, email: str, headers: dict[str, str]) -> None:
    client = app.test_client()
    csrf = get_csrf(client, "/forgot-password")
    response = client.post("/forgot-password", data={"email": email, "csrf_token": csrf}, headers=headers)
    assert response.status_code == 200
    response.close()  # the mail job runs once the response is sent (in-process), or in RQ:
    drain(app)


def _verify(app, username: str) -> None:
    from app.models import utcnow

    with app.app_context():
        db.session.query(User).filter_by(username_key=username).one().email_verified_at = utcnow()
        db.session.commit()


def test_a_german_account_gets_its_reset_mail_in_german_whoever_asks(app):
    _signup(_german_client(app))
    assert _locale(app, "greta") == "de"
    [verification] = mails(app, "greta@example.com")
    assert verification.subject == "Bestätige deine E-Mail-Adresse für InfraTrace"
    _verify(app, "greta")
    # Asked for from an English browser: the mail is for Greta, so it is in her language.
    _forgot(app, "greta@example.com", ENGLISH)
    [reset] = [m for m in mails(app, "greta@example.com") if m.subject != verification.subject]
    assert reset.subject == "Setze dein InfraTrace-Passwort zurück"
    assert reset.body.startswith("Hallo greta,") and "/reset-password/" in reset.body


def test_the_language_saved_in_the_preferences_is_the_mails_language(app, make_user, login):
    make_user("alice")
    assert _locale(app, "alice") is None  # an account from before languages were saved
    client = _german_client(app)
    assert login(c=client).status_code == 302
    assert _locale(app, "alice") == "de", "the first sign-in saves the language it is shown in"
    csrf = get_csrf(client, "/settings/privacy")
    saved = client.post("/settings/preferences", data={"csrf_token": csrf, "pref-theme": "light",
                                                       "pref-language": "en"})
    assert saved.status_code == 302
    assert _locale(app, "alice") == "en"
    _forgot(app, "alice@example.com", GERMAN)
    [reset] = [m for m in mails(app, "alice@example.com") if "/reset-password/" in m.body]
    assert reset.subject == "Reset your InfraTrace password" and reset.body.startswith("Hello alice,")


def test_an_unknown_saved_language_falls_back_to_english(app, make_user):
    from app.services import accounts

    make_user("alice")
    with app.app_context():
        user = db.session.query(User).filter_by(username_key="alice").one()
        accounts.set_locale(user, "xx")
        assert user.locale is None
        db.session.remove()
    _forgot(app, "alice@example.com", GERMAN)
    [reset] = [m for m in mails(app, "alice@example.com") if "/reset-password/" in m.body]
    assert reset.subject == "Reset your InfraTrace password"
