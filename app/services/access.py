"""Scoped lookups: an object is found only through the caller's own memberships.

Anything in a team the caller is not in is reported as not found (404), never as forbidden.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, bindparam, select

from app.extensions import db
from app.models import Device, Membership, Network, Project, Task, Team, User
from app.services.errors import NotFound
from app.services.teams import TeamAccess
from app.services.validation import looks_like_id

T = TypeVar("T", Project, Device, Network, Task)


def _lookup(model: type[T]):  # type: ignore[no-untyped-def]
    """The object, its team and the caller's role there, as one query built once per model."""
    return (select(model, Team, Membership.role)
            .join(Team, Team.id == model.team_id)
            .join(Membership, Membership.team_id == Team.id)
            .where(model.id == bindparam("object_id"), Membership.user_id == bindparam("user_id")))


_LOOKUPS = {model: _lookup(model) for model in (Project, Device, Network, Task)}


def _scoped(model: type[T], user: User, object_id: str, missing: NotFound) -> tuple[T, TeamAccess]:
    """`missing` is the refusal, written out at each caller so its sentence is in the catalogue."""
    if not looks_like_id(object_id):
        raise missing
    row = db.session.execute(_LOOKUPS[model], {"object_id": object_id, "user_id": user.id}).first()
    if row is None:
        raise missing
    obj, team, role = row
    return obj, TeamAccess(team, role, user)


def project_access(user: User, project_id: str) -> tuple[Project, TeamAccess]:
    return _scoped(Project, user, project_id, NotFound("No such project."))


def device_access(user: User, device_id: str) -> tuple[Device, TeamAccess]:
    return _scoped(Device, user, device_id, NotFound("No such device."))


def device_role_query(device: str, user: str) -> Select[tuple[str]]:
    """The caller's role on a device's team, nothing loaded (bind parameters named by the caller):
    for reads that need only the device's id; history embeds it in its page statement."""
    return (select(Membership.role).join(Device, Device.team_id == Membership.team_id)
            .where(Device.id == bindparam(device), Membership.user_id == bindparam(user)))


def network_access(user: User, network_id: str) -> tuple[Network, TeamAccess]:
    return _scoped(Network, user, network_id, NotFound("No such network."))


def task_access(user: User, task_id: str) -> tuple[Task, TeamAccess]:
    return _scoped(Task, user, task_id, NotFound("No such task."))
