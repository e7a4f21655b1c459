"""Issue 12, languages: English and German catalogues, complete, chosen by cookie then browser.

- Every template text run and marked Python string must have a German entry (the catalogue test
  fails when one lacks it), and text in template expressions must go through `_t` (the
  translatability test fails on a bare English literal).
- The German UI leaves no English string of the catalogue on the main pages.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment, nodes

from app.extensions import db
from app.i18n import LANGUAGES
from app.web.forms import LANGUAGE_CHOICES
from tests.client_support import PASSWORD, bearer, csrf_from, get_csrf
from tests.device_support import team_with_project

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "translations" / "de" / "LC_MESSAGES"
# The service error classes too (as scripts/i18n.sh extracts them): web pages show their messages translated.
SERVICE_ERRORS = ("ServiceError", "BadRequest", "Unauthorized", "PlanLimit", "Forbidden", "NotFound", "Conflict",
                  "TooLarge", "ValidationError", "RateLimited", "RepoBusy")
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "_t": None,
            **{name: None for name in SERVICE_ERRORS}}


def extracted() -> set[str]:
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map,
                                                                          keywords=KEYWORDS):
        if isinstance(message, str) and message:
            found.add(message)
    return found


def german() -> dict[str, str]:
    with open(CATALOGUE / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    return {m.id: m.string for m in catalog if m.id and not m.fuzzy}


def test_only_languages_with_a_catalogue_are_offered():
    assert [choice.value for choice in LANGUAGE_CHOICES] == list(LANGUAGES) == ["en", "de"]
    for code in LANGUAGES:
        if code != "en":
            assert (ROOT / "translations" / code / "LC_MESSAGES" / "messages.po").exists()


def test_the_german_catalogue_has_every_string():
    wanted = extracted()
    assert len(wanted) > 400  # templates, forms, flash messages and mails
    have = german()
    missing = sorted(message for message in wanted if not have.get(message))
    assert missing == [], f"untranslated (run scripts/i18n.sh and translate): {missing[:20]}"


def test_committed_mo_matches_the_po():
    with open(CATALOGUE / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    fresh = {m.id: m.string for m in read_mo(buffer) if m.id}
    with open(CATALOGUE / "messages.mo", "rb") as handle:
        committed = {m.id: m.string for m in read_mo(handle) if m.id}
    assert fresh == committed, "messages.mo is stale: run scripts/i18n.sh"


def test_placeholders_survive_translation():
    for english, translated in german().items():
        assert sorted(re.findall(r"%\(\w+\)s", english)) == sorted(re.findall(r"%\(\w+\)s", translated)), english


CODE_LIKE = re.compile(r"^[\w./:%-]*$")  # endpoints, CSS classes, dates formats: never prose
UNITS = {"B", "KiB", "MiB", "GiB", "UTC"}


def _prose(text: str) -> bool:
    words = re.findall(r"[A-Za-z]{2,}", re.sub(r"%[-\d.]*[sdfi]", "", text))
    return bool(words) and not CODE_LIKE.match(text) and not set(words) <= UNITS


def _bare_literals(node: nodes.Node) -> list[str]:
    """String constants that would be printed as they are (not through _t)."""
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        text = node.value.strip()
        return [text] if _prose(text) else []
    if isinstance(node, nodes.Call):
        return []  # _t(...), url_for(...), field(...): arguments are not shown as they are
    if isinstance(node, nodes.CondExpr):
        return _bare_literals(node.expr1) + (_bare_literals(node.expr2) if node.expr2 else [])
    if isinstance(node, nodes.Concat):
        return [text for item in node.nodes for text in _bare_literals(item)]
    if isinstance(node, nodes.BinExpr):
        return _bare_literals(node.left) + _bare_literals(node.right)
    if isinstance(node, nodes.Filter) and node.name == "default":
        return [text for arg in node.args for text in _bare_literals(arg)] + _bare_literals(node.node)
    return []


def untranslatable(source: str) -> list[str]:
    tree = Environment(extensions=["jinja2.ext.i18n"]).parse(source)
    found = []
    for output in tree.find_all(nodes.Output):
        for child in output.nodes:
            if not isinstance(child, nodes.TemplateData):
                found += _bare_literals(child)
    return found


def test_every_template_string_is_translatable():
    assert untranslatable("{{ 'Edit task' if task else 'New task' }}") == ["Edit task", "New task"]
    assert untranslatable("{{ _t('Edit task') if task else _t('New task') }} {{ url_for('a.b') }}") == []
    problems = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        bare = untranslatable(path.read_text())
        if bare:
            problems[str(path.relative_to(ROOT))] = bare
    assert problems == {}, f"wrap these in _t(...): {problems}"


def test_language_from_cookie_then_accept_language(client):
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)
    page = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert 'lang="de"' in page and "Passwort vergessen?" in page
    assert 'lang="en"' in client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    client.set_cookie("infratrace_prefs", "light.en", domain="localhost")
    page = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'lang="en"' in page and "Forgot your password?" in page
    client.set_cookie("infratrace_prefs", "light.fr", domain="localhost")  # no longer offered
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)


def test_untranslated_languages_cannot_be_chosen(client):
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/settings/preferences", data={"csrf_token": csrf_from(page), "pref-theme": "dark",
                                                          "pref-language": "fr"})
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith("infratrace_prefs=")]


def test_api_errors_stay_english(client):
    client.set_cookie("infratrace_prefs", "light.de", domain="localhost")
    body = client.get("/api/v1/me", headers={"Accept-Language": "de"}).get_json()
    assert body["error"]["message"].startswith("Authentication required")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag in ("code", "pre", "script", "style", "textarea"):
            self.skip += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "alt", "aria-label", "data-confirm") and value:
                self.runs.append(value.strip())

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag in ("code", "pre", "script", "style", "textarea") and self.skip:
            self.skip -= 1

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if not self.skip and data.strip():
            self.runs.append(" ".join(data.split()))


def english_left(html: str, english: set[str]) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return [run for run in parser.runs if run in english]


@pytest.fixture
def german_world(app, client, make_user, token_for, login):
    owner_id, _ = make_user("alice")
    make_user("bob")
    owner = bearer(token_for(owner_id))
    _, project_id = team_with_project(app, client, owner, "bob@example.com", "editor")
    device = client.post(f"/api/v1/projects/{project_id}/devices", json={"name": "sw1"}, headers=owner).get_json()
    client.post(f"/api/v1/devices/{device['id']}/versions",
                json={"message": "first", "configs": {"running-config": "hostname sw1\n"}}, headers=owner)
    login("alice")
    # Switch the UI to German the way a person does: the language preference on the privacy page.
    page = client.get("/settings/privacy").get_data(as_text=True)
    assert 'lang="en"' in page
    response = client.post("/settings/preferences", data={"csrf_token": csrf_from(page), "pref-theme": "light",
                                                          "pref-language": "de"})
    assert response.status_code == 302
    return {"project": project_id, "device": device["id"]}


def test_the_german_ui_leaves_no_english_on_the_main_pages(client, german_world):
    english = {message for message, translated in german().items() if translated != message}
    # The first commit's message, written into the device's git history by the service: history is
    # data and keeps the words it was written with, like every other commit message.
    english.discard("Create device")
    pages = ["/", "/teams/acme", f"/projects/{german_world['project']}", f"/devices/{german_world['device']}",
             "/settings/profile", "/settings/tokens", "/settings/privacy", "/settings/security",
             "/teams/acme/security", "/privacy", "/teams/new", "/me/tasks",
             f"/projects/{german_world['project']}/devices/new"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert 'lang="de"' in html, path
        assert english_left(html, english) == [], path
    visitor = client.application.test_client()
    visitor.set_cookie("infratrace_prefs", "light.de", domain="localhost")
    for path in ("/login", "/signup", "/forgot-password"):
        html = visitor.get(path).get_data(as_text=True)
        assert english_left(html, english) == [], path


def test_german_forms_flash_messages_and_mail(app, client, make_user):
    make_user("alice")
    client.set_cookie("infratrace_prefs", "light.de", domain="localhost")
    token = get_csrf(client, "/login")
    page = client.post("/login", data={"login": "alice", "password": "wrong password!", "csrf_token": token})
    assert "Anmeldename oder Passwort ist nicht korrekt." in page.get_data(as_text=True)
    token = get_csrf(client, "/login")
    client.post("/login", data={"login": "alice", "password": PASSWORD, "csrf_token": token})
    csrf = csrf_from(client.get("/settings/profile").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=True)
    assert "Du bist abgemeldet." in response.get_data(as_text=True)
    data = {"email": "neu@example.com", "username": "neu", "password": PASSWORD, "age_confirmed": "y",
            "csrf_token": get_csrf(client, "/signup")}
    client.post("/signup", data=data)
    from tests.accounts_support import mails

    [mail] = mails(app, "neu@example.com")
    assert mail.subject == "Bestätige deine E-Mail-Adresse für InfraTrace" and "Hallo neu" in mail.body



# -- forms, error pages and mails: where English used to slip through ------------------------------------------

# Placeholders that are examples of what to type (config lines, patterns, data): the same in every language.
EXAMPLE_PLACEHOLDERS = {
    '{"site": "PAR1", "contract": "C-42"}', "10, mgmt, management\n20, users", r"^ntp server \S+", "^interface ",
    "switchport mode access", "ios, nxos, eos, junos, ...", "core-*", "https://hooks.example.net/infratrace",
    "ignore: ^! Last configuration change\nstrip: ^! uptime is ",
}


def _web_forms() -> list[type]:
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm

    import app.web

    for module in pkgutil.iter_modules(app.web.__path__):
        importlib.import_module(f"app.web.{module.name}")
    found, pending = [], list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending += form.__subclasses__()
        if form.__module__.startswith("app.web."):
            found.append(form)
    return sorted(found, key=lambda form: form.__qualname__)


def _untranslated(text: object, have: dict[str, str]) -> str | None:
    """Why `text` would reach a German reader in English, or None when the catalogue translates it."""
    from flask_babel.speaklater import LazyString

    if not isinstance(text, LazyString):
        return f"not marked with _l: {text!r}"
    message = text._args[0]
    return None if have.get(message) else f"no German msgstr: {message!r}"


def test_every_web_form_is_german_labels_choices_and_messages(app):
    have = german()
    forms = _web_forms()
    names = {form.__name__ for form in forms}
    assert {"RulesForm", "WebhookForm", "ConfigEditForm", "CheckoutForm", "SignupForm", "RuleForm"} <= names
    languages = {choice.value for choice in LANGUAGE_CHOICES}  # each named in its own language, on purpose
    problems = []
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        for form_class in forms:
            form = form_class(meta={"csrf": False})
            for field in form:
                where = f"{form_class.__name__}.{field.name}"
                texts = [] if field.type == "HiddenField" else [("label", field.label.text)]
                if field.description:
                    texts.append(("description", field.description))
                placeholder = (field.render_kw or {}).get("placeholder")
                if placeholder is not None and placeholder not in EXAMPLE_PLACEHOLDERS:
                    texts.append(("placeholder", placeholder))
                for choice in getattr(field, "choices", None) or []:
                    value, label = choice.value, choice.label
                    if field.name == "language" and value in languages:
                        continue
                    if label == value and CODE_LIKE.match(str(value)):
                        continue  # an identifier shown as it is (webhook event names)
                    texts.append((f"choice {value!r}", label))
                for validator in field.validators:
                    if getattr(validator, "message", None) is not None:
                        texts.append((type(validator).__name__, validator.message))
                for what, text in texts:
                    reason = _untranslated(text, have)
                    if reason:
                        problems.append(f"{where} {what}: {reason}")
    assert problems == []


def test_the_rules_and_webhook_forms_render_in_german(client, german_world):
    rules = client.get(f"/projects/{german_world['project']}/rules").get_data(as_text=True)
    assert "Regeln des Projekts" in rules and "Veränderliche Zeilen der Vorlagen ignorieren" in rules
    assert "aller Vorlagen (Standard)" in rules and "Cisco NX-OS für jedes Gerät" in rules
    hooks = client.get(f"/projects/{german_world['project']}/webhooks").get_data(as_text=True)
    assert "Payload-URL (http oder https)" in hooks and "Ereignisse" in hooks
    english = {message for message, translated in german().items() if translated != message}
    assert english_left(rules, english) == [] and english_left(hooks, english) == []


def _page_text(html: str) -> tuple[str, str]:
    title = re.search(r"<h1>(.*?)</h1>", html, re.S)
    message = re.search(r"</h1><p>(.*?)</p>", html, re.S)
    assert title and message, html
    return title.group(1).strip(), message.group(1).strip()


def test_error_pages_are_german(app):
    from werkzeug.exceptions import (
        BadRequest,
        Forbidden,
        InternalServerError,
        MethodNotAllowed,
        NotFound,
        RequestEntityTooLarge,
        TooManyRequests,
        UnprocessableEntity,
    )

    from app.services import errors
    from app.web.errors import service_error_page

    translated = {translated for message, translated in german().items() if translated != message}
    pages = {}
    with app.test_request_context("/somewhere", headers={"Accept-Language": "de"}):
        for exc in (BadRequest(), Forbidden(), NotFound(), MethodNotAllowed(), RequestEntityTooLarge(),
                    TooManyRequests(), UnprocessableEntity(), InternalServerError()):
            response = app.make_response(app.handle_http_exception(exc))
            pages[exc.code] = response
        for kind in (errors.Forbidden, errors.NotFound, errors.Conflict, errors.ValidationError, errors.PlanLimit,
                     errors.TooLarge, errors.RateLimited, errors.BadRequest):
            pages[f"service {kind.__name__}"] = app.make_response(service_error_page(kind("x")))
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert 'lang="de"' in html and "Zurück zum Anfang" in html, name
        title, message = _page_text(html)
        assert title in translated, (name, title)
        if not str(name).startswith("service"):
            assert message in translated, (name, message)


def test_a_service_refusal_on_a_web_page_is_german_and_english_in_the_api(client, german_world):
    from app.services.errors import NotFound
    from app.web.errors import shown

    with client.application.test_request_context("/", headers={"Accept-Language": "de"}):
        refusal = NotFound("No device %(name)s.", params={"name": "sw9"})
        assert refusal.message == "No device sw9." and refusal.to_dict()["error"]["message"] == "No device sw9."
        translated = german().get("Not found")
        assert translated and shown(NotFound("Not found")) == translated


def _german_users(app, *usernames: str) -> None:
    from app.models import User

    with app.app_context():
        for name in usernames:
            db.session.query(User).filter_by(username_key=name).one().locale = "de"
        db.session.commit()


def _mails_to(app, address: str) -> list:
    from tests.accounts_support import mails

    return mails(app, address)


def test_policy_billing_compliance_integrity_and_watch_mails_are_german_for_a_german_user(
        app, client, make_user, token_for, monkeypatch):
    from datetime import timedelta

    from app.models import Device, OutboxMail, Team, utcnow
    from app.services import billing, notifications, policy, version_analysis
    from tests.privacy_support import drain

    alice_id, _ = make_user("alice")
    bob_id, _ = make_user("bob")
    _german_users(app, "alice", "bob")
    alice, bob = bearer(token_for(alice_id)), bearer(token_for(bob_id))
    team_id, project_id = team_with_project(app, client, alice, "bob@example.com", "editor")
    device = client.post(f"/api/v1/projects/{project_id}/devices", json={"name": "sw1"}, headers=alice).get_json()
    assert client.put(f"/api/v1/devices/{device['id']}/watch", json={"mode": "each"}, headers=alice
                      ).status_code == 200
    assert client.put(f"/api/v1/projects/{project_id}/watch", json={"mode": "digest"}, headers=bob
                      ).status_code == 200
    with app.app_context():
        db.session.query(OutboxMail).delete()  # added-to-team mail
        db.session.commit()
    client.post(f"/api/v1/devices/{device['id']}/versions",
                json={"message": "first", "configs": {"running-config": "hostname sw1\n"}}, headers=alice).close()
    drain(app)
    with app.app_context():
        [watch] = _mails_to(app, "alice@example.com")
        assert watch.subject == "[InfraTrace] sw1: neue Versionen: 1"
        assert watch.body.startswith("Neue Versionen von sw1: 1") and "Vergleichen: http" in watch.body
        assert "weil du dieses Gerät oder sein Projekt in InfraTrace beobachtest" in watch.body
        assert notifications.send_digests() == 1
        [digest] = _mails_to(app, "bob@example.com")
        assert digest.subject == "[InfraTrace] tägliche Zusammenfassung von Core: Änderungen: 1"
        assert digest.body.startswith("Änderungen im Projekt Core seit deiner letzten Zusammenfassung:")
        db.session.query(OutboxMail).delete()

        assert policy.publish("2099-01-01", "Neuer Auftragsverarbeiter.") == 2
        db.session.commit()
        [notice] = _mails_to(app, "alice@example.com")
        assert notice.subject == "Unsere Datenschutzerklärung ändert sich (2099-01-01)"
        assert notice.body.startswith("Hallo alice,\n\nwir haben die Datenschutzerklärung")
        assert "Was sich ändert:\nNeuer Auftragsverarbeiter." in notice.body
        db.session.query(OutboxMail).delete()

        team = db.session.get(Team, team_id)
        team.plan, team.payment_failed_at = "pro", utcnow()
        team.grace_until = team.payment_failed_at + timedelta(days=7)
        db.session.commit()
        assert billing.mail_payment_failed(team_id) == 1
        [payment] = _mails_to(app, "alice@example.com")
        assert payment.subject == "InfraTrace: Eine Zahlung für Acme ist fehlgeschlagen"
        assert payment.body.startswith("Stripe konnte die Karte für das Team Acme nicht belasten.")
        assert "um den Tarif Pro zu behalten" in payment.body and "Gelöscht wird nichts." in payment.body
        db.session.query(OutboxMail).delete()

        version_analysis._notify_failing(db.session.get(Device, device["id"]), [{"rule": "No HTTP server"}])
        db.session.commit()
        [failing] = _mails_to(app, "alice@example.com")
        assert failing.subject == "InfraTrace: sw1 ist nicht konform"
        assert failing.body == ("Das Gerät sw1 im Projekt Core verletzt jetzt diese Konformitätsregeln: "
                                "No HTTP server.\n")
        db.session.query(OutboxMail).delete()
        db.session.commit()

    import workers.jobs

    monkeypatch.setattr(workers.jobs, "check_repo", lambda path: "error: missing blob 1234")
    with app.app_context():
        workers.jobs.check_device(device["id"])
        [broken] = _mails_to(app, "alice@example.com")
    assert broken.subject == "InfraTrace: Integritätsprüfung des Repositorys für Gerät sw1 fehlgeschlagen"
    assert broken.body.startswith("Die geplante Integritätsprüfung (git fsck) des Geräts 'sw1'")
    assert "error: missing blob 1234" in broken.body and "beiseitegelegt hast." in broken.body
