"""Fleet pages: the team search (names, config lines, addresses, VLANs, changes) and the project's
compliance dashboard with its rules. Thin views over app/services/config_search and compliance."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.extensions import db
from app.models import COMPLIANCE_KINDS, User
from app.services import compliance, config_search, teams, version_analysis
from app.services.access import project_access
from app.services.errors import ServiceError
from app.services.permissions import role_allows
from app.web.errors import service_error_page, shown
from app.web.forms import ConfirmForm

bp = Blueprint("fleet", __name__)

KIND_LABELS = {
    "must_contain": _l("must contain a line matching"),
    "must_not_contain": _l("must not contain a line matching"),
    "block_must_contain": _l("every matching block must contain"),
}


bp.register_error_handler(ServiceError, service_error_page)


def _user() -> User:
    return current_user._get_current_object()


@bp.app_template_global()
def device_compliance(device_id: str):  # type: ignore[no-untyped-def]
    """The device's current compliance result, for pages that show a device (already access-checked)."""
    return compliance.current_result(device_id)


@bp.app_template_global()
def changes_between(device_id: str, from_sha: str, to_sha: str):  # type: ignore[no-untyped-def]
    """Block summaries of the versions a compare page spans (the device is already access-checked)."""
    return version_analysis.summaries_between(device_id, from_sha, to_sha)


@bp.app_template_global()
def device_compliance_history(device_id: str, limit: int = 10):  # type: ignore[no-untyped-def]
    """The device's latest compliance results over its versions, newest first."""
    return compliance.results_for(device_id, limit)


class RuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Name is required.")), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in COMPLIANCE_KINDS])
    pattern = StringField(_l("Line pattern (regular expression)"),
                          validators=[DataRequired(_l("A pattern is required.")), Length(max=500)],
                          render_kw={"placeholder": r"^ntp server \S+"})
    block = StringField(_l("Block (parent line pattern, for block rules)"), validators=[Optional(), Length(max=500)],
                        render_kw={"placeholder": "^interface "})
    block_filter = StringField(_l("Only blocks holding a line matching"), validators=[Optional(), Length(max=500)],
                               render_kw={"placeholder": "switchport mode access"})
    config_path = StringField(_l("Config"), default="running-config", validators=[Optional(), Length(max=300)])
    platform = StringField(_l("Only platform"), validators=[Optional(), Length(max=50)],
                           render_kw={"placeholder": "ios, nxos, eos, junos, ..."})
    name_pattern = StringField(_l("Only device names like"), validators=[Optional(), Length(max=200)],
                               render_kw={"placeholder": "core-*"})
    tag = StringField(_l("Only devices tagged"), validators=[Optional(), Length(max=50)])
    scope = SelectField(_l("Applies to"),
                        choices=[SelectChoice("project", _l("this project")),
                                 SelectChoice("team", _l("every project of the team"))])


@bp.get("/teams/<slug>/search")
@login_required
def team_search(slug: str):  # type: ignore[no-untyped-def]
    team = teams.team_access(_user(), slug)
    query = (request.args.get("q") or "").strip()
    found, error = None, None
    if query:
        try:
            found = config_search.run(team, request.args, limit=config_search.DEFAULT_DEVICES)
        except ServiceError as exc:
            error = exc
    projects = config_search.team_projects(team)
    return render_template("search/results.html", access=team, q=query, found=found, error=error,
                           args=request.args, platforms=config_search.platform_names(), projects=projects), \
        (error.status if error else 200)


@bp.route("/projects/<project_id>/compliance", methods=["GET", "POST"])
@login_required
def project_compliance(project_id: str):  # type: ignore[no-untyped-def]
    project, access = project_access(_user(), project_id)
    access.require("inventory.read")
    form = RuleForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            body = {name: getattr(form, name).data or "" for name in
                    ("name", "kind", "pattern", "block", "block_filter", "config_path", "platform", "name_pattern",
                     "tag", "scope")}
            try:
                compliance.create_rule(_user(), project.id, body)
                flash(_("Rule added; every device it applies to is being checked."), "success")
                return redirect(url_for("fleet.project_compliance", project_id=project.id))
            except ServiceError as exc:
                db.session.rollback()
                target = getattr(form, exc.field or "", None) or form.pattern
                target.errors = [*target.errors, shown(exc)]
        status = 422
    rules = compliance.list_rules(_user(), project.id)[1]
    rows = compliance.project_report(_user(), project.id)[1]
    counts: dict[str, int] = {}
    for _device, result in rows:
        key = result.status if result else "unknown"
        counts[key] = counts.get(key, 0) + 1
    return render_template("compliance/project.html", project=project, access=access, rules=rules, rows=rows,
                           counts=counts, form=form, confirm=ConfirmForm(), kind_labels=KIND_LABELS,
                           can_write=role_allows(access.role, "inventory.write")), status


@bp.get("/projects/<project_id>/compliance.csv")
@login_required
def project_compliance_csv(project_id: str):  # type: ignore[no-untyped-def]
    project, rows = compliance.project_report(_user(), project_id)
    return Response(compliance.report_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="compliance-{project.slug}.csv"'})


@bp.post("/compliance/rules/<rule_id>/delete")
@login_required
def rule_delete(rule_id: str):  # type: ignore[no-untyped-def]
    form = ConfirmForm()
    rule = compliance.get_rule(_user(), rule_id)
    project_id = rule.project_id or request.args.get("project") or ""
    if form.validate_on_submit():
        compliance.delete_rule(_user(), rule_id)
        flash(_("Rule deleted."), "success")
    return redirect(url_for("fleet.project_compliance", project_id=project_id))


@bp.post("/compliance/rules/<rule_id>/toggle")
@login_required
def rule_toggle(rule_id: str):  # type: ignore[no-untyped-def]
    form = ConfirmForm()
    rule = compliance.get_rule(_user(), rule_id)
    project_id = rule.project_id or request.args.get("project") or ""
    if form.validate_on_submit():
        compliance.update_rule(_user(), rule_id, {"enabled": not rule.enabled})
    return redirect(url_for("fleet.project_compliance", project_id=project_id))
