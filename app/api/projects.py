"""Projects: /api/v1/teams/<team>/projects and /api/v1/projects/<id>."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from app.api import bp
from app.api.auth import api_user
from app.extensions import db
from app.http.common import iso, json_body, paginate, public_url
from app.models import Project, User
from app.services import access, projects, teams
from app.services.validation import flag_arg


def user_name(user_id: str | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.username if user else None


def project_json(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "team": project.team.slug,
        "name": project.name,
        "slug": project.slug,
        "description": project.description,
        "status": project.status,
        "metadata": dict(project.extra or {}),
        "created_by": user_name(project.created_by_id),
        "updated_by": user_name(project.updated_by_id),
        "created_at": iso(project.created_at),
        "updated_at": iso(project.updated_at),
        "web_url": public_url(f"/projects/{project.id}"),
    }


@bp.get("/teams/<slug>/projects")
def list_projects(slug: str):  # type: ignore[no-untyped-def]
    team = teams.team_access(api_user(), slug)
    return jsonify(paginate(projects.list_query(team), (Project.name, Project.id), project_json))


@bp.post("/teams/<slug>/projects")
def create_project(slug: str):  # type: ignore[no-untyped-def]
    team = teams.team_access(api_user(), slug)
    project = projects.create_project(team, json_body())
    db.session.commit()
    return jsonify(project_json(project)), 201


@bp.get("/projects/<project_id>")
def get_project(project_id: str):  # type: ignore[no-untyped-def]
    project, team = access.project_access(api_user(), project_id)
    team.require("inventory.read")
    return jsonify(project_json(project))


@bp.patch("/projects/<project_id>")
def update_project(project_id: str):  # type: ignore[no-untyped-def]
    project, team = access.project_access(api_user(), project_id)
    projects.update_project(team, project, json_body())
    db.session.commit()
    return jsonify(project_json(project))


@bp.delete("/projects/<project_id>")
def delete_project(project_id: str):  # type: ignore[no-untyped-def]
    project, team = access.project_access(api_user(), project_id)
    projects.delete_project(team, project, cascade=flag_arg(request.args, "cascade"))
    db.session.commit()
    return "", 204
