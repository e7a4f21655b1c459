"""Settings → Privacy: data export, account deletion, and the preference cookie form."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from app.extensions import db
from app.services import accounts, deletion, exports, policy
from app.services.errors import ServiceError
from app.web import preferences
from app.web.errors import shown
from app.web.forms import ConfirmForm, DeleteAccountForm, PreferencesForm
from app.web.fresh import require_fresh_login

bp = Blueprint("privacy", __name__, url_prefix="/settings")


def _page(delete_form: DeleteAccountForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    prefs = preferences.current()
    blocking, doomed = deletion.deletion_plan(user)
    return render_template(
        "account/privacy.html",
        exports=exports.list_exports(user),
        export_form=ConfirmForm(),
        delete_form=delete_form or DeleteAccountForm(prefix="del"),
        prefs_form=PreferencesForm(formdata=None, prefix="pref", **prefs),
        blocking=blocking,
        doomed=doomed,
        purge_days=deletion.PURGE_DELAY.days,
        policy=policy.current_version(),
    ), status


@bp.get("/privacy")
@login_required
def privacy():  # type: ignore[no-untyped-def]
    return _page()


@bp.post("/privacy/export")
@login_required
@require_fresh_login
def start_export():  # type: ignore[no-untyped-def]
    if ConfirmForm().validate_on_submit():
        try:
            exports.start_export(current_user._get_current_object())
            db.session.commit()
            flash(_("Your export is being prepared; it appears below when it is ready."), "success")
        except ServiceError as exc:
            db.session.rollback()
            flash(shown(exc), "error")
    return redirect(url_for("privacy.privacy"))


@bp.post("/privacy/delete")
@login_required
@require_fresh_login
def delete_account():  # type: ignore[no-untyped-def]
    form = DeleteAccountForm(prefix="del")
    if not form.validate_on_submit():
        return _page(form, 422)
    user = current_user._get_current_object()
    try:
        purge_after = deletion.request_deletion(user, form.password.data, ip=request.remote_addr)
    except ServiceError as exc:
        db.session.commit()  # keep the failed attempt in the security log
        form.password.errors = [shown(exc)]
        return _page(form, 403 if exc.status == 403 else 409 if exc.status == 409 else 422)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Your account is closed. Everything is purged on %(date)s.", date=f"{purge_after:%Y-%m-%d}"), "success")
    return redirect(url_for("auth.login"))


@bp.post("/preferences")
def set_preferences():  # type: ignore[no-untyped-def]
    """Open to visitors too: the theme and language apply before anyone logs in."""
    form = PreferencesForm(prefix="pref")
    target = url_for("privacy.privacy") if current_user.is_authenticated else url_for("auth.login")
    response = redirect(target)
    if form.validate_on_submit():
        preferences.set_cookie(response, form.theme.data or "", form.language.data or "")
        if current_user.is_authenticated:
            accounts.set_locale(current_user._get_current_object(), form.language.data)
            db.session.commit()
        # Said in the language just chosen: the next page is the first one rendered in it.
        with force_locale(form.language.data or "en"):
            flash(_("Preferences saved."), "success")
    else:
        flash(_("Choose a theme and a language from the lists."), "error")
    return response
