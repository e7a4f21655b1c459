"""Plan limits: the one place that says whether a team may have one more device or member.

Billing sets a team's plan; the embedded default (no Stripe configured) is unlimited.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Device, Membership, Team
from app.services.errors import PlanLimit
from app.services.gitstore_bridge import repo_path
from gitstore import DeviceRepo

# None means unlimited.
# `versions`: versions per device; `tags`: named versions per device (checked by the door for
# every way in, git push included).
PLAN_LIMITS: dict[str, dict[str, int | None]] = {
    "unlimited": {"devices": None, "members": None, "versions": None, "tags": None},
    "free": {"devices": None, "members": None, "versions": None, "tags": None},
    "team": {"devices": None, "members": None, "versions": None, "tags": None},
}
# Door change kinds that add versions, and those that add named versions.
VERSION_KINDS = frozenset({"version", "import", "photos", "device.metadata", "push"})
# A push is checked against `versions` only: its new tags are known only once receive-pack ran.
TAG_KINDS = frozenset({"tag.create"})


def limits_for(team: Team) -> dict[str, int | None]:
    return PLAN_LIMITS.get(team.plan, PLAN_LIMITS["free"])


def check_can_change_device(team: Team, device: Device, kind: str) -> None:
    """The door's plan hook, asked before any change of a device's refs (`kind` as the door
    names it: version, import, photos, device.metadata, tag.create, tag.delete, push)."""
    limits = limits_for(team)
    versions = limits.get("versions")
    if kind in VERSION_KINDS and versions is not None and (device.version_count or 0) >= versions:
        raise PlanLimit(f"The {team.plan} plan allows {versions} versions per device; upgrade to add more.")
    tags = limits.get("tags")
    if kind in TAG_KINDS and tags is not None:
        with DeviceRepo.open(repo_path(device)) as repo:
            count = len(list(repo.list_tags()))
        if count >= tags:
            raise PlanLimit(f"The {team.plan} plan allows {tags} named versions per device; upgrade to add more.")


def check_can_add_member(team: Team) -> None:
    limit = limits_for(team)["members"]
    if limit is None:
        return
    count = db.session.scalar(select(func.count(Membership.id)).where(Membership.team_id == team.id)) or 0
    if count >= limit:
        raise PlanLimit(f"The {team.plan} plan allows {limit} members; upgrade to add more.")


def check_can_add_device(team: Team) -> None:
    limit = limits_for(team)["devices"]
    if limit is None:
        return
    count = db.session.scalar(select(func.count(Device.id)).where(Device.team_id == team.id)) or 0
    if count >= limit:
        raise PlanLimit(f"The {team.plan} plan allows {limit} devices; upgrade to add more.")
