"""Reading a foreign git repository's history (Oxidized's or RANCID's output) for a history import.

The source is only read: its first-parent chain from HEAD, oldest first, with each commit's author,
date, time zone, message and the files it changed (new bytes, or None when a file was removed).
What the files mean (which path is which device) is the service's business.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import DeltaStatus, ObjectType

from .errors import RepositoryNotFound


@dataclass(frozen=True)
class SourceChange:
    path: str
    data: bytes | None  # None: the file was removed


@dataclass(frozen=True)
class SourceCommit:
    id: str
    author_name: str
    author_email: str
    time: int  # seconds since the epoch
    offset: int  # the author's UTC offset in minutes
    message: str
    changes: list[SourceChange]


def _open(path: Path) -> pygit2.Repository:
    # NO_SEARCH: a plain folder inside some other repository must not open that repository.
    try:
        return pygit2.Repository(str(path), pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
    except pygit2.GitError as exc:
        raise RepositoryNotFound(f"no git repository at {path}") from exc


def count_commits(path: Path) -> int:
    """How many commits `walk_source` will yield (for a progress bar)."""
    repo = _open(path)
    try:
        if repo.head_is_unborn:
            return 0
        walker = repo.walk(repo.head.target, pygit2.enums.SortMode.TOPOLOGICAL)
        walker.simplify_first_parent()
        return sum(1 for _ in walker)
    finally:
        repo.free()


def walk_source(path: Path) -> Iterator[SourceCommit]:
    """The first-parent history of HEAD, oldest first, each commit with the blobs it changed."""
    repo = _open(path)
    try:
        if repo.head_is_unborn:
            return
        walker = repo.walk(repo.head.target, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
        walker.simplify_first_parent()
        for commit in walker:
            old_tree = commit.parents[0].tree if commit.parent_ids else None
            if old_tree is None:
                changes = [SourceChange(p, d) for p, d in _files(repo, commit.tree, "")]
            else:
                changes = []
                for delta in old_tree.diff_to_tree(commit.tree).deltas:
                    if delta.status == DeltaStatus.DELETED:
                        changes.append(SourceChange(delta.old_file.path, None))
                        continue
                    if delta.new_file.mode not in (0o100644, 0o100755):
                        continue  # symlinks and submodules are not configs
                    if delta.status == DeltaStatus.RENAMED:
                        changes.append(SourceChange(delta.old_file.path, None))
                    changes.append(SourceChange(delta.new_file.path, repo[delta.new_file.id].data))
            author = commit.author
            yield SourceCommit(
                id=str(commit.id), author_name=author.name, author_email=author.email, time=author.time,
                offset=author.offset, message=commit.message, changes=changes,
            )
    finally:
        repo.free()


def _files(repo: pygit2.Repository, tree: pygit2.Tree, prefix: str) -> Iterator[tuple[str, bytes]]:
    for entry in tree:
        if entry.type == ObjectType.TREE:
            yield from _files(repo, repo[entry.id], f"{prefix}{entry.name}/")
        elif entry.filemode in (0o100644, 0o100755):
            yield f"{prefix}{entry.name}", repo[entry.id].data
