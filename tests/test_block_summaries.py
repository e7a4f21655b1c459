"""Block summaries of changes on realistic IOS, NX-OS, EOS and Junos configs (interface, ACL,
routing, VLAN), shown on history rows and searchable across the fleet."""

from __future__ import annotations

from hier_config import Platform

from app.services.config_blocks import platform_for, summarize
from tests.device_support import World, world_fixture  # noqa: F401
from tests.fleet_config_support import EOS, IOS, JUNOS, NXOS
from tests.privacy_support import drain
from tests.webhook_support import Receiver, private_webhooks_fixture  # noqa: F401  (fixture)


def _sentences(platform: Platform, old: str, new: str) -> list[str]:
    return [change.summary for change in summarize(platform, old, new)]


def test_ios_interface_acl_routing_vlan():
    new = (IOS.replace("description phone-471", "description printer-129")
           .replace(" permit tcp any host 10.9.0.10 eq 443\n",
                    " permit tcp any host 10.9.0.10 eq 443\n permit tcp any host 10.9.0.11 eq 443\n")
           .replace(" neighbor 10.0.0.2 remote-as 65002\n", "")
           .replace("vlan 120\n name voice\n", "vlan 120\n name voice\n!\nvlan 130\n name cameras\n"))
    assert _sentences(Platform.CISCO_IOS, IOS, new) == [
        "interface GigabitEthernet1/0/19: description phone-471 → printer-129",
        "ip access-list extended ACL-SERVERS-IN: +1 entry",
        "router bgp 65001: neighbor 10.0.0.2 removed",
        "vlan 130: added",
    ]


def test_nxos_changes():
    new = NXOS.replace("description to-fw-a", "description to-fw-b").replace(
        "  neighbor 10.20.0.1\n    remote-as 65020\n", "").replace("vlan 200\n  name servers\n", "")
    assert _sentences(Platform.CISCO_NXOS, NXOS, new) == [
        "vlan 200: removed",
        "interface Ethernet1/1: description to-fw-a → to-fw-b",
        "router bgp 65010: neighbor 10.20.0.1 removed",
    ]


def test_eos_changes():
    new = EOS.replace("switchport access vlan 300", "switchport access vlan 301").replace(
        "   10 permit ip 10.0.0.0/8 any\n", "   10 permit ip 10.0.0.0/8 any\n   20 deny ip any any\n")
    assert _sentences(Platform.ARISTA_EOS, EOS, new) == [
        "interface Ethernet1: switchport access vlan 300 → 301",
        "ip access-list ACL-MGMT: +1 entry",
    ]


def test_junos_changes():
    new = JUNOS.replace('description "uplink isp-a";', 'description "uplink isp-b";').replace(
        "            neighbor 198.51.100.2 {\n                peer-as 64501;\n            }\n", "")
    assert _sentences(Platform.JUNIPER_JUNOS, JUNOS, new) == [
        'interfaces ge-0/0/1: description "uplink isp-a" → "uplink isp-b"',
        "protocols bgp: group transit neighbor 198.51.100.2 removed",
    ]


def test_platform_detection():
    assert platform_for("Juniper", "MX204") is Platform.JUNIPER_JUNOS
    assert platform_for("Cisco", "Nexus 9000") is Platform.CISCO_NXOS
    assert platform_for("Arista", "7050") is Platform.ARISTA_EOS
    assert platform_for("Cisco", "C9300") is Platform.CISCO_IOS
    assert platform_for("", "", text=JUNOS) is Platform.JUNIPER_JUNOS
    assert platform_for(None, text=IOS) is Platform.CISCO_IOS


def test_summaries_on_history_and_searchable(world: World):
    device = world.create_device("access-sw-1", vendor="Cisco", model="C9300")
    world.write(device["id"], configs={"running-config": IOS}, message="first").close()
    changed = IOS.replace(" deny ip any any log\n", " permit udp any any eq 53\n deny ip any any log\n")
    world.write(device["id"], configs={"running-config": changed}, message="dns").close()
    drain(world.app)
    history = world.client.get(f"/api/v1/devices/{device['id']}/versions", headers=world.headers["viewer"])
    items = history.get_json()["items"]
    assert items[0]["summary"] == ["ip access-list extended ACL-SERVERS-IN: +1 entry"]
    assert items[1]["summary"] == []  # the first config is an added file, not a block change
    found = world.client.get("/api/v1/teams/acme/search", query_string={"q": "ACL-SERVERS-IN", "kind": "changes"},
                             headers=world.headers["viewer"]).get_json()
    assert [(c["device"]["name"], c["summary"]) for c in found["changes"]] == [
        ("access-sw-1", "ip access-list extended ACL-SERVERS-IN: +1 entry")]
    assert world.client.get("/api/v1/teams/acme/search", query_string={
        "q": "ACL-SERVERS-IN", "kind": "changes", "since": "2000-01-01", "until": "2000-02-01"},
        headers=world.headers["viewer"]).get_json()["changes"] == []


def test_version_webhook_carries_block_summaries(world: World, private_webhooks):
    receiver = Receiver()
    try:
        device = world.create_device("access-sw-1", vendor="Cisco", model="C9300")
        world.write(device["id"], configs={"running-config": IOS}, message="first").close()
        drain(world.app)
        response = world.client.post(f"/api/v1/projects/{world.project_id}/webhooks",
                                     json={"url": receiver.url, "events": ["version.created"]},
                                     headers=world.headers["admin"])
        receiver.secret = response.get_json()["secret"]
        changed = IOS.replace("description phone-471", "description printer-129")
        world.write(device["id"], configs={"running-config": changed}, message="relabel").close()
        drain(world.app)
        [event] = [r["body"] for r in receiver.accepted]
        assert event["versions"][-1]["summary"] == [
            "interface GigabitEthernet1/0/19: description phone-471 → printer-129"]
    finally:
        receiver.close()


def test_compare_header_lists_the_block_changes_between(world: World):
    from tests.client_support import PASSWORD, get_csrf

    device = world.create_device("access-sw-1", vendor="Cisco", model="C9300")
    first = world.write(device["id"], configs={"running-config": IOS}, message="first")
    base = first.get_json()["commit"]
    first.close()
    changed = IOS.replace("description phone-471", "description printer-129")
    head = world.write(device["id"], configs={"running-config": changed}, message="relabel")
    to = head.get_json()["commit"]
    head.close()
    drain(world.app)
    client = world.app.test_client()
    token = get_csrf(client, "/login")
    client.post("/login", data={"login": "the-viewer", "password": PASSWORD, "csrf_token": token})
    page = client.get(f"/devices/{device['id']}/compare", query_string={"from": base, "to": to})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "interface GigabitEthernet1/0/19: description phone-471 → printer-129" in html


def test_in_process_analysis_backlog_runs_one_after_another(world: World, monkeypatch):
    """An analysis that continues its backlog in a new run (without Redis, in-process) runs that
    run after itself, not nested inside it: nested, every level kept a pooled connection, and a
    10,000-commit history (50 runs) exhausted the pool and stalled 30 s."""
    import dataclasses

    from sqlalchemy import delete, func, select, update

    from app.extensions import db
    from app.models import ChangeSummary, CommitRecord, Device
    from app.services import version_analysis
    from app.services.job_queue import run_in_process

    device = world.create_device("backlog-sw")
    for n in range(4):
        world.write(device["id"], configs={"running-config": f"hostname sw\nvlan {n}\n"}).close()
    drain(world.app)
    app = world.app
    monkeypatch.setitem(app.config, "INFRATRACE", dataclasses.replace(app.config["INFRATRACE"], redis_url=None))
    monkeypatch.setattr(version_analysis, "BATCH", 1)
    with app.app_context():
        db.session.execute(update(Device).where(Device.id == device["id"]).values(analysed_seq=0))
        db.session.execute(delete(ChangeSummary).where(ChangeSummary.device_id == device["id"]))
        db.session.commit()
        last = db.session.scalar(select(func.max(CommitRecord.seq)).where(CommitRecord.device_id == device["id"]))
    depth, deepest, runs = [0], [0], [0]
    analyse = version_analysis.analyse_device

    def tracked(device_id: str) -> None:
        depth[0] += 1
        runs[0] += 1
        deepest[0] = max(deepest[0], depth[0])
        try:
            analyse(device_id)
        finally:
            depth[0] -= 1

    monkeypatch.setattr(version_analysis, "analyse_device", tracked)
    run_in_process(app, "analyse_device", (device["id"],))
    assert deepest[0] == 1
    assert runs[0] >= last  # one commit per run, then a last run that finds nothing new
    with app.app_context():
        assert db.session.get(Device, device["id"]).analysed_seq == last
