"""Projects: a team's unit of work holding devices, networks and tasks.

Every create, update and delete writes an audit event. Deleting a project that still has devices
is refused (409) unless the caller asks for the cascade, which also removes the devices'
repositories once the transaction has committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Select, event, func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import PROJECT_STATUSES, Device, Membership, Project, User
from app.services import audit, device_door, job_queue
from app.services.errors import Conflict
from app.services.gitstore_bridge import repo_path
from app.services.inventory_fields import metadata_field, slug_field, status_field, text_field
from app.services.teams import TeamAccess
from app.services.validation import check_fields, name_field, slugify

PROJECT_FIELDS = ("name", "slug", "description", "status", "metadata")
NAME_MAX = 100
DESCRIPTION_MAX = 10_000
_PENDING_REPO_DELETES = "infratrace_repo_deletes"


def snapshot(project: Project) -> dict[str, Any]:
    """The audited fields of a project."""
    return {
        "name": project.name,
        "slug": project.slug,
        "description": project.description,
        "status": project.status,
        "metadata": dict(project.extra or {}),
    }


def list_query(access: TeamAccess) -> Select:
    access.require("inventory.read")
    return select(Project).where(Project.team_id == access.team.id)


def user_projects_query(user: User) -> Select:
    """Projects in every team the user belongs to (the dashboard)."""
    return (
        select(Project)
        .join(Membership, Membership.team_id == Project.team_id)
        .where(Membership.user_id == user.id)
    )


def _unique_slug(team_id: str, base: str, exclude_id: str | None = None) -> str:
    slug, n = base, 1
    while True:
        stmt = select(Project.id).where(Project.team_id == team_id, Project.slug == slug)
        if exclude_id:
            stmt = stmt.where(Project.id != exclude_id)
        if not db.session.scalar(stmt):
            return slug
        n += 1
        suffix = f"-{n}"
        slug = base[: 64 - len(suffix)] + suffix


def _check_slug_free(team_id: str, slug: str, exclude_id: str | None = None) -> None:
    stmt = select(Project.id).where(Project.team_id == team_id, Project.slug == slug)
    if exclude_id:
        stmt = stmt.where(Project.id != exclude_id)
    if db.session.scalar(stmt):
        raise Conflict("The slug '%(slug)s' is already used by another project in this team.",
                       field="slug", code="slug_taken", params={"slug": slug})


def create_project(access: TeamAccess, body: dict[str, Any]) -> Project:
    access.require("inventory.write")
    check_fields(body, PROJECT_FIELDS)
    name = name_field(body, "name", max_length=NAME_MAX)
    slug = slug_field(body)
    description = text_field(body, "description", max_length=DESCRIPTION_MAX)
    status = status_field(body, "status", PROJECT_STATUSES) if "status" in body else "active"
    extra = metadata_field(body)
    if slug:
        _check_slug_free(access.team.id, slug)
    else:
        slug = _unique_slug(access.team.id, slugify(name, 64))
    project = Project(team_id=access.team.id, name=name, slug=slug, description=description, status=status,
                      extra=extra, created_by_id=access.user.id, updated_by_id=access.user.id)
    db.session.add(project)
    db.session.flush()
    audit.record(access.team.id, access.user, "create", "project", project.id,
                 audit.diff_fields({}, snapshot(project)))
    return project


def update_project(access: TeamAccess, project: Project, body: dict[str, Any]) -> Project:
    """Partial update: only the fields given change. The slug stays put on rename (clone URLs use it)."""
    access.require("inventory.write")
    check_fields(body, PROJECT_FIELDS)
    before = snapshot(project)
    if "name" in body:
        project.name = name_field(body, "name", max_length=NAME_MAX)
    if "slug" in body:
        slug = slug_field(body)
        if slug is None:
            slug = _unique_slug(project.team_id, slugify(project.name, 64), exclude_id=project.id)
        _check_slug_free(project.team_id, slug, exclude_id=project.id)
        project.slug = slug
    if "description" in body:
        project.description = text_field(body, "description", max_length=DESCRIPTION_MAX)
    if "status" in body:
        project.status = status_field(body, "status", PROJECT_STATUSES)
    if "metadata" in body:
        project.extra = metadata_field(body)
    changes = audit.diff_fields(before, snapshot(project))
    if changes:
        project.updated_by_id = access.user.id
        db.session.flush()
        audit.record(project.team_id, access.user, "update", "project", project.id, changes)
    return project


def device_count(project: Project) -> int:
    return db.session.scalar(select(func.count(Device.id)).where(Device.project_id == project.id)) or 0


def delete_project(access: TeamAccess, project: Project, cascade: bool = False) -> None:
    """Deletes the project with its networks, tasks and (only with `cascade`) its devices.

    Device repositories are removed after the SQL transaction commits, so a failed commit never
    leaves rows pointing at repositories that are gone.
    """
    access.require("inventory.delete")
    devices = list(db.session.scalars(select(Device).where(Device.project_id == project.id)))
    if devices and not cascade:
        raise Conflict(
            "The project still has %(count)s device(s); delete them first or pass cascade=true.",
            code="has_devices", params={"count": len(devices)},
        )
    pending: list[Path] = db.session.info.setdefault(_PENDING_REPO_DELETES, [])
    for device in devices:
        pending.append(repo_path(device))
        job_queue.enqueue("delete_device_mirror", device.id)
        audit.record(project.team_id, access.user, "delete", "device", device.id,
                     audit.diff_fields({"name": device.name, "project_id": device.project_id}, {}))
        db.session.delete(device)
    audit.record(project.team_id, access.user, "delete", "project", project.id,
                 audit.diff_fields(snapshot(project), {}))
    db.session.delete(project)
    db.session.flush()


@event.listens_for(Session, "after_commit")
def _remove_repos_after_commit(session: Session) -> None:
    for path in session.info.pop(_PENDING_REPO_DELETES, []):
        device_door.remove_repository(path)  # under its lock; already gone is the goal reached


@event.listens_for(Session, "after_rollback")
def _forget_repos_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_REPO_DELETES, None)
