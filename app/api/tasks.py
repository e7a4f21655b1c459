"""Tasks and comments: /api/v1/projects/<id>/tasks, /api/v1/tasks/<id>[/comments], /api/v1/me/tasks."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from app.api import bp
from app.api.auth import api_user
from app.extensions import db
from app.http.common import iso, json_body, paginate, public_url
from app.models import Task, TaskComment
from app.services import access, tasks


def task_json(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "project_id": task.project_id,
        "team": task.project.team.slug,
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "assignee": task.assignee.username if task.assignee else None,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "device_id": task.device_id,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "web_url": public_url(f"/tasks/{task.id}"),
    }


def comment_json(comment: TaskComment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "task_id": comment.task_id,
        "author": comment.author.username if comment.author else None,
        "body": comment.body,
        "created_at": iso(comment.created_at),
        "web_url": public_url(f"/tasks/{comment.task_id}#comment-{comment.id}"),
    }


@bp.get("/projects/<project_id>/tasks")
def list_tasks(project_id: str):  # type: ignore[no-untyped-def]
    project, team = access.project_access(api_user(), project_id)
    stmt = tasks.list_query(team, project, status=request.args.get("status"),
                            assignee=request.args.get("assignee"))
    return jsonify(paginate(stmt, (Task.created_at, Task.id), task_json))


@bp.post("/projects/<project_id>/tasks")
def create_task(project_id: str):  # type: ignore[no-untyped-def]
    project, team = access.project_access(api_user(), project_id)
    task = tasks.create_task(team, project, json_body())
    db.session.commit()
    return jsonify(task_json(task)), 201


@bp.get("/tasks/<task_id>")
def get_task(task_id: str):  # type: ignore[no-untyped-def]
    task, team = access.task_access(api_user(), task_id)
    team.require("inventory.read")
    return jsonify(task_json(task))


@bp.patch("/tasks/<task_id>")
def update_task(task_id: str):  # type: ignore[no-untyped-def]
    task, team = access.task_access(api_user(), task_id)
    tasks.update_task(team, task, json_body())
    db.session.commit()
    return jsonify(task_json(task))


@bp.delete("/tasks/<task_id>")
def delete_task(task_id: str):  # type: ignore[no-untyped-def]
    task, team = access.task_access(api_user(), task_id)
    tasks.delete_task(team, task)
    db.session.commit()
    return "", 204


@bp.get("/tasks/<task_id>/comments")
def list_comments(task_id: str):  # type: ignore[no-untyped-def]
    task, team = access.task_access(api_user(), task_id)
    return jsonify(paginate(tasks.comments_query(team, task), (TaskComment.created_at, TaskComment.id),
                            comment_json))


@bp.post("/tasks/<task_id>/comments")
def add_comment(task_id: str):  # type: ignore[no-untyped-def]
    task, team = access.task_access(api_user(), task_id)
    comment = tasks.add_comment(team, task, json_body())
    db.session.commit()
    return jsonify(comment_json(comment)), 201


@bp.get("/me/tasks")
def my_tasks():  # type: ignore[no-untyped-def]
    stmt = tasks.my_tasks_query(api_user(), status=request.args.get("status"))
    return jsonify(paginate(stmt, (Task.created_at, Task.id), task_json))
