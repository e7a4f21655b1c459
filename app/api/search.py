"""Search within a team: GET /api/v1/teams/<team>/search?q=, results grouped by type.

Besides names (projects, devices, networks, tasks), it searches config text (`kind=config`:
substring, `regex=1`, `absent=1`, as of `at=`), addresses (networks holding it, devices managed at
it, config lines naming it), VLANs (`vlan 120` or `kind=vlan`: networks defining it, ports carrying
it) and block summaries of changes (`kind=changes`, `since=`/`until=`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import jsonify, request

from app.api import bp
from app.api.auth import api_user
from app.api.common import iso, page_limit, public_url
from app.api.networks import network_json
from app.api.projects import flag, project_json
from app.api.tasks import task_json
from app.models import Device
from app.services import config_search, search, teams
from app.services.errors import ValidationError


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


_KINDS = ("all", "names", "config", "address", "vlan", "changes")


@bp.get("/teams/<slug>/search")
def search_team(slug: str):  # type: ignore[no-untyped-def]
    team = teams.team_access(api_user(), slug)
    args = request.args
    kind = args.get("kind") or "all"
    if kind not in _KINDS:
        raise ValidationError(f"'kind' must be one of: {', '.join(_KINDS)}.", field="kind", code="invalid_choice")
    q = args.get("q") or ""
    filters = config_search.Filters.parse(args)
    regex_mode, absent = flag("regex"), flag("absent")
    at = _time_arg("at")
    body: dict[str, Any] = {"q": q.strip(), "kind": kind, "results": {}, "truncated": [], "next_cursor": None}
    if kind in ("all", "names") and not (regex_mode or absent or at):
        per_type = page_limit() if args.get("limit") else search.DEFAULT_PER_TYPE
        found = search.search(team, q, per_type=per_type)
        body["results"].update({
            "projects": [project_json(p) for p in found.projects],
            "devices": [device_summary(d) for d in found.devices],
            "networks": [network_json(n) for n in found.networks],
            "tasks": [task_json(t) for t in found.tasks],
        })
        body["truncated"] = sorted(found.truncated)
    if kind in ("all", "address") and not (regex_mode or absent or at):
        address = config_search.search_address(team, q, filters, limit=page_limit())
        if address is not None:
            body["results"]["address"] = {
                "networks": [network_json(n) for n in address.networks],
                "devices": [device_summary(d) for d in address.devices],
                "configs": config_hits_json(address.lines) if address.lines else [],
            }
    vid = config_search.parse_vlan(q, kind)
    if kind in ("all", "vlan") and vid is not None:
        vlan = config_search.search_vlan(team, vid, filters)
        body["results"]["vlan"] = {
            "vid": vid,
            "networks": [{**network_json(n), "vlan": {"vid": v.vid, "name": v.name}} for n, v in vlan.networks],
            "ports": [{"device": device_summary(p.device), "port": p.port.get("name"), "how": p.how,
                       "mode": p.port.get("mode"), "description": p.port.get("description", "")}
                      for p in vlan.ports],
        }
    elif kind == "vlan":
        raise ValidationError("'q' must be a VLAN id (1-4094) for kind=vlan.", field="q", code="invalid")
    if kind in ("all", "config"):
        configs = config_search.search_configs(team, q, mode_regex=regex_mode, absent=absent, filters=filters,
                                               at=at, limit=page_limit(), cursor=args.get("cursor"))
        body["results"]["configs"] = config_hits_json(configs)
        body["next_cursor"] = configs.next_cursor
        body["mode"] = configs.mode
        body["at"] = iso(at)
    if kind in ("all", "changes") and not (regex_mode or absent or at):
        changes = config_search.search_changes(team, q, _time_arg("since"), _time_arg("until"), filters,
                                               limit=page_limit())
        body["results"]["changes"] = [
            {"device": device_summary(device), "block": row.block, "summary": row.summary, "path": row.path,
             "created_at": iso(row.created_at)}
            for row, device in changes
        ]
    body["web_url"] = public_url(f"/teams/{team.team.slug}/search?") + urlencode(
        {k: v for k, v in args.items() if k not in ("cursor", "limit")})
    return jsonify(body)


def _time_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("z", "Z"))
    except ValueError:
        raise ValidationError(f"'{name}' must be a date (2026-03-01) or an RFC 3339 time.", field=name,
                              code="invalid") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
        if len(raw.strip()) == 10:  # a plain date means the end of that day
            value = value.replace(hour=23, minute=59, second=59)
    return value
