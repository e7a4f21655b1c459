"""Inventory pages: projects, networks and VLANs, tasks and comments, my tasks, search, audit.

Thin views: each page asks the service layer (which scopes to the caller's teams and checks the
role) and renders; a service refusal becomes the matching error page or a field error in the form.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import Field, SelectChoice

from app.extensions import db
from app.http.common import paginate
from app.models import AuditEvent, Device, Membership, Network, Project, Task, TaskComment, User
from app.services import access, audit_log, devices, networks, projects, tasks, teams
from app.services.errors import ServiceError, ValidationError
from app.services.markdown import render_markdown
from app.services.permissions import role_allows
from app.services.validation import parse_json
from app.web.errors import service_error_page, shown
from app.web.forms import ConfirmForm
from app.web.inventory_forms import CommentForm, NetworkForm, ProjectDeleteForm, ProjectForm, TaskForm

# The overview lists this many devices; the devices page has them all.
OVERVIEW_DEVICES = 100

bp = Blueprint("inventory", __name__)


def _user() -> User:
    return current_user._get_current_object()


def _identity(row: Any) -> Any:
    return row


bp.register_error_handler(ServiceError, service_error_page)


@bp.app_template_filter("markdown")
def _markdown_filter(text: str | None):  # type: ignore[no-untyped-def]
    return render_markdown(text)


@bp.app_template_global("can")
def can(role: str | None, action: str) -> bool:
    return role_allows(role, action)


@bp.app_template_global("team_projects")
def team_projects(team_access: teams.TeamAccess, limit: int = 10) -> list[Project]:
    return list(db.session.scalars(projects.list_query(team_access).order_by(Project.name, Project.id).limit(limit)))


@bp.app_template_global("dashboard_projects")
def dashboard_projects(limit: int = 10) -> list[Project]:
    stmt = projects.user_projects_query(_user()).order_by(Project.updated_at.desc(), Project.id).limit(limit)
    return list(db.session.scalars(stmt))


@bp.app_template_global("dashboard_tasks")
def dashboard_tasks(limit: int = 10) -> list[Task]:
    # Dated tasks first, soonest first; SQLite and PostgreSQL disagree on where NULLs sort by default.
    stmt = tasks.my_tasks_query(_user(), open_only=True).order_by(
        Task.due_date.is_(None), Task.due_date, Task.created_at).limit(limit)
    return list(db.session.scalars(stmt))


def _apply_error(form: Any, exc: ServiceError, mapping: dict[str, str] | None = None) -> None:
    """Shows a service refusal beside the field it names, or as a flash when no field matches."""
    name = (exc.field or "").split("[")[0].split(".")[0]
    name = (mapping or {}).get(name, name)
    target: Field | None = getattr(form, name, None) if name else None
    if isinstance(target, Field):
        target.errors = [*target.errors, shown(exc)] if isinstance(target.errors, list) else [shown(exc)]
    else:
        flash(shown(exc), "error")


def _status_code() -> int:
    return 422 if request.method == "POST" else 200


# ---------------------------------------------------------------- projects

def _project_body(form: ProjectForm) -> dict[str, Any]:
    body: dict[str, Any] = {"name": form.name.data or "", "description": form.description.data or "",
                            "status": form.status.data}
    raw = (form.metadata.data or "").strip()
    if raw:
        body["metadata"] = parse_json(raw, field="metadata", what=gettext("Metadata"))
    else:
        body["metadata"] = {}
    return body


@bp.get("/teams/<slug>/projects")
@login_required
def project_list(slug: str):  # type: ignore[no-untyped-def]
    team = teams.team_access(_user(), slug)
    page = paginate(projects.list_query(team), (Project.name, Project.id), _identity)
    return render_template("projects/list.html", access=team, page=page)


@bp.route("/teams/<slug>/projects/new", methods=["GET", "POST"])
@login_required
def project_new(slug: str):  # type: ignore[no-untyped-def]
    team = teams.team_access(_user(), slug)
    team.require("inventory.write")
    form = ProjectForm()
    if form.validate_on_submit():
        try:
            project = projects.create_project(team, _project_body(form))
            db.session.commit()
            flash(gettext("Project %(name)s created.", name=project.name), "success")
            return redirect(url_for("inventory.project_detail", project_id=project.id))
        except ValidationError as exc:
            db.session.rollback()
            _apply_error(form, exc)
    return render_template("projects/form.html", access=team, form=form, project=None), _status_code()


@bp.get("/projects/<project_id>")
@login_required
def project_detail(project_id: str):  # type: ignore[no-untyped-def]
    project, team = access.project_access(_user(), project_id)
    team.require("inventory.read")
    tab = request.args.get("tab", "overview")
    page: dict[str, Any] | None = None
    members: list[User] = []
    if tab == "networks":
        page = paginate(networks.list_query(team, project), (Network.name, Network.id), _identity)
    elif tab == "tasks":
        stmt = tasks.list_query(team, project, status=request.args.get("status"),
                                assignee=request.args.get("assignee"))
        page = paginate(stmt, (Task.created_at, Task.id), _identity)
        members = _members(project.team_id)
    else:
        tab = "overview"
    device_rows = []
    if tab == "overview":
        device_rows = list(db.session.scalars(
            devices.list_devices_query(team, project).order_by(Device.slug).limit(OVERVIEW_DEVICES)))
    counts = {
        "devices": projects.device_count(project),
        "networks": db.session.query(Network).filter_by(project_id=project.id).count(),
        "tasks": db.session.query(Task).filter_by(project_id=project.id).count(),
    }
    return render_template("projects/detail.html", project=project, access=team, tab=tab, page=page,
                           counts=counts, members=members, delete_form=ProjectDeleteForm(),
                           statuses=tasks.TASK_STATUSES, devices=device_rows,
                           can_write=role_allows(team.role, "inventory.write"))


@bp.route("/projects/<project_id>/edit", methods=["GET", "POST"])
@login_required
def project_edit(project_id: str):  # type: ignore[no-untyped-def]
    project, team = access.project_access(_user(), project_id)
    team.require("inventory.write")
    form = ProjectForm(obj=project)
    if request.method == "GET":
        form.metadata.data = json.dumps(project.extra, indent=2, sort_keys=True) if project.extra else ""
    if form.validate_on_submit():
        try:
            projects.update_project(team, project, _project_body(form))
            db.session.commit()
            flash(gettext("Project saved."), "success")
            return redirect(url_for("inventory.project_detail", project_id=project.id))
        except ValidationError as exc:
            db.session.rollback()
            _apply_error(form, exc)
    return render_template("projects/form.html", access=team, form=form, project=project), _status_code()


@bp.post("/projects/<project_id>/delete")
@login_required
def project_delete(project_id: str):  # type: ignore[no-untyped-def]
    project, team = access.project_access(_user(), project_id)
    form = ProjectDeleteForm()
    if not form.validate_on_submit():
        flash(gettext("The form expired; please try again."), "error")
        return redirect(url_for("inventory.project_detail", project_id=project.id))
    slug, name = team.team.slug, project.name
    try:
        projects.delete_project(team, project, cascade=bool(form.cascade.data))
    except ServiceError as exc:
        db.session.rollback()
        if exc.status != 409:
            raise
        flash(shown(exc), "error")
        return redirect(url_for("inventory.project_detail", project_id=project_id))
    db.session.commit()
    flash(gettext("Project %(name)s deleted.", name=name), "success")
    return redirect(url_for("inventory.project_list", slug=slug))


# ---------------------------------------------------------------- networks

def _parse_vlans(text: str) -> list[dict[str, Any]]:
    vlans = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split(",", 2)]
        try:
            vid = int(parts[0])
        except ValueError:
            raise ValidationError(gettext("Line %(number)s: the VLAN id must be a number from 1 to 4094.",
                                          number=number), field="vlans") from None
        vlans.append({"vid": vid, "name": parts[1] if len(parts) > 1 else "",
                      "description": parts[2] if len(parts) > 2 else ""})
    return vlans


def _network_body(form: NetworkForm) -> dict[str, Any]:
    return {
        "name": form.name.data or "",
        "cidr": form.cidr.data or "",
        "description": form.description.data or "",
        "documentation": form.documentation.data or "",
        "topology_notes": form.topology_notes.data or "",
        "vlans": _parse_vlans(form.vlans.data or ""),
    }


@bp.route("/projects/<project_id>/networks/new", methods=["GET", "POST"])
@login_required
def network_new(project_id: str):  # type: ignore[no-untyped-def]
    project, team = access.project_access(_user(), project_id)
    team.require("inventory.write")
    form = NetworkForm()
    if form.validate_on_submit():
        try:
            network = networks.create_network(team, project, _network_body(form))
            db.session.commit()
            flash(gettext("Network %(name)s created.", name=network.name), "success")
            return redirect(url_for("inventory.network_detail", network_id=network.id))
        except ValidationError as exc:
            db.session.rollback()
            _apply_error(form, exc)
    return render_template("networks/form.html", project=project, access=team, form=form, network=None), \
        _status_code()


@bp.get("/networks/<network_id>")
@login_required
def network_detail(network_id: str):  # type: ignore[no-untyped-def]
    network, team = access.network_access(_user(), network_id)
    team.require("inventory.read")
    return render_template("networks/detail.html", network=network, project=network.project, access=team,
                           confirm=ConfirmForm())


@bp.route("/networks/<network_id>/edit", methods=["GET", "POST"])
@login_required
def network_edit(network_id: str):  # type: ignore[no-untyped-def]
    network, team = access.network_access(_user(), network_id)
    team.require("inventory.write")
    form = NetworkForm(obj=network)
    if request.method == "GET":
        form.vlans.data = "\n".join(
            ", ".join([str(v.vid), v.name] + ([v.description] if v.description else [])) for v in network.vlans
        )
    if form.validate_on_submit():
        try:
            networks.update_network(team, network, _network_body(form))
            db.session.commit()
            flash(gettext("Network saved."), "success")
            return redirect(url_for("inventory.network_detail", network_id=network.id))
        except ValidationError as exc:
            db.session.rollback()
            _apply_error(form, exc)
    return render_template("networks/form.html", project=network.project, access=team, form=form,
                           network=network), _status_code()


@bp.post("/networks/<network_id>/delete")
@login_required
def network_delete(network_id: str):  # type: ignore[no-untyped-def]
    network, team = access.network_access(_user(), network_id)
    project_id = network.project_id
    if ConfirmForm().validate_on_submit():
        networks.delete_network(team, network)
        db.session.commit()
        flash(gettext("Network deleted."), "success")
    return redirect(url_for("inventory.project_detail", project_id=project_id, tab="networks"))


# ---------------------------------------------------------------- tasks

def _members(team_id: str) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team_id).order_by(User.username_key)
    ))


def _task_form(project: Project, obj: Task | None = None) -> TaskForm:
    form = TaskForm(obj=obj)
    form.assignee.choices = [SelectChoice("", gettext("nobody"))] + [SelectChoice(u.username)
                                                                for u in _members(project.team_id)]
    devices = db.session.scalars(select(Device).where(Device.project_id == project.id).order_by(Device.name))
    form.device_id.choices = [SelectChoice("", gettext("none"))] + [SelectChoice(d.id, d.name) for d in devices]
    if obj is not None and request.method == "GET":
        form.assignee.data = obj.assignee.username if obj.assignee else ""
        form.device_id.data = obj.device_id or ""
    return form


def _task_body(form: TaskForm) -> dict[str, Any]:
    return {
        "title": form.title.data or "",
        "description": form.description.data or "",
        "status": form.status.data,
        "assignee": form.assignee.data or None,
        "due_date": form.due_date.data,
        "device_id": form.device_id.data or None,
    }


@bp.route("/projects/<project_id>/tasks/new", methods=["GET", "POST"])
@login_required
def task_new(project_id: str):  # type: ignore[no-untyped-def]
    project, team = access.project_access(_user(), project_id)
    team.require("inventory.write")
    form = _task_form(project)
    if form.validate_on_submit():
        try:
            task = tasks.create_task(team, project, _task_body(form))
            db.session.commit()
            flash(gettext("Task created."), "success")
            return redirect(url_for("inventory.task_detail", task_id=task.id))
        except ValidationError as exc:
            db.session.rollback()
            _apply_error(form, exc)
    return render_template("tasks/form.html", project=project, access=team, form=form, task=None), _status_code()


@bp.get("/tasks/<task_id>")
@login_required
def task_detail(task_id: str):  # type: ignore[no-untyped-def]
    task, team = access.task_access(_user(), task_id)
    team.require("inventory.read")
    page = paginate(tasks.comments_query(team, task), (TaskComment.created_at, TaskComment.id), _identity)
    return render_template("tasks/detail.html", task=task, project=task.project, access=team, page=page,
                           comment_form=CommentForm(), confirm=ConfirmForm())


@bp.route("/tasks/<task_id>/edit", methods=["GET", "POST"])
@login_required
def task_edit(task_id: str):  # type: ignore[no-untyped-def]
    task, team = access.task_access(_user(), task_id)
    team.require("inventory.write")
    form = _task_form(task.project, task)
    if form.validate_on_submit():
        try:
            tasks.update_task(team, task, _task_body(form))
            db.session.commit()
            flash(gettext("Task saved."), "success")
            return redirect(url_for("inventory.task_detail", task_id=task.id))
        except ValidationError as exc:
            db.session.rollback()
            _apply_error(form, exc)
    return render_template("tasks/form.html", project=task.project, access=team, form=form, task=task), \
        _status_code()


@bp.post("/tasks/<task_id>/delete")
@login_required
def task_delete(task_id: str):  # type: ignore[no-untyped-def]
    task, team = access.task_access(_user(), task_id)
    project_id = task.project_id
    if ConfirmForm().validate_on_submit():
        tasks.delete_task(team, task)
        db.session.commit()
        flash(gettext("Task deleted."), "success")
    return redirect(url_for("inventory.project_detail", project_id=project_id, tab="tasks"))


@bp.post("/tasks/<task_id>/comments")
@login_required
def task_comment(task_id: str):  # type: ignore[no-untyped-def]
    task, team = access.task_access(_user(), task_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            tasks.add_comment(team, task, {"body": form.body.data or ""})
            db.session.commit()
            flash(gettext("Comment added."), "success")
            return redirect(url_for("inventory.task_detail", task_id=task.id))
        except ValidationError as exc:
            db.session.rollback()
            _apply_error(form, exc)
    page = paginate(tasks.comments_query(team, task), (TaskComment.created_at, TaskComment.id), _identity)
    return render_template("tasks/detail.html", task=task, project=task.project, access=team, page=page,
                           comment_form=form, confirm=ConfirmForm()), 422


@bp.get("/me/tasks")
@login_required
def my_tasks():  # type: ignore[no-untyped-def]
    status = request.args.get("status") or None
    stmt = tasks.my_tasks_query(_user(), status=status, open_only=status is None)
    page = paginate(stmt, (Task.created_at, Task.id), _identity)
    return render_template("tasks/mine.html", page=page, status=status, statuses=tasks.TASK_STATUSES)


# ---------------------------------------------------------------- audit (the team search lives in web/fleet.py)

@bp.get("/teams/<slug>/audit")
@login_required
def team_audit(slug: str):  # type: ignore[no-untyped-def]
    team = teams.team_access(_user(), slug)
    object_type = request.args.get("object_type") or None
    object_id = request.args.get("object_id") or None
    stmt = audit_log.events_query(team, object_type, object_id)
    page = paginate(stmt, (AuditEvent.created_at, AuditEvent.id), _identity, descending=True)
    return render_template("audit/list.html", access=team, page=page, object_type=object_type,
                           object_id=object_id, object_types=audit_log.AUDIT_OBJECT_TYPES)
