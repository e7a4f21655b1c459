"""Pages for change notifications: a project's webhooks with their delivery log, and watch buttons."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.models import WATCH_MODES, WEBHOOK_EVENTS, User
from app.services import access
from app.services import notifications as notes
from app.services.errors import ServiceError
from app.services.permissions import role_allows
from app.web.errors import service_error_page, shown
from app.web.forms import ConfirmForm

bp = Blueprint("notifications", __name__)


bp.register_error_handler(ServiceError, service_error_page)


class WebhookForm(FlaskForm):
    url = StringField(_l("Payload URL (http or https)"), render_kw={"placeholder": "https://hooks.example.net/infratrace"})
    events = SelectMultipleField(_l("Events"), choices=[SelectChoice(e) for e in WEBHOOK_EVENTS],
                                 default=list(WEBHOOK_EVENTS),
                                 option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    description = StringField(_l("Description"), validators=[Optional()])


def _user() -> User:
    return current_user._get_current_object()


def _page(project_id: str, form: WebhookForm, status: int = 200, secret: str | None = None):  # type: ignore[no-untyped-def]
    project, team = access.project_access(_user(), project_id)
    team.require("version.read")
    # Everyone may watch; only admins see and manage the webhooks.
    hooks = notes.list_webhooks(_user(), project_id) if role_allows(team.role, "webhook.manage") else []
    logs = {hook.id: notes.recent_deliveries(hook, 10) for hook in hooks}
    return render_template("projects/webhooks.html", project=project, access=team, hooks=hooks, logs=logs,
                           form=form, confirm=ConfirmForm(), secret=secret,
                           watch=notes.watch_of(_user(), project.id), modes=WATCH_MODES), status


@bp.get("/projects/<project_id>/webhooks")
@login_required
def webhooks(project_id: str):  # type: ignore[no-untyped-def]
    return _page(project_id, WebhookForm())


@bp.post("/projects/<project_id>/webhooks")
@login_required
def create(project_id: str):  # type: ignore[no-untyped-def]
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            _, secret = notes.create_webhook(_user(), project_id, {
                "url": form.url.data or "", "events": form.events.data or [],
                "description": form.description.data or ""})
            return _page(project_id, WebhookForm(formdata=None), 201, secret=secret)
        except ServiceError as exc:
            if exc.status in (403, 404):
                raise
            target = getattr(form, exc.field or "", None) or form.url
            target.errors = [*(target.errors or []), shown(exc)]
    return _page(project_id, form, 422)


def _back(hook_project: str):  # type: ignore[no-untyped-def]
    return redirect(url_for("notifications.webhooks", project_id=hook_project))


@bp.post("/webhooks/<webhook_id>/test")
@login_required
def send_test(webhook_id: str):  # type: ignore[no-untyped-def]
    if not ConfirmForm().validate_on_submit():
        return gettext("The form expired; go back and try again."), 400
    delivery = notes.send_test(_user(), webhook_id)
    flash(gettext("A test event is on its way; its delivery is listed below."), "success")
    return _back(delivery.webhook.project_id)


@bp.post("/webhooks/<webhook_id>/delete")
@login_required
def delete(webhook_id: str):  # type: ignore[no-untyped-def]
    if not ConfirmForm().validate_on_submit():
        return gettext("The form expired; go back and try again."), 400
    hook, _ = notes.list_deliveries(_user(), webhook_id, limit=1)
    project_id = hook.project_id
    notes.delete_webhook(_user(), webhook_id)
    flash(gettext("Webhook deleted."), "success")
    return _back(project_id)


@bp.post("/projects/<project_id>/watch")
@bp.post("/devices/<device_id>/watch")
@login_required
def watch(project_id: str | None = None, device_id: str | None = None):  # type: ignore[no-untyped-def]
    if not ConfirmForm().validate_on_submit():
        return gettext("The form expired; go back and try again."), 400
    mode = request.form.get("mode", "each")
    if mode == "off":
        notes.unwatch(_user(), project_id=project_id, device_id=device_id)
        flash(gettext("You no longer watch this."), "success")
    else:
        notes.watch(_user(), {"mode": mode}, project_id=project_id, device_id=device_id)
        flash(gettext("You will get an e-mail per change.") if mode == "each"
              else gettext("You will get a daily digest."), "success")
    if device_id:
        return redirect(url_for("devices.show", device_id=device_id))
    return redirect(url_for("notifications.webhooks", project_id=project_id))


@bp.app_template_global("device_watch")
def device_watch(device):  # type: ignore[no-untyped-def]
    """The current user's watch of this device (for the device page's watch control)."""
    return notes.watch_of(_user(), device.project_id, device.id) if current_user.is_authenticated else None
