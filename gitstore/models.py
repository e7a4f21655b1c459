"""Plain data passed in and out of gitstore (no pygit2 objects ever leak to callers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .textchange import TextChange


@dataclass(frozen=True)
class Author:
    """The acting user, under a pseudonym (`user-<id>` / `user-<id>@users.noreply.infratrace`)."""

    name: str
    email: str


# Every commit and tag object is committed by the service; only the author is a person.
COMMITTER = Author("InfraTrace", "service@infratrace.invalid")


@dataclass
class Changes:
    """What a write changes; anything left as None (or absent from `configs`) stays as it is.

    A config mapped to None is removed; an empty `ports` or `photos` list removes the file, so
    "no ports" has a single representation and an empty write is recognised as no change.
    """

    device: dict | None = None
    configs: dict[str, bytes | None] = field(default_factory=dict)
    ports: list[dict] | None = None
    photos: list[dict] | None = None
    # "Is this change only noise?": (stored path, TextChange: the old and new bytes compared line
    # by line) -> bool. When every entry the write changes is a config whose change this calls
    # noise, no version is made. The rules behind it (a project's `ignore` rules) live above
    # gitstore; gitstore only asks.
    noise: Callable[[str, TextChange], bool] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class FileChange:
    """One changed path of a commit versus its first parent (for the SQL commit index)."""

    path: str
    status: str  # 'added' | 'modified' | 'deleted' | 'renamed'
    additions: int
    deletions: int
    old_path: str | None = None


@dataclass(frozen=True)
class CommitResult:
    """Outcome of `commit_version`; `changed=False` means no commit was made."""

    commit: str
    parent: str | None
    changed: bool
    created_at: datetime
    files: list[FileChange]


@dataclass
class ImportVersion:
    """One version of a batch import: what changes, its message and, optionally, when it was
    authored (seconds since the epoch and the author's UTC offset in minutes), and by whom when
    not the importing user (a history import maps each source author to its own pseudonym)."""

    changes: Changes
    message: str
    author_time: int | None = None
    author_offset: int = 0
    author: Author | None = None


@dataclass(frozen=True)
class ImportResult:
    """Outcome of `import_versions`: the commits made (with the index of the version each came
    from), the indexes of versions that changed nothing, and main before and after."""

    previous_head: str | None
    head: str | None
    commits: list[tuple[int, CommitResult]]
    skipped: list[int]


@dataclass(frozen=True)
class CommitInfo:
    """One commit's metadata and changed files, as recorded in the SQL commit index."""

    commit: str
    parent: str | None
    parents: list[str]
    author_name: str
    author_email: str
    created_at: datetime
    message: str
    files: list[FileChange]


@dataclass(frozen=True)
class Snapshot:
    """The full content of one version."""

    commit: str
    parents: list[str]
    message: str
    author_name: str
    author_email: str
    created_at: datetime
    device: dict
    configs: dict[str, bytes]
    ports: list
    photos: list
    # JSON files of this version that cannot be read (not JSON, too deep, duplicate keys, wrong
    # shape): their field above holds the empty default, and readers say "unreadable".
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True)
class TagInfo:
    """A named version. Lightweight tags (pushed by git users) have no message or tagger."""

    name: str
    target: str
    message: str
    tagger_name: str | None
    created_at: datetime | None


class DiffLine(NamedTuple):
    """One line of a hunk. A NamedTuple, not a dataclass: a page makes thousands of them and
    a frozen dataclass costs several times more to construct."""

    origin: str  # ' ' | '+' | '-'
    old_lineno: int | None
    new_lineno: int | None
    content: str  # without the newline; bytes that are not UTF-8 appear escaped (`\xfc`)
    no_newline: bool = False  # the file ends here without a newline
    raw: bytes | None = None  # the line's exact bytes, kept only when they are not UTF-8
    spans: tuple[int, int] | None = None  # word-level: the changed part of `content`


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    header: str
    lines: list[DiffLine]


@dataclass(frozen=True)
class FileDiff:
    path: str
    old_path: str | None
    status: str
    similarity: int | None
    additions: int
    deletions: int
    binary: bool
    too_large: bool
    hunks: list[Hunk]
    new_line_count: int | None = None  # lines of the new side (for folding the tail)
    hunk_count: int = 0  # hunks of the whole file (a page may show only some)
    first_hunk: int = 0  # which of the file's hunks `hunks[0]` is (a page may start mid-file)


@dataclass(frozen=True)
class PortsDiff:
    added: list[dict]
    removed: list[dict]
    changed: list[dict]  # {"name": ..., "fields": {field: {"from": ..., "to": ...}}}


@dataclass(frozen=True)
class Diff:
    from_commit: str
    to_commit: str
    files: list[FileDiff]
    ports: PortsDiff
    photos: dict[str, list[dict]]  # {"added": [...], "removed": [...]}
    too_large: bool
    next_hunk: int | None = None  # paged rendering: where the next page of hunks starts
    hunk_offset: int = 0  # paged rendering: the first hunk this page shows
    total_hunks: int = 0
