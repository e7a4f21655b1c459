"""Search within a team: GET /api/v1/teams/<team>/search?q=, results grouped by type.

Besides names (projects, devices, networks, tasks), it searches config text (`kind=config`:
substring, `regex=1`, `absent=1`, as of `at=`), addresses (networks holding it, devices managed at
it, config lines naming it), VLANs (`vlan 120` or `kind=vlan`: networks defining it, ports carrying
it) and block summaries of changes (`kind=changes`, `since=`/`until=`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import jsonify, request

from app.api import bp
from app.api.auth import api_user
from app.api.networks import network_json
from app.api.projects import project_json
from app.api.tasks import task_json
from app.http.common import iso, page_limit, public_url
from app.models import Device
from app.services import config_search, search, teams


def device_web_path(device: Device) -> str:
    return f"/devices/{device.id}"


def device_summary(device: Device) -> dict[str, Any]:
    return {
        "id": device.id,
        "project_id": device.project_id,
        "name": device.name,
        "slug": device.slug,
        "serial": device.serial,
        "management_ips": list(device.management_ips or []),
        "status": device.status,
        "web_url": public_url(device_web_path(device)),
    }


def config_hits_json(found: config_search.ConfigSearch) -> list[dict[str, Any]]:
    return [
        {
            "device": device_summary(entry.device),
            "files": [
                {
                    "path": f.path,
                    "commit": f.commit,
                    "matches": f.total,
                    "lines": [
                        {
                            "line": hit.line,
                            "text": hit.text,
                            "ranges": [list(r) for r in hit.ranges],
                            "before": [{"line": n, "text": t} for n, t in hit.before],
                            "after": [{"line": n, "text": t} for n, t in hit.after],
                            "web_url": public_url(config_line_path(entry.device.id, f.commit, f.path, hit.line)),
                        }
                        for hit in f.hits
                    ],
                }
                for f in entry.files
            ],
        }
        for entry in found.devices
    ]


def config_line_path(device_id: str, commit: str, path: str, line: int) -> str:
    """The config view of one version, scrolled to a line."""
    return f"/devices/{device_id}/versions/{commit}?" + urlencode({"file": path}) + f"#L{line}"


@bp.get("/teams/<slug>/search")
def search_team(slug: str):  # type: ignore[no-untyped-def]
    team = teams.team_access(api_user(), slug)
    limit = page_limit() if request.args.get("limit") else search.DEFAULT_PER_TYPE
    found = config_search.run(team, request.args, limit=limit)
    # `results` keeps the name search's groups (lists of named items); the other kinds sit beside it.
    results: dict[str, Any] = {}
    body: dict[str, Any] = {"q": found.q, "kind": found.kind, "results": results, "truncated": [],
                            "next_cursor": None}
    if found.names is not None:
        results.update({
            "projects": [project_json(p) for p in found.names.projects],
            "devices": [device_summary(d) for d in found.names.devices],
            "networks": [network_json(n) for n in found.names.networks],
            "tasks": [task_json(t) for t in found.names.tasks],
        })
        body["truncated"] = sorted(found.names.truncated)
    if found.address is not None:
        body["address"] = {
            "networks": [network_json(n) for n in found.address.networks],
            "devices": [device_summary(d) for d in found.address.devices],
            "configs": config_hits_json(found.address.lines) if found.address.lines else [],
        }
    if found.vlan is not None:
        body["vlan"] = {
            "vid": found.vlan.vid,
            "networks": [{**network_json(n), "vlan": {"vid": v.vid, "name": v.name}} for n, v in found.vlan.networks],
            "ports": [{"device": device_summary(p.device), "port": p.port.get("name"), "how": p.how,
                       "mode": p.port.get("mode"), "description": p.port.get("description", "")}
                      for p in found.vlan.ports],
        }
    if found.configs is not None:
        body["configs"] = config_hits_json(found.configs)
        body.update(next_cursor=found.configs.next_cursor, mode=found.configs.mode, at=iso(found.at))
    if found.changes is not None:
        body["changes"] = [
            {"device": device_summary(device), "block": row.block, "summary": row.summary, "path": row.path,
             "created_at": iso(row.created_at)}
            for row, device in found.changes
        ]
    body["web_url"] = public_url(f"/teams/{team.team.slug}/search?") + urlencode(
        {k: v for k, v in request.args.items() if k not in ("cursor", "limit")})
    return jsonify(body)
