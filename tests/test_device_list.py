"""Fleet-sized device lists: filters, sort on every column and keyset paging, in the API and on the
project's device page (app/services/device_list.py serves both)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Device
from tests.client_support import assert_error
from tests.device_support import world_fixture  # noqa: F401  (fixture)

FLEET = [
    # name, vendor, model, status, location, tags, last changed (day of Jan 2026)
    ("core-1", "Cisco", "C9500", "active", "AMS1 rack 1", ["core", "pop-ams"], 3),
    ("core-2", "Cisco", "C9500", "active", "AMS1 rack 2", ["core"], 9),
    ("edge-1", "Juniper", "MX204", "active", "FRA2", ["edge"], 1),
    ("edge-2", "Juniper", "MX204", "planned", "FRA2", ["edge", "pop-fra"], 20),
    ("acc_1", "Arista", "7050X", "spare", "AMS1 cage", [], 15),
    ("old-fw", "Fortinet", "FG-100F", "decommissioned", "", ["eol"], 9),
    ("lab-sw", "cisco", "C9300", "active", "lab", [], 28),
]


@pytest.fixture
def fleet(world, app):
    ids = {}
    for name, vendor, model, status, location, tags, _ in FLEET:
        device = world.create_device(name, vendor=vendor, model=model, status=status, location=location, tags=tags)
        ids[name] = device["id"]
    # The last two devices get more versions, so "versions" sorts differently from the others.
    world.write(ids["lab-sw"], configs={"running-config": "hostname lab\n"})
    world.write(ids["lab-sw"], configs={"running-config": "hostname lab-sw\n"})
    world.write(ids["edge-1"], configs={"running-config": "hostname edge\n"})
    with app.app_context():
        for name, *_, day in FLEET:
            db.session.execute(update(Device).where(Device.id == ids[name])
                               .values(last_changed_at=datetime(2026, 1, day, 12, tzinfo=UTC)))
        db.session.commit()
    world.client.post(f"/api/v1/devices/{ids['old-fw']}/archive", headers=world.headers["editor"])
    return ids


def _api(world, query: str = "", role: str = "viewer", expect: int = 200):
    response = world.client.get(f"/api/v1/projects/{world.project_id}/devices{query}", headers=world.headers[role])
    assert response.status_code == expect, response.get_data(as_text=True)
    return response.get_json()


def _names(world, query: str) -> list[str]:
    return [d["name"] for d in _api(world, query)["items"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("?q=core", ["core-1", "core-2"]),
    ("?q=ACC_", ["acc_1"]),  # case-insensitive; '_' is literal, not a LIKE wildcard
    ("?q=%25", []),  # '%' is literal too
    ("?vendor=cisco", ["core-1", "core-2", "lab-sw"]),
    ("?model=mx2", ["edge-1", "edge-2"]),
    ("?status=active", ["core-1", "core-2", "edge-1", "lab-sw"]),
    ("?status=planned,spare", ["acc_1", "edge-2"]),
    ("?status=planned&status=spare", ["acc_1", "edge-2"]),
    ("?tag=core", ["core-1", "core-2"]),
    ("?tag=EDGE", ["edge-1", "edge-2"]),
    ("?location=ams1", ["acc_1", "core-1", "core-2"]),
    ("?changed_after=2026-01-09", ["acc_1", "core-2", "edge-2", "lab-sw", "old-fw"]),
    ("?changed_before=2026-01-09", ["core-1", "core-2", "edge-1", "old-fw"]),
    ("?changed_after=2026-01-02&changed_before=2026-01-09", ["core-1", "core-2", "old-fw"]),
    ("?archived=exclude&vendor=fortinet", []),
    ("?archived=only", ["old-fw"]),
    ("?vendor=cisco&status=active&tag=core&location=rack 2", ["core-2"]),
])
def test_api_filters(world, fleet, query, expected):
    assert _names(world, query) == expected


SORT_KEYS = {
    "name": lambda row: row[0],
    "vendor": lambda row: row[1],
    "model": lambda row: row[2],
    "status": lambda row: row[3],
    "location": lambda row: row[4],
    "last_changed": lambda row: row[6],
}


@pytest.mark.parametrize("key", [*SORT_KEYS, "versions"])
@pytest.mark.parametrize("descending", [False, True])
def test_api_sorts_on_every_column_and_pages_without_gaps(world, fleet, key, descending):
    query = f"?sort={key}&limit=2" + ("&dir=desc" if descending else "")
    seen, cursor, pages = [], None, 0
    while True:
        body = _api(world, query + (f"&cursor={cursor}" if cursor else ""))
        assert len(body["items"]) <= 2
        seen.extend(body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 4 and len(seen) == len(FLEET)
    assert len({d["id"] for d in seen}) == len(FLEET), "no device twice"
    field = {"name": "name", "vendor": "vendor", "model": "model", "status": "status", "location": "location",
             "last_changed": "last_changed_at", "versions": "version_count"}[key]
    keys = [(d[field], d["id"]) for d in seen]
    assert keys == sorted(keys, reverse=descending)
    if key == "versions":
        assert [d["name"] for d in seen][0 if descending else -1] == "lab-sw"  # 3 versions, the most


def test_api_sort_minus_prefix_means_descending(world, fleet):
    assert _names(world, "?sort=-last_changed&limit=3") == ["lab-sw", "edge-2", "acc_1"]


def test_api_paging_keeps_filters(world, fleet):
    first = _api(world, "?vendor=cisco&limit=2")
    assert [d["name"] for d in first["items"]] == ["core-1", "core-2"]
    rest = _api(world, f"?vendor=cisco&limit=2&cursor={first['next_cursor']}")
    assert [d["name"] for d in rest["items"]] == ["lab-sw"] and rest["next_cursor"] is None


def test_api_tags_are_written_and_validated(world, fleet):
    device = _api(world, "?q=core-1")["items"][0]
    assert device["tags"] == ["core", "pop-ams"]
    response = world.client.patch(f"/api/v1/devices/{device['id']}", json={"tags": ["Core", "spine"]},
                                  headers=world.headers["editor"])
    assert response.status_code == 200 and response.get_json()["tags"] == ["core", "spine"]
    assert _names(world, "?tag=spine") == ["core-1"]
    for bad, field in ((["has space"], "tags[0]"), ("core", "tags"), ([1], "tags"), (["x"] * 21, "tags")):
        response = world.client.patch(f"/api/v1/devices/{device['id']}", json={"tags": bad},
                                      headers=world.headers["editor"])
        assert response.status_code == 422, bad
        assert response.get_json()["error"]["field"] == field if "field" in response.get_json()["error"] else True


@pytest.mark.parametrize(("query", "field"), [
    ("?sort=serial", "sort"),
    ("?dir=up", "dir"),
    ("?status=broken", "status"),
    ("?limit=0", "limit"),
    ("?limit=many", "limit"),
    ("?changed_after=yesterday", "changed_after"),
    ("?changed_after=2026-02-01&changed_before=2026-01-01", "changed_after"),
    ("?archived=maybe", "archived"),
    ("?cursor=not-a-cursor", "cursor"),
    ("?q=" + "x" * 101, "q"),
    ("?q=a%00b", "q"),
])
def test_api_bad_parameters_are_422_with_the_field(world, fleet, query, field):
    response = world.client.get(f"/api/v1/projects/{world.project_id}/devices{query}",
                                headers=world.headers["viewer"])
    assert_error(response, 422)
    assert field in response.get_json()["error"]["message"]


def test_api_cursor_of_another_sort_is_refused(world, fleet):
    cursor = _api(world, "?sort=versions&limit=1")["next_cursor"]
    response = world.client.get(f"/api/v1/projects/{world.project_id}/devices?sort=last_changed&cursor={cursor}",
                                headers=world.headers["viewer"])
    assert_error(response, 422)


# -- the web page -------------------------------------------------------------------------------


def _login(world, client, login):
    assert login("the-viewer").status_code == 302


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r'<td><a href="/devices/[0-9a-f]+">([^<]+)</a>', body)


def test_page_filters_sort_links_and_page_size(world, fleet, client, login):
    _login(world, client, login)
    url = f"/projects/{world.project_id}/devices"
    html = client.get(url).get_data(as_text=True)
    assert _rows(html) == sorted(name for name, *_ in FLEET)
    html = client.get(url + "?vendor=cisco&status=active").get_data(as_text=True)
    assert _rows(html) == ["core-1", "core-2", "lab-sw"]
    assert 'value="cisco"' in html and "Clear filters" in html
    # Column headers link to their sort, keeping the filters; the active one flips direction.
    links = dict(re.findall(r'<th scope="col"[^>]*><a href="([^"]+)">([A-Za-z ]+)', html))
    by_label = {label.strip(): href.replace("&amp;", "&") for href, label in links.items()}
    assert "vendor=cisco" in by_label["Last changed"] and "sort=last_changed" in by_label["Last changed"]
    html = client.get(by_label["Last changed"]).get_data(as_text=True)
    assert _rows(html) == ["core-1", "core-2", "lab-sw"]
    assert 'aria-sort="ascending"' in html
    flip = re.search(r'aria-sort="ascending"><a href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "dir=desc" in flip
    assert _rows(client.get(flip).get_data(as_text=True)) == ["lab-sw", "core-2", "core-1"]
    # Page size: 25 / 50 / 100 / 200 offered; limit=2 from a link pages with "Next page".
    assert all(f'<option value="{n}"' in html for n in (25, 50, 100, 200))


def test_page_keyset_paging(world, fleet, client, login):
    _login(world, client, login)
    url = f"/projects/{world.project_id}/devices?sort=location&limit=3"
    seen, pages = [], 0
    while url:
        html = client.get(url).get_data(as_text=True)
        seen.extend(_rows(html))
        pages += 1
        match = re.search(r'rel="next" href="([^"]+)"', html)
        url = match.group(1).replace("&amp;", "&") if match else ""
        if pages > 1:
            assert "First page" in html
    assert pages == 3
    by_location = sorted(FLEET, key=lambda row: (row[4], fleet[row[0]]))
    assert seen == [row[0] for row in by_location]


def test_page_bad_filter_is_a_form_error_not_a_500(world, fleet, client, login):
    _login(world, client, login)
    response = client.get(f"/projects/{world.project_id}/devices?changed_after=soon")
    assert response.status_code == 422
    assert "changed_after" in response.get_data(as_text=True)
    response = client.get(f"/projects/{world.project_id}/devices?cursor=zzz")
    assert response.status_code == 422


def test_page_tag_links_filter(world, fleet, client, login):
    _login(world, client, login)
    html = client.get(f"/projects/{world.project_id}/devices?tag=edge").get_data(as_text=True)
    assert _rows(html) == ["edge-1", "edge-2"]
    assert f'href="/projects/{world.project_id}/devices?tag=pop-fra"' in html


@pytest.mark.parametrize("descending", [False, True])
def test_never_changed_devices_come_last_both_ways_across_pages(world, fleet, app, descending):
    with app.app_context():
        db.session.execute(update(Device).where(Device.id.in_([fleet["core-2"], fleet["edge-2"], fleet["acc_1"]]))
                           .values(last_changed_at=None))
        db.session.commit()
    query = "?sort=last_changed&limit=2" + ("&dir=desc" if descending else "")
    seen, cursor = [], None
    while True:
        body = _api(world, query + (f"&cursor={cursor}" if cursor else ""))
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(FLEET) and len({d["id"] for d in seen}) == len(FLEET)
    dated = [(d["last_changed_at"], d["id"]) for d in seen[:4]]
    assert dated == sorted(dated, reverse=descending) and all(d[0] for d in dated)
    nulls = [d["id"] for d in seen[4:]]
    assert all(d["last_changed_at"] is None for d in seen[4:])
    assert nulls == sorted(nulls, reverse=descending)


def test_openapi_documents_the_list_parameters(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/projects/{project_id}/devices"]["get"]
    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert names >= {"q", "vendor", "model", "status", "tag", "location", "changed_after", "changed_before",
                     "archived", "compliance", "sort", "dir", "limit", "cursor"}
    assert not any(p["required"] for p in operation["parameters"] if p["in"] == "query")


def test_compliance_filter_reads_the_current_evaluation(world, fleet, app, client, login):
    from app.models import ComplianceResult

    with app.app_context():
        def result(name: str, status: str, current: bool, seq: int) -> ComplianceResult:
            return ComplianceResult(device_id=fleet[name], team_id=world.team_id, commit=f"{seq:040d}", seq=seq,
                                    status=status, current=current)

        db.session.add_all([
            result("core-1", "failing", True, 2), result("core-2", "compliant", True, 2),
            result("edge-1", "failing", False, 1), result("edge-1", "compliant", True, 2),
            result("lab-sw", "not_applicable", True, 3),
        ])
        db.session.commit()
    assert _names(world, "?compliance=failing") == ["core-1"]  # edge-1 failed before, not now
    assert _names(world, "?compliance=compliant") == ["core-2", "edge-1"]
    assert _names(world, "?compliance=not_applicable") == ["lab-sw"]
    assert _names(world, "?compliance=unknown") == ["acc_1", "edge-2", "old-fw"]
    assert _names(world, "?compliance=compliant&vendor=juniper") == ["edge-1"]
    response = world.client.get(f"/api/v1/projects/{world.project_id}/devices?compliance=bad",
                                headers=world.headers["viewer"])
    assert_error(response, 422)
    _login(world, client, login)
    html = client.get(f"/projects/{world.project_id}/devices?compliance=failing").get_data(as_text=True)
    assert _rows(html) == ["core-1"] and '<option value="failing" selected>' in html
