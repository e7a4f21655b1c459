"""Building a new tree from a parent tree in memory (no working tree, no index on disk)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pygit2
from pygit2.enums import FileMode, ObjectType

from .errors import InvalidChange


class Touched(NamedTuple):
    """A file entry a write changed: its old id and mode (None if added), new id and bytes."""

    path: str
    old_id: pygit2.Oid | bytes | None
    old_mode: int | None
    new_id: pygit2.Oid | bytes | None
    new_data: bytes | None



def split_edits(
    edits: dict[str, bytes | None],
) -> tuple[dict[str, bytes | None], dict[str, dict[str, bytes | None]]]:
    """Edits of this tree's own entries, and the edits of each subdirectory (paths relative to it)."""
    leaves: dict[str, bytes | None] = {}
    nested: dict[str, dict[str, bytes | None]] = {}
    for path, data in edits.items():
        head, sep, rest = path.partition("/")
        if sep:
            nested.setdefault(head, {})[rest] = data
        else:
            leaves[head] = data
    return leaves, nested

def field_for(path: str) -> str:
    """The InvalidChange field for a stored path: `configs/a/b` -> `configs.a/b`."""
    top, _, rest = path.partition("/")
    return f"{top}.{rest}" if rest else top


def apply_edits(
    repo: pygit2.Repository,
    tree: pygit2.Tree | None,
    edits: dict[str, bytes | None],
    prefix: str = "",
    touched: list[Touched] | None = None,
) -> pygit2.Oid | None:
    """Write the tree `tree` with `edits` applied ({path: content, or None to remove}).

    Only the trees along edited paths are rewritten; untouched subtrees keep their ids. Trees
    left empty are dropped (git does not track empty directories). Returns None for an empty
    tree so the caller can prune it from its own parent.

    `touched`, when given, collects every file whose entry really changed, so the caller can
    count lines from the edits it already has instead of diffing the two trees again.
    """
    builder = repo.TreeBuilder(tree) if tree is not None else repo.TreeBuilder()
    leaves, nested = split_edits(edits)

    for name, data in leaves.items():
        existing = builder.get(name)
        is_tree = existing is not None and existing.type == ObjectType.TREE
        if data is None:
            # Removing what is not there (or is a directory of configs) changes nothing.
            if existing is not None and not is_tree:
                builder.remove(name)
                if touched is not None:
                    touched.append(Touched(prefix + name, existing.id, existing.filemode, None, None))
            continue
        if is_tree:
            raise InvalidChange(field_for(prefix + name), "a directory of configs has this name")
        blob_id = repo.create_blob(bytes(data))
        builder.insert(name, blob_id, FileMode.BLOB)
        if touched is not None and (
            existing is None or existing.id != blob_id or existing.filemode != FileMode.BLOB
        ):
            old = (existing.id, existing.filemode) if existing is not None else (None, None)
            touched.append(Touched(prefix + name, *old, blob_id, bytes(data)))

    for name, sub_edits in nested.items():
        existing = builder.get(name)
        if existing is not None and existing.type != ObjectType.TREE:
            if all(data is None for data in sub_edits.values()):
                continue
            raise InvalidChange(
                field_for(prefix + name + "/" + next(iter(sub_edits))),
                f"'{prefix + name}' is a file, it cannot also be a directory",
            )
        oid = apply_edits(repo, existing, sub_edits, prefix + name + "/", touched)
        if oid is not None:
            builder.insert(name, oid, FileMode.TREE)
        elif existing is not None:
            builder.remove(name)

    if len(builder) == 0:
        return None
    return builder.write()


def _entry_key(item: tuple[str, tuple[int, bytes]]) -> bytes:
    # git orders a tree's entries by name, a subtree's name compared as if it ended in '/'.
    name, (mode, _) = item
    return name.encode() + (b"/" if mode == FileMode.TREE else b"")


class MemTree:
    """A tree edited in memory over many versions, whose new objects go to a pack, not the odb.

    Entries are {name: (mode, binary id)}; subtrees that were edited are kept as MemTrees. The
    same rules as `apply_edits`: removals of what is absent change nothing, empty trees vanish,
    and a name cannot be both a file and a directory.
    """

    def __init__(self, repo: pygit2.Repository, oid: bytes | None) -> None:
        self.entries: dict[str, tuple[int, bytes]] = {}
        self.subtrees: dict[str, MemTree] = {}
        self.oid = oid  # None while edited and not yet written
        if oid is not None:
            for entry in repo[pygit2.Oid(raw=oid)]:
                self.entries[entry.name] = (entry.filemode, entry.id.raw)

    def edit(
        self,
        repo: pygit2.Repository,
        edits: dict[str, bytes | None],
        add_blob: Callable[[bytes], bytes],
        touched: list[Touched],
        prefix: str = "",
    ) -> None:
        leaves, nested = split_edits(edits)
        for name, data in leaves.items():
            existing = self.entries.get(name)
            is_tree = existing is not None and existing[0] == FileMode.TREE
            if data is None:
                if existing is not None and not is_tree:
                    del self.entries[name]
                    self.oid = None
                    touched.append(Touched(prefix + name, existing[1], existing[0], None, None))
                continue
            if is_tree:
                raise InvalidChange(field_for(prefix + name), "a directory of configs has this name")
            blob_id = add_blob(data)
            if existing != (FileMode.BLOB, blob_id):
                self.entries[name] = (FileMode.BLOB, blob_id)
                self.oid = None
                old = existing if existing is not None else (None, None)
                touched.append(Touched(prefix + name, old[1], old[0], blob_id, data))
        for name, sub_edits in nested.items():
            existing = self.entries.get(name)
            if existing is not None and existing[0] != FileMode.TREE:
                if all(data is None for data in sub_edits.values()):
                    continue
                raise InvalidChange(
                    field_for(prefix + name + "/" + next(iter(sub_edits))),
                    f"'{prefix + name}' is a file, it cannot also be a directory",
                )
            child = self.subtrees.get(name)
            if child is None:
                child = MemTree(repo, existing[1] if existing is not None else None)
            child.edit(repo, sub_edits, add_blob, touched, prefix + name + "/")
            if child.entries:
                self.subtrees[name] = child
                if child.oid is None or existing is None:
                    self.entries[name] = (FileMode.TREE, existing[1] if existing else b"")
                    self.oid = None
            else:
                self.subtrees.pop(name, None)
                if existing is not None:
                    del self.entries[name]
                    self.oid = None

    def write(self, add_tree: Callable[[bytes], bytes]) -> bytes:
        """The tree's binary id, serialising it (and its edited subtrees) if it changed."""
        if self.oid is not None:
            return self.oid
        for name, child in self.subtrees.items():
            self.entries[name] = (FileMode.TREE, child.write(add_tree))
        body = b"".join(
            b"%o %s\0%s" % (mode, name.encode(), oid)
            for name, (mode, oid) in sorted(self.entries.items(), key=_entry_key)
        )
        self.oid = add_tree(body)
        return self.oid
