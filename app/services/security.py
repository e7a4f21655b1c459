"""The security log as users, owners and site admins see it, and the alerts it raises.

- A sign-in from a browser or network (IPv4 /24, IPv6 /48) not seen in the user's earlier
  sign-ins mails the user.
- Repeated failures against an account mail its owner, at most once per alert window.
- Site admins (SITE_ADMINS) see recent anomalies: bursts of failures per IP, and accounts
  signed into from many addresses.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import Membership, SecurityEvent, User, utcnow
from app.services.mail import in_language_of, send_mail

SIGN_IN_KINDS = ("signup", "login")
# Failures against one account (any address) within the window that trigger one alert mail.
FAILURE_ALERT_THRESHOLD = 5
ALERT_WINDOW = timedelta(hours=1)
# Anomaly thresholds for the admin view.
ANOMALY_WINDOW = timedelta(hours=24)
IP_FAILURE_BURST = 20
MANY_IPS = 4
EVENT_PAGE = 100


def network_of(ip: str | None) -> str:
    """The network an address belongs to for "new network" alerts: /24 (IPv4) or /48 (IPv6)."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def browser_of(user_agent: str) -> str:
    """A short, human name for a User-Agent (what the security page shows and alerts compare)."""
    ua = user_agent or ""
    for marker, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                         ("Chromium/", "Chromium"), ("Safari/", "Safari"), ("curl/", "curl"), ("git/", "git")):
        if marker in ua:
            browser = name
            break
    else:
        browser = "Unknown browser" if ua else "Unknown"
    for marker, system in (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"),
                           ("Mac OS X", "macOS"), ("Linux", "Linux")):
        if marker in ua:
            return f"{browser} on {system}"
    return browser


def after_sign_in(user: User, ip: str | None, user_agent: str) -> None:
    """Mail the user when this sign-in comes from a browser or network not seen before."""
    earlier = db.session.execute(
        select(SecurityEvent.ip, SecurityEvent.user_agent)
        .where(SecurityEvent.user_id == user.id, SecurityEvent.kind.in_(SIGN_IN_KINDS),
               SecurityEvent.ip.is_not(None))
        .order_by(SecurityEvent.created_at.desc())
        .limit(500)
    ).all()
    if not earlier:
        return  # nothing to compare with yet: the first recorded sign-in is the baseline
    networks = {network_of(row.ip) for row in earlier}
    browsers = {browser_of(row.user_agent) for row in earlier}
    new_network = network_of(ip) not in networks
    new_browser = browser_of(user_agent) not in browsers
    if not (new_network or new_browser):
        return
    what = ("browser and network" if new_browser and new_network else "browser" if new_browser else "network")
    public_url = current_app.config["INFRATRACE"].public_url
    with in_language_of(user):
        labels = {"browser and network": _("a new browser and network"), "browser": _("a new browser"),
                  "network": _("a new network")}
        send_mail(
            user.email,
            _("New sign-in to your InfraTrace account"),
            _("Your account %(username)s was just signed into from %(what)s.\n\n"
              "Time: %(time)s UTC\nAddress: %(ip)s\nBrowser: %(browser)s\n\n"
              "If this was you, there is nothing to do. If not, change your password now and review your "
              "security log: %(link)s\n",
              username=user.username, what=labels[what], time=f"{utcnow():%Y-%m-%d %H:%M}", ip=ip or "?",
              browser=browser_of(user_agent), link=f"{public_url}/settings/security"),
        )
    record_event_direct(user, "new_sign_in_alert", ip, user_agent, detail=what)


def after_failure(user: User, ip: str | None) -> None:
    """Mail the user once per window when failures against their account pile up."""
    since = utcnow() - ALERT_WINDOW
    failures = db.session.scalar(
        select(func.count(SecurityEvent.id)).where(
            SecurityEvent.user_id == user.id, SecurityEvent.kind == "login_failed", SecurityEvent.created_at >= since
        )
    ) or 0
    # The failure being recorded now is still pending in the session and is counted by autoflush.
    if failures < FAILURE_ALERT_THRESHOLD:
        return
    already = db.session.scalar(
        select(SecurityEvent.id).where(
            SecurityEvent.user_id == user.id, SecurityEvent.kind == "failure_alert", SecurityEvent.created_at >= since
        ).limit(1)
    )
    if already:
        return
    public_url = current_app.config["INFRATRACE"].public_url
    with in_language_of(user):
        send_mail(
            user.email,
            _("Failed sign-in attempts on your InfraTrace account"),
            _("There were %(failures)s failed attempts to sign into your account %(username)s in the last "
              "%(minutes)s minutes (the latest from %(ip)s).\n\n"
              "Your account is not locked: your correct password and tokens keep working. If these were not you, "
              "consider a longer password. Security log: %(link)s\n",
              failures=failures, username=user.username, minutes=int(ALERT_WINDOW.total_seconds() // 60),
              ip=ip or "?", link=f"{public_url}/settings/security"),
        )
    record_event_direct(user, "failure_alert", ip, "", detail=str(failures))


def record_event_direct(user: User, kind: str, ip: str | None, user_agent: str, detail: str = "") -> None:
    db.session.add(SecurityEvent(user_id=user.id, kind=kind, ip=ip, user_agent=(user_agent or "")[:200],
                                 detail=detail))


@dataclass
class EventRow:
    created_at: datetime
    kind: str
    ip: str | None
    browser: str
    username: str

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.kind, self.kind.replace("_", " ")))


EVENT_LABELS = {
    "signup": _l("Account created"),
    "login": _l("Signed in"),
    "login_failed": _l("Failed sign-in"),
    "logout": _l("Signed out"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset"),
    "password_reset_requested": _l("Password reset requested"),
    "email_changed": _l("Email changed"),
    "email_verified": _l("Email verified"),
    "profile_updated": _l("Profile updated"),
    "token_created": _l("Token created"),
    "token_revoked": _l("Token revoked"),
    "token_failed": _l("Failed token use"),
    "reauthenticated": _l("Password confirmed"),
    "new_sign_in_alert": _l("New sign-in alert sent"),
    "failure_alert": _l("Failed sign-in alert sent"),
    "account_deleted": _l("Account deleted"),
}


def _rows(query) -> list[EventRow]:  # type: ignore[no-untyped-def]
    return [
        EventRow(event.created_at, event.kind, event.ip, browser_of(event.user_agent), username)
        for event, username in db.session.execute(query).all()
    ]


def user_events(user: User, limit: int = EVENT_PAGE) -> list[EventRow]:
    return _rows(
        select(SecurityEvent, User.username).join(User, User.id == SecurityEvent.user_id)
        .where(SecurityEvent.user_id == user.id)
        .order_by(SecurityEvent.created_at.desc()).limit(limit)
    )


def team_events(access, limit: int = EVENT_PAGE) -> list[EventRow]:  # type: ignore[no-untyped-def]
    """The security events of every member of the team; owners only."""
    access.require("team.security_log")
    members = select(Membership.user_id).where(Membership.team_id == access.team.id)
    return _rows(
        select(SecurityEvent, User.username).join(User, User.id == SecurityEvent.user_id)
        .where(SecurityEvent.user_id.in_(members))
        .order_by(SecurityEvent.created_at.desc()).limit(limit)
    )


def is_site_admin(user: User) -> bool:
    admins = current_app.config["INFRATRACE"].site_admins
    return user.is_authenticated and user.username_key in admins


@dataclass
class Anomalies:
    failure_bursts: list[tuple[str, int]]
    many_ips: list[tuple[str, int]]


def anomalies(now: datetime | None = None) -> Anomalies:
    """Bursts of failures per IP, and accounts signed into from many addresses, in the last 24 h."""
    since = (now or utcnow()) - ANOMALY_WINDOW
    bursts = db.session.execute(
        select(SecurityEvent.ip, func.count(SecurityEvent.id))
        .where(SecurityEvent.kind.in_(("login_failed", "token_failed")), SecurityEvent.created_at >= since,
               SecurityEvent.ip.is_not(None))
        .group_by(SecurityEvent.ip)
        .having(func.count(SecurityEvent.id) >= IP_FAILURE_BURST)
        .order_by(func.count(SecurityEvent.id).desc())
    ).all()
    spread = db.session.execute(
        select(User.username, func.count(func.distinct(SecurityEvent.ip)))
        .join(User, User.id == SecurityEvent.user_id)
        .where(SecurityEvent.kind == "login", SecurityEvent.created_at >= since)
        .group_by(User.username)
        .having(func.count(func.distinct(SecurityEvent.ip)) >= MANY_IPS)
        .order_by(func.count(func.distinct(SecurityEvent.ip)).desc())
    ).all()
    return Anomalies([(ip, n) for ip, n in bursts], [(name, n) for name, n in spread])
