"""The project's intake rules page: noise rules, presets, redaction, and a preview before saving.

Thin: the form's text becomes the same body the rules API takes, and the same service functions
(`intake.put_rules`, `intake.preview`) do all validation; refusals are shown on the form.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from app.extensions import db
from app.models import Device, User
from app.services import access, config_rules, intake
from app.services.config_presets import PRESETS
from app.services.errors import ServiceError, ValidationError
from app.services.permissions import role_allows
from app.web.errors import service_error_page, shown

bp = Blueprint("intake", __name__)
RULE_HELP = _l("One rule per line: `ignore: <regex>` or `strip: <regex>`; lines starting with # are comments.")


class RulesForm(FlaskForm):
    config_name = StringField(_l("Oxidized config name (stored as configs/<name>)"))
    platform = SelectField(_l("Presets"), choices=[SelectChoice(config_rules.PLATFORM_AUTO,
                                                                _l("each device's own platform (all when unknown)"))]
                           + [SelectChoice(p.key, _l("%(preset)s for every device", preset=p.name))
                              for p in PRESETS.values()])
    noise_presets = SelectField(_l("Ignore the presets' volatile lines"), choices=[
        SelectChoice("all", _l("of every preset (default)")),
        SelectChoice("platform", _l("of the chosen presets only")),
        SelectChoice("off", _l("no"))])
    redaction = BooleanField(_l("Redact secrets before storing (one-way)"))
    rules = TextAreaField(_l("Project rules"), validators=[Optional()], description=RULE_HELP,
                          render_kw={"rows": 6, "placeholder": "ignore: ^! Last configuration change\n"
                                                               "strip: ^! uptime is "})
    device = SelectField(_l("Preview on the history of"), choices=[], validate_choice=False)


def _user() -> User:
    return current_user._get_current_object()


def rules_text(rules: list[dict[str, str]]) -> str:
    return "\n".join(f"{rule['kind']}: {rule['pattern']}" for rule in rules)


def parse_rules_text(text: str) -> list[dict[str, str]]:
    """`kind: pattern` lines -> the API's rule objects (the service validates kinds and patterns)."""
    rules = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        kind, sep, pattern = line.partition(":")
        if not sep:
            raise ValidationError(gettext("Line %(number)s: write `ignore: <regex>` or `strip: <regex>`.",
                                          number=number), field="rules")
        # One space after the colon is layout; anything else (even trailing blanks) is the pattern.
        pattern = pattern.rstrip("\r")
        rules.append({"kind": kind.strip(), "pattern": pattern[1:] if pattern.startswith(" ") else pattern})
    return rules


def _body(form: RulesForm) -> dict[str, Any]:
    return {
        "config_name": (form.config_name.data or "").strip(),
        "platform": form.platform.data,
        "noise_presets": form.noise_presets.data,
        "redaction": bool(form.redaction.data),
        "rules": parse_rules_text(form.rules.data or ""),
    }


@bp.route("/projects/<project_id>/rules", methods=["GET", "POST"])
@login_required
def rules_page(project_id: str):  # type: ignore[no-untyped-def]
    user = _user()
    try:
        project, team = access.project_access(user, project_id)
        current = intake.get_rules(user, project_id)
    except ServiceError as exc:
        return service_error_page(exc)
    devices = list(db.session.scalars(select(Device).where(Device.project_id == project.id)
                                      .order_by(Device.slug).limit(500)))
    form = RulesForm()
    form.device.choices = [SelectChoice(d.id, d.name) for d in devices]
    if request.method == "GET":
        form.config_name.data = current["config_name"]
        form.platform.data = current["platform"]
        form.noise_presets.data = current["noise_presets"]
        form.redaction.data = current["redaction"]
        form.rules.data = rules_text(current["rules"])
    result = None
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            body = _body(form)
            if request.form.get("action") == "save":
                intake.put_rules(user, project_id, body)
                flash(gettext("Rules saved; they apply to every config from now on."), "success")
                return redirect(url_for("intake.rules_page", project_id=project_id))
            if not form.device.data:
                raise ValidationError(gettext("Choose a device whose history the preview runs on."), field="device")
            result = intake.preview(user, project_id, {**body, "device_id": form.device.data})
        except ServiceError as exc:
            if exc.status != 422:
                return service_error_page(exc)
            db.session.rollback()
            field = (exc.field or "rules").split("[")[0].split(".")[0]
            target = getattr(form, field, None) or form.rules
            target.errors = [*target.errors, shown(exc)]  # type: ignore[list-item]
            status = 422
    elif request.method == "POST":
        status = 400
    return render_template("projects/rules.html", project=project, access=team, form=form, result=result,
                           presets=config_rules.catalog(), saved=current["saved"],
                           can_save=role_allows(team.role, "intake.rules")), status
