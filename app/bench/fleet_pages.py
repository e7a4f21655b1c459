"""Server time of the fleet-sized pages: `python -m app.bench.fleet_pages [--database-url URL]`.

Builds, in a temporary folder (and, with a PostgreSQL `--database-url`, in a database of its own
created on that server and dropped at the end; SQLite in that folder by default):
- a project of 10,000 devices inserted straight into SQL (varied vendors, platforms, statuses,
  locations, tags, last-changed dates), for the device list;
- a device with a 10,000-version repository (a ~950-line config changed in every version, every
  10th version also a second config), made with `git fast-import` and indexed with
  `commit_index.rebuild_device`, for the device page and its history tab.

Each page is requested through the whole Flask app in-process (routing, session, SQL, templates;
no network), warmed once, then timed `--repeat` times; the median is reported in ms, and as a
ratio to a reference page measured in the same run (the account page: one SQL read, one
template), so figures from different machines compare.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.bench import _config, _fast_import_stream, _git, _mutate, _text
from app.bench.databases import bench_database
from app.bench.timing import median_ms

FLEET = 10_000
VERSIONS = 10_000
VENDORS = [("Cisco", "C9300-48P"), ("Cisco", "N9K-C93180YC"), ("Juniper", "MX204"), ("Juniper", "EX4300"),
           ("Arista", "7050SX3"), ("Fortinet", "FG-100F"), ("MikroTik", "CCR2004")]
STATUSES = ("active", "active", "active", "planned", "spare", "decommissioned")


class PagesBench:
    def __init__(self, server_url: str | None, repeat: int) -> None:
        from app import create_app
        from app.config import Config
        from app.migrate import upgrade

        self.tmp = Path(tempfile.mkdtemp(prefix="infratrace-pages-bench-"))
        self.cleanup = ExitStack()
        self.database_url = self.cleanup.enter_context(bench_database(self.tmp, server_url))
        upgrade(self.database_url)
        self.config = Config(data_dir=self.tmp, database_url=self.database_url, secret_key="bench",
                             public_url="http://bench.invalid", bcrypt_rounds=4, testing=True)
        self.app = create_app(self.config)
        self.repeat = repeat
        self.rng = random.Random(7)

    def close(self) -> None:
        try:
            self.cleanup.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def setup(self) -> None:
        from sqlalchemy import insert

        from app.extensions import db
        from app.models import Device, DeviceTag, Project, new_id
        from app.services import accounts, commit_index, devices, teams
        from app.services.gitstore_bridge import repo_path

        with self.app.app_context():
            user = accounts.create_user(accounts.SignupForm(email="bench@example.com", username="bench",
                                                            password="bench password 1", age_confirmed=True))
            access = teams.create_team(user, "Bench")
            fleet = Project(team_id=access.team.id, name="Fleet", slug="fleet", description="")
            lab = Project(team_id=access.team.id, name="Lab", slug="lab", description="")
            db.session.add_all([fleet, lab])
            db.session.commit()
            self.user_session = f"{user.id}:{user.session_version}"
            self.fleet_id = fleet.id
            # 10,000 devices straight into SQL: the list reads rows, never repos.
            start = datetime(2025, 1, 1, tzinfo=UTC)
            rows, tags = [], []
            for i in range(FLEET):
                vendor, model = VENDORS[i % len(VENDORS)]
                device_id = new_id()
                rows.append({
                    "id": device_id, "team_id": access.team.id, "project_id": fleet.id,
                    "name": f"{['core', 'dist', 'acc', 'edge', 'fw'][i % 5]}-{i:05d}", "slug": f"d-{i:05d}",
                    "vendor": vendor, "model": model, "serial": f"SN{i:08d}",
                    "management_ips": [f"10.{i // 256 % 256}.{i % 256}.1"],
                    "location": f"site-{i % 40:02d} / rack {i % 17}", "status": STATUSES[i % len(STATUSES)],
                    "custom_fields": {}, "repo_path": f"none/{device_id}.git", "head_commit": None,
                    "version_count": self.rng.randrange(1, 3000),
                    "last_changed_at": start + timedelta(minutes=self.rng.randrange(0, 60 * 24 * 330)),
                    "mirror_attempts": 0, "created_at": start, "updated_at": start,
                })
                if i % 3 == 0:
                    tags.append({"device_id": device_id, "tag": ["core", "pop-ams", "eol-2027"][i % 9 // 3]})
            for chunk in range(0, len(rows), 1000):
                db.session.execute(insert(Device), rows[chunk:chunk + 1000])
            db.session.execute(insert(DeviceTag), tags)
            db.session.commit()
            # One device with 10,000 versions of a ~950-line config.
            device, _ = devices.create_device(user, lab.id, {"name": "big-core-1", "vendor": "Cisco",
                                                             "model": "C9500", "location": "AMS1"})
            base = _config(950, self.rng)
            history = []
            for n in range(VERSIONS - 1):
                files = {"configs/running-config": _text(_mutate(base, 2, self.rng, n))}
                if n % 10 == 0:
                    files["configs/startup-config"] = f"startup {n}\n".encode()
                history.append(files)
            _git(repo_path(device), "fast-import", "--quiet", data=_fast_import_stream(history, device.head_commit))
            commit_index.rebuild_device(device)
            db.session.commit()
            assert device.version_count == VERSIONS, device.version_count
            self.device_id = device.id
            if self.database_url.startswith("postgresql"):
                from sqlalchemy import text

                db.session.execute(text("ANALYZE"))
                db.session.commit()

    def run(self) -> dict[str, Any]:
        client = self.app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = self.user_session
            session["_fresh"] = True
        first = client.get(f"/projects/{self.fleet_id}/devices?limit=200")
        assert first.status_code == 200, first.status_code
        fleet, dev = f"/projects/{self.fleet_id}/devices", f"/devices/{self.device_id}"
        # A cursor deep into the sorted fleet, from walking 25 pages of 200.
        url = f"{fleet}?sort=last_changed&dir=desc&limit=200"
        import re
        for _ in range(25):
            html = client.get(url).get_data(as_text=True)
            url = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
        deep_fleet = url.replace("limit=200", "limit=50")
        pages = {
            "reference_account": "/settings/profile",
            "device_list": fleet,
            "device_list_sorted_last_changed_desc": f"{fleet}?sort=last_changed&dir=desc",
            "device_list_filtered": f"{fleet}?vendor=cisco&status=active&tag=core",
            "device_list_name_search": f"{fleet}?q=acc-0",
            "device_list_200_per_page": f"{fleet}?limit=200",
            "device_list_deep_page": deep_fleet,
            "device_page_10k_versions": dev,
            "history_older_page_5000_deep": f"{dev}?before=5000",
            "history_oldest": f"{dev}?oldest=1",
            "history_jump_to_date": f"{dev}?at=2023-11-14",
            "history_config_name_filter": f"{dev}?path=startup-config",
            "history_kind_and_author": f"{dev}?kind=config&author=bench",
        }
        results: dict[str, Any] = {"fleet_devices": FLEET, "device_versions": VERSIONS,
                                   "database": self.database_url.split(":", 1)[0], "repeat": self.repeat}
        sizes = {}
        for name, path in pages.items():
            response = client.get(path)
            assert response.status_code == 200, (name, response.status_code)
            sizes[name] = len(response.data)
            results[f"{name}_ms"] = round(median_ms(lambda p=path: client.get(p), self.repeat), 2)
        reference = results["reference_account_ms"]
        for name in pages:
            results[f"{name}_kib"] = round(sizes[name] / 1024, 1)
            if name != "reference_account":
                results[f"{name}_ratio_vs_reference"] = round(results[f"{name}_ms"] / reference, 2)
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="the URL of a database on a PostgreSQL server: the bench makes and "
                        "drops a database of its own there (default: SQLite in a temporary folder)")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    bench = PagesBench(args.database_url, args.repeat)
    try:
        bench.setup()
        results = bench.run()
    finally:
        bench.close()
    for key, value in results.items():
        print(f"{key:50} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
