"""Compliance rules of each kind over realistic Cisco IOS and Junos configs, evaluated by the job on
every new version; status history, CSV/JSON export, notification when a device starts failing."""

from __future__ import annotations

import csv
import io

import pytest

from app.extensions import db
from app.models import OutboxMail
from tests.device_support import World, world_fixture  # noqa: F401
from tests.fleet_config_support import IOS, JUNOS
from tests.privacy_support import drain
from tests.webhook_support import Receiver, private_webhooks_fixture  # noqa: F401  (fixture)

FIXED_IOS = IOS.replace("ip http server\n", "").replace(
    " description phone-471\n switchport mode access\n switchport access vlan 120\n",
    " description phone-471\n switchport mode access\n switchport access vlan 120\n spanning-tree portfast\n")

IOS_RULES = [
    {"name": "NTP configured", "kind": "must_contain", "pattern": r"^ntp server 10\.0\.0\.123$"},
    {"name": "No HTTP server", "kind": "must_not_contain", "pattern": r"^ip http server"},
    {"name": "Portfast on access ports", "kind": "block_must_contain", "block": r"^interface ",
     "block_filter": r"switchport mode access", "pattern": r"^spanning-tree portfast"},
    {"name": "Syslog", "kind": "must_contain", "pattern": r"^logging host "},
]


def _rules(world: World, rules: list[dict], role: str = "editor") -> list[dict]:
    out = []
    for rule in rules:
        response = world.client.post(f"/api/v1/projects/{world.project_id}/compliance/rules", json=rule,
                                     headers=world.headers[role])
        assert response.status_code == 201, response.get_data(as_text=True)
        out.append(response.get_json())
        response.close()
    return out


def _write(world: World, device_id: str, **body) -> None:
    world.write(device_id, **body).close()  # as a WSGI server does: in-process jobs run on close


def _status(world: World, device_id: str) -> dict:
    drain(world.app)
    response = world.client.get(f"/api/v1/devices/{device_id}/compliance", headers=world.headers["viewer"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_ios_rules_of_each_kind_then_fixed_by_a_new_version(world, app):
    _rules(world, IOS_RULES)
    device = world.create_device("access-sw-1", vendor="Cisco", model="C9300")
    _write(world, device["id"], configs={"running-config": IOS}, message="collected")
    current = _status(world, device["id"])["current"]
    assert current["status"] == "failing"
    assert current["rules_checked"] == 4
    failures = {f["rule"]: f for f in current["failures"]}
    assert set(failures) == {"No HTTP server", "Portfast on access ports"}
    assert failures["No HTTP server"]["lines"] == [
        {"line": IOS.split("\n").index("ip http server") + 1, "text": "ip http server"}]
    assert failures["Portfast on access ports"]["blocks"] == ["interface GigabitEthernet1/0/19"]
    # The owner heard that the device became non-compliant, once.
    drain(app)
    with app.app_context():
        mails = db.session.query(OutboxMail).filter(OutboxMail.subject.contains("not compliant")).all()
        # Once to each owner and admin.
        assert sorted(m.to for m in mails) == ["the-admin@example.com", "the-owner@example.com"]
        assert all("No HTTP server" in m.body for m in mails)

    _write(world, device["id"], configs={"running-config": FIXED_IOS}, message="fixed")
    status = _status(world, device["id"])
    assert status["current"]["status"] == "compliant"
    assert [h["status"] for h in status["history"]] == ["compliant", "failing"]
    assert status["history"][0]["seq"] > status["history"][1]["seq"]


def test_junos_rules(world):
    _rules(world, [
        {"name": "NTP", "kind": "must_contain", "pattern": r"^set system ntp server "},
        {"name": "Interfaces described", "kind": "block_must_contain", "block": r"^interfaces ge-",
         "pattern": r"^description "},
        {"name": "No telnet", "kind": "must_not_contain", "pattern": r"telnet"},
    ])
    device = world.create_device("junos-edge-1", vendor="Juniper", model="MX204")
    _write(world, device["id"], configs={"running-config": JUNOS}, message="collected")
    current = _status(world, device["id"])["current"]
    assert current["status"] == "failing"
    assert [f["rule"] for f in current["failures"]] == ["Interfaces described"], current
    [failure] = current["failures"]
    assert failure["rule"] == "Interfaces described"
    assert failure["blocks"] == ["interfaces ge-0/0/2"]


def test_rules_apply_by_platform_and_name_pattern(world):
    _rules(world, [
        {"name": "IOS only", "kind": "must_contain", "pattern": "^never-there$", "platform": "ios"},
        {"name": "Edge only", "kind": "must_contain", "pattern": "^never-there$", "name_pattern": "*-edge-*"},
    ])
    ios = world.create_device("access-sw-1", vendor="Cisco")
    _write(world, ios["id"], configs={"running-config": IOS}, message="c")
    junos = world.create_device("junos-edge-1", vendor="Juniper")
    _write(world, junos["id"], configs={"running-config": JUNOS}, message="c")
    assert [f["rule"] for f in _status(world, ios["id"])["current"]["failures"]] == ["IOS only"]
    assert [f["rule"] for f in _status(world, junos["id"])["current"]["failures"]] == ["Edge only"]


def test_rule_changes_reevaluate_and_the_report_exports(world):
    device = world.create_device("access-sw-1", vendor="Cisco")
    _write(world, device["id"], configs={"running-config": IOS}, message="c")
    assert _status(world, device["id"])["current"]["status"] == "not_applicable"
    [rule] = _rules(world, [IOS_RULES[1]])
    assert _status(world, device["id"])["current"]["status"] == "failing"
    response = world.client.patch(f"/api/v1/compliance/rules/{rule['id']}", json={"enabled": False},
                                  headers=world.headers["editor"])
    assert response.status_code == 200
    response.close()
    assert _status(world, device["id"])["current"]["status"] == "not_applicable"
    world.client.patch(f"/api/v1/compliance/rules/{rule['id']}", json={"enabled": True},
                       headers=world.headers["editor"]).close()
    drain(world.app)
    report = world.client.get(f"/api/v1/projects/{world.project_id}/compliance", headers=world.headers["viewer"])
    assert report.status_code == 200
    body = report.get_json()
    assert body["summary"] == {"failing": 1}
    assert body["devices"][0]["failures"][0]["rule"] == "No HTTP server"
    exported = world.client.get(f"/api/v1/projects/{world.project_id}/compliance?format=csv",
                                headers=world.headers["viewer"])
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0]["device"] == "access-sw-1" and rows[0]["status"] == "failing"
    assert "ip http server" in rows[0]["details"]


@pytest.mark.parametrize("body,code", [
    ({"name": "x", "kind": "must_contain", "pattern": "(unclosed"}, 422),
    ({"name": "x", "kind": "sometimes", "pattern": "a"}, 422),
    ({"name": "x", "kind": "block_must_contain", "pattern": "a"}, 422),  # no block
    ({"kind": "must_contain", "pattern": "a"}, 422),
    ({"name": "x", "kind": "must_contain", "pattern": "a", "surprise": 1}, 422),
    ({"name": "x\x00", "kind": "must_contain", "pattern": "a"}, 422),
    ({"name": "x\ny", "kind": "must_contain", "pattern": "a"}, 422),  # one line each (string_field's option)
    ({"name": "x", "kind": "must_contain", "pattern": "a\rb"}, 422),
    ({"name": "x\x7f", "kind": "must_contain", "pattern": "a"}, 422),  # DEL, refused by the shared check_text
    ({"name": "x", "kind": "must_contain", "pattern": "a", "description": "\ud800"}, 422),  # a lone surrogate
    ({"name": "x", "kind": "must_contain", "pattern": "a" * 501}, 422),
])
def test_bad_rules_are_refused(world, body, code):
    response = world.client.post(f"/api/v1/projects/{world.project_id}/compliance/rules", json=body,
                                 headers=world.headers["editor"])
    assert response.status_code == code, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"]


def test_rule_fields_are_trimmed_and_refuse_tabs_as_every_name_does(world):
    [rule] = _rules(world, [{"name": "  NTP set  ", "kind": "must_contain", "pattern": " ^ntp server ",
                             "description": None}])
    assert (rule["name"], rule["pattern"], rule["description"]) == ("NTP set", "^ntp server", "")
    response = world.client.post(f"/api/v1/projects/{world.project_id}/compliance/rules",
                                 json={"name": "NTP\tset", "kind": "must_contain", "pattern": "^ntp"},
                                 headers=world.headers["editor"])
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "name"


def test_rules_follow_roles_and_teams(world):
    url = f"/api/v1/projects/{world.project_id}/compliance/rules"
    rule = IOS_RULES[0]
    assert world.client.post(url, json=rule, headers=world.headers["viewer"]).status_code == 403
    assert world.client.post(url, json=rule, headers=world.headers["outsider"]).status_code == 404
    assert world.client.get(url, headers=world.headers["outsider"]).status_code == 404
    [created] = _rules(world, [rule])
    assert world.client.delete(f"/api/v1/compliance/rules/{created['id']}",
                               headers=world.headers["outsider"]).status_code == 404
    assert world.client.get(url, headers=world.headers["viewer"]).get_json()["items"][0]["name"] == rule["name"]
    assert world.client.delete(f"/api/v1/compliance/rules/{created['id']}",
                               headers=world.headers["editor"]).status_code == 204


def test_becoming_noncompliant_notifies_a_webhook_once(world, app, private_webhooks):
    receiver = Receiver()
    try:
        response = world.client.post(f"/api/v1/projects/{world.project_id}/webhooks",
                                     json={"url": receiver.url, "events": ["device.noncompliant"]},
                                     headers=world.headers["admin"])
        assert response.status_code == 201, response.get_data(as_text=True)
        receiver.secret = response.get_json()["secret"]
        _rules(world, [IOS_RULES[1]])
        device = world.create_device("access-sw-1", vendor="Cisco")
        _write(world, device["id"], configs={"running-config": IOS}, message="collected")
        _status(world, device["id"])
        drain(app)
        # Still failing after another version: no second event.
        _write(world, device["id"], configs={"running-config": IOS + "! note\n"}, message="again")
        _status(world, device["id"])
        drain(app)
        events = [r["body"] for r in receiver.accepted]
        assert [e["type"] for e in events] == ["device.noncompliant"]
        assert all(r["valid"] for r in receiver.received)
        [event] = events
        assert event["device"]["name"] == "access-sw-1"
        assert event["failures"][0]["rule"] == "No HTTP server"
        assert event["web_url"].endswith(f"/projects/{world.project_id}/compliance")
    finally:
        receiver.close()


# -- one evaluation shared by the rules (no database: rules and device as the analysis job hands them) --


def _rule(rule_id: str, kind: str, pattern: str, block: str = "", block_filter: str = ""):
    from app.models import ComplianceRule

    return ComplianceRule(id=rule_id, team_id="t", name=rule_id, kind=kind, pattern=pattern, block=block,
                          block_filter=block_filter, enabled=True, config_path="configs/running-config",
                          platform="", tag="", name_pattern="", project_id=None)


def _one_by_one(text: str, platform, rules) -> list[tuple[str, list, list, str]]:
    """Each rule on its own, straight from the rule's definition: what the shared evaluation must equal."""
    import regex

    from app.services import config_blocks
    from app.services.compliance import _blocks

    tree = config_blocks.parse(platform, text)
    set_text = "\n".join(c.text for c in tree.children) if platform.name == "JUNIPER_JUNOS" else None
    out = []
    for rule in rules:
        pattern = regex.compile(rule.pattern, regex.MULTILINE)
        if rule.kind == "must_contain":
            if not pattern.search(text) and not (set_text and pattern.search(set_text)):
                out.append((rule.id, [], [], rule.pattern))
        elif rule.kind == "must_not_contain":
            lines = [{"line": n, "text": line} for n, line in enumerate(text.split("\n"), 1) if pattern.search(line)]
            if not lines and set_text:
                lines = [{"line": None, "text": line} for line in set_text.split("\n") if pattern.search(line)]
            if lines:
                out.append((rule.id, lines, [], ""))
        else:
            block = regex.compile(rule.block, regex.MULTILINE)
            where = regex.compile(rule.block_filter, regex.MULTILINE) if rule.block_filter else None
            bad = [parent for parent, children in _blocks(tree, platform) if block.search(parent)
                   and (where is None or where.search("\n".join(children))) and not pattern.search("\n".join(children))]
            if bad:
                out.append((rule.id, [], bad, rule.pattern))
    return out


def test_rules_sharing_patterns_get_their_own_answers():
    from hier_config import Platform

    from app.models import Device
    from app.services.compliance import evaluate

    text = IOS + "interface GigabitEthernet1/0/20\n description printer\n switchport mode access\n!\n"
    rules = [
        _rule("portfast", "block_must_contain", r"^spanning-tree portfast", r"^interface ", r"switchport mode access"),
        _rule("vlan", "block_must_contain", r"^switchport access vlan", r"^interface ", r"switchport mode access"),
        _rule("described", "block_must_contain", r"^description ", r"^interface "),
        _rule("uplink", "block_must_contain", r"core-1", r"^interface ", r"switchport mode trunk"),
        # A pattern that is another rule's filter, and the same block with another filter.
        _rule("access-mode", "block_must_contain", r"switchport mode access", r"^interface Gig", r"^description phone"),
        _rule("http-1", "must_not_contain", r"^ip http server"),
        _rule("http-2", "must_not_contain", r"^ip http server"),
        _rule("ntp-1", "must_contain", r"^ntp server 10\.0\.0\.123$"),
        _rule("ntp-2", "must_contain", r"^ntp server 10\.0\.0\.123$"),
        _rule("snmp-1", "must_contain", r"^snmp-server "),
        _rule("snmp-2", "must_contain", r"^snmp-server "),
        # Alternations, searched one alternative at a time when the text is searched whole.
        _rule("any-http", "must_not_contain", r"^snmp-server community \S+ RW|^ip http server"),
        _rule("no-telnet", "must_not_contain", r"transport input telnet|^ip telnet"),
        _rule("ntp-or-syslog", "must_contain", r"^ntp server 10\.0\.0\.9$|^logging host"),
        _rule("ntp-or-snmp", "must_contain", r"^ntp server 10\.0\.0\.9$|^snmp-server"),
        # Patterns that may reach past a line: each block is searched on its own.
        _rule("vlan-set", "block_must_contain", r"^switchport access vlan\s\d+$", r"^interface\s", r"mode\saccess"),
        _rule("trunk", "block_must_contain", r"^switchport trunk allowed vlan [^2]+$", r"^interface\s"),
    ]
    device = Device(id="d", team_id="t", project_id="p", name="access-sw-1", vendor="Cisco", model="C9300",
                    custom_fields={})
    status, checked, failures = evaluate(device, rules, {"configs/running-config": text})
    got = [(f.rule.id, f.lines, f.blocks, f.missing) for f in failures]
    assert (status, checked) == ("failing", len(rules))
    assert got == _one_by_one(text, Platform.CISCO_IOS, rules)
    assert [g[0] for g in got] == ["portfast", "vlan", "described", "http-1", "http-2", "snmp-1", "snmp-2",
                                   "any-http", "ntp-or-snmp", "vlan-set", "trunk"]
    assert got[0][2] == ["interface GigabitEthernet1/0/19", "interface GigabitEthernet1/0/20"]
    assert got[1][2] == ["interface GigabitEthernet1/0/20"]
    assert got[2][2] == ["interface Vlan10"]
    # Two rules with one pattern report the same lines, each in a list of its own.
    assert failures[3].lines == failures[4].lines and failures[3].lines is not failures[4].lines


def test_junos_rules_on_either_form_share_one_parse():
    from hier_config import Platform

    from app.models import Device
    from app.services.compliance import evaluate

    rules = [
        _rule("ntp-set", "must_contain", r"^set system ntp server "),
        _rule("ntp-brace", "must_contain", r"^\s+ntp \{"),
        _rule("bgp-set", "must_not_contain", r"^set protocols bgp group transit neighbor 198\.51\.100\.2 "),
        _rule("described", "block_must_contain", r"^description ", r"^interfaces ge-"),
        _rule("unit", "block_must_contain", r"^unit 0 ", r"^interfaces ge-"),
    ]
    device = Device(id="d", team_id="t", project_id="p", name="junos-edge-1", vendor="Juniper", model="MX204",
                    custom_fields={})
    _, _, failures = evaluate(device, rules, {"configs/running-config": JUNOS})
    assert [(f.rule.id, f.lines, f.blocks, f.missing) for f in failures] == _one_by_one(
        JUNOS, Platform.JUNIPER_JUNOS, rules)
    assert [f.rule.id for f in failures][:2] == ["bgp-set", "described"]
