"""A project's intake settings: how collected configs are named, cleaned and redacted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class ProjectIntakeSettings(Base):
    """One row per project that saved its rules; a project without a row uses the defaults
    (`config_rules.Settings`): redaction on, every preset's volatile lines ignored."""

    __tablename__ = "project_intake_settings"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    # The config an Oxidized post becomes: configs/<config_name>.
    config_name: Mapped[str] = mapped_column(String(255), default="running-config")
    # "auto" (each device's own platform) or one preset key for the whole project.
    platform: Mapped[str] = mapped_column(String(20), default="auto")
    # Which presets' volatile lines are ignored: "all", "platform" or "off".
    noise_presets: Mapped[str] = mapped_column(String(10), default="all")
    redaction: Mapped[bool] = mapped_column(Boolean, default=True)
    # [{"kind": "ignore" | "strip", "pattern": "<regex>", "description": "..."}]
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
