"""Who may clone a device repository over git's smart HTTP (a push goes through the door).

Authentication is a username plus a personal access token (never the account password); failed
attempts count toward the same rate-limit buckets as the web log-in form. The repository is found
through the caller's memberships only, so a repository they cannot read does not exist for them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse as parse_limit
from sqlalchemy import select

from app.extensions import db, limiter
from app.models import ApiToken, Device, Membership, Project, Team, User
from app.services.permissions import role_allows
from app.services.tokens import user_for_token

# The web log-in form's endpoint: Flask-Limiter names its buckets after it, and git failures are
# counted in those very buckets, so guessing through git or the form exhausts the same budget.
LOGIN_SCOPE = "auth.login"
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


def _buckets(username: str) -> list[tuple[object, list[str]]]:
    config = current_app.config["INFRATRACE"]
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    head = [prefix] if prefix else []
    return [
        (parse_limit(config.login_limit_per_ip), [*head, get_remote_address(), LOGIN_SCOPE]),
        (parse_limit(config.login_limit_per_account), [*head, "login:" + username.strip().lower(), LOGIN_SCOPE]),
    ]


def _limited(username: str) -> int | None:
    """Seconds to wait when a bucket is exhausted, else None."""
    if not limiter.enabled:
        return None
    strategy = limiter.limiter
    for item, keys in _buckets(username):
        if not strategy.test(item, *keys):
            reset_at, _remaining = strategy.get_window_stats(item, *keys)
            return max(1, int(reset_at - time.time()))
    return None


def _count_failure(username: str) -> None:
    if not limiter.enabled:
        return
    for item, keys in _buckets(username):
        limiter.limiter.hit(item, *keys)


def authenticate(username: str | None, secret: str | None) -> GitCaller:
    """The caller for HTTP Basic credentials (username + personal access token)."""
    username = (username or "")[:100]
    wait = _limited(username)
    if wait is not None:
        raise GitAuthError(429, "Too many failed sign-in attempts; wait and try again.", retry_after=wait)
    found = user_for_token(secret or "") if username else None
    if found is None or found[0].username_key != username.strip().lower():
        _count_failure(username)
        raise GitAuthError(
            401,
            "Sign in with your InfraTrace username and a personal access token as the password "
            "(account passwords are not accepted for git).",
        )
    return GitCaller(*found)


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
