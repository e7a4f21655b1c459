"""The device history tab: newer/older/newest/oldest paging, jump to a date, filters by config name,
author and kind, tags and file names on rows (app/services/history_view.py)."""

from __future__ import annotations

import html
import re

import pytest

from tests.device_support import world_fixture  # noqa: F401  (fixture)


def _login(client, login, who: str = "the-viewer") -> None:
    assert login(who).status_code == 302


def _seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-commit="[0-9a-f]+" data-seq="(\d+)"', html)]


def _link(html: str, label: str) -> str | None:
    match = re.search(r'<a (?:rel="\w+" )?href="([^"]+)">[^<]*' + re.escape(label), html)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.fixture
def device(world):
    device = world.create_device("hist-1")
    # seq 1 is the device.json of creation; 2..71 alternate config / ports / photos-free writes.
    for i in range(70):
        if i % 10 == 9:
            world.write(device["id"], role="admin", message=f"ports {i}",
                        ports=[{"name": "Gi1/0/1", "description": f"uplink {i}"}])
        elif i % 2:
            world.write(device["id"], message=f"startup {i}", configs={"startup-config": f"hostname s{i}\n"})
        else:
            world.write(device["id"], message=f"running {i}", configs={"running-config": f"hostname r{i}\n"})
    return device


def test_paging_both_ways_and_to_both_ends(world, device, client, login):
    _login(client, login)
    base = f"/devices/{device['id']}"
    html = client.get(base).get_data(as_text=True)
    assert _seqs(html) == list(range(71, 41, -1))
    assert _link(html, "Newer") is None and _link(html, "Newest") is None
    older = _link(html, "Older")
    html = client.get(older).get_data(as_text=True)
    assert older.endswith("#history") and _seqs(html) == list(range(41, 11, -1))
    html = client.get(_link(html, "Older")).get_data(as_text=True)
    assert _seqs(html) == list(range(11, 0, -1)) and _link(html, "Older") is None
    newer = _link(html, "Newer")
    assert _seqs(client.get(newer).get_data(as_text=True)) == list(range(41, 11, -1))
    oldest = client.get(_link(html, "Newest").replace("#history", "") + "?oldest=1").get_data(as_text=True)
    assert _seqs(oldest) == list(range(30, 0, -1))  # the oldest 30, newest first
    assert _link(oldest, "Older") is None and _link(oldest, "Newer") is not None
    assert _seqs(client.get(_link(oldest, "Newer")).get_data(as_text=True)) == list(range(60, 30, -1))
    assert _seqs(client.get(_link(oldest, "Newest")).get_data(as_text=True))[0] == 71


def test_config_name_matches_its_path_and_kind_and_author_filter(world, device, client, login):
    _login(client, login)
    base = f"/devices/{device['id']}"
    by_name = _seqs(client.get(base + "?path=running-config").get_data(as_text=True))
    by_path = _seqs(client.get(base + "?path=configs/running-config").get_data(as_text=True))
    assert by_name == by_path and len(by_name) == 30  # 35 running-config writes; the first page holds 30
    html = client.get(base + "?kind=ports").get_data(as_text=True)
    assert len(_seqs(html)) == 7 and "ports.json" in html
    assert len(_seqs(client.get(base + "?kind=config").get_data(as_text=True))) == 30
    assert _seqs(client.get(base + "?kind=metadata").get_data(as_text=True)) == [1]
    assert _seqs(client.get(base + "?author=the-admin").get_data(as_text=True)) == \
        _seqs(client.get(base + "?kind=ports").get_data(as_text=True))
    html = client.get(base + "?author=the-admin&path=running-config").get_data(as_text=True)
    assert _seqs(html) == [] and "No versions touching running-config by the-admin" in html
    html = client.get(base + "?author=nobody-here").get_data(as_text=True)
    assert "No user is called nobody-here" in html and _seqs(html) == []
    # Paging keeps the filters.
    html = client.get(base + "?kind=config&limit=5").get_data(as_text=True)
    older = _link(html, "Older")
    assert "kind=config" in older
    assert all(s not in _seqs(client.get(older).get_data(as_text=True)) for s in _seqs(html))


def test_rows_name_files_and_tags_and_link_their_change(world, device, client, login):
    world.client.post(f"/api/v1/devices/{device['id']}/tags", json={"name": "golden", "rev": "HEAD"},
                      headers=world.headers["editor"])
    _login(client, login)
    html = client.get(f"/devices/{device['id']}").get_data(as_text=True)
    first_row = html.split('data-seq="71"', 1)[1].split("</tr>", 1)[0]
    assert "golden" in first_row and "<code>ports.json</code>" in first_row
    assert re.search(r'/compare\?from=[0-9a-f]+&amp;to=[0-9a-f]+" title="[^"]+">ports 69</a>', first_row)
    second_row = html.split('data-seq="70"', 1)[1].split("</tr>", 1)[0]
    assert "<code>configs/running-config</code>" in second_row and "golden" not in second_row
    assert ">diff<" not in html, "no column of identical 'diff' links"


def test_jump_to_a_date(world, client, login):
    device = world.create_device("dated")
    versions = [{"message": f"day {d}", "configs": {"running-config": f"v{d}\n"},
                 "author_time": f"2025-03-{d:02d}T10:00:00Z"} for d in range(1, 29)]
    response = world.client.post(f"/api/v1/devices/{device['id']}/versions/import", json={"versions": versions},
                                 headers=world.headers["editor"])
    assert response.status_code == 201, response.get_data(as_text=True)
    _login(client, login)
    html = client.get(f"/devices/{device['id']}?at=2025-03-10").get_data(as_text=True)
    rows = re.findall(r">day (\d+)<", html)
    assert rows[0] == "10" and rows[-1] == "1"
    assert _link(html, "Newer") is not None
    html = client.get(f"/devices/{device['id']}?at=2024-01-01").get_data(as_text=True)
    assert "No versions" in html and "on or before 2024-01-01" in html


@pytest.mark.parametrize(("query", "message"), [
    ("?kind=binary", "'kind' must be one of"),
    ("?at=someday", "'at' must be a date"),
    ("?before=abc", "'before' must be a version number"),
    ("?after=-3", "'after' is out of range"),
    ("?path=" + "x" * 301, "'path' must be at most"),
])
def test_bad_history_parameters_are_form_errors(world, device, client, login, query, message):
    _login(client, login)
    response = client.get(f"/devices/{device['id']}{query}")
    assert response.status_code == 200
    assert message in html.unescape(response.get_data(as_text=True))
