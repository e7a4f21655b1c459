"""Sign-up, log-in and log-out pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_fresh, login_user, logout_user

from app.extensions import db, limiter
from app.services import accounts
from app.web.forms import ConfirmForm, LoginForm, SignupForm

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: no scheme, no host, no '//' or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return None
    return target


@bp.route("/signup", methods=["GET", "POST"])
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
        )
        problems = accounts.signup_problems(data)
        if not problems:
            user = accounts.create_user(data)
            db.session.commit()
            session.clear()
            login_user(user)
            flash("Welcome to InfraTrace. Create a team to start.", "success")
            return redirect(url_for("dashboard.index"))
        for field, message in problems.items():
            getattr(form, field).errors = [*getattr(form, field).errors, message]
    elif request.method == "POST" and not form.age_confirmed.data:
        form.age_confirmed.errors = ["You must confirm that you are 16 or older to use InfraTrace."]
    status = 422 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form), status


def _login_limit_ip() -> str:
    return current_app.config["INFRATRACE"].login_limit_per_ip


def _login_limit_account() -> str:
    return current_app.config["INFRATRACE"].login_limit_per_account


def _login_account_key() -> str:
    return "login:" + (request.form.get("login") or "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit_ip, methods=["POST"])
@limiter.limit(_login_limit_account, key_func=_login_account_key, methods=["POST"])
def login():  # type: ignore[no-untyped-def]
    next_url = safe_next(request.args.get("next"))
    # A session restored from the remember cookie is not fresh: the form asks for the password
    # again before a sensitive action (Flask-Login's refresh view).
    if current_user.is_authenticated and login_fresh():
        return redirect(next_url or url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.login.data or "", form.password.data or "", ip=request.remote_addr)
        db.session.commit()
        if user is not None:
            # A fresh session on login: nothing planted before it survives (session fixation).
            session.clear()
            login_user(user, remember=bool(form.remember.data))
            return redirect(next_url or url_for("dashboard.index"))
        form.password.errors = ["Login or password is not correct."]
    status = 401 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, next_url=next_url), status


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    form = ConfirmForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
