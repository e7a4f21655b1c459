"""The user's own pages: profile (correction at any time), password, access tokens."""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from app.extensions import db
from app.services import accounts, tokens
from app.services.errors import ServiceError
from app.services.freshness import mark_fresh
from app.web.errors import shown
from app.web.forms import ConfirmForm, PasswordForm, ProfileForm, TokenForm
from app.web.fresh import reauth_redirect, require_fresh_login

bp = Blueprint("account", __name__, url_prefix="/settings")


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    password_form = PasswordForm(prefix="pw")
    if form.validate_on_submit():
        if accounts.email_change_requested(user, {"email": form.email.data or ""}):
            stale = reauth_redirect()
            if stale is not None:
                return stale
        try:
            accounts.update_profile(user, {name: getattr(form, name).data or "" for name in
                                           ("email", "username", "display_name", "company", "job_title")},
                                    ip=request.remote_addr)
            db.session.commit()
            flash(_("Profile saved."), "success")
            return redirect(url_for("account.profile"))
        except ServiceError as exc:
            db.session.rollback()
            getattr(form, exc.field or "email").errors = [shown(exc)]
    status = 422 if request.method == "POST" else 200
    return render_template("account/profile.html", form=form, password_form=password_form), status


@bp.post("/password")
@login_required
@require_fresh_login
def change_password():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    password_form = PasswordForm(prefix="pw")
    if password_form.validate_on_submit():
        try:
            accounts.change_password(user, password_form.current_password.data or "",
                                     password_form.new_password.data or "", ip=request.remote_addr)
            db.session.commit()
            # This session continues under the new session version; every other one is void.
            session.clear()
            login_user(user)
            mark_fresh()
            flash(_("Password changed. Every other session has been signed out."), "success")
            return redirect(url_for("account.profile"))
        except ServiceError as exc:
            db.session.rollback()
            getattr(password_form, exc.field or "new_password").errors = [shown(exc)]
    return render_template("account/profile.html", form=form, password_form=password_form), 422


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def token_list():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    form = TokenForm()
    new_secret = None
    if request.method == "POST":
        stale = reauth_redirect()
        if stale is not None:
            return stale
    if form.validate_on_submit():
        expires_at = None
        if form.expires_on.data:
            expires_at = datetime.combine(form.expires_on.data, time(23, 59, 59), tzinfo=UTC)
        try:
            new = tokens.create_token(user, form.name.data, (form.scopes.data or "read").split(","),
                                      expires_at, ip=request.remote_addr)
            db.session.commit()
            new_secret = new.secret
            form = TokenForm(formdata=None)
        except ServiceError as exc:
            db.session.rollback()
            getattr(form, {"expires_at": "expires_on"}.get(exc.field or "", exc.field or "name")).errors = [shown(exc)]
    return render_template("account/tokens.html", form=form, tokens=tokens.list_tokens(user),
                           new_secret=new_secret, confirm=ConfirmForm())


@bp.post("/tokens/<token_id>/revoke")
@login_required
def revoke_token(token_id: str):  # type: ignore[no-untyped-def]
    if ConfirmForm().validate_on_submit():
        try:
            tokens.revoke_token(current_user._get_current_object(), token_id, ip=request.remote_addr)
            db.session.commit()
            flash(_("Token revoked."), "success")
        except ServiceError as exc:
            flash(shown(exc), "error")
    return redirect(url_for("account.token_list"))
