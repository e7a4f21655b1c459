"""Noise rules (ignore, strip), presets, the rules API, and a preview that predicts the real thing."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.services import config_rules
from app.services.config_presets import PRESETS
from tests.client_support import assert_error
from tests.device_support import world_fixture  # noqa: F401  (fixture)

BASE = """! Last configuration change at {stamp}
! uptime is {uptime}
hostname core-1
interface Gi0/1
 description {description}
snmp-server community HistZq1 RO
end
"""


def config(stamp: str = "T1", uptime: str = "5 days", description: str = "uplink") -> str:
    return BASE.format(stamp=stamp, uptime=uptime, description=description)


# Oldest first. With the rules below: 2 ignored (timestamp), 4 unchanged once `uptime` is
# stripped, 5 ignored (timestamp + uptime), 7 ignored; 1, 3 and 6 are kept.
HISTORY = [
    config(),
    config(stamp="T2"),
    config(stamp="T2", description="uplink-2"),
    config(stamp="T2", uptime="6 days", description="uplink-2"),
    config(stamp="T3", uptime="7 days", description="uplink-2"),
    config(stamp="T4", uptime="7 days", description="uplink-3"),
    config(stamp="T5", uptime="8 days", description="uplink-3"),
]
RULES = {"noise_presets": "all", "rules": [{"kind": "strip", "pattern": r"^! uptime is "}]}


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _put_rules(world, body: dict, role: str = "admin"):
    return world.client.put(f"/api/v1/projects/{world.project_id}/rules", json=body, headers=world.headers[role])


def _history(world, device_id: str) -> list[dict]:
    items = world.client.get(f"/api/v1/devices/{device_id}/versions?limit=200",
                             headers=world.headers["viewer"]).get_json()["items"]
    return list(reversed(items))


def _file(world, device_id: str, rev: str) -> bytes:
    return world.client.get(f"/api/v1/devices/{device_id}/versions/{rev}/files/configs/running-config",
                            headers=world.headers["viewer"]).data


def test_new_projects_start_with_redaction_and_every_presets_volatile_lines(world):
    body = world.client.get(f"/api/v1/projects/{world.project_id}/rules", headers=world.headers["viewer"]).get_json()
    assert body["saved"] is False
    assert body["redaction"] is True and body["noise_presets"] == "all" and body["platform"] == "auto"
    assert body["config_name"] == "running-config" and body["rules"] == []
    keys = {p["key"] for p in body["presets"]}
    assert keys == {"ios", "nxos", "iosxr", "asa", "junos", "eos", "fortios", "routeros", "procurve"}
    # A device of unknown platform is not flooded by any vendor's volatile lines.
    device = world.create_device("unknown-1")
    lines = ("## Last commit: {} by a", "! NVRAM config last updated at {}", "#conf_file_ver={}",
             "# nov/30/2026 {} by RouterOS 7.12")
    world.write(device["id"], configs={"running-config": "\n".join(lines).format(1, 1, 1, "10:10:10") + "\nx\n"})
    again = world.write(device["id"], expect=200,
                        configs={"running-config": "\n".join(lines).format(2, 2, 2, "11:11:11") + "\nx\n"})
    assert again.get_json()["changed"] is False


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_each_presets_volatile_lines_make_no_version(world, preset):
    """For every preset, a change confined to one of its volatile lines is ignored by default."""
    samples = {
        "ios": ("! Last configuration change at 10:00 UTC", "! Last configuration change at 11:00 UTC"),
        "nxos": ("!Time: Mon Nov 30 10:10:10 2026", "!Time: Tue Dec 1 11:11:11 2026"),
        "iosxr": ("Mon Nov 30 10:10:10.123 UTC", "Tue Dec  1 11:11:11.456 UTC"),
        "asa": ("Cryptochecksum:aaaa", "Cryptochecksum:bbbb"),
        "junos": ("## Last commit: 2026-11-30 10:10:10 UTC by a", "## Last commit: 2026-12-01 11:11:11 UTC by b"),
        "eos": ("! Startup-config last modified at Mon Nov 30", "! Startup-config last modified at Tue Dec 1"),
        "fortios": ("#conf_file_ver=1", "#conf_file_ver=2"),
        "routeros": ("# nov/30/2026 10:10:10 by RouterOS 7.12", "# dec/01/2026 11:11:11 by RouterOS 7.12"),
        "procurve": ("; Last configuration change 2026-11-30", "; Last configuration change 2026-12-01"),
    }
    old, new = samples[preset]
    device = world.create_device(f"d-{preset}", custom_fields={"platform": preset})
    world.write(device["id"], configs={"running-config": f"{old}\nhostname x\n"})
    response = world.write(device["id"], expect=200, configs={"running-config": f"{new}\nhostname x\n"})
    assert response.get_json()["changed"] is False
    # Anything else changing keeps the volatile line as collected.
    world.write(device["id"], configs={"running-config": f"{new}\nhostname y\n"})
    assert _file(world, device["id"], "HEAD") == f"{new}\nhostname y\n".encode()


def test_platform_detection_from_vendor_model_and_field():
    class D:
        def __init__(self, vendor="", model="", custom_fields=None):
            self.vendor, self.model, self.custom_fields = vendor, model, custom_fields or {}

    cases = [(D("Cisco", "Nexus 9300"), "nxos"), (D("Cisco", "ASR9006"), "iosxr"), (D("Cisco", "ASA 5516-X"), "asa"),
             (D("Cisco", "Catalyst 9300"), "ios"), (D("Juniper", "MX204"), "junos"), (D("Arista", "7050SX3"), "eos"),
             (D("Fortinet", "FortiGate 60E"), "fortios"), (D("MikroTik", "CCR2004"), "routeros"),
             (D("HPE", "Aruba 2930F"), "procurve"), (D("", "", {"platform": "iosxr"}), "iosxr"),
             (D("Acme", "Box"), None)]
    for device, expected in cases:
        assert config_rules.device_platform(device) == expected, (device.vendor, device.model)


def test_rules_api_validation_and_audit(world, app):
    url = f"/api/v1/projects/{world.project_id}/rules"
    for body, field in (
        ({"rules": [{"kind": "drop", "pattern": "x"}]}, "rules[0].kind"),
        ({"rules": [{"kind": "strip", "pattern": "("}]}, "rules[0].pattern"),
        ({"rules": [{"kind": "strip", "pattern": ""}]}, "rules[0].pattern"),
        ({"rules": [{"kind": "strip", "pattern": "x", "when": 1}]}, "rules[0].when"),
        ({"rules": "x"}, "rules"),
        ({"rules": [{"kind": "strip", "pattern": "x"}] * 101}, "rules"),
        ({"platform": "windows"}, "platform"),
        ({"noise_presets": "some"}, "noise_presets"),
        ({"redaction": "yes"}, "redaction"),
        ({"config_name": "../x"}, "config_name"),
        ({"colour": "red"}, "colour"),
    ):
        error = assert_error(world.client.put(url, json=body, headers=world.headers["admin"]), 422)
        assert error["field"] == field, (body, error)
    assert_error(world.client.put(url, data=b"[1", headers=world.headers["admin"]), 400)
    assert_error(world.client.put(url, json={"redaction": False}, headers=world.headers["editor"]), 403)
    assert_error(world.client.get(f"/api/v1/projects/{world.other_project_id}/rules",
                                  headers=world.headers["admin"]), 404)
    saved = _put_rules(world, {**RULES, "platform": "ios"})
    assert saved.status_code == 200 and saved.get_json()["saved"] is True
    assert world.client.get(url, headers=world.headers["viewer"]).get_json()["rules"] == [
        {"kind": "strip", "pattern": r"^! uptime is ", "description": ""}]
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "project_rules")).all()
        assert len(events) == 1 and events[0].actor_id == world.user_ids["admin"]
        assert set(events[0].changes) == {"platform", "rules"}
    assert _put_rules(world, {**RULES, "platform": "ios"}).status_code == 200  # no change, no event
    with app.app_context():
        assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "project_rules")).all()) == 1


def test_a_pathological_pattern_is_refused_not_a_stalled_worker(world, monkeypatch):
    monkeypatch.setattr(config_rules, "RULES_TIME_BUDGET", 0.2)
    assert _put_rules(world, {"rules": [{"kind": "strip", "pattern": "(a|aa)+b"}]}).status_code == 200
    device = world.create_device("slow")
    error = assert_error(world.write(device["id"], expect=None, configs={"running-config": "a" * 60 + "\n"}), 422,
                         "rule_timeout")
    assert error["field"] == "rules"


def test_preview_predicts_exactly_what_saving_the_rules_does(world):
    # The history is collected with no noise rules at all (every version kept as it came).
    assert _put_rules(world, {"noise_presets": "off"}).status_code == 200
    source = world.create_device("core-1", custom_fields={"platform": "ios"})
    for index, text in enumerate(HISTORY):
        world.write(source["id"], message=f"v{index + 1}", configs={"running-config": text})
    assert len(_history(world, source["id"])) == len(HISTORY) + 1

    preview = world.client.post(f"/api/v1/projects/{world.project_id}/rules/preview",
                                json={"device_id": source["id"], **RULES}, headers=world.headers["viewer"])
    assert preview.status_code == 200, preview.get_data(as_text=True)
    result = preview.get_json()
    items = result["versions"]
    assert [(i["message"], i["outcome"], i["reason"]) for i in items] == [
        ("Create device", "kept", "first"),
        ("v1", "kept", "changed"), ("v2", "skipped", "ignored"), ("v3", "kept", "changed"),
        ("v4", "skipped", "unchanged"), ("v5", "skipped", "ignored"), ("v6", "kept", "changed"),
        ("v7", "skipped", "ignored"),
    ]
    assert result["summary"] == {"versions": 8, "kept": 4, "skipped": 4, "stripped_lines": 7}
    assert items[1]["stripped"] == [{"path": "configs/running-config", "line": 2, "text": "! uptime is 5 days"}]
    # Nothing was saved by the preview.
    assert world.client.get(f"/api/v1/projects/{world.project_id}/rules",
                            headers=world.headers["viewer"]).get_json()["noise_presets"] == "off"

    # Save the rules, then send the same history again: through single writes, and as one import.
    assert _put_rules(world, RULES).status_code == 200
    predicted = [i for i in items if i["outcome"] == "kept" and i["configs"]]
    single = world.create_device("core-1-single", custom_fields={"platform": "ios"})
    for index, text in enumerate(HISTORY):
        world.write(single["id"], expect=None, message=f"v{index + 1}", configs={"running-config": text})
    batch = world.create_device("core-1-batch", custom_fields={"platform": "ios"})
    imported = world.client.post(
        f"/api/v1/devices/{batch['id']}/versions/import",
        json={"versions": [{"message": f"v{i + 1}", "configs": {"running-config": t}} for i, t in enumerate(HISTORY)]},
        headers=world.headers["editor"])
    assert imported.status_code == 201, imported.get_data(as_text=True)
    assert [s["index"] for s in imported.get_json()["skipped"]] == [1, 3, 4, 6]
    for device in (single, batch):
        made = [v for v in _history(world, device["id"]) if v["message"] != "Create device"]
        assert [v["message"] for v in made] == [i["message"] for i in predicted]
        assert [blob_id(_file(world, device["id"], v["commit"])) for v in made] == [
            i["configs"]["configs/running-config"] for i in predicted]
        assert b"! uptime is" not in _file(world, device["id"], "HEAD")
        assert b"HistZq1" not in _file(world, device["id"], "HEAD")


def test_preview_refusals(world):
    url = f"/api/v1/projects/{world.project_id}/rules/preview"
    device = world.create_device("p1")
    other = world.client.post(f"/api/v1/projects/{world.other_project_id}/devices", json={"name": "x"},
                              headers=world.headers["outsider"]).get_json()
    assert_error(world.client.post(url, json={}, headers=world.headers["viewer"]), 422)
    assert_error(world.client.post(url, json={"device_id": other["id"]}, headers=world.headers["viewer"]), 404)
    assert_error(world.client.post(url, json={"device_id": device["id"], "limit": 0},
                                   headers=world.headers["viewer"]), 422)
    error = assert_error(world.client.post(url, json={"device_id": device["id"], "rules": [{"kind": "strip",
                                                                                          "pattern": "["}]},
                                           headers=world.headers["viewer"]), 422)
    assert error["field"] == "rules[0].pattern"
