"""Secret redaction: every preset's secrets, through every way in, reach no store in clear.

Each preset's sample config (tests.intake_support.py) holds each kind of secret that preset knows.
It is written through a different way in per preset (API write, batch import, Oxidized, PUT
upload), then every git object of every repo (unreachable ones included), every SQL row, every
mirror object (raw, and unpacked by a restore), the user's data export and the raw bodies a real
webhook receiver got are searched for the values: none may appear, and each value must have become
its placeholder. The webhook receives every event (device created, each preset's versions with their
block summaries, a second version with every secret rotated, and the compliance failures that quote
the stored lines holding placeholders).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess

from sqlalchemy import select

from app.extensions import db
from app.models import Base, Device
from app.services import config_rules
from tests.client_support import bearer
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.intake_support import SAMPLES, SECRETS
from tests.jobs_support import make_team
from tests.privacy_support import post_export, wait_export
from tests.webhook_support import allow_private_webhooks, receivers_fixture  # noqa: F401  (fixture)
from workers.restore import restore_repo

WAYS = ("api", "import", "oxidized", "put")
PLACEHOLDER = re.compile(r"<redacted:[0-9a-f]{8}>")
SECRET_VALUE = re.compile(r"[A-Za-z0-9$x]*Zq\d+")


def _rotated(config: str) -> str:
    """The config with every secret value changed (`...Zq4` -> `...Zq74`): a real change to each."""
    return config.replace("Zq", "Zq7")


def _write(client, way: str, project_id: str, device: dict, username: str, token: str, config: str) -> None:
    headers = bearer(token)
    if way == "api":
        response = client.post(f"/api/v1/devices/{device['id']}/versions",
                               json={"message": "backup", "configs": {"running-config": config}}, headers=headers)
    elif way == "import":
        response = client.post(f"/api/v1/devices/{device['id']}/versions/import",
                               json={"versions": [{"message": "old", "configs": {"running-config": "hostname x\n"}},
                                                  {"message": "backup", "configs": {"running-config": config}}]},
                               headers=headers)
    elif way == "oxidized":
        basic = "Basic " + base64.b64encode(f"{username}:{token}".encode()).decode()
        body = json.dumps({"msg": "backup", "user": None, "email": None, "group": None, "node": device["name"],
                           "config": config}, indent=2)
        response = client.post(f"/api/v1/projects/{project_id}/oxidized", data=body,
                               headers={"Authorization": basic, "Content-Type": "application/json"})
    else:
        response = client.put(f"/api/v1/projects/{project_id}/devices/by-name/{device['name']}/configs/running-config"
                              "?message=backup", data=config.encode(), headers=headers)
    assert response.status_code in (200, 201), (way, response.get_data(as_text=True))
    response.close()  # in-process jobs (the mirror) run once the response is closed


def _all_git_objects(repo) -> bytes:
    """Every object in the repo, loose or packed, reachable or not, decompressed."""
    return subprocess.run(["git", "--git-dir", str(repo), "cat-file", "--batch-all-objects", "--batch"],
                          capture_output=True, check=True).stdout


def _all_sql_rows() -> str:
    parts = []
    for table in Base.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            parts.append(repr(tuple(row)))
    return "\n".join(parts)


def test_every_preset_through_every_way_in_stores_placeholders_only(env, make_user, token_for, tmp_path, receivers,
                                                                     monkeypatch):
    owner, username = make_user("netops-owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    token = token_for(owner)
    client = env.app.test_client()
    headers = bearer(token)
    # A webhook for every event, on a receiver at 127.0.0.1 (allowed as on an on-premises install),
    # and a rule every redacted config fails, so the device.noncompliant events quote stored lines.
    allow_private_webhooks(env.app, monkeypatch)
    receiver = receivers()
    response = client.post(f"/api/v1/projects/{project_id}/webhooks", json={"url": receiver.url}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    receiver.secret = response.get_json()["secret"]
    response = client.post(f"/api/v1/projects/{project_id}/compliance/rules", headers=headers, json={
        "name": "No stored secrets", "kind": "must_not_contain", "pattern": "redacted|secret|password|key"})
    assert response.status_code == 201, response.get_data(as_text=True)
    devices: dict[str, dict] = {}
    for index, preset in enumerate(SAMPLES):
        response = client.post(f"/api/v1/projects/{project_id}/devices",
                               json={"name": f"{preset}-1", "custom_fields": {"platform": preset}}, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        devices[preset] = response.get_json()
        response.close()
        _write(client, WAYS[index % len(WAYS)], project_id, devices[preset], username, token, SAMPLES[preset])
    # A device whose platform is not known: every preset's patterns apply.
    response = client.post(f"/api/v1/projects/{project_id}/devices", json={"name": "mystery"}, headers=headers)
    devices["unknown"] = response.get_json()
    response.close()
    everything = "".join(SAMPLES.values())
    _write(client, "api", project_id, devices["unknown"], username, token, everything)
    env.drain()

    secrets = sorted({value for values in SECRETS.values() for value in values})
    assert len(secrets) > 80
    # What is stored: the sample with each value replaced by a placeholder, nothing else changed.
    for preset, device in devices.items():
        sample = everything if preset == "unknown" else SAMPLES[preset]
        expected_secrets = secrets if preset == "unknown" else SECRETS[preset]
        stored = client.get(f"/api/v1/devices/{device['id']}/versions/HEAD/files/configs/running-config",
                            headers=headers).get_data(as_text=True)
        assert not [s for s in expected_secrets if s in stored], preset
        assert len(PLACEHOLDER.findall(stored)) >= len(expected_secrets), (preset, stored)
        # Lines without secrets are kept byte for byte.
        plain = [line for line in sample.splitlines() if "Zq" not in line]
        assert [line for line in stored.splitlines() if "<redacted:" not in line] == plain, preset
        # Diffs are built from what is stored.
        diff = client.get(f"/api/v1/devices/{device['id']}/diff", headers=headers).get_data(as_text=True)
        assert "<redacted:" in diff and not [s for s in expected_secrets if s in diff]

    # Every secret rotated, through the same ways in: versions whose summaries and diffs change
    # exactly where the secrets are.
    for index, preset in enumerate(SAMPLES):
        _write(client, WAYS[index % len(WAYS)], project_id, devices[preset], username, token,
               _rotated(SAMPLES[preset]))
    _write(client, "api", project_id, devices["unknown"], username, token, _rotated(everything))
    env.drain()
    rotated = sorted(set(SECRET_VALUE.findall(_rotated(everything))))
    assert len(rotated) == len(secrets) and not set(rotated) & set(secrets)
    secrets = sorted(set(secrets) | set(rotated))

    def assert_clean(blob: bytes | str, where: str) -> None:
        text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
        found = [s for s in secrets if s in text]
        assert not found, f"{where} holds secret values: {found[:5]}"

    # The webhook bodies, as received (raw bytes, and decoded in case JSON escaped a value).
    assert receiver.received and all(r["valid"] for r in receiver.received)
    for record in receiver.received:
        assert_clean(record["raw"], f"webhook body {record['body']['type']}")
        assert_clean(json.dumps(record["body"], ensure_ascii=False), f"webhook body {record['body']['type']}")
    for preset, device in devices.items():
        events = [r["body"] for r in receiver.received if r["body"].get("device", {}).get("id") == device["id"]]
        kinds = sorted({event["type"] for event in events})
        assert kinds == ["device.created", "device.noncompliant", "version.created"], (preset, kinds)
        versions = [v for event in events if event["type"] == "version.created" for v in event["versions"]]
        assert len(versions) >= 2, preset
        if preset != "unknown":  # block summaries need a known platform
            assert any(PLACEHOLDER.search(line) for v in versions for line in v["summary"]), (preset, versions)
        [failing] = [event for event in events if event["type"] == "device.noncompliant"]
        quoted = [line for failure in failing["failures"] for line in failure["lines"]]
        assert any(PLACEHOLDER.search(str(line)) for line in quoted), (preset, quoted[:3])

    with env.app.app_context():
        for device in devices.values():
            row = db.session.get(Device, device["id"])
            assert_clean(_all_git_objects(env.config.repos_dir / row.repo_path), f"git objects of {row.name}")
        assert_clean(_all_sql_rows(), "SQL")

    store = env.store()
    try:
        keys = [info.key for info in store.list("mirrors/")]
        assert any(key.endswith(".pack") for key in keys)
        for key in keys:
            assert_clean(store.get_bytes(key), f"mirror object {key}")
        for preset, device in devices.items():
            target = tmp_path / "restored" / f"{preset}.git"
            restore_repo(store, device["id"], target)
            assert_clean(_all_git_objects(target), f"restored mirror of {preset}")
    finally:
        store.close()

    started = post_export(client, headers)
    assert started.status_code == 202
    body = wait_export(client, env.app, started.get_json()["id"], headers)
    assert body["status"] == "done", body
    exported = client.get(f"/api/v1/export/{started.get_json()['id']}/download", headers=headers)
    assert exported.status_code == 200 and "<redacted:" in exported.get_data(as_text=True)
    assert_clean(exported.get_data(), "the data export")


def test_placeholders_are_stable_per_team_and_a_rotated_secret_is_a_change(world, app, client):
    first = world.create_device("r1", custom_fields={"platform": "ios"})
    second = world.create_device("r2", vendor="Cisco", model="ISR 4331")
    config = "hostname r\nsnmp-server community SameZq1 RO\n"
    world.write(first["id"], configs={"running-config": config})
    world.write(second["id"], configs={"running-config": config})

    def stored(device_id: str) -> str:
        return client.get(f"/api/v1/devices/{device_id}/versions/HEAD/files/configs/running-config",
                          headers=world.headers["viewer"]).get_data(as_text=True)

    one, two = PLACEHOLDER.findall(stored(first["id"])), PLACEHOLDER.findall(stored(second["id"]))
    assert one == two and len(one) == 1  # equal secrets compare equal across the team
    # The same secret again: no change. A rotated secret: a new version whose diff shows it.
    world.write(first["id"], expect=200, configs={"running-config": config})
    world.write(first["id"], configs={"running-config": config.replace("SameZq1", "RotatedZq2")})
    diff = client.get(f"/api/v1/devices/{first['id']}/diff", headers=world.headers["viewer"]).get_json()
    lines = [line for hunk in diff["files"][0]["hunks"] for line in hunk["lines"] if line["origin"] in "+-"]
    assert [line["origin"] for line in lines] == ["-", "+"]
    assert one[0] in lines[0]["content"] and one[0] not in lines[1]["content"]
    assert PLACEHOLDER.search(lines[1]["content"])
    # Another team's key gives another placeholder for the same value.
    with app.app_context():
        ours = config_rules.redact_for_team(world.team_id, b"snmp-server community SameZq1 RO\n")
        theirs = config_rules.redact_for_team("another-team-id", b"snmp-server community SameZq1 RO\n")
        assert ours.decode().endswith(f"{one[0]} RO\n") and ours != theirs
        # Running it over stored (already redacted) text changes nothing.
        assert config_rules.redact_for_team(world.team_id, ours) == ours


def test_redaction_can_be_turned_off_by_an_admin_only(world, client):
    url = f"/api/v1/projects/{world.project_id}/rules"
    assert client.put(url, json={"redaction": False}, headers=world.headers["editor"]).status_code == 403
    assert client.put(url, json={"redaction": False}, headers=world.headers["admin"]).status_code == 200
    device = world.create_device("lab")
    world.write(device["id"], configs={"running-config": "snmp-server community KeptZq1 RO\n"})
    stored = client.get(f"/api/v1/devices/{device['id']}/versions/HEAD/files/configs/running-config",
                        headers=world.headers["viewer"]).get_data(as_text=True)
    assert "KeptZq1" in stored
