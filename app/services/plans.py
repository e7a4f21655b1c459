"""Plans and their limits: the one place that says whether a team may have one more device or member.

Every way a device or a member comes in (API, web form, invitation acceptance, the one door for
device refs) calls `check_can_add_device` / `check_can_add_member` here. Billing
(app/services/billing.py) sets a team's `plan` from Stripe; with no STRIPE_SECRET_KEY (self-hosting,
the embedded default) billing is off and every team is unlimited. A plan never deletes anything: a
team over its limits (after a downgrade) keeps all it has and cannot add more until it fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import Device, Invitation, Membership, Team, utcnow
from app.services.errors import PlanLimit
from app.services.gitstore_bridge import repo_path
from gitstore import DeviceRepo

# The plans, in order of size. None means unlimited. Prices come from the environment
# (STRIPE_PRICE_PRO, STRIPE_PRICE_TEAM); "unlimited" is what every team has when billing is off.
# `versions`: versions per device; `tags`: named versions per device (checked by the door for every
# way in, git push included); no plan limits them today.
PLAN_LIMITS: dict[str, dict[str, int | None]] = {
    "unlimited": {"devices": None, "members": None, "versions": None, "tags": None},
    "free": {"devices": 10, "members": 5, "versions": None, "tags": None},
    "pro": {"devices": 200, "members": 10, "versions": None, "tags": None},
    "team": {"devices": 2000, "members": 50, "versions": None, "tags": None},
}
# Door change kinds that add versions, and those that add named versions.
VERSION_KINDS = frozenset({"version", "import", "photos", "device.metadata", "push"})
# A push is checked against `versions` only: its new tags are known only once receive-pack ran.
TAG_KINDS = frozenset({"tag.create"})
PAID_PLANS = ("pro", "team")
PLAN_TITLES = {"unlimited": "Unlimited", "free": "Free", "pro": "Pro", "team": "Team"}


@dataclass(frozen=True)
class Usage:
    devices: int
    members: int


def billing_enabled() -> bool:
    return bool(current_app.config["INFRATRACE"].stripe_secret_key)


def price_id(plan: str) -> str | None:
    """The Stripe price of a paid plan, or None when it is not configured."""
    return current_app.config["INFRATRACE"].stripe_prices.get(plan) if plan in PAID_PLANS else None


def plan_for_price(price: str | None) -> str | None:
    for plan in PAID_PLANS:
        if price and price_id(plan) == price:
            return plan
    return None


def effective_plan(team: Team, now: datetime | None = None) -> str:
    """The plan whose limits apply now: unlimited with billing off; free once a failed payment's
    grace period is over (until Stripe's next word on the subscription)."""
    if not billing_enabled():
        return "unlimited"
    plan = team.plan if team.plan in PLAN_LIMITS and team.plan != "unlimited" else "free"
    if plan in PAID_PLANS and team.grace_until is not None and (now or utcnow()) >= team.grace_until:
        return "free"
    return plan


def limits_for(team: Team) -> dict[str, int | None]:
    return dict(PLAN_LIMITS.get(effective_plan(team), PLAN_LIMITS["free"]))


def _lock(team: Team) -> None:
    """Two concurrent adds to one team wait for each other here (PostgreSQL), so both cannot pass
    the count before either is inserted. SQLite serializes writers anyway."""
    db.session.execute(select(Team.id).where(Team.id == team.id).with_for_update())


def usage(team: Team) -> Usage:
    devices = db.session.scalar(select(func.count(Device.id)).where(Device.team_id == team.id)) or 0
    members = db.session.scalar(select(func.count(Membership.id)).where(Membership.team_id == team.id)) or 0
    return Usage(devices=devices, members=members)


def _open_invitations(team: Team) -> int:
    return db.session.scalar(
        select(func.count(Invitation.id)).where(
            Invitation.team_id == team.id, Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow()
        )
    ) or 0


def _refuse(team: Team, what: str, limit: int, count: int) -> PlanLimit:
    plan = effective_plan(team)
    url = f"{current_app.config['INFRATRACE'].public_url}/teams/{team.slug}/billing"
    extra: dict[str, object] = {"limit": what, "allowed": limit, "used": count, "upgrade_url": url}
    params: dict[str, object] = {"plan": PLAN_TITLES.get(plan, plan), "limit": limit, "count": count, "url": url}
    # One whole sentence per limit (not the limit's name spliced in), so a translation reads as a sentence.
    if what == "devices":
        return PlanLimit("The %(plan)s plan allows %(limit)s devices and this team has %(count)s. A team owner "
                         "can upgrade the plan on the billing page: %(url)s", extra=extra, params=params)
    if what == "members":
        return PlanLimit("The %(plan)s plan allows %(limit)s members and this team has %(count)s. A team owner "
                         "can upgrade the plan on the billing page: %(url)s", extra=extra, params=params)
    if what == "versions per device":
        return PlanLimit("The %(plan)s plan allows %(limit)s versions per device and this team has %(count)s. "
                         "A team owner can upgrade the plan on the billing page: %(url)s", extra=extra, params=params)
    return PlanLimit("The %(plan)s plan allows %(limit)s named versions per device and this team has %(count)s. "
                     "A team owner can upgrade the plan on the billing page: %(url)s", extra=extra, params=params)


def check_can_change_device(team: Team, device: Device, kind: str) -> None:
    """The door's plan hook, asked before any change of a device's refs (`kind` as the door
    names it: version, import, photos, device.metadata, tag.create, tag.delete, push)."""
    limits = limits_for(team)
    versions = limits.get("versions")
    if kind in VERSION_KINDS and versions is not None and (device.version_count or 0) >= versions:
        raise _refuse(team, "versions per device", versions, device.version_count or 0)
    tags = limits.get("tags")
    if kind in TAG_KINDS and tags is not None:
        with DeviceRepo.open(repo_path(device)) as repo:
            count = len(list(repo.list_tags()))
        if count >= tags:
            raise _refuse(team, "named versions per device", tags, count)


def check_can_add_member(team: Team, *, accepting_invitation: bool = False) -> None:
    """Open invitations hold a seat, so invitations cannot go past the limit either; accepting
    one only needs room among the members."""
    limit = limits_for(team)["members"]
    if limit is None:
        return
    _lock(team)
    count = usage(team).members
    seats = count if accepting_invitation else count + _open_invitations(team)
    if seats >= limit:
        raise _refuse(team, "members", limit, seats)


def check_can_add_device(team: Team) -> None:
    limit = limits_for(team)["devices"]
    if limit is None:
        return
    _lock(team)
    count = usage(team).devices
    if count >= limit:
        raise _refuse(team, "devices", limit, count)
