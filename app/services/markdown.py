"""Markdown documentation rendered safely: no raw HTML, no scripts, no javascript: links.

markdown-it runs with HTML disabled (raw tags come out as text) and its link validation drops
dangerous schemes; it also turns bare URLs into links (linkify, outside code). nh3 (the Rust
ammonia sanitiser; bleach is deprecated upstream) then allows only a fixed set of tags,
attributes and URL schemes, as a second wall should either layer change behaviour, and marks every
link rel="nofollow noopener noreferrer".
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
}
ALLOWED_PROTOCOLS = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"

_md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False}).enable(
    ["table", "strikethrough", "linkify"]
)


def render_markdown(text: str | None) -> Markup:
    """HTML safe to put in a page as is."""
    if not text:
        return Markup("")
    return Markup(sanitise_html(_md.render(text)))  # noqa: S704  (sanitised)


def sanitise_html(html: str) -> str:
    """The second wall on its own: whatever HTML comes in, only the allow-list comes out."""
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_PROTOCOLS,
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return _TAG.sub(_escape_quotes_in_text, clean)


# nh3's serializer always double-quotes attribute values and escapes '"' inside them, so this
# finds every tag; the text between tags is what the split leaves.
_TAG = re.compile(r'(<(?:[^>"]|"[^"]*")*>)|([^<]+)')


def _escape_quotes_in_text(match: re.Match[str]) -> str:
    """Keep quotes in text escaped (as markdown-it wrote them; the serializer unescapes them), so
    markup shown as text, e.g. `<a href="javascript:...">`, never reads as an attribute."""
    if match.group(1):
        return match.group(1)
    return match.group(2).replace('"', "&quot;").replace("'", "&#x27;")
