"""Keeps each device's current config text (and port map) in SQL for fleet search.

Written by the commit index in the same transaction as the commit rows, so a search never opens a
repo and never sees a head the index does not know. Only what the repo holds is indexed: configs are
stored after the intake rules (redaction) ran, so no secret value reaches these rows either.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select

from app.extensions import db
from app.models import ConfigText, Device
from app.services.gitstore_bridge import open_repo

CONFIGS_PREFIX = "configs/"
PORTS_PATH = "ports.json"
# Text beyond this is not searchable (a 50,000-line config is about 2 MB).
MAX_INDEXED_BYTES = 16 * 1024 * 1024


def indexed_kind(path: str) -> str | None:
    """"config" or "ports" for a path the search index keeps, None for any other file."""
    if path.startswith(CONFIGS_PREFIX) and len(path) > len(CONFIGS_PREFIX):
        return "config"
    if path == PORTS_PATH:
        return "ports"
    return None


def as_text(data: bytes) -> str:
    """Bytes -> searchable text: invalid UTF-8 and NUL (which PostgreSQL text refuses) become U+FFFD."""
    return data[:MAX_INDEXED_BYTES].decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _line_count(text: str) -> int:
    return text.count("\n") + (0 if not text or text.endswith("\n") else 1)


def refresh(device: Device, head: str | None, paths: Iterable[str] | None = None) -> None:
    """Bring the device's rows to `head`; `paths` limits the work to files a write just changed.

    The caller holds the repo's write lock and commits the SQL session.
    """
    rows = db.session.scalars(select(ConfigText).where(ConfigText.device_id == device.id))
    existing = {row.path: row for row in rows}
    if head is None:
        db.session.execute(delete(ConfigText).where(ConfigText.device_id == device.id))
        return
    with open_repo(device) as repo:
        if paths is None:
            files = repo.indexable_files(head, CONFIGS_PREFIX, (PORTS_PATH,))
            wanted: dict[str, bytes | None] = {path: None for path in existing}
            wanted.update(files)
        else:
            wanted = {}
            for path in paths:
                if indexed_kind(path) is None:
                    continue
                try:
                    wanted[path] = repo.read_file(head, path)
                except FileNotFoundError:
                    wanted[path] = None
    for path, data in wanted.items():
        row = existing.get(path)
        kind = indexed_kind(path)
        if data is None or kind is None:
            if row is not None:
                db.session.delete(row)
            continue
        text = as_text(data)
        if row is None:
            db.session.add(ConfigText(device_id=device.id, team_id=device.team_id, kind=kind, path=path,
                                      commit=head, content=text, line_count=_line_count(text)))
        else:
            row.commit = head
            if row.content != text:
                row.content = text
                row.line_count = _line_count(text)


def rebuild(device: Device, head: str | None) -> None:
    """Index the device's files at `head` from scratch."""
    db.session.execute(delete(ConfigText).where(ConfigText.device_id == device.id))
    db.session.flush()
    refresh(device, head)
