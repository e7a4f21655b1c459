"""Privacy-policy versions: the current one, notices of a change, and the in-app banner.

`infratrace notify-policy-change --version DATE --summary FILE` publishes a version: it mails every
active user, and every user who signed up under an older version sees a banner until they dismiss
it. Sign-up records the version accepted. Before any version is published, the policy shipped
with the code (BASE_VERSION) is current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import PolicyVersion, User
from app.services.errors import ValidationError
from app.services.mail import in_language_of, send_mail

BASE_VERSION = "2026-11-27"
MAX_SUMMARY = 5000


@dataclass(frozen=True)
class PolicyInfo:
    version: str
    summary: str
    published_at: datetime | None


def current_version() -> PolicyInfo:
    row = db.session.scalar(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1))
    if row is None:
        return PolicyInfo(BASE_VERSION, "", datetime.combine(date.fromisoformat(BASE_VERSION),
                                                             datetime.min.time(), UTC))
    return PolicyInfo(row.version, row.summary, row.published_at)


def publish(version: str, summary: str) -> int:
    """Record a new version and mail every active user; returns how many were mailed."""
    try:
        parsed = date.fromisoformat(version)
    except ValueError:
        raise ValidationError("--version must be a date like 2026-12-01, not %(version)s.",
                              params={"version": repr(version)}) from None
    version = parsed.isoformat()
    summary = summary.strip()
    if not summary:
        raise ValidationError("The summary of the change is empty.")
    if len(summary) > MAX_SUMMARY:
        raise ValidationError("The summary is over %(limit)s characters; link to the full text instead.",
                              params={"limit": MAX_SUMMARY})
    if version <= current_version().version:
        raise ValidationError("Version %(version)s is not newer than the current %(current)s.",
                              params={"version": version, "current": current_version().version})
    db.session.add(PolicyVersion(version=version, summary=summary))
    public_url = current_app.config["INFRATRACE"].public_url
    mailed = 0
    for user in db.session.scalars(select(User).where(User.deleted_at.is_(None)).order_by(User.created_at)):
        # The summary is the operator's text, sent as written; the rest is in the user's language.
        with in_language_of(user):
            send_mail(
                user.email,
                _("Our privacy policy changes (%(version)s)", version=version),
                _("Hello %(username)s,\n\nwe updated the InfraTrace privacy policy (version %(version)s).\n\n"
                  "What changes:\n%(summary)s\n\nThe current policy: %(link)s\n",
                  username=user.username, version=version, summary=summary, link=f"{public_url}/privacy"),
            )
        mailed += 1
    return mailed


def banner_for(user: User) -> PolicyInfo | None:
    """The policy change the user has not acknowledged yet, if any."""
    current = current_version()
    if current.published_at is None or not current.summary:
        return None
    if current.version in (user.policy_version_dismissed, user.policy_version_accepted):
        return None
    return current


def dismiss(user: User) -> None:
    user.policy_version_dismissed = current_version().version
