"""Fleet search and compliance figures for `infratrace bench`.

A team of N devices (10,000 in the full run, 1,000 in the quick one), each with a 1,500-line
config, is loaded straight into the SQL index (`config_texts`, with its trigram index built after
the load, as a bulk import would) — the writes are not what is measured here. The same N configs
are written to a folder for `grep -rFn`. Then, through `config_search.search_configs` (the path a
search request takes, access check included), in one run:

- search.substring_ms: a plain substring held by a few devices (`ACL-LEGACY-TELNET`);
- search.regex_ms: a regular expression (`ACL-LEGACY-[A-Z]+-IN`);
- search.absent_ms: devices without a plain line most devices have (`ntp server 10.0.0.123`);
- search.grep_ms and search.ratio_vs_grep: `grep -rFn ACL-LEGACY-TELNET` over the folder, and
  our substring search over it (<= 1.0 means no slower than grep);
- compliance.eval_ms: 50 distinct rules (20 must-contain, 20 must-not-contain, 10 block rules) on one
  1,500-line config, the parse by hier_config included.

The database is SQLite in a temporary folder, or, when DATABASE_URL names PostgreSQL, a temporary
database on that server (created and dropped here).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from app.bench.databases import bench_database
from app.bench.timing import median_ms

NEEDLE = "ACL-LEGACY-TELNET"
# Devices that hold the needle: few enough that one page of results holds them all, as grep's does.
NEEDLE_DEVICES = 30
# Numeric figures (the JSON output also names the database: "search.backend").
KEYS = ("search.devices", "search.config_lines", "search.substring_ms", "search.regex_ms",
        "search.absent_ms", "search.grep_ms", "search.ratio_vs_grep", "compliance.rules", "compliance.eval_ms")
TARGETS = {
    "search.substring_ms": ("<", 300.0),
    "search.ratio_vs_grep": ("<=", 1.0),
    "compliance.eval_ms": ("<", 20.0),
}


def device_config(index: int, lines: int, rng: random.Random, needle: bool) -> str:
    """A realistic access-switch config of `lines` lines: interfaces, VLANs, ACLs, routing, services."""
    out = [f"hostname sw-{index:05d}", "!", "service timestamps log datetime msec", "no ip http server",
           "ntp server 10.0.0.123" if index % 97 else "ntp server 10.0.0.124", "!"]
    for vlan in range(10, 60, 5):
        out += [f"vlan {vlan}", f" name vlan-{vlan}-{rng.randrange(1000)}", "!"]
    port = 0
    acl = 0
    while len(out) < lines - 40:
        port += 1
        mode = "access" if port % 8 else "trunk"
        out += [f"interface GigabitEthernet1/0/{port}",
                f" description user-{rng.randrange(10**6):06d} room {rng.randrange(900)}",
                f" switchport mode {mode}",
                f" switchport access vlan {10 + 5 * (port % 10)}" if mode == "access"
                else " switchport trunk allowed vlan 10,20,30",
                " spanning-tree portfast" if mode == "access" and port % 13 else " spanning-tree bpduguard enable",
                "!"]
        if port % 40 == 0:
            acl += 1
            out += [f"ip access-list extended ACL-SRV-{index}-{acl}",
                    f" permit tcp any host 10.{index % 250}.{acl}.10 eq 443",
                    " deny ip any any log", "!"]
    if needle:
        out += [f"ip access-list extended {NEEDLE}-IN", " permit tcp 10.0.0.0 0.255.255.255 any eq 23", "!"]
    out += [f"router bgp {65000 + index % 500}", f" neighbor 10.{index % 250}.0.1 remote-as 65001",
            f" neighbor 10.{index % 250}.0.2 remote-as 65002", "!", "logging host 10.0.0.50", "end"]
    while len(out) < lines:
        out.insert(-1, "!")
    return "\n".join(out[:lines]) + "\n"


def run_search_bench(mode: str = "quick", server_url: str | None = None) -> dict[str, Any]:
    devices = {"tiny": 200, "quick": 1000, "full": 10_000}[mode]
    lines = 1500
    repeat = 3 if mode == "tiny" else 7
    rng = random.Random(7)
    tmp = Path(tempfile.mkdtemp(prefix="infratrace-search-bench-"))
    try:
        with bench_database(tmp, server_url, "search-bench.db") as database_url:
            return _measure(database_url, tmp, devices, lines, repeat, rng)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _measure(database_url: str, tmp: Path, devices: int, lines: int, repeat: int,
             rng: random.Random) -> dict[str, Any]:
    from sqlalchemy import insert, text

    from app import create_app
    from app.config import Config
    from app.extensions import db
    from app.migrate import upgrade
    from app.models import ConfigText, Device, Project
    from app.services import accounts, config_search, teams

    results: dict[str, Any] = {"search.devices": devices, "search.config_lines": lines,
                               "search.backend": "postgresql" if database_url.startswith("postgresql") else "sqlite"}
    upgrade(database_url)
    app = create_app(Config(data_dir=tmp, database_url=database_url, secret_key="bench",
                            public_url="http://bench.invalid", bcrypt_rounds=4, testing=True))
    folder = tmp / "configs"
    folder.mkdir()
    with app.app_context():
        user = accounts.create_user(accounts.SignupForm(email="bench@example.com", username="bench",
                                                        password="bench password 1", age_confirmed=True))
        access = teams.create_team(user, "Bench")
        project = Project(team_id=access.team.id, name="Fleet", slug="fleet", description="")
        db.session.add(project)
        db.session.commit()
        needles = set(rng.sample(range(devices), NEEDLE_DEVICES))
        dialect = db.engine.dialect.name
        # Bulk load: the trigram index is dropped for the load and built once after it.
        if dialect == "postgresql":
            db.session.execute(text("DROP INDEX IF EXISTS ix_config_texts_trgm"))
        batch_devices: list[dict[str, Any]] = []
        batch_texts: list[dict[str, Any]] = []
        for index in range(devices):
            device_id = uuid.uuid4().hex
            config = device_config(index, lines, rng, index in needles)
            (folder / f"sw-{index:05d}").write_text(config)
            batch_devices.append({"id": device_id, "team_id": access.team.id, "project_id": project.id,
                                  "name": f"sw-{index:05d}", "slug": f"sw-{index:05d}", "vendor": "Cisco",
                                  "model": "C9300", "repo_path": "", "management_ips": [],
                                  "custom_fields": {}, "status": "active"})
            batch_texts.append({"device_id": device_id, "team_id": access.team.id, "kind": "config",
                                "path": "configs/running-config", "commit": "0" * 40, "content": config,
                                "line_count": lines})
            if len(batch_devices) == 500 or index == devices - 1:
                db.session.execute(insert(Device), batch_devices)
                db.session.execute(insert(ConfigText), batch_texts)
                db.session.commit()
                batch_devices, batch_texts = [], []
        if dialect == "postgresql":
            db.session.execute(text("SET maintenance_work_mem = '512MB'"))
            db.session.execute(text(
                "CREATE INDEX ix_config_texts_trgm ON config_texts USING gin (content gin_trgm_ops)"))
            db.session.commit()
            db.session.execute(text("ANALYZE config_texts"))
            db.session.commit()

        def substring() -> None:
            found = config_search.search_configs(access, NEEDLE, limit=200)
            assert len(found.devices) == NEEDLE_DEVICES, len(found.devices)

        def regex() -> None:
            found = config_search.search_configs(access, r"ACL-LEGACY-[A-Z]+-IN", mode_regex=True, limit=200)
            assert len(found.devices) == NEEDLE_DEVICES

        def absent() -> None:
            found = config_search.search_configs(access, "ntp server 10.0.0.123", absent=True, limit=200)
            assert len(found.devices) == len([i for i in range(devices) if i % 97 == 0])

        results["search.substring_ms"] = round(median_ms(substring, repeat), 2)
        results["search.regex_ms"] = round(median_ms(regex, repeat), 2)
        results["search.absent_ms"] = round(median_ms(absent, repeat), 2)
        db.session.remove()

    def grep() -> None:
        done = subprocess.run(["grep", "-rFn", NEEDLE, str(folder)], capture_output=True, check=False)
        assert done.stdout.count(b"\n") == NEEDLE_DEVICES

    results["search.grep_ms"] = round(median_ms(grep, repeat), 2)
    results["search.ratio_vs_grep"] = round(results["search.substring_ms"] / results["search.grep_ms"], 3)
    results.update(compliance_bench(repeat))
    return results


# A baseline as a network team writes one: 50 distinct rules, none sharing a pattern with another
# (shared patterns are searched once per version, which would flatter the figure).
MUST_CONTAIN = [
    r"^hostname \S+$", r"^service timestamps log datetime msec$", r"^no ip http server$",
    r"^ntp server 10\.0\.0\.123$", r"^logging host 10\.0\.0\.50$", r"^service password-encryption$",
    r"^aaa new-model$", r"^ip ssh version 2$", r"^logging buffered \d+", r"^clock timezone UTC",
    r"^snmp-server location ", r"^banner login", r"^ip domain[- ]name ", r"^spanning-tree mode rapid-pvst$",
    r"^vtp mode transparent$", r"^no ip source-route$", r"^ip tcp synwait-time \d+$",
    r"^errdisable recovery cause bpduguard$", r"^udld enable$", r"^router bgp 65\d{3}$",
]
MUST_NOT_CONTAIN = [
    r"^snmp-server community \S+ RW", r"^ip http secure-server$", r"^enable password ", r"^username \S+ password ",
    r"^no service password-encryption$", r"^ip finger$", r"^service tcp-small-servers$",
    r"^service udp-small-servers$", r"^ip bootp server$", r"^no logging console$", r"^boot network ",
    r"^service config$", r"^ip source-route$", r"^transport input telnet", r"^snmp-server community public",
    r"^snmp-server community private", r"^ip directed-broadcast$", r"^no aaa new-model$",
    r"^cdp run$", r"permit ip any any$",
]
BLOCK_RULES = [  # (block, filter, pattern)
    (r"^interface GigabitEthernet", "switchport mode access", r"^spanning-tree portfast"),
    (r"^interface GigabitEthernet", "switchport mode access", r"^switchport access vlan \d+"),
    (r"^interface GigabitEthernet", "switchport mode trunk", r"^spanning-tree bpduguard enable"),
    (r"^interface GigabitEthernet", "switchport mode trunk", r"^switchport trunk allowed vlan "),
    (r"^interface GigabitEthernet", "", r"^description \S"),
    (r"^interface GigabitEthernet", "switchport mode access", r"^storm-control broadcast level"),
    (r"^vlan \d+", "", r"^name \S"),
    (r"^ip access-list extended ", "", r"^deny ip any any log$"),
    (r"^router bgp ", "", r"^neighbor \S+ remote-as \d+"),
    (r"^line vty ", "", r"^transport input ssh$"),
]


def compliance_bench(repeat: int) -> dict[str, Any]:
    """50 distinct rules evaluated on one 1,500-line config, as the compliance job does for a new version."""
    from app.models import ComplianceRule, Device
    from app.services.compliance import evaluate

    config = device_config(1, 1500, random.Random(3), True)
    common = {"team_id": "t", "enabled": True, "config_path": "configs/running-config", "platform": "", "tag": "",
              "name_pattern": "", "project_id": None}
    rules = [ComplianceRule(id=f"c{i}", name=f"contain {i}", kind="must_contain", pattern=pattern, block="",
                            block_filter="", **common) for i, pattern in enumerate(MUST_CONTAIN)]
    rules += [ComplianceRule(id=f"n{i}", name=f"not {i}", kind="must_not_contain", pattern=pattern, block="",
                             block_filter="", **common) for i, pattern in enumerate(MUST_NOT_CONTAIN)]
    rules += [ComplianceRule(id=f"b{i}", name=f"block {i}", kind="block_must_contain", block=block,
                             block_filter=block_filter, pattern=pattern, **common)
              for i, (block, block_filter, pattern) in enumerate(BLOCK_RULES)]
    assert len(rules) == 50 and len({(r.kind, r.block, r.block_filter, r.pattern) for r in rules}) == 50
    device = Device(id="d", team_id="t", project_id="p", name="sw-00001", vendor="Cisco", model="C9300",
                    custom_fields={})
    texts = {"configs/running-config": config}
    ms = median_ms(lambda: evaluate(device, rules, texts), repeat)
    return {"compliance.rules": len(rules), "compliance.eval_ms": round(ms, 2)}
