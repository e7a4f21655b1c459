"""Tasks and their comments, project-owned; "my tasks" spans every team the user is in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from app.extensions import db
from app.models import TASK_STATUSES, Device, Membership, Project, Task, TaskComment, User
from app.services import audit
from app.services.errors import ValidationError
from app.services.inventory_fields import date_field, status_field, text_field
from app.services.teams import TeamAccess
from app.services.validation import check_fields, looks_like_id, name_field

TASK_FIELDS = ("title", "description", "status", "assignee", "due_date", "device_id")
COMMENT_FIELDS = ("body",)
TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
COMMENT_MAX = 20_000
OPEN_STATUSES = ("todo", "in_progress", "blocked")


def snapshot(task: Task) -> dict[str, Any]:
    return {
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "assignee": task.assignee.username if task.assignee else None,
        "due_date": task.due_date,
        "device_id": task.device.id if task.device else None,
    }


def _status_filter(status: str | None) -> str | None:
    if status in (None, ""):
        return None
    if status not in TASK_STATUSES:
        raise ValidationError("'status' must be one of: %(choices)s.", field="status",
                              code="invalid_choice", params={"choices": ", ".join(TASK_STATUSES)})
    return status


def list_query(access: TeamAccess, project: Project, status: str | None = None,
               assignee: str | None = None) -> Select:
    """A project's tasks, optionally only one status and/or one assignee's (a username)."""
    access.require("inventory.read")
    stmt = select(Task).where(Task.project_id == project.id)
    status = _status_filter(status)
    if status:
        stmt = stmt.where(Task.status == status)
    if assignee:
        stmt = stmt.where(Task.assignee_id.in_(select(User.id).where(User.username_key == assignee.lower())))
    return stmt


def my_tasks_query(user: User, status: str | None = None, open_only: bool = False) -> Select:
    """Tasks assigned to the user, in teams the user is still a member of."""
    stmt = (
        select(Task)
        .join(Membership, Membership.team_id == Task.team_id)
        .where(Membership.user_id == user.id, Task.assignee_id == user.id)
    )
    status = _status_filter(status)
    if status:
        stmt = stmt.where(Task.status == status)
    elif open_only:
        stmt = stmt.where(Task.status.in_(OPEN_STATUSES))
    return stmt


def _assignee(team_id: str, value: Any) -> User | None:
    if value is None or value == "":
        return None
    if not looks_like_id(value) or len(value) > 39:
        raise ValidationError("'assignee' must be the username of a team member.", field="assignee",
                              code="invalid")
    user = db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team_id, User.username_key == value.strip().lower(),
               User.deleted_at.is_(None))
    )
    if user is None:
        raise ValidationError("'%(username)s' is not a member of this team, so cannot be assigned.",
                              field="assignee", code="not_a_member", params={"username": value})
    return user


def _device(project: Project, value: Any) -> Device | None:
    if value is None or value == "":
        return None
    device = None
    if looks_like_id(value):
        device = db.session.scalar(select(Device).where(Device.id == value, Device.project_id == project.id))
    if device is None:
        raise ValidationError("'device_id' must be a device of the same project.", field="device_id",
                              code="invalid")
    return device


def _apply(task: Task, project: Project, body: dict[str, Any]) -> None:
    if "title" in body:
        task.title = name_field(body, "title", max_length=TITLE_MAX)
    if "description" in body:
        task.description = text_field(body, "description", max_length=DESCRIPTION_MAX)
    if "status" in body:
        task.status = status_field(body, "status", TASK_STATUSES)
    if "assignee" in body:
        task.assignee = _assignee(project.team_id, body["assignee"])
    if "due_date" in body:
        task.due_date = date_field(body, "due_date")
    if "device_id" in body:
        task.device = _device(project, body["device_id"])


def create_task(access: TeamAccess, project: Project, body: dict[str, Any]) -> Task:
    access.require("inventory.write")
    check_fields(body, TASK_FIELDS, required=("title",))
    task = Task(team_id=project.team_id, project_id=project.id, title="", status="todo",
                created_by_id=access.user.id)
    _apply(task, project, body)
    db.session.add(task)
    db.session.flush()
    audit.record(project.team_id, access.user, "create", "task", task.id, audit.diff_fields({}, snapshot(task)))
    return task


def update_task(access: TeamAccess, task: Task, body: dict[str, Any]) -> Task:
    access.require("inventory.write")
    check_fields(body, TASK_FIELDS)
    before = snapshot(task)
    _apply(task, task.project, body)
    changes = audit.diff_fields(before, snapshot(task))
    if changes:
        db.session.flush()
        audit.record(task.team_id, access.user, "update", "task", task.id, changes)
    return task


def delete_task(access: TeamAccess, task: Task) -> None:
    access.require("inventory.delete")
    audit.record(task.team_id, access.user, "delete", "task", task.id, audit.diff_fields(snapshot(task), {}))
    db.session.delete(task)
    db.session.flush()


def comments_query(access: TeamAccess, task: Task) -> Select:
    access.require("inventory.read")
    return select(TaskComment).where(TaskComment.task_id == task.id)


def add_comment(access: TeamAccess, task: Task, body: dict[str, Any]) -> TaskComment:
    access.require("inventory.write")
    check_fields(body, COMMENT_FIELDS, required=("body",))
    text = text_field(body, "body", max_length=COMMENT_MAX)
    if not text:
        raise ValidationError("'body' is required.", field="body", code="required")
    comment = TaskComment(task_id=task.id, author_id=access.user.id, body=text)
    db.session.add(comment)
    db.session.flush()
    audit.record(task.team_id, access.user, "create", "comment", comment.id,
                 {"task_id": {"from": None, "to": task.id}, "body": {"from": None, "to": text}})
    return comment
