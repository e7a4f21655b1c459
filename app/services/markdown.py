"""Markdown documentation rendered safely: no raw HTML, no scripts, no javascript: links.

markdown-it runs with HTML disabled (raw tags come out as text) and its link validation drops
dangerous schemes; bleach then allows only a fixed set of tags, attributes and URL schemes, as a
second wall should either layer change behaviour.
"""

from __future__ import annotations

import bleach
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "img": ["src", "alt", "title"],
}
ALLOWED_PROTOCOLS = {"http", "https", "mailto"}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


def _nofollow(attrs, new=False):  # type: ignore[no-untyped-def]
    href_key = (None, "href")
    if href_key in attrs:
        attrs[(None, "rel")] = "nofollow noopener noreferrer"
    return attrs


def render_markdown(text: str | None) -> Markup:
    """HTML safe to put in a page as is."""
    if not text:
        return Markup("")
    html = _md.render(text)
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        filters=[],
    )
    clean = cleaner.clean(html)
    clean = bleach.linkify(clean, callbacks=[_nofollow], skip_tags={"pre", "code"})
    return Markup(clean)  # noqa: S704  (sanitised just above)
