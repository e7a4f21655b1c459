"""Languages: Flask-Babel with catalogues in `translations/` (English is the source, German complete).

Every piece of text in a template is translatable without marking it: `AutoTranslate` rewrites
the template's token stream at compile time so that each text run between tags (and the values
of `title`, `placeholder`, `alt`, `aria-label` and `data-confirm`) goes through the catalogue,
and `extract_templates` (the Babel extractor in babel.cfg) finds exactly the same runs. So a new
template string is translatable the moment it is written, and the catalogue test fails until
German has it. Python strings (forms, flash messages, mails) use `gettext`/`lazy_gettext`.
API error messages stay English.

The language comes from the preference cookie, else the browser's Accept-Language, else English;
only languages with a complete catalogue are offered (LANGUAGES).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request
from flask_babel import Babel, get_locale
from flask_babel import gettext as babel_gettext
from flask_babel import lazy_gettext as _l
from jinja2 import Environment
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
# Only languages whose catalogue is complete (tests/test_i18n.py checks it) are offered.
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch"}
DEFAULT = "en"
# The preference cookie ("<theme>.<language>", written by app/web/preferences.py): named here, so that
# choosing the locale (and the services that write mails in a user's language) need nothing of app.web.
PREFERENCE_COOKIE = "infratrace_prefs"
TRANSLATED_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label", "data-confirm"}
LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
# Text that is code or a symbol, never words: left alone.
UNTRANSLATED = re.compile(r"^(?:[^\w]*|[\w.-]+\.(?:git|json)|https?://\S+)$")
babel = Babel()


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT
    raw = request.cookies.get(PREFERENCE_COOKIE) or ""
    _theme, _, language = raw.partition(".")
    if language in LANGUAGES:
        return language
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT) or DEFAULT


def current_language() -> str:
    return str(get_locale() or DEFAULT) if has_request_context() else DEFAULT


# Stored values shown to people (statuses, roles): their names per language. The API keeps the values.
VALUE_LABELS = {
    "planning": _l("planning"), "active": _l("active"), "on_hold": _l("on hold"), "done": _l("done"),
    "archived": _l("archived"), "todo": _l("todo"), "in_progress": _l("in progress"), "blocked": _l("blocked"),
    "planned": _l("planned"), "spare": _l("spare"), "decommissioned": _l("decommissioned"),
    "queued": _l("queued"), "running": _l("running"), "failed": _l("failed"),
    "viewer": _l("viewer"), "editor": _l("editor"), "admin": _l("admin"), "owner": _l("owner"),
    "compliant": _l("compliant"), "failing": _l("failing"), "not_applicable": _l("not applicable"),
    "unknown": _l("unknown"),
}


def value_label(value: object) -> str:
    """`{{ status|label }}`: a stored value in the reader's language."""
    key = str(value or "")
    return str(VALUE_LABELS[key]) if key in VALUE_LABELS else key.replace("_", " ")


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.add_extension(AutoTranslate)
    app.jinja_env.globals["_t"] = translate_markup
    app.jinja_env.filters["label"] = value_label


def translate_markup(text: str) -> Markup:
    """A template text run, translated; it was HTML in the template, so it stays HTML."""
    return Markup(babel_gettext(text))  # noqa: S704  (template source text: HTML by construction)


def _segments(data: str, state: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    """Split one template data token into (piece, translate?) runs, tracking HTML state across
    tokens: in text, in a tag, or in a quoted attribute value (and whether it is translated)."""
    i, n = 0, len(data)
    while i < n:
        mode = state["mode"]
        if mode == "text":
            j = data.find("<", i)
            end = n if j == -1 else j
            if end > i:
                yield data[i:end], True
            if j == -1:
                return
            if data.startswith("<!--", j):
                k = data.find("-->", j)
                k = n if k == -1 else k + 3
                yield data[j:k], False
                i = k
                continue
            state["mode"], state["attr"] = "tag", ""
            yield "<", False
            i = j + 1
        elif mode == "tag":
            m = re.compile(r'([\w:-]+)\s*=\s*(["\'])|>|"|\'').search(data, i)
            if m is None:
                yield data[i:], False
                return
            yield data[i:m.end()], False
            if m.group(0) == ">":
                state["mode"] = "text"
            elif m.group(1):
                state["mode"], state["quote"] = "value", m.group(2)
                state["attr"] = m.group(1).lower()
            i = m.end()
        else:  # inside an attribute value
            j = data.find(state["quote"], i)
            end = n if j == -1 else j
            if end > i:
                yield data[i:end], state["attr"] in TRANSLATED_ATTRIBUTES
            if j == -1:
                return
            yield state["quote"], False
            state["mode"] = "tag"
            i = j + 1


def _split_space(piece: str) -> tuple[str, str, str]:
    stripped = piece.strip()
    if not stripped:
        return piece, "", ""
    start = piece.index(stripped)
    return piece[:start], stripped, piece[start + len(stripped):]


def translatable(text: str) -> bool:
    return bool(LETTER.search(text)) and not UNTRANSLATED.match(text)


def template_messages(source: str, environment: Environment) -> Iterator[tuple[int, str]]:
    """(line, text) of every run the extension translates, for extraction and tests."""
    state: dict[str, Any] = {"mode": "text", "attr": "", "quote": '"'}
    for lineno, kind, value in environment.lex(source):
        if kind != "data":
            continue
        for piece, wanted in _segments(value, state):
            _lead, text, _trail = _split_space(piece)
            if wanted and translatable(text):
                yield lineno, " ".join(text.split())


class AutoTranslate(Extension):
    """Wrap every text run of a template in the catalogue lookup (see the module doc)."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        state: dict[str, Any] = {"mode": "text", "attr": "", "quote": '"'}
        for token in stream:
            if token.type != "data":
                yield token
                continue
            for piece, wanted in _segments(token.value, state):
                lead, text, trail = _split_space(piece)
                if not (wanted and translatable(text)):
                    yield Token(token.lineno, "data", piece)
                    continue
                if lead:
                    yield Token(token.lineno, "data", lead)
                yield Token(token.lineno, "variable_begin", "{{")
                yield Token(token.lineno, "name", "_t")
                yield Token(token.lineno, "lparen", "(")
                yield Token(token.lineno, "string", " ".join(text.split()))
                yield Token(token.lineno, "rparen", ")")
                yield Token(token.lineno, "variable_end", "}}")
                if trail:
                    yield Token(token.lineno, "data", trail)


def extract_templates(fileobj, keywords, comment_tags, options):  # type: ignore[no-untyped-def]
    """Babel extractor for the templates (babel.cfg): the runs AutoTranslate translates, plus the
    explicit `_t('...')`, `_('...')` and `gettext('...')` calls in expressions."""
    source = fileobj.read().decode("utf-8")
    environment = Environment(extensions=["jinja2.ext.i18n"])
    for lineno, text in template_messages(source, environment):
        yield lineno, None, text, []
    for lineno, _func, message, comments in _explicit_calls(source, environment):
        yield lineno, None, message, comments


def _explicit_calls(source: str, environment: Environment):  # type: ignore[no-untyped-def]
    from jinja2.ext import babel_extract

    class _Source:
        def __init__(self, text: str) -> None:
            self.text = text

        def read(self) -> bytes:
            return self.text.encode("utf-8")

    yield from babel_extract(_Source(source), ("_", "gettext", "_t"), [], {"extensions": ""})
