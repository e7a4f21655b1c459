"""Ref moves are a real compare-and-swap, durable in the right order, and git's lock files are
reclaimed only when their holder is provably gone (issue 9, findings 5 and 8)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pygit2
import pytest

import gitstore.durability as durability
import gitstore.repo as repo_module
from gitstore import Changes, ConflictError, DeviceRepo, GitStoreError, ImportVersion
from tests.gitstore.gitstore_support import AUTHOR, fsck, git

MAIN = "refs/heads/main"


def _ref_on_disk(path: Path, name: str) -> str | None:
    """What a fresh reader sees (not our handle's caches)."""
    raw = pygit2.Repository(str(path))
    try:
        ref = raw.references.get(name)
        return None if ref is None else str(ref.target)
    finally:
        raw.free()


def _record_barriers(monkeypatch: pytest.MonkeyPatch, path: Path, name: str) -> list[str | None]:
    """Every filesystem barrier (durability.flush_filesystem, however it is reached) records the
    value of ref `name` on disk at that moment."""
    seen: list[str | None] = []

    def syncfs(fd: int) -> int:
        seen.append(_ref_on_disk(path, name))
        return 0

    monkeypatch.setattr(durability, "_syncfs", lambda: syncfs)
    return seen


@pytest.mark.parametrize("way", ["commit", "import", "tag"])
def test_a_barrier_comes_before_and_after_every_ref_move(repo: DeviceRepo, monkeypatch, way) -> None:
    """Fails if the barrier before the ref update is removed or moved after it (then the new
    objects could be lost by a power cut while a ref already names them), or the one after."""
    old_head = repo.head()
    name = "refs/tags/v1" if way == "tag" else MAIN
    seen = _record_barriers(monkeypatch, repo.path, name)
    if way == "commit":
        new = repo.commit_version(Changes(configs={"a": b"1\n"}), AUTHOR, "one").commit
    elif way == "import":
        new = repo.import_versions([ImportVersion(Changes(configs={"a": b"2\n"}), "two")], AUTHOR).head
    else:
        tag = repo.create_tag("v1", "HEAD", "named", AUTHOR)
        new = str(repo.raw.references[name].target)
        assert tag.target == old_head
    old = None if way == "tag" else old_head
    assert seen, "no durability barrier at all"
    assert seen[0] == old, "the first barrier ran after the ref had moved"
    assert seen[-1] == new, "no barrier after the ref moved"


def test_a_writer_that_bypassed_the_lock_is_never_overwritten(repo: DeviceRepo, monkeypatch) -> None:
    """Finding 5: the ref write was forced, so the flock was the only guard. Here another writer
    moves main without our lock after we read the head; our write must fail as a conflict and
    leave the other writer's commit in place."""
    stale = repo.head()
    who = pygit2.Signature(AUTHOR.name, AUTHOR.email)
    other = repo.raw.create_commit(None, who, who, "other", repo.raw[stale].tree.id, [pygit2.Oid(hex=stale)])
    assert git(repo.path, "update-ref", MAIN, str(other), stale).returncode == 0
    # Our writer still believes main is `stale` (it read it before the other writer moved it).
    monkeypatch.setattr(repo_module, "head", lambda raw: stale)
    with pytest.raises(ConflictError) as caught:
        repo.commit_version(Changes(configs={"mine": b"x\n"}), AUTHOR, "mine")
    assert caught.value.current_head == str(other)
    assert _ref_on_disk(repo.path, MAIN) == str(other)
    fsck(repo.path)


HOLDER = """
import sys, time
handle = open(sys.argv[1], "w")
handle.write("held by a live writer\\n"); handle.flush()
print("ready", flush=True)
time.sleep(120)
"""


def test_a_live_writers_lock_is_left_alone_and_a_dead_ones_is_reclaimed(repo: DeviceRepo) -> None:
    """Finding 5 / point 3: every lock acquisition deleted all git `.lock` files. A lock file a
    live process holds open stays (the write reports busy instead of overwriting that writer);
    once the holder is gone, the next write reclaims it."""
    lock = repo.path / "refs" / "heads" / "main.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        before = repo.head()
        with pytest.raises(GitStoreError):  # RepositoryBusy
            repo.commit_version(Changes(configs={"a": b"x\n"}), AUTHOR, "while locked")
        assert lock.exists(), "a live writer's lock file was deleted"
        assert _ref_on_disk(repo.path, MAIN) == before
    finally:
        holder.kill()
        holder.wait(timeout=10)
    deadline = time.monotonic() + 10
    result = None
    while result is None:
        try:
            result = repo.commit_version(Changes(configs={"a": b"x\n"}), AUTHOR, "after the holder died")
        except GitStoreError:  # RepositoryBusy
            # /proc may still list the killed holder for a moment.
            assert time.monotonic() < deadline
    assert result.changed and not lock.exists()
    fsck(repo.path)
