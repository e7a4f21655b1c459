"""Device pages: list per project, create/edit/archive/delete, configs at HEAD, history, versions,
compare (unified or side by side), tags and uploading a new config version.

Thin views: every rule (roles, validation, archive, limits) is the service layer's; a ServiceError
becomes a flash message or a field error.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from itertools import zip_longest
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

from app.extensions import db
from app.http.common import clone_url, public_url
from app.http.downloads import raw_file_response
from app.models import Device
from app.services import devices, versions
from app.services.access import project_access
from app.services.errors import NotFound, ServiceError
from app.services.mirrors import mirror_state
from app.services.permissions import role_allows
from app.web.forms import ConfirmForm, DeviceForm, TagForm, VersionForm

bp = Blueprint("devices", __name__)

PAGE = 30
# Configs above this are shown as a download link, not highlighted (a page must stay fast).
MAX_HIGHLIGHT_BYTES = 512 * 1024
RENDERER_VERSION = "1"


def _user():  # type: ignore[no-untyped-def]
    return current_user._get_current_object()


def _device(device_id: str) -> tuple[Device, Any]:
    try:
        return devices.get_device(_user(), device_id)
    except NotFound:
        abort(404)


@lru_cache(maxsize=512)
def _highlighted(key: str, name: str, text: str) -> Markup:
    """Keyed by content hash + renderer version: immutable, so it never needs invalidating."""
    try:
        lexer = get_lexer_for_filename(name, stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    return Markup(highlight(text, lexer, HtmlFormatter(cssclass="hl", linenos="table")))


def render_config(name: str, data: bytes) -> dict[str, Any]:
    text, _ = versions.encode_content(data)
    if text is None:
        return {"name": name, "binary": True, "size": len(data), "html": None}
    if len(data) > MAX_HIGHLIGHT_BYTES:
        return {"name": name, "binary": False, "size": len(data), "html": None}
    key = hashlib.sha256(data).hexdigest() + RENDERER_VERSION
    return {"name": name, "binary": False, "size": len(data), "html": _highlighted(key, name, text)}


def _form_body(form: DeviceForm) -> dict[str, Any]:
    ips = [part.strip() for part in (form.management_ips.data or "").replace("\n", ",").split(",") if part.strip()]
    custom: dict[str, str] = {}
    for line in (form.custom_fields.data or "").splitlines():
        if line.strip():
            key, _, value = line.partition("=")
            custom[key.strip()] = value.strip()
    return {"name": form.name.data or "", "vendor": form.vendor.data or "", "model": form.model.data or "",
            "serial": form.serial.data or "", "management_ips": ips, "location": form.location.data or "",
            "status": form.status.data, "custom_fields": custom}


def _field_error(form: DeviceForm, exc: ServiceError) -> None:
    name = (exc.field or "").split("[")[0].split(".")[0]
    target = getattr(form, name, None) if name else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, exc.message]
    else:
        flash(exc.message, "error")


# -- list and create ----------------------------------------------------------------------------


@bp.get("/projects/<project_id>/devices")
@login_required
def project_devices(project_id: str):  # type: ignore[no-untyped-def]
    try:
        project, access = project_access(_user(), project_id)
        rows = list(db.session.scalars(devices.list_devices_query(access, project).order_by(Device.slug)))
    except NotFound:
        abort(404)
    return render_template("devices/list.html", project=project, devices=rows,
                           can_write=role_allows(access.role, "inventory.write"))


@bp.route("/projects/<project_id>/devices/new", methods=["GET", "POST"])
@login_required
def new_device(project_id: str):  # type: ignore[no-untyped-def]
    try:
        project, access = project_access(_user(), project_id)
    except NotFound:
        abort(404)
    form = DeviceForm()
    if form.validate_on_submit():
        try:
            device, _ = devices.create_device(_user(), project_id, _form_body(form))
            flash(gettext("Device %(name)s created.", name=device.name), "success")
            return redirect(url_for("devices.show", device_id=device.id))
        except ServiceError as exc:
            db.session.rollback()
            _field_error(form, exc)
    status = 422 if request.method == "POST" else 200
    return render_template("devices/form.html", form=form, project=project, device=None), status


# -- one device ---------------------------------------------------------------------------------


@bp.get("/devices/<device_id>")
@login_required
def show(device_id: str):  # type: ignore[no-untyped-def]
    device, access = _device(device_id)
    path = request.args.get("path") or None
    try:
        page = versions.history_page(device, path, PAGE, request.args.get("cursor") or None)
    except ServiceError as exc:
        flash(exc.message, "error")
        page = {"items": [], "next_cursor": None}
    snap, tags = None, []
    if device.head_commit:
        _, snap, _, _ = versions.read_version(_user(), device_id, "HEAD")
        tags = versions.list_tags(_user(), device_id)
    return render_template(
        "devices/show.html", device=device, access=access, snap=snap, tags=tags,
        configs=[render_config(name, data) for name, data in sorted(snap.configs.items())] if snap else [],
        history=page, path=path or "", clone_url=clone_url(device), mirror=mirror_state(device),
        can_write=role_allows(access.role, "version.write") and device.archived_at is None,
        can_edit=role_allows(access.role, "inventory.write"),
        can_delete=role_allows(access.role, "inventory.delete"),
        version_form=VersionForm(), tag_form=TagForm(), confirm=ConfirmForm(),
    )


@bp.route("/devices/<device_id>/edit", methods=["GET", "POST"])
@login_required
def edit(device_id: str):  # type: ignore[no-untyped-def]
    device, _ = _device(device_id)
    form = DeviceForm(obj=None if request.method == "POST" else device)
    if request.method == "GET":
        form.management_ips.data = ", ".join(device.management_ips or [])
        form.custom_fields.data = "\n".join(f"{k}={v}" for k, v in (device.custom_fields or {}).items())
    if form.validate_on_submit():
        try:
            devices.update_device(_user(), device_id, _form_body(form))
            flash(gettext("Device updated."), "success")
            return redirect(url_for("devices.show", device_id=device_id))
        except ServiceError as exc:
            db.session.rollback()
            _field_error(form, exc)
    status = 422 if request.method == "POST" else 200
    return render_template("devices/form.html", form=form, project=device.project, device=device), status


@bp.post("/devices/<device_id>/archive")
@login_required
def archive(device_id: str):  # type: ignore[no-untyped-def]
    device, _ = _device(device_id)
    if ConfirmForm().validate_on_submit():
        try:
            devices.set_archived(_user(), device_id, device.archived_at is None)
            flash(gettext("Device archived.") if device.archived_at else gettext("Device unarchived."), "success")
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
    return redirect(url_for("devices.show", device_id=device_id))


@bp.post("/devices/<device_id>/delete")
@login_required
def delete(device_id: str):  # type: ignore[no-untyped-def]
    device, _ = _device(device_id)
    project_id = device.project_id
    if ConfirmForm().validate_on_submit():
        try:
            devices.delete_device(_user(), device_id)
            flash(gettext("Device %(name)s and its history were deleted.", name=device.name), "success")
            return redirect(url_for("devices.project_devices", project_id=project_id))
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
    return redirect(url_for("devices.show", device_id=device_id))


@bp.post("/devices/<device_id>/versions")
@login_required
def upload_version(device_id: str):  # type: ignore[no-untyped-def]
    _device(device_id)
    form = VersionForm()
    if form.validate_on_submit():
        upload = form.upload.data
        if upload is not None and getattr(upload, "filename", ""):
            content: Any = upload.read()
        else:
            # Browsers send textarea line ends as CRLF; what the person typed is kept as sent.
            content = form.content.data or ""
        try:
            configs_key = "configs_base64" if isinstance(content, bytes) else "configs"
            if isinstance(content, bytes):
                import base64

                content = base64.b64encode(content).decode()
            data, changed = versions.write_version(_user(), device_id, {
                "message": form.message.data or "", configs_key: {form.config_name.data or "": content}})
            flash(gettext("Version %(commit)s saved.", commit=data["commit"][:10]) if changed
                  else gettext("Nothing changed: no new version."),
                  "success")
        except ServiceError as exc:
            db.session.rollback()
            flash(f"{exc.field + ': ' if exc.field else ''}{exc.message}", "error")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return redirect(url_for("devices.show", device_id=device_id))


@bp.post("/devices/<device_id>/tags")
@login_required
def create_tag(device_id: str):  # type: ignore[no-untyped-def]
    _device(device_id)
    form = TagForm()
    if form.validate_on_submit():
        try:
            tag = versions.create_tag(_user(), device_id, {"name": form.name.data, "rev": form.rev.data or "HEAD",
                                                           "message": form.message.data or ""})
            flash(gettext("Tagged %(target)s as %(name)s.", target=tag.target[:10], name=tag.name), "success")
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
    return redirect(url_for("devices.show", device_id=device_id))


# -- versions and compare -----------------------------------------------------------------------


@bp.get("/devices/<device_id>/versions/<rev>")
@login_required
def version(device_id: str, rev: str):  # type: ignore[no-untyped-def]
    device, _ = _device(device_id)
    try:
        _, snap, tags, author = versions.read_version(_user(), device_id, rev)
    except ServiceError as exc:
        abort(404 if exc.status == 404 else 422)
    return render_template(
        "devices/version.html", device=device, snap=snap, tags=tags, author=author,
        configs=[render_config(name, data) for name, data in sorted(snap.configs.items())],
    )


@bp.get("/devices/<device_id>/raw/<rev>/<path:path>")
@login_required
def raw(device_id: str, rev: str, path: str):  # type: ignore[no-untyped-def]
    try:
        data = versions.read_file(_user(), device_id, rev, path)
    except ServiceError:
        abort(404)
    return raw_file_response(data, path)


def side_by_side(hunk: Any) -> list[tuple[Any, Any]]:
    """Pairs deletions with the additions that replace them; context lines sit on both sides."""
    rows: list[tuple[Any, Any]] = []
    dels: list[Any] = []
    adds: list[Any] = []

    def flush() -> None:
        rows.extend(zip_longest(dels, adds))
        dels.clear()
        adds.clear()

    for line in hunk.lines:
        if line.origin == "-":
            dels.append(line)
        elif line.origin == "+":
            adds.append(line)
        else:
            flush()
            rows.append((line, line))
    flush()
    return rows


@bp.get("/devices/<device_id>/compare")
@login_required
def compare(device_id: str):  # type: ignore[no-untyped-def]
    device, _ = _device(device_id)
    view = "split" if request.args.get("view") == "split" else "unified"
    try:
        _, result = versions.diff(_user(), device_id, request.args.get("from") or None,
                                  request.args.get("to") or None, request.args.get("context"))
    except ServiceError as exc:
        return render_template("error.html", status=exc.status, title="Cannot compare", message=exc.message), \
            exc.status
    return render_template("devices/compare.html", device=device, diff=result, view=view,
                           side_by_side=side_by_side, web_url=public_url(request.full_path.rstrip("?")))


@bp.get("/devices/<device_id>/compare.patch")
@login_required
def compare_patch(device_id: str):  # type: ignore[no-untyped-def]
    _device(device_id)
    try:
        frm = versions.resolve(_user(), device_id, request.args.get("from") or "HEAD")
        to = versions.resolve(_user(), device_id, request.args.get("to") or "HEAD")
        data = versions.raw_patch(_user(), device_id, frm, to)
    except ServiceError:
        abort(404)
    response = Response(data, mimetype="text/plain")
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{frm[:10]}..{to[:10]}.patch"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/static-highlight.css")
def highlight_css():  # type: ignore[no-untyped-def]
    """Pygments' token colours as a stylesheet (the CSP allows no inline styles)."""
    css = HtmlFormatter(cssclass="hl").get_style_defs(".hl")
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
