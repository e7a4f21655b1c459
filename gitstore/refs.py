"""Compare-and-swap ref moves: the only way gitstore changes a ref.

A ref moves through a libgit2 reference transaction: `lock_ref` takes git's own lock on it
(`<ref>.lock`, created with O_EXCL, which `git update-ref` and `receive-pack` respect too), the
ref is read again UNDER that lock and compared with the value the caller based its write on, and
only then is the new value written. So a writer that bypassed our flock can never be silently
overwritten: either it holds git's lock (we wait, then report busy) or it already moved the ref
(we see a different value and report a conflict). Nothing here writes with force.

Durability (see durability.py): one filesystem barrier BEFORE the ref moves (every object the
new value names is on disk first) and one AFTER (the new value survives a power cut once we
return). tests/gitstore/test_durability.py fails if either is removed or reordered.
"""

from __future__ import annotations

from pathlib import Path

import pygit2

from .durability import flush_filesystem
from .errors import ConflictError, RepositoryBusy, TagExists

# How long we retry git's own ref lock when another git process holds it.
REF_LOCK_ATTEMPTS = 3


def current_value(raw: pygit2.Repository, name: str) -> str | None:
    ref = raw.references.get(name)
    return None if ref is None else str(ref.target)


def move_ref(
    raw: pygit2.Repository,
    path: Path,
    name: str,
    new: pygit2.Oid | str | None,
    expected: str | None,
    message: str = "infratrace",
) -> None:
    """Set ref `name` to `new` (None deletes it) only if it still equals `expected`.

    `expected` None means "must not exist yet". ConflictError(current) when the ref moved
    (TagExists for a tag that appeared meanwhile), RepositoryBusy when git holds its lock.
    """
    flush_filesystem(path)  # barrier 1: the objects `new` names are durable before any ref names them
    try:
        with raw.transaction() as txn:
            try:
                txn.lock_ref(name)
            except pygit2.GitError as exc:
                raise RepositoryBusy(f"{name} is locked by another git process: {exc}") from None
            current = current_value(raw, name)
            if current != expected:
                if expected is None and name.startswith("refs/tags/"):
                    raise TagExists(name.removeprefix("refs/tags/"))
                raise ConflictError(current)
            if new is None:
                txn.remove(name)
            else:
                txn.set_target(name, new, message=message)
    except pygit2.GitError as exc:  # the commit of the transaction itself (e.g. a vanished lock)
        raise RepositoryBusy(f"{name} could not be updated: {exc}") from None
    flush_filesystem(path)  # barrier 2: the moved ref survives a power cut once we return
