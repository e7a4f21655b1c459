"""Editing a device's config in the browser: paste or upload, preview the diff, save.

The text survives every refusal (it is rendered back into the form with the error at its field);
the form carries the version it was opened at, so a save after someone else's is shown as a
conflict with what changed meanwhile, never silently overwritten.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.extensions import db
from app.services import devices, editing
from app.services.errors import Conflict, NotFound, ServiceError
from app.services.permissions import role_allows
from app.web import compare as compare_views
from app.web.errors import shown

bp = Blueprint("config_edit", __name__)


class ConfigEditForm(FlaskForm):
    config_name = StringField(_l("Config name"), default="running-config",
                              validators=[DataRequired(_l("A config name is required.")), Length(max=255)])
    content = TextAreaField(_l("Content"), validators=[Optional()])
    upload = FileField(_l("Or upload a file"))
    message = StringField(_l("Message"), validators=[DataRequired(_l("A message is required.")), Length(max=10000)])
    parent = HiddenField()


def _user():  # type: ignore[no-untyped-def]
    return current_user._get_current_object()


def _submitted(form: ConfigEditForm) -> tuple[bytes, bool]:
    upload = form.upload.data
    if upload is not None and getattr(upload, "filename", ""):
        return upload.read(), False
    return (form.content.data or "").encode("utf-8", "surrogateescape"), True


def _no_fold_table(file: Any, view: str, _fold_url: str) -> Any:
    """A preview's diff has no stored version to unfold lines from: no fold links."""
    return compare_views.file_table(file, view, "", with_folds=False)


def _page(device: Any, form: ConfigEditForm, status: int = 200, **extra: Any) -> Any:
    context = {"device": device, "form": form, "line_html": compare_views.line_html,
               "side_by_side": compare_views.side_by_side, "file_table": _no_fold_table,
               "view": "unified", "args": {}, "fold_device": device, "preview": None, "conflict": None,
               "binary": False}
    context.update(extra)
    return render_template("devices/edit_config.html", **context), status


@bp.route("/devices/<device_id>/configs/edit", methods=["GET", "POST"])
@login_required
def edit_config(device_id: str):  # type: ignore[no-untyped-def]
    try:
        device, access = devices.get_device(_user(), device_id)
    except NotFound:
        abort(404)
    if not role_allows(access.role, "version.write"):
        abort(403)
    form = ConfigEditForm()
    if request.method == "GET":
        name = request.args.get("name") or "running-config"
        form.config_name.data = name
        form.parent.data = device.head_commit or ""
        existing = editing.current_config(_user(), device_id, name) if device.head_commit else None
        binary = False
        if existing is not None:
            try:
                form.content.data = existing.decode("utf-8")
            except UnicodeDecodeError:
                binary = True  # a textarea would lose its bytes: offer the upload only
        return _page(device, form, binary=binary)
    return submit(device, form)


def submit(device: Any, form: ConfigEditForm | None = None) -> Any:
    user = _user()
    form = form or ConfigEditForm()
    if not form.validate_on_submit():
        return _page(device, form, 422)
    name = form.config_name.data or ""
    parent = form.parent.data or None
    content, from_textarea = _submitted(form)
    try:
        base = editing.current_config(user, device.id, name, parent) if parent else None
        current = editing.current_config(user, device.id, name) if device.head_commit else None
    except ServiceError as exc:
        form.parent.errors = [shown(exc)]
        return _page(device, form, 422)
    content = editing.match_line_endings(current, content, from_textarea)
    if request.form.get("action") == "preview":
        return _page(device, form, preview=editing.preview(current, content, name))
    try:
        data, changed = editing.save(user, device.id, name, content, form.message.data or "", parent)
    except Conflict as exc:
        db.session.rollback()
        head = str(exc.extra.get("head") or "")
        # What changed meanwhile (their version -> the current one), and what saving yours now does.
        form.parent.data = head
        return _page(device, form, 409, conflict={
            "meanwhile": editing.preview(base, current if current is not None else b"", name),
            "yours": editing.preview(current, content, name), "head": head})
    except ServiceError as exc:
        db.session.rollback()
        field = (exc.field or "").split(".")[0]
        target = {"configs": form.config_name, "configs_base64": form.config_name, "message": form.message,
                  "parent": form.parent}.get(field)
        if target is None:
            target = form.content
        target.errors = [*target.errors, shown(exc)]
        return _page(device, form, exc.status if exc.status in (409, 413, 422) else 422)
    flash(gettext("Version %(commit)s saved.", commit=data["commit"][:10]) if changed
          else gettext("Nothing changed: no new version."), "success")
    return redirect(url_for("devices.show", device_id=device.id))
