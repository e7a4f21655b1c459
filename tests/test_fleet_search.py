"""Fleet search over config text, addresses and VLANs: every kind, permission-filtered, on SQLite and
PostgreSQL alike (the suite runs on both), and an index that follows every write."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import ConfigText
from tests.device_support import World, world_fixture  # noqa: F401
from tests.fleet_config_support import EOS, IOS, JUNOS, NXOS

SEARCH = "/api/v1/teams/acme/search"


def _device(world: World, name: str, configs: dict[str, str], **fields) -> str:
    device = world.create_device(name, **fields)
    world.write(device["id"], configs=configs, message=f"{name} config")
    return device["id"]


@pytest.fixture(name="fleet")
def fleet_fixture(world: World) -> dict[str, str]:
    ids = {
        "ios": _device(world, "access-sw-1", {"running-config": IOS}, vendor="Cisco", model="C9300",
                       management_ip="10.1.2.3"),
        "nxos": _device(world, "nx-core-1", {"running-config": NXOS}, vendor="Cisco", model="Nexus 9000"),
        "eos": _device(world, "eos-leaf-1", {"running-config": EOS}, vendor="Arista", model="7050"),
        "junos": _device(world, "junos-edge-1", {"running-config": JUNOS}, vendor="Juniper", model="MX204"),
    }
    # Another team holding the very same lines: must never show up.
    other = world.client.post(f"/api/v1/projects/{world.other_project_id}/devices", json={"name": "theirs-1"},
                              headers=world.headers["outsider"]).get_json()
    response = world.client.post(f"/api/v1/devices/{other['id']}/versions",
                                 json={"message": "x", "configs": {"running-config": IOS}},
                                 headers=world.headers["outsider"])
    assert response.status_code == 201
    ids["other"] = other["id"]
    return ids


def _search(world: World, role: str = "viewer", expect: int = 200, **params):
    response = world.client.get(SEARCH, query_string=params, headers=world.headers[role])
    assert response.status_code == expect, response.get_data(as_text=True)
    return response.get_json()


def _names(body: dict, key: str = "configs") -> list[str]:
    return [entry["device"]["name"] for entry in body[key]]


def test_substring_finds_lines_with_numbers_context_and_highlight(world, fleet):
    body = _search(world, q="acl-servers-in", kind="config")
    assert _names(body) == ["access-sw-1"]
    [file] = body["configs"][0]["files"]
    assert file["path"] == "configs/running-config"
    [hit] = file["lines"]
    lines = IOS.split("\n")
    assert hit["line"] == lines.index("ip access-list extended ACL-SERVERS-IN") + 1
    assert hit["text"] == "ip access-list extended ACL-SERVERS-IN"
    assert hit["ranges"] == [[len("ip access-list extended "), len("ip access-list extended ACL-SERVERS-IN")]]
    assert [c["text"] for c in hit["before"]] == lines[hit["line"] - 3: hit["line"] - 1]
    assert [c["text"] for c in hit["after"]] == lines[hit["line"]: hit["line"] + 2]
    assert hit["web_url"].endswith(f"#L{hit['line']}")
    assert fleet["ios"] in hit["web_url"]


def test_substring_across_vendors_and_filters(world, fleet):
    body = _search(world, q="ntp server 10.0.0.123", kind="config")
    assert _names(body) == ["access-sw-1", "nx-core-1"]  # Junos writes it as a block, EOS lacks it
    body = _search(world, q="10.0.0.123", kind="config")
    assert _names(body) == ["access-sw-1", "junos-edge-1", "nx-core-1"]
    assert _names(_search(world, q="10.0.0.123", kind="config", platform="juniper")) == ["junos-edge-1"]
    assert _names(_search(world, q="10.0.0.123", kind="config", config="startup-config")) == []
    assert _names(_search(world, q="10.0.0.123", kind="config", config="running-config")) == [
        "access-sw-1", "junos-edge-1", "nx-core-1"]


def test_short_query_and_like_wildcards_are_literal(world, fleet):
    # Two characters: no trigram to use, still exact; '%' and '_' are not wildcards.
    assert _names(_search(world, q="fw", kind="config")) == ["nx-core-1"]
    assert _names(_search(world, q="10_0_0", kind="config")) == []
    assert _names(_search(world, q="%", kind="config")) == []


def test_regex_search(world, fleet):
    body = _search(world, q=r"^interface GigabitEthernet1/0/1\d$", regex="1", kind="config")
    assert _names(body) == ["access-sw-1"]
    lines = [hit["text"] for hit in body["configs"][0]["files"][0]["lines"]]
    assert lines == ["interface GigabitEthernet1/0/18", "interface GigabitEthernet1/0/19"]
    body = _search(world, q=r"neighbor 10\.(20|30)\.0\.1", regex="true", kind="config")
    assert _names(body) == ["eos-leaf-1", "nx-core-1"]
    # A pattern without any literal run still works (no prefilter).
    assert "junos-edge-1" in _names(_search(world, q=r"\d+\.\d+\.\d+\.\d+/30", regex="1", kind="config"))


def test_absent_search_lists_devices_lacking_a_line(world, fleet):
    body = _search(world, q=r"^ntp server", regex="1", absent="1", kind="config")
    assert _names(body) == ["eos-leaf-1", "junos-edge-1"]
    assert all(f["lines"] == [] for entry in body["configs"] for f in entry["files"])
    body = _search(world, q="ACL-SERVERS-IN", absent="1", kind="config")
    assert _names(body) == ["eos-leaf-1", "junos-edge-1", "nx-core-1"]


def test_address_finds_networks_devices_and_lines(world, fleet):
    client, owner = world.client, world.headers["owner"]
    for name, cidr in (("mgmt", "10.1.0.0/16"), ("users", "10.1.2.0/24"), ("elsewhere", "10.2.0.0/16")):
        assert client.post(f"/api/v1/projects/{world.project_id}/networks", json={"name": name, "cidr": cidr},
                           headers=owner).status_code == 201
    body = _search(world, q="10.1.2.3")
    address = body["address"]
    assert sorted(n["name"] for n in address["networks"]) == ["mgmt", "users"]
    assert [d["name"] for d in address["devices"]] == ["access-sw-1"]
    [entry] = address["configs"]
    assert [hit["text"] for hit in entry["files"][0]["lines"]] == [" ip address 10.1.2.3 255.255.255.0"]
    # 10.1.2.30 (the logging host) is another address, not a match.
    assert all("10.1.2.30" not in hit["text"] for hit in entry["files"][0]["lines"])


def test_vlan_finds_networks_and_ports(world, fleet):
    client, owner = world.client, world.headers["owner"]
    assert client.post(f"/api/v1/projects/{world.project_id}/networks",
                       json={"name": "voice", "cidr": "10.120.0.0/24", "vlans": [{"vid": 120, "name": "voice"}]},
                       headers=owner).status_code == 201
    ports = [
        {"name": "Gi1/0/5", "mode": "access", "vlans": [120]},
        {"name": "Gi1/0/6", "mode": "trunk", "vlans": [10, 1200]},
        {"name": "Gi1/0/7", "mode": "trunk", "vlans": [10], "native_vlan": 120},
    ]
    world.write(fleet["ios"], ports=ports, message="ports")
    body = _search(world, q="vlan 120")
    vlan = body["vlan"]
    assert [n["name"] for n in vlan["networks"]] == ["voice"]
    assert [(p["device"]["name"], p["port"], p["how"]) for p in vlan["ports"]] == [
        ("access-sw-1", "Gi1/0/5", "member"), ("access-sw-1", "Gi1/0/7", "native")]
    assert _search(world, q="120", kind="vlan")["vlan"]["vid"] == 120
    _search(world, q="5000", kind="vlan", expect=422)


def test_other_teams_never_appear_not_even_as_a_count(world, fleet):
    body = _search(world, q="ACL-SERVERS-IN")
    assert _names(body) == ["access-sw-1"]
    assert fleet["other"] not in str(body)
    # The outsider sees only their own device, and the acme team does not exist for them.
    response = world.client.get("/api/v1/teams/other/search", query_string={"q": "ACL-SERVERS-IN", "kind": "config"},
                                headers=world.headers["outsider"])
    assert [e["device"]["name"] for e in response.get_json()["configs"]] == ["theirs-1"]
    assert world.client.get(SEARCH, query_string={"q": "x"}, headers=world.headers["outsider"]).status_code == 404


def test_index_follows_writes_and_removals(world, fleet):
    world.write(fleet["eos"], configs={"running-config": EOS + "ntp server 10.0.0.123\n"}, message="ntp")
    assert "eos-leaf-1" in _names(_search(world, q="ntp server 10.0.0.123", kind="config"))
    world.write(fleet["eos"], configs={"running-config": None}, message="drop config")
    assert "eos-leaf-1" not in _names(_search(world, q="10.0.0.123", kind="config"))
    # Absent search only lists devices that have a config to judge.
    assert "eos-leaf-1" not in _names(_search(world, q="ntp", absent="1", kind="config"))


def test_reindex_rebuilds_the_same_index(world, fleet, app):
    from app.services.commit_index import reindex

    before = _search(world, q="10.0.0.123", kind="config")
    with app.app_context():
        db.session.query(ConfigText).delete()
        db.session.commit()
        assert _names(_search(world, q="10.0.0.123", kind="config")) == []
        reindex()
    assert _search(world, q="10.0.0.123", kind="config") == before


def test_paging_by_device(world, fleet):
    first = _search(world, q="10.0.0.123", kind="config", limit="2")
    assert _names(first) == ["access-sw-1", "junos-edge-1"]
    assert first["next_cursor"]
    second = _search(world, q="10.0.0.123", kind="config", limit="2", cursor=first["next_cursor"])
    assert _names(second) == ["nx-core-1"]
    assert second["next_cursor"] is None


def test_search_as_of_a_date(world):
    device = world.create_device("dated-sw")
    body = {"versions": [
        {"message": "old", "author_time": "2026-02-01T10:00:00+01:00",
         "configs": {"running-config": "hostname dated-sw\nsnmp-server community legacy RO\n"}},
        {"message": "new", "author_time": "2026-03-15T10:00:00Z",
         "configs": {"running-config": "hostname dated-sw\n"}},
    ]}
    response = world.client.post(f"/api/v1/devices/{device['id']}/versions/import", json=body,
                                 headers=world.headers["editor"])
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    assert _names(_search(world, q="snmp-server community", kind="config")) == []
    dated = _search(world, q="snmp-server community", kind="config", at="2026-03-01")
    assert _names(dated) == ["dated-sw"]
    assert dated["configs"][0]["files"][0]["lines"][0]["line"] == 2
    assert _names(_search(world, q="snmp-server community", kind="config", at="2026-01-01")) == []


@pytest.mark.parametrize("params,code", [
    ({"q": "(unclosed", "regex": "1", "kind": "config"}, 422),
    ({"q": "x" * 501, "kind": "config"}, 422),
    ({"q": "", "kind": "config"}, 422),
    ({"q": "x", "kind": "nonsense"}, 422),
    ({"q": "x", "kind": "config", "at": "yesterday"}, 422),
    ({"q": "x", "kind": "config", "cursor": "garbage"}, 422),
    ({"q": "x", "regex": "maybe"}, 422),
    ({"q": "x", "kind": "config", "project": "\x00"}, 422),
])
def test_bad_queries_are_clear_errors(world, fleet, params, code):
    body = _search(world, expect=code, **params)
    assert body["error"]["code"]


def test_names_search_still_answers(world, fleet):
    body = _search(world, q="access-sw")
    assert [d["name"] for d in body["results"]["devices"]] == ["access-sw-1"]
    assert "projects" in body["results"] and "tasks" in body["results"]


def test_search_sees_configs_after_redaction_never_a_secret(world):
    device = world.create_device("edge-1", vendor="Cisco", model="ISR4331")
    world.write(device["id"], configs={"running-config": "hostname edge-1\nsnmp-server community fleetSecretZq9 RO\n"},
                message="collected")
    assert _names(_search(world, q="fleetSecretZq9", kind="config")) == []
    assert _names(_search(world, q="fleetSecretZq9", kind="config", absent="1")) == ["edge-1"]
    [entry] = _search(world, q="snmp-server community", kind="config")["configs"]
    [hit] = entry["files"][0]["lines"]
    assert hit["text"].startswith("snmp-server community <redacted:") and "fleetSecretZq9" not in str(entry)


def test_regex_syntax_read_differently_by_re_still_finds_every_match(world, fleet):
    """The trigram prefilter walks `re`'s parse, the search runs on `regex`: a POSIX class or a fuzzy
    constraint must not make the prefilter require text a match need not contain."""
    assert _names(_search(world, q=r"GigabitEthernet1/0/1[[:digit:]]$", regex="1", kind="config")) == [
        "access-sw-1"]
    # One error allowed: "ACL-SERVERS-IM" is not in any config, "ACL-SERVERS-IN" is.
    assert _names(_search(world, q=r"(?:ACL-SERVERS-IM){e<=1}", regex="1", kind="config")) == ["access-sw-1"]
    # Quantifiers are read alike, so these keep their prefilter and their answers.
    assert _names(_search(world, q=r"^interface GigabitEthernet1/0/1\d{1}$", regex="1", kind="config")) == [
        "access-sw-1"]


def test_required_literals_skip_only_syntax_read_differently():
    from app.services.config_search import _required_literals

    assert _required_literals(r"foo[[:digit:]]bar") == []
    assert _required_literals(r"(?:telnet){e<=1}") == []
    assert _required_literals(r"neighbor 10\.\d{1,3}\.0\.1") == ["neighbor 10.", ".0.1"]
    assert _required_literals(r"ACL-SERVERS-IN") == ["ACL-SERVERS-IN"]
