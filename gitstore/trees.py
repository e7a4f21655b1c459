"""Building a new tree from a parent tree in memory (no working tree, no index on disk)."""

from __future__ import annotations

import pygit2
from pygit2.enums import FileMode, ObjectType

from .errors import InvalidChange


def field_for(path: str) -> str:
    """The InvalidChange field for a stored path: `configs/a/b` -> `configs.a/b`."""
    top, _, rest = path.partition("/")
    return f"{top}.{rest}" if rest else top


def apply_edits(
    repo: pygit2.Repository,
    tree: pygit2.Tree | None,
    edits: dict[str, bytes | None],
    prefix: str = "",
) -> pygit2.Oid | None:
    """Write the tree `tree` with `edits` applied ({path: content, or None to remove}).

    Only the trees along edited paths are rewritten; untouched subtrees keep their ids. Trees
    left empty are dropped (git does not track empty directories). Returns None for an empty
    tree so the caller can prune it from its own parent.
    """
    builder = repo.TreeBuilder(tree) if tree is not None else repo.TreeBuilder()
    leaves: dict[str, bytes | None] = {}
    nested: dict[str, dict[str, bytes | None]] = {}
    for path, data in edits.items():
        head, sep, rest = path.partition("/")
        if sep:
            nested.setdefault(head, {})[rest] = data
        else:
            leaves[head] = data

    for name, data in leaves.items():
        existing = builder.get(name)
        is_tree = existing is not None and existing.type == ObjectType.TREE
        if data is None:
            # Removing what is not there (or is a directory of configs) changes nothing.
            if existing is not None and not is_tree:
                builder.remove(name)
            continue
        if is_tree:
            raise InvalidChange(field_for(prefix + name), "a directory of configs has this name")
        builder.insert(name, repo.create_blob(bytes(data)), FileMode.BLOB)

    for name, sub_edits in nested.items():
        existing = builder.get(name)
        if existing is not None and existing.type != ObjectType.TREE:
            if all(data is None for data in sub_edits.values()):
                continue
            raise InvalidChange(
                field_for(prefix + name + "/" + next(iter(sub_edits))),
                f"'{prefix + name}' is a file, it cannot also be a directory",
            )
        oid = apply_edits(repo, existing, sub_edits, prefix + name + "/")
        if oid is not None:
            builder.insert(name, oid, FileMode.TREE)
        elif existing is not None:
            builder.remove(name)

    if len(builder) == 0:
        return None
    return builder.write()
