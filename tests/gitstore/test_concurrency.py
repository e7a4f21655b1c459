"""Several processes writing at once, writers killed mid-write, and stale git lock files."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitstore import Changes, DeviceRepo, GitStoreError
from tests.gitstore.gitstore_support import AUTHOR, fsck, git

WORKTREE = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("writer.py")


def spawn(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    return subprocess.Popen(
        [sys.executable, str(WRITER), *args], cwd=WORKTREE, env=env, text=True, **kwargs
    )


def commit_count(path: Path) -> int:
    return int(git(path, "rev-list", "--count", "main").stdout)


def test_parallel_writers_without_parent_lose_nothing(repo_path: Path) -> None:
    before = commit_count(repo_path)
    procs = [spawn("stack", str(repo_path), "50", str(n)) for n in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    assert commit_count(repo_path) == before + 200
    fsck(repo_path)
    with DeviceRepo.open(repo_path) as repo:
        configs = repo.read("HEAD").configs
        assert configs == {f"w{n}": f"{n} write 49\n".encode() for n in range(4)}
        # History is linear: every commit has exactly one parent except the root.
        assert all(len(c.parents) <= 1 for c in repo.log())


def test_racers_on_a_stale_parent_exactly_one_wins(repo_path: Path) -> None:
    procs = [
        spawn("race", str(repo_path), str(n), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for n in range(4)
    ]
    try:
        for _ in range(15):
            with DeviceRepo.open(repo_path) as repo:
                parent = repo.head()
            for p in procs:
                p.stdin.write(parent + "\n")
                p.stdin.flush()
            answers = [p.stdout.readline().split() for p in procs]
            winners = [a for a in answers if a[0] == "won"]
            assert len(winners) == 1, answers
            new_head = winners[0][1]
            assert all(a == ["lost", new_head] for a in answers if a[0] == "lost")
            with DeviceRepo.open(repo_path) as repo:
                assert repo.head() == new_head
                assert repo.read("HEAD").parents == [parent]
    finally:
        for p in procs:
            p.stdin.close()
        assert [p.wait(timeout=30) for p in procs] == [0, 0, 0, 0]
    fsck(repo_path)


MAX_KILLS = 300


def test_writer_killed_at_random_moments_leaves_a_valid_repo(repo_path: Path) -> None:
    rng = random.Random(1234)
    start = 0
    heads_seen = 0
    mid_write = tmp_before = 0
    kills = 0
    # At least 50 kills in a row; more (bounded) until at least 5 of them are seen landing inside a
    # write, since on a busy machine fewer of the random moments happen to fall inside one.
    while kills < 50 or (mid_write < 5 and kills < MAX_KILLS):
        kills += 1
        start += 1000
        proc = spawn("loop", str(repo_path), str(start), stdout=subprocess.PIPE)
        # Let it get into its write loop (a random number of completed writes), then kill it
        # at a random point of a later write.
        for _ in range(rng.randrange(1, 4)):
            assert proc.stdout.readline(), "writer died on its own"
        # Random jitter (not a wait for work) so the kill lands at different places of a write.
        time.sleep(rng.uniform(0, 0.004))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        # Evidence the kill landed inside a write: libgit2's temporary object files left over
        # (git gc prunes them later; they are invisible to readers and to fsck).
        tmp_objects = len(list(repo_path.glob("objects/**/tmp_*")))
        mid_write += tmp_objects > tmp_before
        tmp_before = tmp_objects
        fsck(repo_path)
        main = git(repo_path, "rev-parse", "--verify", "main^{commit}").stdout.decode().strip()
        assert len(main) == 40
        with DeviceRepo.open(repo_path) as repo:
            assert repo.head() == main
            result = repo.commit_version(
                Changes(configs={"after-kill": f"{start}\n".encode()}), AUTHOR, "after kill"
            )
            assert result.changed and result.parent == main
            heads_seen += 1
    fsck(repo_path)
    assert heads_seen == kills >= 50
    assert mid_write >= 5, f"only {mid_write} of {kills} kills interrupted a write"


def test_stale_git_lock_is_cleared_by_the_next_write(repo: DeviceRepo) -> None:
    refs = repo.path / "refs" / "heads"
    (refs / "main.lock").write_text("garbage from a killed writer\n")
    (repo.path / "packed-refs.lock").write_text("")
    (repo.path / "refs" / "tags").mkdir(exist_ok=True)
    (repo.path / "refs" / "tags" / "v1.lock").write_text("")
    result = repo.commit_version(Changes(configs={"a": b"x"}), AUTHOR, "after crash")
    assert result.changed
    assert not (refs / "main.lock").exists()
    assert not (repo.path / "packed-refs.lock").exists()
    repo.create_tag("v1", "HEAD", "ok", AUTHOR)
    # git itself can write again too.
    assert git(repo.path, "update-ref", "refs/heads/main", result.commit, result.commit).returncode == 0
    fsck(repo.path)


def test_write_lock_times_out_and_is_reentrant(repo_path: Path) -> None:
    with DeviceRepo.open(repo_path) as holder, DeviceRepo.open(repo_path) as other:
        with holder.write_lock():
            # Re-entrant for the same handle: commit_version inside a held lock works.
            holder.commit_version(Changes(configs={"a": b"x"}), AUTHOR, "inside the lock")
            with pytest.raises(GitStoreError), other.write_lock(timeout=0.05):
                pass
        with other.write_lock(timeout=1):
            pass
