"""Diffs between two trees: per-file stats for the commit index, and rendered diffs for views.

All line work is libgit2's (Myers with git's indent heuristic, like `git diff`); Python only
converts the hunks that are actually rendered, so a large config with few changes is cheap.
"""

from __future__ import annotations

import pygit2
from pygit2.enums import DeltaStatus, DiffFind, DiffOption, FileMode

from .models import DiffLine, FileChange, FileDiff, Hunk, PortsDiff
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
    repo: pygit2.Repository, touched: list[Touched], known: dict[bytes, bytes] | None = None
) -> list[FileChange] | None:
    """Per-file stats of a write from the entries it changed, without diffing the trees again.

    The counts are libgit2's own (the same line diff as `file_changes`, run on the two buffers).
    None when a tree diff could say something else: a write that both adds and deletes files
    (rename detection could pair them) or that touches something other than a plain file.
    `known` maps binary ids to contents already in hand (blobs not yet in the repository).
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
        _, additions, deletions = pygit2.Patch.create_from(
            old, new, flag=_FLAGS, context_lines=0
        ).line_stats
        result.append(FileChange(t.path, status, additions, deletions))
    return result


def _blob_size(repo: pygit2.Repository, oid: pygit2.Oid) -> int:
    if oid.raw == b"\0" * len(oid.raw):  # the side of an added/deleted file that is absent
        return 0
    return repo.odb.read_header(oid)[1]  # reads the object header, not the content


def _hunk(hunk: pygit2.DiffHunk) -> Hunk:
    lines = []
    for line in hunk.lines:
        origin = line.origin
        # '=', '>', '<' are "\ No newline at end of file" markers, not content.
        if origin not in (" ", "+", "-"):
            continue
        content = line.raw_content.decode("utf-8", "replace").removesuffix("\n")
        lines.append(
            DiffLine(
                origin,
                line.old_lineno if line.old_lineno >= 0 else None,
                line.new_lineno if line.new_lineno >= 0 else None,
                content,
            )
        )
    return Hunk(
        hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines,
        hunk.header.rstrip("\n"), lines,
    )


def render_files(
    repo: pygit2.Repository,
    old: pygit2.Tree | None,
    new: pygit2.Tree | None,
    context_lines: int,
    max_file_bytes: int,
    max_total_lines: int,
) -> tuple[list[FileDiff], bool]:
    """Rendered file diffs and whether the line budget was exhausted.

    A file bigger than `max_file_bytes` is neither diffed nor counted (that is the expensive
    part). Once rendering a file would take the total over `max_total_lines`, it and every later
    file are returned with `too_large=True`, counts but no hunks (libgit2 counts in C, cheaply).
    """
    diff = tree_diff(repo, old, new, context_lines)
    files: list[FileDiff] = []
    total = 0
    over_budget = False
    for index, delta in enumerate(diff.deltas):
        path, old_path, status = _paths(delta)
        similarity = delta.similarity if status == "renamed" else None
        size = max(_blob_size(repo, delta.old_file.id), _blob_size(repo, delta.new_file.id))
        if size > max_file_bytes:
            files.append(FileDiff(path, old_path, status, similarity, 0, 0, False, True, []))
            continue
        patch = diff[index]
        context, additions, deletions = patch.line_stats
        binary = patch.delta.is_binary
        too_large = False
        hunks: list[Hunk] = []
        if not binary:
            rendered = context + additions + deletions
            if over_budget or total + rendered > max_total_lines:
                over_budget = too_large = True
            else:
                total += rendered
                hunks = [_hunk(h) for h in patch.hunks]
        files.append(
            FileDiff(path, old_path, status, similarity, additions, deletions, binary, too_large,
                     hunks)
        )
    return files, over_budget


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
