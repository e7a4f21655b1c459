"""Security log pages (own events, a team's for owners, anomalies for site admins), the public
privacy-policy page with its version, and dismissing the policy-change banner."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.extensions import db
from app.services import policy, security, teams
from app.services.errors import ServiceError
from app.web.auth import safe_next
from app.web.forms import ConfirmForm

bp = Blueprint("security", __name__)


@bp.get("/settings/security")
@login_required
def own_events():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    return render_template("security/events.html", events=security.user_events(user), team=None,
                           title="Your security log")


@bp.get("/teams/<slug>/security")
@login_required
def team_events(slug: str):  # type: ignore[no-untyped-def]
    try:
        access = teams.team_access(current_user._get_current_object(), slug)
        events = security.team_events(access)
    except ServiceError as exc:
        abort(exc.status if exc.status in (403, 404) else 404)
    return render_template("security/events.html", events=events, team=access.team,
                           title=f"Security log of {access.team.name}")


@bp.get("/admin/security")
@login_required
def anomalies():  # type: ignore[no-untyped-def]
    if not security.is_site_admin(current_user._get_current_object()):
        abort(404)
    return render_template("security/anomalies.html", anomalies=security.anomalies(),
                           window_hours=int(security.ANOMALY_WINDOW.total_seconds() // 3600))


@bp.get("/privacy")
def policy_page():  # type: ignore[no-untyped-def]
    return render_template("security/policy.html", current=policy.current_version())


@bp.post("/policy-notice/dismiss")
@login_required
def dismiss_policy_notice():  # type: ignore[no-untyped-def]
    if ConfirmForm().validate_on_submit():
        policy.dismiss(current_user._get_current_object())
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.index"))
