"""Diffs between two trees: per-file stats for the commit index, and rendered diffs for views.

The commit index's stats are libgit2's (Myers with git's indent heuristic, like `git diff`).
Rendered diffs go file by file through `linediff` (a fast path for in-order edits, libgit2
otherwise), which decodes only the hunks a page shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pygit2
from pygit2.enums import DeltaStatus, DiffFind, DiffOption, FileMode

from .gc_pause import cyclic_gc_paused
from .linediff import LineDiffOptions, diff_lines, split_hunk
from .models import FileChange, FileDiff, Hunk, PortsDiff
from .textchange import TextChange
from .trees import Touched

_STATUS = {
    DeltaStatus.ADDED: "added",
    DeltaStatus.DELETED: "deleted",
    DeltaStatus.MODIFIED: "modified",
    DeltaStatus.RENAMED: "renamed",
    DeltaStatus.COPIED: "added",
    DeltaStatus.TYPECHANGE: "modified",
}
_FLAGS = DiffOption.INDENT_HEURISTIC


def tree_diff(
    repo: pygit2.Repository,
    old: pygit2.Tree | None,
    new: pygit2.Tree | None,
    context_lines: int = 3,
) -> pygit2.Diff:
    """libgit2 diff of two trees (None = the empty tree), with renames detected."""
    if old is None and new is None:
        raise ValueError("at least one tree is needed")
    if old is None:
        # swap=True diffs the empty tree against `new`, so additions are additions.
        diff = new.diff_to_tree(flags=_FLAGS, context_lines=context_lines, swap=True)
    elif new is None:
        diff = old.diff_to_tree(flags=_FLAGS, context_lines=context_lines)
    else:
        diff = repo.diff(old, new, flags=_FLAGS, context_lines=context_lines)
    diff.find_similar(flags=DiffFind.FIND_RENAMES)
    return diff


def _paths(delta: pygit2.DiffDelta) -> tuple[str, str | None, str]:
    status = _STATUS.get(delta.status, "modified")
    if status == "deleted":
        return delta.old_file.path, None, status
    old_path = delta.old_file.path if status == "renamed" else None
    return delta.new_file.path, old_path, status


def file_changes(
    repo: pygit2.Repository, old: pygit2.Tree | None, new: pygit2.Tree | None
) -> list[FileChange]:
    """Changed paths with added/deleted line counts (binary files count 0/0, like numstat)."""
    result = []
    for patch in tree_diff(repo, old, new, context_lines=0):
        path, old_path, status = _paths(patch.delta)
        _, additions, deletions = patch.line_stats
        result.append(FileChange(path, status, additions, deletions, old_path))
    return result


def changes_from_edits(
    repo: pygit2.Repository, touched: list[Touched], known: dict[bytes, bytes] | None = None,
    compared: dict[str, TextChange] | None = None,
) -> list[FileChange] | None:
    """Per-file stats of a write from the entries it changed, without diffing the trees again.

    The counts are libgit2's own (the same line diff as `file_changes`, run on the two buffers),
    from the cheap line comparison when it provably gives the same (textchange.py).
    None when a tree diff could say something else: a write that both adds and deletes files
    (rename detection could pair them) or that touches something other than a plain file.
    `known` maps binary ids to contents already in hand (blobs not yet in the repository);
    `compared`, by path, the line comparisons the caller already made (it gets the new ones).
    """
    plain = (FileMode.BLOB, FileMode.BLOB_EXECUTABLE)
    if any(t.old_mode is not None and t.old_mode not in plain for t in touched):
        return None
    if any(t.old_id is None for t in touched) and any(t.new_id is None for t in touched):
        return None
    result = []
    for t in sorted(touched, key=lambda t: t.path.encode()):
        old: bytes | pygit2.Blob | None = None
        if t.old_id is not None:
            raw_id = t.old_id.raw if isinstance(t.old_id, pygit2.Oid) else t.old_id
            old = known.get(raw_id) if known else None
            if old is None:
                # A Blob, not its bytes: libgit2 reads it without copying it into Python.
                old = repo[pygit2.Oid(raw=raw_id)]
        new = t.new_data if t.new_id is not None else None
        status = "added" if old is None else "deleted" if new is None else "modified"
        counts = None
        if old is not None and new is not None:
            change = compared.get(t.path) if compared is not None else None
            if change is None:
                change = TextChange(old if isinstance(old, bytes) else old.data, new)
                if compared is not None:
                    compared[t.path] = change
            counts = change.stats()
        if counts is None:
            _, additions, deletions = pygit2.Patch.create_from(
                old, new, flag=_FLAGS, context_lines=0
            ).line_stats
        else:
            additions, deletions = counts
        result.append(FileChange(t.path, status, additions, deletions))
    return result


def _blob_size(repo: pygit2.Repository, oid: pygit2.Oid) -> int:
    if oid.raw == b"\0" * len(oid.raw):  # the side of an added/deleted file that is absent
        return 0
    return repo.odb.read_header(oid)[1]  # reads the object header, not the content


def _blob(repo: pygit2.Repository, oid: pygit2.Oid) -> bytes:
    if oid.raw == b"\0" * len(oid.raw):
        return b""
    return repo.odb.read(oid)[1]  # the raw read: about 3x cheaper than repo[oid].data


def _is_binary(data: bytes) -> bool:
    return b"\0" in data[:8000]  # git's rule: a NUL byte in the first 8000 bytes


@dataclass
class RenderedDiff:
    """Files of a diff with the hunks of one page (or all of them within the line budget)."""

    files: list[FileDiff]
    too_large: bool
    next_hunk: int | None
    total_hunks: int


def render_files(
    repo: pygit2.Repository,
    old: pygit2.Tree | None,
    new: pygit2.Tree | None,
    context_lines: int,
    max_file_bytes: int,
    max_total_lines: int,
    options: LineDiffOptions | None = None,
    page_from: int | None = None,
) -> RenderedDiff:
    """Rendered file diffs.

    A file bigger than `max_file_bytes` is neither diffed nor counted. Without `page_from`, once
    rendering a file would take the total over `max_total_lines`, it and every later file are
    returned with `too_large=True` (counts, no hunks). With `page_from` (a hunk index over the
    whole diff), the page holds the hunks from there on, at most `max_total_lines` lines (a
    longer hunk is cut into pieces), and `next_hunk` says where the next page starts.
    """
    diff = tree_diff(repo, old, new, context_lines)

    def entries() -> Iterator[_Entry]:
        for delta in diff.deltas:
            path, old_path, status = _paths(delta)
            similarity = delta.similarity if status == "renamed" else None
            size = max(_blob_size(repo, delta.old_file.id), _blob_size(repo, delta.new_file.id))
            old_id, new_id = delta.old_file.id, delta.new_file.id
            yield _Entry(path, old_path, status, similarity, size,
                         lambda o=old_id, n=new_id: (_blob(repo, o), _blob(repo, n)))

    return _render(entries(), context_lines, max_file_bytes, max_total_lines, options, page_from)


def render_contents(
    old: dict[str, bytes],
    new: dict[str, bytes],
    context_lines: int,
    max_file_bytes: int,
    max_total_lines: int,
    options: LineDiffOptions | None = None,
    page_from: int | None = None,
) -> RenderedDiff:
    """The same rendering for two sets of files held in memory (e.g. two devices' configs)."""

    def entries() -> Iterator[_Entry]:
        for path in sorted(set(old) | set(new)):
            before, after = old.get(path), new.get(path)
            if before == after:
                continue
            status = "added" if before is None else "deleted" if after is None else "modified"
            yield _Entry(path, None, status, None, max(len(before or b""), len(after or b"")),
                         lambda b=before or b"", a=after or b"": (b, a))

    return _render(entries(), context_lines, max_file_bytes, max_total_lines, options, page_from)


@dataclass(frozen=True)
class _Entry:
    path: str
    old_path: str | None
    status: str
    similarity: int | None
    size: int
    load: Callable[[], tuple[bytes, bytes]]


# A large diff builds tens of thousands of line objects, all kept: no cycle collection meanwhile.
@cyclic_gc_paused()
def _render(
    items: Iterator[_Entry],
    context_lines: int,
    max_file_bytes: int,
    max_total_lines: int,
    options: LineDiffOptions | None,
    page_from: int | None,
) -> RenderedDiff:
    opts = options or LineDiffOptions(context_lines=context_lines)
    if opts.context_lines != context_lines:
        opts = replace(opts, context_lines=context_lines)
    files: list[FileDiff] = []
    total = 0
    over_budget = False
    hunk_index = 0
    next_hunk: int | None = None
    for item in items:
        path, old_path, status, similarity = item.path, item.old_path, item.status, item.similarity
        if item.size > max_file_bytes:
            files.append(FileDiff(path, old_path, status, similarity, 0, 0, False, True, []))
            continue
        old_data, new_data = item.load()
        if _is_binary(old_data) or _is_binary(new_data):
            files.append(FileDiff(path, old_path, status, similarity, 0, 0, True, False, []))
            continue
        lines = diff_lines(old_data, new_data, opts)
        if not len(lines) and status == "modified":
            continue  # only whitespace or line ends changed, and those are ignored
        hunks: list[Hunk] = []
        too_large = False
        first = 0  # the index (within the file) of the first hunk shown
        count = len(lines)
        if page_from is None:
            rendered = sum(lines.sizes)
            if over_budget or total + rendered > max_total_lines:
                over_budget = too_large = True
            else:
                total += rendered
                hunks = lines.hunks()
            hunk_index += len(lines)
        else:
            local = 0
            count = sum(-(-size // max_total_lines) for size in lines.sizes)
            for index, size in enumerate(lines.sizes):
                pieces = -(-size // max_total_lines)
                if hunk_index + pieces <= page_from or next_hunk is not None:
                    hunk_index += pieces
                    local += pieces
                    continue
                for piece in split_hunk(lines.hunk(index), max_total_lines):
                    if hunk_index >= page_from:
                        if next_hunk is None and total and total + len(piece.lines) > max_total_lines:
                            next_hunk = hunk_index
                        if next_hunk is None:
                            if not hunks:
                                first = local
                            hunks.append(piece)
                            total += len(piece.lines)
                    hunk_index += 1
                    local += 1
        files.append(
            FileDiff(path, old_path, status, similarity, lines.additions, lines.deletions, False, too_large,
                     hunks, lines.new_line_count, count, first)
        )
    return RenderedDiff(files, over_budget, next_hunk, hunk_index)


def ports_diff(old: list[dict], new: list[dict]) -> PortsDiff:
    """Ports matched by name; changed ports list each differing field with from/to."""
    before = {p["name"]: p for p in old if isinstance(p, dict) and "name" in p}
    after = {p["name"]: p for p in new if isinstance(p, dict) and "name" in p}
    added = [p for name, p in after.items() if name not in before]
    removed = [p for name, p in before.items() if name not in after]
    changed = []
    for name, port in after.items():
        if name not in before or before[name] == port:
            continue
        fields = {}
        for key in sorted(set(before[name]) | set(port)):
            was, now = before[name].get(key), port.get(key)
            if was != now:
                fields[key] = {"from": was, "to": now}
        changed.append({"name": name, "fields": fields})
    return PortsDiff(added, removed, changed)


def photos_diff(old: list[dict], new: list[dict]) -> dict[str, list[dict]]:
    """Photos matched by sha256 (a new caption on the same bytes is not a new photo)."""
    before = {p.get("sha256") for p in old if isinstance(p, dict)}
    after = {p.get("sha256") for p in new if isinstance(p, dict)}
    return {
        "added": [p for p in new if isinstance(p, dict) and p.get("sha256") not in before],
        "removed": [p for p in old if isinstance(p, dict) and p.get("sha256") not in after],
    }
