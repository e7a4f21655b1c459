"""Who may clone a device repository over git's smart HTTP (a push goes through the door).

Authentication is a username plus a personal access token (never the account password); failed
attempts count toward the same failure buckets as the web log-in form (app/services/auth_limits.py).
The repository is found through the caller's memberships only, so a repository they cannot read does not exist for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, Device, Membership, Project, Team, User
from app.services import auth_limits, security
from app.services.accounts import record_event
from app.services.permissions import role_allows
from app.services.tokens import user_for_token

MAX_SLUG = 64


class GitAuthError(Exception):
    """Authentication refused: `status` is 401 (ask again) or 429 (slow down)."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class GitDenied(Exception):
    """Authenticated and allowed to see the repository, but not to do this (403)."""


@dataclass
class GitCaller:
    user: User
    token: ApiToken

    @property
    def scopes(self) -> list[str]:
        return self.token.scope_list


@dataclass
class GitTarget:
    device: Device
    team: Team
    role: str


def authenticate(username: str | None, secret: str | None, ip: str | None = None) -> GitCaller:
    """The caller for HTTP Basic credentials (username + personal access token).

    The token is checked first: a correct one is always accepted, whoever failed before (a stale
    token in someone's credential helper must never lock its owner out). Wrong ones are counted per
    IP and per (IP, username) and meet a 429 with Retry-After once that caller's budget is spent.
    """
    username = (username or "")[:100]
    found = user_for_token(secret or "") if username else None
    if found is not None and found[0].username_key == username.strip().lower():
        return GitCaller(*found)
    wait = auth_limits.retry_after(ip, username)
    if wait is not None:
        raise GitAuthError(429, "Too many failed sign-in attempts; wait and try again.", retry_after=wait)
    user = db.session.scalar(select(User).where(User.username_key == username.strip().lower(),
                                                User.deleted_at.is_(None))) if username else None
    if user is not None:
        record_event(user, "token_failed", ip=ip, detail="git")
        security.after_failure(user, ip)
    auth_limits.record_failure(ip, username)
    raise GitAuthError(
        401,
        "Sign in with your InfraTrace username and a personal access token as the password "
        "(account passwords are not accepted for git).",
    )


def find_repository(caller: GitCaller, team_slug: str, project_slug: str, device_slug: str) -> GitTarget | None:
    """The device, found only through the caller's own memberships; None when it is not theirs."""
    if any(len(slug) > MAX_SLUG for slug in (team_slug, project_slug, device_slug)):
        return None
    row = db.session.execute(
        select(Device, Team, Membership.role)
        .join(Project, Project.id == Device.project_id)
        .join(Team, Team.id == Device.team_id)
        .join(Membership, Membership.team_id == Team.id)
        .where(
            Team.slug == team_slug,
            Project.slug == project_slug,
            Project.team_id == Team.id,
            Device.slug == device_slug,
            Membership.user_id == caller.user.id,
        )
    ).first()
    if row is None:
        return None
    device, team, role = row
    return GitTarget(device, team, role)


def check_read(caller: GitCaller, target: GitTarget) -> None:
    if "read" not in caller.scopes or not role_allows(target.role, "repo.clone"):
        raise GitDenied("This token cannot read repositories.")
