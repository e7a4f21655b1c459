"""Issue 12, finding 11: Markdown is sanitised by nh3 (maintained) with the same allow-list as before."""

from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.services.markdown import render_markdown, sanitise_html

ROOT = Path(__file__).resolve().parent.parent

# Known XSS vectors, fed straight to the sanitiser (the second wall), as if markdown let them through.
RAW_VECTORS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<img src=\"javascript:alert(1)\">",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<p style=\"background:url(javascript:alert(1))\">x</p>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form action=\"https://evil.example\"><input name=x></form>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<base href=\"https://evil.example/\"><meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
]
ALLOWED_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
                "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead",
                "tr", "ul"}
SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.-]*):", re.IGNORECASE)


class LiveMarkup(HTMLParser):
    """Collects what a browser would act on: tags, attributes, comments (escaped text is inert)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.problems.append(f"attribute {name}")
            scheme = SCHEME.match(value or "") if name in ("href", "src") else None
            if scheme and scheme.group(1).lower() not in ("http", "https", "mailto"):
                self.problems.append(f"url {value}")

    def handle_comment(self, data):  # type: ignore[no-untyped-def]
        self.problems.append("comment")


def live_problems(html: str) -> list[str]:
    parser = LiveMarkup()
    parser.feed(html)
    parser.close()
    return parser.problems


@pytest.mark.parametrize("vector", RAW_VECTORS)
def test_known_vectors_come_out_inert(vector):
    assert live_problems(vector), "the vector itself must be live markup"
    for html in (sanitise_html(vector), str(render_markdown(vector))):
        assert live_problems(html) == [], (vector, html)


@pytest.mark.parametrize("doc", [
    "[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x](vbscript:msgbox(1))",
    "[x](data:text/html,<script>alert(1)</script>)", "![x](javascript:alert(1))",
    "<javascript:alert(1)>", "[x](&#106;avascript:alert(1))", "[x]( javascript:alert(1))",
])
def test_markdown_links_with_dangerous_schemes_are_not_made(doc):
    assert live_problems(str(render_markdown(doc))) == []


def test_the_allow_list_is_kept():
    html = str(render_markdown("# T\n\n**b** *i* ~~s~~ `c`\n\n> q\n\n- a\n\n| h |\n|---|\n| d |\n\n"
                               "[l](https://example.com \"t\") ![a](https://example.com/i.png) <https://x.example>"))
    for tag in ("<h1>", "<strong>", "<em>", "<s>", "<code>", "<blockquote>", "<li>", "<table>", "<td>"):
        assert tag in html or tag.replace(">", " ") in html, tag
    assert '<a href="https://example.com" title="t" rel="nofollow noopener noreferrer">l</a>' in html
    assert '<img src="https://example.com/i.png" alt="a">' in html
    assert 'href="mailto:ops@example.com"' in str(render_markdown("[m](mailto:ops@example.com)"))


def test_bare_urls_become_nofollow_links_but_not_inside_code():
    html = str(render_markdown("docs at https://example.com/wiki and `https://no.example`"))
    assert '<a href="https://example.com/wiki" rel="nofollow noopener noreferrer">' in html
    assert "<code>https://no.example</code>" in html


def test_text_keeps_quotes_escaped_and_attributes_survive():
    html = str(render_markdown('say "hi" [l](https://example.com "a>b") it\'s'))
    assert "say &quot;hi&quot;" in html and "it&#x27;s" in html
    assert 'title="a&gt;b"' in html or 'title="a>b"' in html


def test_bleach_is_gone():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not any(dep.lower().startswith("bleach") for dep in deps)
    assert any(dep.lower().startswith("nh3") for dep in deps)
    for path in (ROOT / "app").rglob("*.py"):
        assert "import bleach" not in path.read_text(), path
