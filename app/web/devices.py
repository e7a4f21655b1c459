"""Device pages: list per project, create/edit/archive/delete, configs at HEAD, history, versions,
compare (unified or side by side), tags and uploading a new config version.

Thin views: every rule (roles, validation, archive, limits) is the service layer's; a ServiceError
becomes a flash message or a field error.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
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
from app.http.common import clone_url
from app.http.downloads import raw_file_response
from app.models import DEVICE_STATUSES, Device
from app.services import device_list, device_page, devices, history_view, versions
from app.services.access import project_access
from app.services.errors import NotFound, ServiceError
from app.services.mirrors import mirror_state
from app.services.permissions import role_allows
from app.web import compare as compare_views
from app.web import editing as config_editing
from app.web.errors import shown
from app.web.forms import ConfirmForm, DeviceForm, TagForm, VersionForm

bp = Blueprint("devices", __name__)
# `{{ error|shown }}`: pages that show a service refusal inline (device list, history, fleet search)
# show it in the reader's language, like the forms and error pages do.
bp.add_app_template_filter(shown, "shown")

# Configs above this are shown as a download link, not highlighted (a page must stay fast).
MAX_HIGHLIGHT_BYTES = 512 * 1024
RENDERER_VERSION = "1"
HIGHLIGHT_STYLES = {"light": "xcode", "dark": "lightbulb"}


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
        # Too big to highlight whole: its first page is shown plain, the file view pages the rest.
        return {"name": name, "binary": False, "size": len(data), "html": None,
                "first": compare_views.config_lines(name, data, 1, None, 0)}
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
            "status": form.status.data, "custom_fields": custom,
            "tags": [tag.strip() for tag in (form.tags.data or "").split(",") if tag.strip()]}


def _field_error(form: DeviceForm, exc: ServiceError) -> None:
    name = (exc.field or "").split("[")[0].split(".")[0]
    target = getattr(form, name, None) if name else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, shown(exc)]
    else:
        flash(shown(exc), "error")


# -- list and create ----------------------------------------------------------------------------


@bp.get("/projects/<project_id>/devices")
@login_required
def project_devices(project_id: str):  # type: ignore[no-untyped-def]
    """Filter, sort and page a fleet (app/services/device_list.py); a bad parameter is a form error."""
    try:
        project, access = project_access(_user(), project_id)
    except NotFound:
        abort(404)
    error = None
    try:
        query = device_list.parse(request.args)
        page = device_list.page(access, project, query)
    except ServiceError as exc:
        error, query, page = exc, device_list.DeviceQuery(), {"items": [], "next_cursor": None}
    status = 422 if error else 200
    return render_template("devices/list.html", project=project, page=page, query=query, error=error,
                           sorts=device_list.SORTS, page_sizes=device_list.PAGE_SIZES,
                           compliance_choices=device_list.COMPLIANCE_CHOICES,
                           statuses=DEVICE_STATUSES, can_write=role_allows(access.role, "inventory.write")), status


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
    """The device as an object page: overview, configs, history, ports, photos and tasks are tab
    panels of one page, switched by URL fragment (#history, ...) with CSS :target, so every tab
    works without JavaScript and its links (paging, filters, sorting) land back on that tab."""
    device, access = _device(device_id)
    user = _user()
    history_error = None
    try:
        history_query = history_view.parse(request.args)
        history = history_view.page(access, device, history_query)
    except ServiceError as exc:
        history_error, history_query = exc, history_view.HistoryQuery()
        history = {"items": [], "newer": None, "older": None, "author_unknown": False}
    snap, tags = device_page.head(access, device)
    tags_by_commit: dict[str, list[str]] = {}
    for tag in tags:
        tags_by_commit.setdefault(tag.target, []).append(tag.name)
    ports = list(snap.ports) if snap else []
    port_sort = request.args.get("ports_sort", "name")
    port_desc = request.args.get("ports_dir") == "desc"
    url = clone_url(device)
    return render_template(
        "devices/show.html", device=device, access=access, snap=snap, tags=tags, tags_by_commit=tags_by_commit,
        configs=[render_config(name, data) for name, data in sorted(snap.configs.items())] if snap else [],
        history=history, history_query=history_query, history_error=history_error, kinds=history_view.KINDS,
        path=history_query.path, clone_url=url, clone_command_url=device_page.clone_command_url(url, user),
        mirror=mirror_state(device),
        ports=device_page.port_rows(access, device, ports, port_sort, port_desc),
        port_sort=port_sort if port_sort in device_page.PORT_SORTS else "name", port_desc=port_desc,
        port_sorts=device_page.PORT_SORTS,
        tasks=device_page.linked_tasks(access, device),
        networks=device_page.related_networks(access, device, ports),
        device_tags=devices.tag_names(device),
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
        form.tags.data = ", ".join(devices.tag_names(device))
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
            flash(shown(exc), "error")
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
            flash(shown(exc), "error")
    return redirect(url_for("devices.show", device_id=device_id))


@bp.post("/devices/<device_id>/versions")
@login_required
def upload_version(device_id: str):  # type: ignore[no-untyped-def]
    """The device page's upload form: the same rules as the edit page (line endings kept; a
    refused submit comes back as the edit page with the text and the error at its field)."""
    device, _ = _device(device_id)
    return config_editing.submit(device)


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
            flash(shown(exc), "error")
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


@bp.get("/devices/<device_id>/versions/<rev>/configs/<path:name>")
@login_required
def config_file(device_id: str, rev: str, name: str):  # type: ignore[no-untyped-def]
    device, _ = _device(device_id)
    return compare_views.config_file_page(_user(), device, rev, name, MAX_HIGHLIGHT_BYTES)


@bp.get("/devices/<device_id>/raw/<rev>/<path:path>")
@login_required
def raw(device_id: str, rev: str, path: str):  # type: ignore[no-untyped-def]
    try:
        data = versions.read_file(_user(), device_id, rev, path)
    except ServiceError:
        abort(404)
    return raw_file_response(data, path)


@bp.get("/devices/<device_id>/compare")
@login_required
def compare(device_id: str):  # type: ignore[no-untyped-def]
    device, _ = _device(device_id)
    return compare_views.compare_page(_user(), device)


@bp.get("/devices/<device_id>/compare/lines")
@login_required
def compare_lines(device_id: str):  # type: ignore[no-untyped-def]
    device, _ = _device(device_id)
    return compare_views.fold_page(_user(), device)


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
    """Pygments' token colours as a stylesheet (the CSP allows no inline styles): one style per theme,
    chosen because every token colour keeps at least 4.5:1 against its background ("xcode" light,
    "lightbulb" dark; the default style's light box with light dark-theme text was 1.15:1)."""
    css = (HtmlFormatter(cssclass="hl", style=HIGHLIGHT_STYLES["light"]).get_style_defs(".hl") + "\n"
           + HtmlFormatter(cssclass="hl", style=HIGHLIGHT_STYLES["dark"]).get_style_defs("html[data-theme=dark] .hl"))
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
