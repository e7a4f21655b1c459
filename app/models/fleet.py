"""Fleet-wide views of the device repos kept in SQL: current config text, block summaries of changes,
compliance rules and their results.

All of it is derived from the repos (the source of truth) and rebuilt by `infratrace reindex`.
`config_texts` carries a trigram index made by the migration, not by these models: PostgreSQL's
`pg_trgm` GIN index, or, on SQLite, an FTS5 table with the trigram tokenizer kept in step by
triggers (see `FTS_OBJECTS`, which the model/migration comparison leaves aside).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_column, id_column, utcnow

# Schema objects made by the migration for the trigram search, outside these models.
FTS_OBJECTS = ("config_texts_fts", "ix_config_texts_trgm")

COMPLIANCE_KINDS = ("must_contain", "must_not_contain", "block_must_contain")
COMPLIANCE_STATUSES = ("compliant", "failing", "not_applicable")


class ConfigText(Base):
    """The text of one file of a device at its current head: `configs/<name>` or `ports.json`."""

    __tablename__ = "config_texts"
    __table_args__ = (UniqueConstraint("device_id", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    # "config" for configs/<name>, "ports" for ports.json.
    kind: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    commit: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChangeSummary(Base):
    """What one commit changed in one configuration block (`interface Gi1/0/19: description a -> b`)."""

    __tablename__ = "change_summaries"
    __table_args__ = (
        Index("ix_change_summaries_team_created", "team_id", "created_at"),
        UniqueConstraint("commit_id", "path", "block"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    commit_id: Mapped[int] = mapped_column(ForeignKey("commits.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(300))
    block: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ComplianceRule(Base):
    __tablename__ = "compliance_rules"

    id: Mapped[str] = id_column()
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    # None: a team-wide rule.
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(30))
    # A Python regular expression matched against a line (search, case-sensitive unless (?i)).
    pattern: Mapped[str] = mapped_column(String(500))
    # For block rules: the block's parent line pattern, and an optional line the block must hold to apply.
    block: Mapped[str] = mapped_column(String(500), default="")
    block_filter: Mapped[str] = mapped_column(String(500), default="")
    config_path: Mapped[str] = mapped_column(String(300), default="configs/running-config")
    # Which devices: empty means all of the rule's scope.
    platform: Mapped[str] = mapped_column(String(50), default="")
    tag: Mapped[str] = mapped_column(String(50), default="")
    name_pattern: Mapped[str] = mapped_column(String(200), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ComplianceResult(Base):
    """A device's compliance at one version: kept per version, so its history can be shown."""

    __tablename__ = "compliance_results"
    __table_args__ = (
        UniqueConstraint("device_id", "commit"),
        Index("ix_compliance_results_device_seq", "device_id", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    commit: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    rules_checked: Mapped[int] = mapped_column(Integer, default=0)
    # [{"rule_id","rule","kind","lines":[{"line","text"}],"missing":[...],"blocks":[...]}]
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The latest evaluation of the device's head: what lists and the dashboard show.
    current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
