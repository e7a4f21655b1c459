"""Account deletion: access ends at once, every row, repo, blob and mirror goes 30 days later.

`request_deletion` checks the password, refuses while the user is the only owner of a team others
still use, and then locks the account out: `deleted_at` (Flask-Login, token and git checks all
read `is_active`), every token revoked, `session_version` bumped (every session and remember
cookie stops matching). Teams whose only member is this user are scheduled with the account.
The user row stays until `purge_after`, so the email and username cannot be taken over by someone
else in the meantime; app/services/purge.py removes everything after that date.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.models import ApiToken, Invitation, Membership, Team, User, utcnow
from app.services import auth_limits, billing
from app.services.accounts import record_event
from app.services.errors import Conflict, Forbidden, ValidationError
from app.services.passwords import verify_password

PURGE_DELAY = timedelta(days=30)


def _active_members(team_id: str, exclude: str) -> tuple[int, int]:
    """(owners, members) of the team other than `exclude`, counting live accounts only."""
    rows = db.session.execute(
        select(Membership.role, func.count(Membership.id))
        .join(User, User.id == Membership.user_id)
        .where(Membership.team_id == team_id, Membership.user_id != exclude, User.deleted_at.is_(None))
        .group_by(Membership.role)
    ).all()
    owners = sum(count for role, count in rows if role == "owner")
    return owners, sum(count for _role, count in rows)


def deletion_plan(user: User) -> tuple[list[Team], list[Team]]:
    """(teams that block the deletion, teams deleted with the account).

    Blocking: the user is the only owner and other people are still members (they would be left
    without an owner). Deleted with it: no other live member remains.
    """
    blocking: list[Team] = []
    doomed: list[Team] = []
    rows = db.session.execute(
        select(Team, Membership.role).join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == user.id).order_by(Team.slug)
    ).all()
    for team, role in rows:
        owners, members = _active_members(team.id, user.id)
        if members == 0:
            doomed.append(team)
        elif role == "owner" and owners == 0:
            blocking.append(team)
    return blocking, doomed


def request_deletion(user: User, password: object, ip: str | None = None, now: datetime | None = None) -> datetime:
    """Lock the account out now and schedule its purge; returns the purge date. Caller commits."""
    if password is None or password == "":
        raise ValidationError("Enter your password to confirm the deletion.", field="password", code="required")
    if not isinstance(password, str):
        raise ValidationError("'password' must be a string.", field="password", code="invalid_type")
    if len(password) > 1024:
        raise ValidationError("'password' is too long.", field="password", code="too_long")
    # The password is checked here too: no guessing it faster than at log-in (same shared limits).
    auth_limits.check(ip, user.username_key)
    if not verify_password(password, user.password_hash, current_app.config["INFRATRACE"].bcrypt_rounds):
        record_event(user, "account_delete_failed", ip=ip, detail="wrong password")
        auth_limits.record_failure(ip, user.username_key)
        raise Forbidden("The password is not correct; the account was not deleted.", code="wrong_password")
    blocking, doomed = deletion_plan(user)
    if blocking:
        names = [team.slug for team in blocking]
        raise Conflict(
            "You are the only owner of %(teams)s, which other people still use. "
            "Make someone else an owner (or remove the other members) first.",
            params={"teams": ", ".join(names)},
            code="sole_owner",
            extra={"teams": names},
        )
    now = now or utcnow()
    purge_after = now + PURGE_DELAY
    user.deleted_at = now
    user.purge_after = purge_after
    user.session_version += 1
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    for team in doomed:
        billing.cancel_on_deletion(team)
        team.deleted_at = now
        team.purge_after = purge_after
        # Nobody may join a team that is about to disappear.
        db.session.execute(delete(Invitation).where(Invitation.team_id == team.id, Invitation.accepted_at.is_(None)))
    record_event(user, "account_deleted", ip=ip,
                 detail=f"purge after {purge_after:%Y-%m-%d}" + (f"; teams {', '.join(t.slug for t in doomed)}"
                                                                if doomed else ""))
    return purge_after
