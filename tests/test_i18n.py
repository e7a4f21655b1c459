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

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "translations" / "de" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "_t": None}


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
    client.post("/api/v1/teams", json={"name": "Acme"}, headers=owner)
    client.post("/api/v1/teams/acme/members", json={"email": "bob@example.com", "role": "editor"}, headers=owner)
    from app.models import Project, Team

    with app.app_context():
        team = db.session.query(Team).filter_by(slug="acme").one()
        project = Project(team_id=team.id, name="Core", slug="core", description="")
        db.session.add(project)
        db.session.commit()
        project_id = project.id
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

