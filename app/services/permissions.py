"""The one permission function every feature calls.

Roles are ranked; each action names the lowest role that may do it. Callers first scope lookups to
the caller's teams (so another team's object is a 404), then ask `require` for the action (403).
"""

from __future__ import annotations

from app.services.errors import Forbidden

ROLE_RANK = {"viewer": 1, "editor": 2, "admin": 3, "owner": 4}

ACTION_MIN_ROLE: dict[str, str] = {
    # team
    "team.read": "viewer",
    "team.update": "admin",
    "team.delete": "owner",
    "team.billing": "owner",
    "team.audit": "admin",
    "team.security_log": "owner",
    # members
    "member.list": "viewer",
    "member.invite": "admin",
    "member.update": "admin",
    "member.remove": "admin",
    "member.grant_owner": "owner",
    # inventory: projects, devices, networks, tasks, comments
    "inventory.read": "viewer",
    "inventory.write": "editor",
    "inventory.delete": "admin",
    # device versions and git
    "version.read": "viewer",
    "version.write": "editor",
    "repo.clone": "viewer",
    "repo.push": "editor",
    "tag.write": "editor",
    "tag.delete": "admin",
    # change notifications
    "webhook.manage": "admin",
    # intake: a project's noise rules and redaction (turning redaction off is an admin's call)
    "intake.rules": "admin",
}


def role_allows(role: str | None, action: str) -> bool:
    """True when `role` may perform `action`. Unknown actions are refused (fail closed)."""
    needed = ACTION_MIN_ROLE.get(action)
    if role is None or needed is None:
        return False
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[needed]


def roles_allowed(action: str) -> tuple[str, ...]:
    """Every role that may perform `action` (for checks that run inside a query)."""
    return tuple(role for role in ROLE_RANK if role_allows(role, action))


def require(role: str | None, action: str, message: str | None = None) -> None:
    if not role_allows(role, action):
        if message:
            raise Forbidden(message, code="forbidden")
        raise Forbidden("Your role does not allow this (%(action)s).", code="forbidden", params={"action": action})
