"""Team pages: create, members and roles, invitations, and the dev-mode outbox."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMail
from app.services import plans, teams
from app.services.errors import NotFound, ServiceError
from app.services.permissions import role_allows
from app.web.errors import shown
from app.web.forms import ConfirmForm, InviteForm, RoleForm, TeamForm
from app.web.fresh import reauth_redirect, require_fresh_login

bp = Blueprint("teams", __name__)


def _access(slug: str) -> teams.TeamAccess:
    try:
        return teams.team_access(current_user._get_current_object(), slug)
    except NotFound:
        abort(404)


@bp.route("/teams/new", methods=["GET", "POST"])
@login_required
def new_team():  # type: ignore[no-untyped-def]
    form = TeamForm()
    if form.validate_on_submit():
        try:
            access = teams.create_team(current_user._get_current_object(), form.name.data or "")
            db.session.commit()
            flash(_("Team %(name)s created.", name=access.team.name), "success")
            return redirect(url_for("teams.team_page", slug=access.team.slug))
        except ServiceError as exc:
            db.session.rollback()
            form.name.errors = [shown(exc)]
    return render_template("teams/new.html", form=form), 422 if request.method == "POST" else 200


@bp.get("/teams/<slug>")
@login_required
def team_page(slug: str):  # type: ignore[no-untyped-def]
    access = _access(slug)
    can_manage = role_allows(access.role, "member.invite")
    return render_template(
        "teams/team.html",
        access=access,
        members=teams.members(access),
        invitations=teams.pending_invitations(access) if can_manage else [],
        invite_form=InviteForm(),
        role_form=RoleForm,
        confirm=ConfirmForm(),
        can_manage=can_manage,
        plan=plans.effective_plan(access.team),
    )


@bp.post("/teams/<slug>/members")
@login_required
def invite(slug: str):  # type: ignore[no-untyped-def]
    access = _access(slug)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            result = teams.add_member(access, form.email.data or "", form.role.data or "viewer",
                                      current_app.config["INFRATRACE"].public_url)
            db.session.commit()
            flash(_("Member added.") if hasattr(result, "user_id") else
                  _("Invitation sent; it stays pending until accepted (an address must be verified to be added "
                    "directly)."), "success")
        except ServiceError as exc:
            db.session.rollback()
            flash(shown(exc), "error")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return redirect(url_for("teams.team_page", slug=slug))


@bp.post("/teams/<slug>/members/<username>/role")
@login_required
def change_role(slug: str, username: str):  # type: ignore[no-untyped-def]
    access = _access(slug)
    form = RoleForm()
    if form.validate_on_submit():
        if teams.touches_ownership(access, username, form.role.data or ""):
            # Handing out or giving up ownership (a transfer) needs the password typed recently.
            stale = reauth_redirect()
            if stale is not None:
                return stale
        try:
            teams.change_role(access, username, form.role.data or "")
            db.session.commit()
            flash(_("%(username)s is now %(role)s.", username=username, role=form.role.data), "success")
        except ServiceError as exc:
            db.session.rollback()
            flash(shown(exc), "error")
    return redirect(url_for("teams.team_page", slug=slug))


@bp.post("/teams/<slug>/members/<username>/remove")
@login_required
def remove_member(slug: str, username: str):  # type: ignore[no-untyped-def]
    access = _access(slug)
    if ConfirmForm().validate_on_submit():
        try:
            teams.remove_member(access, username)
            db.session.commit()
            flash(_("%(username)s was removed from the team.", username=username), "success")
            if username.lower() == current_user.username_key:
                return redirect(url_for("dashboard.index"))
        except ServiceError as exc:
            db.session.rollback()
            flash(shown(exc), "error")
    return redirect(url_for("teams.team_page", slug=slug))


@bp.post("/teams/<slug>/delete")
@login_required
@require_fresh_login
def delete_team(slug: str):  # type: ignore[no-untyped-def]
    access = _access(slug)
    if ConfirmForm().validate_on_submit():
        try:
            purge_after = teams.delete_team(access, request.form.get("confirm", ""))
            db.session.commit()
            flash(_("The team %(team)s was deleted; its data is purged after %(date)s.", team=access.team.name,
                    date=f"{purge_after:%Y-%m-%d}"), "success")
            return redirect(url_for("dashboard.index"))
        except ServiceError as exc:
            db.session.rollback()
            if exc.status == 403:
                abort(403)
            flash(shown(exc), "error")
    return redirect(url_for("teams.team_page", slug=slug))


@bp.route("/invitations/<secret>", methods=["GET", "POST"])
def invitation(secret: str):  # type: ignore[no-untyped-def]
    try:
        found = teams.find_invitation(secret)
    except NotFound:
        return render_template("teams/invitation.html", invitation=None, confirm=None), 404
    if not current_user.is_authenticated:
        flash(_("Log in or sign up to accept the invitation."), "info")
        return redirect(url_for("auth.login", next=request.path))
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            membership = teams.accept_invitation(current_user._get_current_object(), secret)
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            flash(shown(exc), "error")
            return render_template("teams/invitation.html", invitation=found, confirm=form), exc.status
        flash(_("You joined %(name)s.", name=membership.team.name), "success")
        return redirect(url_for("teams.team_page", slug=membership.team.slug))
    return render_template("teams/invitation.html", invitation=found, confirm=form)


@bp.get("/dev/outbox")
@login_required
def outbox():  # type: ignore[no-untyped-def]
    """Dev mode only (no MAIL_URL): the mail that would have been sent to you."""
    if current_app.config["INFRATRACE"].mail_url:
        abort(404)
    mails = db.session.scalars(
        select(OutboxMail).where(OutboxMail.to == current_user.email).order_by(OutboxMail.created_at.desc())
    )
    return render_template("teams/outbox.html", mails=list(mails))
