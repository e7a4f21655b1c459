"""Search within one team: projects, devices, networks (with VLANs) and tasks, grouped by type.

Plain case-insensitive substring matching that behaves the same on SQLite and PostgreSQL;
management IPs (a JSON list) are matched on their JSON text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import String, cast, or_, select

from app.extensions import db
from app.models import Device, Network, Project, Task, Vlan
from app.services.errors import ValidationError
from app.services.teams import TeamAccess

QUERY_MAX = 100
DEFAULT_PER_TYPE = 20
MAX_PER_TYPE = 100


@dataclass
class SearchResults:
    query: str
    projects: list[Project] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    networks: list[Network] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    # Types that had more matches than were returned.
    truncated: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not (self.projects or self.devices or self.networks or self.tasks)


def _take(stmt, limit: int, name: str, results: SearchResults) -> list:  # type: ignore[no-untyped-def]
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    if len(rows) > limit:
        results.truncated.add(name)
    return rows[:limit]


def search(access: TeamAccess, query: str | None, per_type: int = DEFAULT_PER_TYPE) -> SearchResults:
    access.require("inventory.read")
    q = (query or "").strip()
    if not q:
        raise ValidationError("'q' is required.", field="q", code="required")
    if len(q) > QUERY_MAX:
        raise ValidationError("'q' must be at most %(limit)s characters.", field="q", code="too_long",
                              params={"limit": QUERY_MAX})
    per_type = max(1, min(per_type, MAX_PER_TYPE))
    team_id = access.team.id
    results = SearchResults(query=q)
    results.projects = _take(
        select(Project).where(Project.team_id == team_id,
                              or_(Project.name.icontains(q, autoescape=True),
                                  Project.slug.icontains(q, autoescape=True)))
        .order_by(Project.name, Project.id),
        per_type, "projects", results)
    results.devices = _take(
        select(Device).where(Device.team_id == team_id,
                             or_(Device.name.icontains(q, autoescape=True),
                                 Device.serial.icontains(q, autoescape=True),
                                 cast(Device.management_ips, String).icontains(q, autoescape=True)))
        .order_by(Device.name, Device.id),
        per_type, "devices", results)
    vlan_match = or_(Vlan.name.icontains(q, autoescape=True), Vlan.vid == int(q)) if q.isdigit() and len(q) <= 4 \
        else Vlan.name.icontains(q, autoescape=True)
    results.networks = _take(
        select(Network).where(Network.team_id == team_id,
                              or_(Network.name.icontains(q, autoescape=True),
                                  Network.cidr.icontains(q, autoescape=True),
                                  Network.id.in_(select(Vlan.network_id).where(vlan_match))))
        .order_by(Network.name, Network.id),
        per_type, "networks", results)
    results.tasks = _take(
        select(Task).where(Task.team_id == team_id, Task.title.icontains(q, autoescape=True))
        .order_by(Task.created_at.desc(), Task.id),
        per_type, "tasks", results)
    return results
