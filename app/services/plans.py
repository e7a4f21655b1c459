"""Plan limits: the one place that says whether a team may have one more device or member.

Billing sets a team's plan; the embedded default (no Stripe configured) is unlimited.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Device, Membership, Team
from app.services.errors import PlanLimit

# None means unlimited.
PLAN_LIMITS: dict[str, dict[str, int | None]] = {
    "unlimited": {"devices": None, "members": None},
    "free": {"devices": None, "members": None},
    "team": {"devices": None, "members": None},
}


def limits_for(team: Team) -> dict[str, int | None]:
    return PLAN_LIMITS.get(team.plan, PLAN_LIMITS["free"])


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
