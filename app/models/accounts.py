"""Users, teams, memberships, invitations, tokens and the security log."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, created_column, id_column, utcnow

ROLES = ("viewer", "editor", "admin", "owner")


def new_pseudonym() -> str:
    return secrets.token_hex(8)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str] = mapped_column(String(39))
    username_key: Mapped[str] = mapped_column(String(39), unique=True)
    password_hash: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    company: Mapped[str] = mapped_column(String(100), default="")
    job_title: Mapped[str] = mapped_column(String(100), default="")
    # The name under which this user's commits are authored: history never carries a real name.
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True, default=new_pseudonym)
    # Bumped on password change: every session and remember-cookie minted before is void.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    age_confirmed_at: Mapped[datetime]
    # Set when the owner of the address followed the signed link mailed to it; until then the
    # account cannot be added to a team by its email (the add becomes an invitation).
    email_verified_at: Mapped[datetime | None]
    # Which version of the privacy policy was accepted at sign-up, and the newest one whose
    # in-app banner the user dismissed (None: no banner dismissed yet).
    policy_version_accepted: Mapped[str | None] = mapped_column(String(20))
    policy_version_dismissed: Mapped[str | None] = mapped_column(String(20))
    # The language mails to this user are written in (app/i18n.py LANGUAGES): the one the sign-up page
    # was shown in, then each choice saved on the preferences form. None (older accounts): English.
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = created_column()
    deleted_at: Mapped[datetime | None]
    purge_after: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def author_name(self) -> str:
        return f"user-{self.pseudonym}"

    @property
    def author_email(self) -> str:
        return f"user-{self.pseudonym}@users.noreply.infratrace"


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = id_column()
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    plan: Mapped[str] = mapped_column(String(20), default="free")
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64))
    # Billing state as Stripe last told us (app/services/billing.py); `plan` follows it.
    subscription_status: Mapped[str | None] = mapped_column(String(24))
    # When the state above was true at Stripe (event `created`, or the time of a re-read): an older
    # event about the same subscription is ignored, so state never goes backwards.
    subscription_state_at: Mapped[datetime | None]
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A failed payment starts a grace period; past it the team has the free plan's limits.
    payment_failed_at: Mapped[datetime | None]
    grace_until: Mapped[datetime | None]
    payment_state_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
    # Set when the account of its only member was deleted: purged with that account.
    deleted_at: Mapped[datetime | None]
    purge_after: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(back_populates="team", cascade="all, delete-orphan")


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[str] = id_column()
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = created_column()

    team: Mapped[Team] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[str] = id_column()
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_column()
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]

    team: Mapped[Team] = relationship()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # Only the SHA-256 of the secret is kept; the prefix lets people recognise a token in lists.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = created_column()
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @property
    def scope_list(self) -> list[str]:
        return [scope for scope in self.scopes.split(",") if scope]


class SecurityEvent(Base):
    __tablename__ = "security_events"

    id: Mapped[str] = id_column()
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(45))
    # The browser as it named itself (User-Agent, cut short): shown to the user beside the IP.
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AuthFailureCounter(Base):
    """Failed authentications per key and fixed window, when no Redis is configured.

    Kept in SQL so every server process and host counts in one place (an in-memory counter per
    process made limits intermittent). Rows past `expires_at` are dead and are swept lazily.
    """

    __tablename__ = "auth_failure_counters"

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PolicyVersion(Base):
    """A published version of the privacy policy; the newest one is current."""

    __tablename__ = "policy_versions"

    version: Mapped[str] = mapped_column(String(20), primary_key=True)
    summary: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = created_column()


class OutboxMail(Base):
    """Mail recorded instead of sent when no MAIL_URL is configured (dev mode and tests)."""

    __tablename__ = "outbox_mail"

    id: Mapped[str] = id_column()
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_column()
