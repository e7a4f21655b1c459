"""Billing bookkeeping: Stripe events already applied, and checkout attempts with their idempotency key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_column, id_column


class StripeEvent(Base):
    """One row per Stripe event applied; the primary key makes a duplicate delivery fail its insert,
    in the same transaction as the event's effect, so it is applied exactly once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    # What the handler did with it ("applied", "ignored: older than ...", ...), for support.
    outcome: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    received_at: Mapped[datetime] = created_column()


class CheckoutAttempt(Base):
    """An owner's upgrade attempt. Its idempotency key is stored before Stripe is called, so a
    retry (a network failure, a second click) sends the same key and gets the same session."""

    __tablename__ = "checkout_attempts"

    id: Mapped[str] = id_column()
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    plan: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    session_id: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
