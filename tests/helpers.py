"""Plain helpers for tests (fixtures live in conftest.py)."""

from __future__ import annotations

import re

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)


def get_csrf(client, url: str = "/login") -> str:
    return csrf_from(client.get(url).get_data(as_text=True))


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
