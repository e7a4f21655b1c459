"""The SQL commit index: one row per commit of a device repo, one per changed path.

Written right after the ref moves, so history pages, path filters and "last changed" never walk git.
The repository stays the source of truth; reconcile rebuilds these rows from it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, created_column


class CommitRecord(Base):
    __tablename__ = "commits"
    __table_args__ = (
        UniqueConstraint("device_id", "sha"),
        # One commit per position: two writers can never both index "the next" commit.
        Index("ix_commits_device_seq", "device_id", "seq", unique=True),
        # History filters: by author, and "jump to a date" (imports keep old dates, so a date is
        # not ordered with seq: the newest seq at or before a date is read off this index).
        Index("ix_commits_device_author_seq", "device_id", "author_id", "seq"),
        Index("ix_commits_device_created_seq", "device_id", "created_at", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    sha: Mapped[str] = mapped_column(String(64))
    parent_sha: Mapped[str | None] = mapped_column(String(64))
    # Position in the device's history (1 = first commit): the keyset for pagination.
    seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_pseudonym: Mapped[str] = mapped_column(String(100), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    files_changed: Mapped[int] = mapped_column(Integer, default=0)
    additions: Mapped[int] = mapped_column(Integer, default=0)
    deletions: Mapped[int] = mapped_column(Integer, default=0)

    paths: Mapped[list[CommitPath]] = relationship(back_populates="commit", cascade="all, delete-orphan")


class CommitPath(Base):
    __tablename__ = "commit_paths"
    __table_args__ = (Index("ix_commit_paths_device_path_seq", "device_id", "path", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    commit_id: Mapped[int] = mapped_column(ForeignKey("commits.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    # Byte order ("C") on PostgreSQL, whatever the database's default collation: directory filters
    # are ranges (`path > 'dir/' AND path < 'dir0'`) that only byte order keeps exact, and the
    # (device_id, path, seq) index must be in that order to serve them. SQLite compares bytes already.
    path: Mapped[str] = mapped_column(String(300).with_variant(String(300, collation="C"), "postgresql"))
    old_path: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10))
    additions: Mapped[int] = mapped_column(Integer, default=0)
    deletions: Mapped[int] = mapped_column(Integer, default=0)

    commit: Mapped[CommitRecord] = relationship(back_populates="paths")


class TeamPhoto(Base):
    """A photo blob uploaded to a team: the team's devices may name it in photos.json.

    Blobs are stored once by content across teams, so knowing a sha256 (it is in every photo
    URL) must not be enough to reference it; the door checks this table (and the device's own
    history) for every photo reference, pushes included.
    """

    __tablename__ = "team_photos"

    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = created_column()
