"""Teams, memberships and invitations. Lookups are scoped to the caller's memberships first."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import ROLES, Invitation, Membership, Team, User, utcnow
from app.services import plans
from app.services.accounts import normalise_email
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.mail import in_language_of, send_mail
from app.services.permissions import require
from app.services.validation import check_name, slugify

INVITATION_TTL = timedelta(days=7)


@dataclass
class TeamAccess:
    """A team as seen by one member: every later check starts from here."""

    team: Team
    role: str
    user: User

    def require(self, action: str) -> None:
        require(self.role, action)


def create_team(user: User, name: str) -> TeamAccess:
    name = check_name(name, "name", max_length=100)
    base = slugify(name, 50)
    slug, n = base, 1
    while db.session.scalar(select(Team.id).where(Team.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    team = Team(name=name, slug=slug)
    db.session.add(team)
    db.session.flush()
    db.session.add(Membership(team_id=team.id, user_id=user.id, role="owner"))
    db.session.flush()
    return TeamAccess(team, "owner", user)


def team_access(user: User, slug: str) -> TeamAccess:
    """The caller's view of a team; a team they are not in does not exist for them."""
    row = db.session.execute(
        select(Team, Membership.role)
        .join(Membership, Membership.team_id == Team.id)
        .where(Team.slug == slug, Membership.user_id == user.id)
    ).first()
    if row is None:
        raise NotFound("No such team.")
    return TeamAccess(row[0], row[1], user)


def team_access_by_id(user: User, team_id: str) -> TeamAccess:
    row = db.session.execute(
        select(Team, Membership.role)
        .join(Membership, Membership.team_id == Team.id)
        .where(Team.id == team_id, Membership.user_id == user.id)
    ).first()
    if row is None:
        raise NotFound("No such team.")
    return TeamAccess(row[0], row[1], user)


def user_teams(user: User) -> list[tuple[Team, str]]:
    rows = db.session.execute(
        select(Team, Membership.role)
        .join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == user.id)
        .order_by(Team.name)
    ).all()
    return [(team, role) for team, role in rows]


def members(access: TeamAccess) -> list[Membership]:
    access.require("member.list")
    return list(
        db.session.scalars(
            select(Membership).join(User).where(Membership.team_id == access.team.id).order_by(User.username_key)
        )
    )


def pending_invitations(access: TeamAccess) -> list[Invitation]:
    access.require("member.list")
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.team_id == access.team.id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at)
        )
    )


def _check_role(role: object) -> str:
    if role not in ROLES:
        raise ValidationError("'role' must be one of: %(choices)s.", field="role", code="invalid_choice",
                              params={"choices": ", ".join(ROLES)})
    return role  # type: ignore[return-value]


def _membership(access: TeamAccess, username: str) -> Membership:
    membership = db.session.scalar(
        select(Membership)
        .join(User)
        .where(Membership.team_id == access.team.id, User.username_key == username.lower())
    )
    if membership is None:
        raise NotFound("No such member.")
    return membership


def _live_owner_count(team: Team) -> int:
    """Owners whose account is live: a deleted account stops counting the moment it is deleted."""
    return db.session.scalar(
        select(func.count(Membership.id))
        .join(User, User.id == Membership.user_id)
        .where(Membership.team_id == team.id, Membership.role == "owner", User.deleted_at.is_(None))
    ) or 0


def _would_leave_no_live_owner(access: TeamAccess, membership: Membership) -> bool:
    """True when this membership is a live owner and no other live owner would remain."""
    if membership.role != "owner" or membership.user.deleted_at is not None:
        return False
    return _live_owner_count(access.team) <= 1


def touches_ownership(access: TeamAccess, username: str, role: str) -> bool:
    """Whether this role change hands out or gives up ownership (the web asks for a fresh login)."""
    membership = db.session.scalar(
        select(Membership).join(User)
        .where(Membership.team_id == access.team.id, User.username_key == username.lower())
    )
    return membership is not None and "owner" in (role, membership.role) and role != membership.role


def add_member(access: TeamAccess, email: str, role: str, base_url: str) -> Membership | Invitation:
    """Adds an existing user at once; otherwise mails a single-use invitation (7 days)."""
    access.require("member.invite")
    role = _check_role(role)
    if role == "owner":
        access.require("member.grant_owner")
    if not isinstance(email, str) or not email.strip():
        raise ValidationError("'email' is required.", field="email", code="required")
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email_key == email.lower(), User.deleted_at.is_(None)))
    # Only a verified address proves who holds it: otherwise whoever registered the address first
    # would join at once. An unverified account gets the same emailed invitation as a stranger,
    # which the owner sees as pending until it is accepted.
    if user is not None and user.email_verified_at is not None:
        exists = db.session.scalar(
            select(Membership.id).where(Membership.team_id == access.team.id, Membership.user_id == user.id)
        )
        if exists:
            raise Conflict("%(username)s is already a member.", code="already_member",
                           params={"username": user.username})
        plans.check_can_add_member(access.team)
        membership = Membership(team_id=access.team.id, user_id=user.id, role=role)
        db.session.add(membership)
        db.session.flush()
        with in_language_of(user):
            send_mail(
                user.email,
                _("You were added to %(team)s on InfraTrace", team=access.team.name),
                _("%(username)s added you to the team %(team)s as %(role)s.\n\n%(link)s\n",
                  username=access.user.username, team=access.team.name, role=role,
                  link=f"{base_url}/teams/{access.team.slug}"),
            )
        return membership
    if user is not None:
        exists = db.session.scalar(
            select(Membership.id).where(Membership.team_id == access.team.id, Membership.user_id == user.id)
        )
        if exists:
            raise Conflict("%(username)s is already a member.", code="already_member",
                           params={"username": user.username})
    plans.check_can_add_member(access.team)
    secret = secrets.token_urlsafe(32)
    invitation = Invitation(
        team_id=access.team.id,
        email=email,
        role=role,
        token_hash=hashlib.sha256(secret.encode()).hexdigest(),
        invited_by_id=access.user.id,
        expires_at=utcnow() + INVITATION_TTL,
    )
    db.session.add(invitation)
    db.session.flush()
    send_mail(
        email,
        _("Invitation to join %(team)s on InfraTrace", team=access.team.name),
        _("%(username)s invited you to join the team %(team)s as %(role)s.\n\nAccept within 7 days: %(link)s\n",
          username=access.user.username, team=access.team.name, role=role,
          link=f"{base_url}/invitations/{secret}"),
    )
    return invitation


def find_invitation(secret: str) -> Invitation:
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == hashlib.sha256(secret.encode()).hexdigest())
    )
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= utcnow():
        raise NotFound("This invitation is invalid, was already used, or has expired.")
    return invitation


def accept_invitation(user: User, secret: str) -> Membership:
    invitation = find_invitation(secret)
    existing = db.session.scalar(
        select(Membership).where(Membership.team_id == invitation.team_id, Membership.user_id == user.id)
    )
    if existing:
        invitation.accepted_at = utcnow()
        return existing
    plans.check_can_add_member(invitation.team, accepting_invitation=True)
    invitation.accepted_at = utcnow()
    membership = Membership(team_id=invitation.team_id, user_id=user.id, role=invitation.role)
    db.session.add(membership)
    db.session.flush()
    return membership


def change_role(access: TeamAccess, username: str, role: str) -> Membership:
    access.require("member.update")
    role = _check_role(role)
    membership = _membership(access, username)
    if role == "owner" or membership.role == "owner":
        # Only owners hand out or take away ownership.
        access.require("member.grant_owner")
    if role != "owner" and _would_leave_no_live_owner(access, membership):
        raise Conflict("A team must keep at least one owner with a live account.", code="last_owner")
    membership.role = role
    return membership


def remove_member(access: TeamAccess, username: str) -> None:
    membership = _membership(access, username)
    leaving_self = membership.user_id == access.user.id
    if not leaving_self:
        access.require("member.remove")
        if membership.role == "owner":
            access.require("member.grant_owner")
    if _would_leave_no_live_owner(access, membership):
        raise Conflict("A team must keep at least one owner with a live account.", code="last_owner")
    db.session.delete(membership)


def delete_team(access: TeamAccess, confirm: object) -> datetime:
    """Owners delete a team: everyone loses access now (memberships and open invitations go, and
    every lookup starts from a membership), its subscription is canceled, and the purge removes
    its data after the same 30 days as a deleted account. Returns the purge date; caller commits."""
    from app.services import audit, billing
    from app.services.deletion import PURGE_DELAY

    access.require("team.delete")
    if confirm != access.team.slug:
        raise ValidationError("Type the team's slug (%(slug)s) to confirm the deletion.",
                              field="confirm", code="confirmation_required", params={"slug": access.team.slug})
    team = access.team
    now = utcnow()
    billing.cancel_on_deletion(team)
    team.deleted_at = now
    team.purge_after = now + PURGE_DELAY
    db.session.execute(delete(Invitation).where(Invitation.team_id == team.id))
    db.session.execute(delete(Membership).where(Membership.team_id == team.id))
    audit.record(team.id, access.user, "delete", "team", team.id, {"purge_after": team.purge_after.isoformat()})
    return team.purge_after
