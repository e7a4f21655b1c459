"""Helpers for tests that talk to the app as a client: CSRF tokens, bearer headers, error shapes.

Test support modules are named `*_support.py` and imported by name (fixtures live in conftest.py
or are imported by name from a support module)."""

from __future__ import annotations

import re
from contextlib import contextmanager

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


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) >= {"code", "message"} and error["message"]
    if code:
        assert error["code"] == code
    return error


@contextmanager
def config_changes(app, **changes):
    """Run with some Config fields changed on this app (limits are read per request)."""
    original = app.config["INFRATRACE"]
    app.config["INFRATRACE"] = original.with_changes(**changes)
    try:
        yield
    finally:
        app.config["INFRATRACE"] = original


def from_ip(app, ip: str):
    """A test client whose requests come from `ip`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client
