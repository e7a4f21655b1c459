"""History imports and change notifications: import mappings, webhooks, deliveries, watches.

`ImportedDevice` and `ImportedCommit` remember where imported history came from (a source file and
its commits), so running `infratrace import-git` again adds only what is new. `Webhook` and
`WebhookDelivery` are a project's signed change notifications and their delivery log; `Watch` is
one user's e-mail subscription to a device or a project.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, created_column, id_column, utcnow

WEBHOOK_EVENTS = ("version.created", "device.created", "device.deleted", "device.noncompliant")
DELIVERY_STATUSES = ("pending", "delivered", "failed")
WATCH_MODES = ("each", "digest")


class ImportedDevice(Base):
    """A source file (`<group>/<node>` or `<group>/configs/<device>`) -> the device it feeds."""

    __tablename__ = "imported_devices"
    __table_args__ = (UniqueConstraint("project_id", "source_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    source_key: Mapped[str] = mapped_column(String(300))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = created_column()


class ImportedCommit(Base):
    """One source commit already imported into a device (commit_sha is None when it changed nothing)."""

    __tablename__ = "imported_commits"
    __table_args__ = (UniqueConstraint("device_id", "source_commit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    source_commit: Mapped[str] = mapped_column(String(64))
    commit_sha: Mapped[str | None] = mapped_column(String(64))


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = id_column()
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Shared with the receiver to check signatures; shown once on creation, like a token.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="webhook", cascade="all, delete-orphan", passive_deletes=True)


class WebhookDelivery(Base):
    """One event for one webhook: its payload, attempts so far and the last response."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = id_column()
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_column()
    delivered_at: Mapped[datetime | None]

    webhook: Mapped[Webhook] = relationship(back_populates="deliveries")


class Watch(Base):
    """A user's e-mail subscription to one device, or to a whole project (device_id None)."""

    __tablename__ = "watches"
    __table_args__ = (UniqueConstraint("user_id", "project_id", "device_id"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    mode: Mapped[str] = mapped_column(String(10), default="each")
    # The next digest covers indexed commits with a larger CommitRecord.id (advanced per digest).
    digest_cursor: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = created_column()
