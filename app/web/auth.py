"""Sign-up, log-in, log-out, re-authentication, email verification and password reset pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.extensions import db
from app.http.rate_limits import mail_limit, mail_per_address_limit, sign_in_limit
from app.i18n import current_language
from app.services import accounts, credentials
from app.services.errors import RateLimited, ServiceError
from app.services.freshness import mark_fresh
from app.web.errors import shown
from app.web.forms import (
    ConfirmForm,
    ForgotPasswordForm,
    LoginForm,
    ReauthForm,
    ResetPasswordForm,
    SignupForm,
)

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: no scheme, no host, no '//' or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return None
    return target


def user_agent() -> str:
    return (request.headers.get("User-Agent") or "")[:200]


def _public_url() -> str:
    return current_app.config["INFRATRACE"].public_url


@bp.route("/signup", methods=["GET", "POST"])
@mail_limit
def signup():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignupForm()
    if form.validate_on_submit():
        data = accounts.SignupForm(
            email=form.email.data or "",
            username=form.username.data or "",
            password=form.password.data or "",
            age_confirmed=bool(form.age_confirmed.data),
            locale=current_language(),
        )
        problems = accounts.signup_problems(data)
        if not problems:
            user = accounts.create_user(data, ip=request.remote_addr, user_agent=user_agent())
            credentials.send_verification(user, _public_url())
            db.session.commit()
            session.clear()
            login_user(user)
            mark_fresh()
            flash(_("Welcome to InfraTrace. We sent a link to your email address: follow it to verify it. "
                    "Create a team to start."), "success")
            return redirect(url_for("dashboard.index"))
        for field, message in problems.items():
            getattr(form, field).errors = [*getattr(form, field).errors, message]
    elif request.method == "POST" and not form.age_confirmed.data:
        form.age_confirmed.errors = [_("You must confirm that you are 16 or older to use InfraTrace.")]
    status = 422 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form), status


def _limited_page(template: str, exc: RateLimited, **context: object):  # type: ignore[no-untyped-def]
    wait = int(exc.extra.get("retry_after") or 60)
    flash(_("Too many failed sign-in attempts from your address. Try again in %(wait)s seconds.", wait=wait), "error")
    response = current_app.make_response((render_template(template, **context), 429))
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limit
def login():  # type: ignore[no-untyped-def]
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.login.data or "", form.password.data or "",
                                         ip=request.remote_addr, user_agent=user_agent())
        except RateLimited as exc:
            db.session.rollback()
            return _limited_page("auth/login.html", exc, form=form, next_url=next_url)
        if user is not None and user.locale is None:
            # Accounts from before languages were saved: the language this sign-in is shown in.
            accounts.set_locale(user, current_language())
        db.session.commit()
        if user is not None:
            # A fresh session on login: nothing planted before it survives (session fixation).
            session.clear()
            login_user(user, remember=bool(form.remember.data))
            mark_fresh()
            return redirect(next_url or url_for("dashboard.index"))
        form.password.errors = [_("Login or password is not correct.")]
    status = 401 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, next_url=next_url), status


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    form = ConfirmForm()
    response = redirect(url_for("auth.login"))
    if form.validate_on_submit():
        if current_user.is_authenticated:
            # A new session version voids this session and its remember cookie everywhere, so a
            # copy of either taken before the log-out no longer signs anyone in.
            accounts.end_all_sessions(current_user._get_current_object(), "logout", ip=request.remote_addr,
                                      user_agent=user_agent())
            db.session.commit()
        session.clear()
        logout_user()
        # Flask-Login would expire the remember cookie without its Secure/SameSite attributes;
        # expire it here with exactly the attributes it was set with, and only once.
        session.pop("_remember", None)
        expire_remember_cookie(response)
        flash(_("You are logged out."), "info")
    return response


def expire_remember_cookie(response) -> None:  # type: ignore[no-untyped-def]
    config = current_app.config
    response.delete_cookie(
        config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        path=config.get("REMEMBER_COOKIE_PATH", "/"),
        domain=config.get("REMEMBER_COOKIE_DOMAIN"),
        secure=bool(config.get("REMEMBER_COOKIE_SECURE")),
        httponly=bool(config.get("REMEMBER_COOKIE_HTTPONLY")),
        samesite=config.get("REMEMBER_COOKIE_SAMESITE"),
    )


@bp.route("/reauth", methods=["GET", "POST"])
@sign_in_limit
def reauth():  # type: ignore[no-untyped-def]
    """Type the password again before a sensitive action (a remembered or older session)."""
    next_url = safe_next(request.args.get("next")) or url_for("dashboard.index")
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=next_url))
    form = ReauthForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            ok = accounts.confirm_password(user, form.password.data or "", ip=request.remote_addr,
                                           user_agent=user_agent())
        except RateLimited as exc:
            db.session.rollback()
            return _limited_page("auth/reauth.html", exc, form=form, next_url=next_url)
        db.session.commit()
        if ok:
            mark_fresh()
            return redirect(next_url)
        form.password.errors = [_("This password is not correct.")]
    status = 401 if request.method == "POST" else 200
    return render_template("auth/reauth.html", form=form, next_url=next_url), status


@bp.get("/verify-email/<token>")
def verify_email(token: str):  # type: ignore[no-untyped-def]
    try:
        user = credentials.verify_email(token, ip=request.remote_addr)
    except ServiceError as exc:
        db.session.rollback()
        return render_template("auth/message.html", title=_("Link not valid"), message=shown(exc)), 400
    db.session.commit()
    return render_template("auth/message.html", title=_("Email verified"),
                           message=_("Thank you: %(email)s is verified.", email=user.email)), 200


@bp.post("/verify-email/resend")
@mail_limit
def resend_verification():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated and ConfirmForm().validate_on_submit():
        user = current_user._get_current_object()
        if user.email_verified_at is None:
            credentials.send_verification(user, _public_url())
            db.session.commit()
            flash(_("We sent a new verification link to %(email)s.", email=user.email), "success")
    return redirect(url_for("account.profile"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@mail_limit
@mail_per_address_limit
def forgot_password():  # type: ignore[no-untyped-def]
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        credentials.request_password_reset(form.email.data or "", _public_url(), ip=request.remote_addr,
                                           user_agent=user_agent())
        db.session.commit()
        # The same answer whether or not the address has an account (and the same work: see the service).
        return render_template("auth/message.html", title=_("Check your email"),
                               message=_("If an account with a verified email address matches, we sent it a "
                                         "link to choose a new password. The link works once, for one hour.")), 200
    status = 422 if request.method == "POST" else 200
    return render_template("auth/forgot.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):  # type: ignore[no-untyped-def]
    try:
        user = credentials.user_for_reset(token)
    except ServiceError as exc:
        return render_template("auth/message.html", title=_("Link not valid"), message=shown(exc)), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            credentials.reset_password(user, token, form.new_password.data or "", ip=request.remote_addr,
                                       user_agent=user_agent())
        except ServiceError as exc:
            db.session.rollback()
            form.new_password.errors = [shown(exc)]
            return render_template("auth/reset.html", form=form, user=user), 422
        db.session.commit()
        session.clear()
        logout_user()
        session.pop("_remember", None)
        response = redirect(url_for("auth.login"))
        expire_remember_cookie(response)
        flash(_("Your password was changed and every session signed out. Log in with the new password. "
                "Your personal access tokens still work; revoke them under Settings → Tokens if needed."),
              "success")
        return response
    status = 422 if request.method == "POST" else 200
    return render_template("auth/reset.html", form=form, user=user), status
