"""What the device page shows beside the versions themselves: its tasks, the networks and VLANs it
touches, its port table with peers resolved to devices, and how to clone it.

Read-only queries; the caller has already authorised the device (devices.get_device), and each
function checks the action it reads for again (one rule, in the service layer).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import Device, Network, Task, User, Vlan
from app.services.gitstore_bridge import open_repo
from app.services.teams import TeamAccess
from gitstore import Snapshot, TagInfo

MAX_TASKS = 100
MAX_NETWORKS = 500
PORT_SORTS = ("name", "description", "enabled", "mode", "vlans", "speed", "peer")


def head(access: TeamAccess, device: Device) -> tuple[Snapshot | None, list[TagInfo]]:
    """The device's current version and its named versions, from one repository handle."""
    access.require("version.read")
    if not device.head_commit:
        return None, []
    with open_repo(device) as repo:
        return repo.read("HEAD"), repo.list_tags()


def linked_tasks(access: TeamAccess, device: Device) -> list[Task]:
    access.require("inventory.read")
    return list(db.session.scalars(
        select(Task).where(Task.device_id == device.id).order_by(Task.status == "done", Task.created_at.desc())
        .limit(MAX_TASKS)))


def _port_vlans(ports: list[dict[str, Any]]) -> set[int]:
    vids: set[int] = set()
    for port in ports:
        for value in [*(port.get("vlans") or []), port.get("native_vlan")]:
            if isinstance(value, int) and not isinstance(value, bool):
                vids.add(value)
    return vids


def related_networks(access: TeamAccess, device: Device, ports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The project's networks that hold one of the device's management IPs or carry a VLAN that one
    of its ports carries, each with the reason and the matching VLANs."""
    access.require("inventory.read")
    vids = _port_vlans(ports)
    ips = []
    for raw in device.management_ips or []:
        try:
            ips.append(ipaddress.ip_address(raw))
        except ValueError:
            continue
    networks = list(db.session.scalars(
        select(Network).where(Network.project_id == device.project_id).order_by(Network.name).limit(MAX_NETWORKS)))
    vlan_rows: dict[str, list[Vlan]] = {}
    if vids and networks:
        for vlan in db.session.scalars(select(Vlan).where(Vlan.network_id.in_([n.id for n in networks]),
                                                          Vlan.vid.in_(vids)).order_by(Vlan.vid)):
            vlan_rows.setdefault(vlan.network_id, []).append(vlan)
    related = []
    for network in networks:
        try:
            cidr = ipaddress.ip_network(network.cidr, strict=False)
        except ValueError:
            cidr = None
        holds = [str(ip) for ip in ips if cidr is not None and ip.version == cidr.version and ip in cidr]
        vlans = vlan_rows.get(network.id, [])
        if holds or vlans:
            related.append({"network": network, "ips": holds, "vlans": vlans})
    return related


_NATURAL = re.compile(r"(\d+)")


def _natural(value: str) -> list[Any]:
    """Gi1/0/2 before Gi1/0/10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in _NATURAL.split(value)]


def port_rows(access: TeamAccess, device: Device, ports: list[dict[str, Any]], sort: str = "name",
              descending: bool = False) -> list[dict[str, Any]]:
    """The port map as table rows: peers resolved to devices of the same team (by slug or name)."""
    access.require("inventory.read")
    peer_names = {str(p["peer"].get("device")) for p in ports
                  if isinstance(p.get("peer"), dict) and p["peer"].get("device")}
    peers: dict[str, Device] = {}
    if peer_names:
        lowered = {name.lower() for name in peer_names}
        candidates = db.session.scalars(select(Device).where(
            Device.team_id == device.team_id,
            or_(func.lower(Device.slug).in_(lowered), func.lower(Device.name).in_(lowered))))
        for candidate in candidates:
            # A peer in the device's own project wins over a namesake elsewhere in the team.
            for key in {candidate.slug.lower(), candidate.name.lower()}:
                if key not in peers or candidate.project_id == device.project_id:
                    peers[key] = candidate
    rows = []
    for index, port in enumerate(ports):
        peer = port.get("peer") if isinstance(port.get("peer"), dict) else None
        peer_device = peers.get(str(peer.get("device")).lower()) if peer and peer.get("device") else None
        vlans = [v for v in (port.get("vlans") or []) if isinstance(v, int | str)]
        rows.append({
            "index": index, "name": str(port.get("name", "")), "description": str(port.get("description") or ""),
            "enabled": port.get("enabled") if isinstance(port.get("enabled"), bool) else None,
            "mode": str(port.get("mode") or ""), "vlans": vlans, "native_vlan": port.get("native_vlan"),
            "speed": port.get("speed") if port.get("speed") is not None else "",
            "peer": peer, "peer_device": peer_device,
        })
    if sort not in PORT_SORTS:
        sort = "name"
    keys = {
        "name": lambda r: r["index"],  # the port map's own natural order
        "description": lambda r: (r["description"] == "", r["description"].lower()),
        "enabled": lambda r: (r["enabled"] is None, not r["enabled"]),
        "mode": lambda r: (r["mode"] == "", r["mode"]),
        "vlans": lambda r: (not r["vlans"], _natural(",".join(str(v) for v in r["vlans"]))),
        "speed": lambda r: (r["speed"] == "", _natural(str(r["speed"]))),
        "peer": lambda r: (r["peer"] is None, _natural(f"{(r['peer'] or {}).get('device', '')} "
                                                       f"{(r['peer'] or {}).get('port', '')}")),
    }
    rows.sort(key=keys[sort], reverse=descending)
    return rows


def clone_command_url(clone_url: str, user: User) -> str:
    """The clone URL with the user's username in it (git then asks only for the password, which is a
    personal access token)."""
    parts = urlsplit(clone_url)
    netloc = f"{quote(user.username, safe='')}@{parts.netloc.rsplit('@', 1)[-1]}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
