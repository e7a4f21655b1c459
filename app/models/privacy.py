"""Data exports: one row per export a user asked for; the JSON itself lives in object storage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_column, id_column

EXPORT_STATUSES = ("queued", "running", "done", "failed")


class DataExport(Base):
    __tablename__ = "data_exports"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    created_at: Mapped[datetime] = created_column()
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # After this the object is deleted and the row forgotten (the daily purge job).
    expires_at: Mapped[datetime]
    object_key: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(Integer)
    devices_total: Mapped[int] = mapped_column(Integer, default=0)
    devices_done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
