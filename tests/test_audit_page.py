"""The team audit page shows every kind of event (it once failed with a 500 as soon as a version,
photo, import or push existed, because those events' changes are not {"from", "to"} pairs)."""

from __future__ import annotations

import re

from tests.audit_support import EVENT_KINDS, fill_audit_log
from tests.githttp_support import git_home_fixture, server_fixture, world_fixture  # noqa: F401  (fixtures)


def test_audit_page_with_every_event_kind(app, client, login, world, server, git_home, tmp_path):
    found = fill_audit_log(app, client, world, server, git_home, tmp_path)
    assert EVENT_KINDS <= found, EVENT_KINDS - found
    login("admin1")
    seen: set[tuple[str, str]] = set()
    url = "/teams/acme/audit?limit=10"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)[:2000]
        html = response.get_data(as_text=True)
        for action, kind in re.findall(r"<td>([a-z_]+)</td>\s*<td>([a-z_]+) <a", html):
            seen.add((action, kind))
        match = re.search(r'rel="next" href="([^"]+)"', html)
        url = match.group(1).replace("&amp;", "&") if match else ""
        pages += 1
    assert pages > 1
    assert EVENT_KINDS <= seen, EVENT_KINDS - seen


def test_audit_page_shows_facts_of_writes(app, client, login, world, server, git_home, tmp_path):
    fill_audit_log(app, client, world, server, git_home, tmp_path)
    login("admin1")
    html = client.get("/teams/acme/audit?object_type=device_version&limit=200").get_data(as_text=True)
    assert "first config" in html and "configs/running-config" in html  # a commit's message and files
    html = client.get("/teams/acme/audit?object_type=device&limit=200").get_data(as_text=True)
    assert "refs/tags/v1" in html  # the push's refs
    html = client.get("/teams/acme/audit?object_type=project&limit=200").get_data(as_text=True)
    assert "<del>" in html and "edge sites" in html  # a field edit still shows from -> to
