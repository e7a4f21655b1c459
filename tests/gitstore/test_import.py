"""Batch import into one pack, and per-file stats computed from the edits instead of a re-diff."""

from __future__ import annotations

import random

import pytest

from gitstore import Changes, ConflictError, DeviceRepo, ImportVersion, InvalidChange
from gitstore import diff as diffing
from tests.gitstore.gitstore_support import AUTHOR, fsck, git


def _lines(rng: random.Random, n: int) -> list[bytes]:
    return [b"line %d %d" % (i, rng.randrange(10**6)) for i in range(n)]


def _variants(rng: random.Random) -> list[Changes]:
    """Writes of every kind: add, modify, delete, binary, CRLF, no final newline, empty, ports,
    a delete plus an add in one write (a rename candidate), and subdirectories of configs."""
    base = _lines(rng, 200)
    moved = b"\n".join(base[:150]) + b"\n"
    return [
        Changes(configs={"running": b"\n".join(base) + b"\n", "startup": b"a\nb\n"}),
        Changes(configs={"running": b"\n".join(base[:100] + [b"changed"] + base[101:]) + b"\n"}),
        Changes(configs={"startup": None, "site/edge": b"x\r\ny\r\n"}),
        Changes(configs={"blob.bin": bytes(range(256)) * 4}),
        Changes(configs={"blob.bin": bytes(range(255, -1, -1)) * 4, "noeol": b"last line"}),
        Changes(configs={"noeol": b"last line\nmore", "empty": b""}),
        Changes(ports=[{"name": "Gi1/0/2"}, {"name": "Gi1/0/10", "vlans": [10]}]),
        Changes(configs={"running": None, "renamed": moved}),
        Changes(configs={"site/edge": None, "empty": None}, ports=[]),
        Changes(configs={"site/core/a": b"1\n", "site/core/b": b"2\n"}),
        Changes(configs={"site/core/a": None, "site/core/b": None}),
    ]


def test_stats_from_edits_equal_a_tree_diff(repo: DeviceRepo) -> None:
    for changes in _variants(random.Random(7)):
        result = repo.commit_version(changes, AUTHOR, "step")
        assert result.changed
        info = repo.commit_info(result.commit)  # libgit2 diffing the two trees, with renames
        assert result.files == info.files, changes


def _as_import(changes_list: list[Changes]) -> list[ImportVersion]:
    return [ImportVersion(c, f"version {i}", 1_500_000_000 + i * 3600, 120) for i, c in enumerate(changes_list)]


def test_import_matches_one_by_one_writes_and_is_fsck_clean(tmp_path) -> None:
    variants = _variants(random.Random(3))
    one, _ = DeviceRepo.create(tmp_path / "a", "11111111-1111-4111-8111-111111111111", {"name": "sw1"}, AUTHOR)
    two, _ = DeviceRepo.create(tmp_path / "b", "22222222-2222-4222-8222-222222222222", {"name": "sw1"}, AUTHOR)
    with DeviceRepo.open(one) as repo:
        singles = [repo.commit_version(c, AUTHOR, f"version {i}") for i, c in enumerate(variants)]
        single_trees = [repo.raw[r.commit].tree.id for r in singles]
    with DeviceRepo.open(two) as repo:
        start = repo.head()
        result = repo.import_versions(_as_import(variants), AUTHOR, expected_parent=start)
        assert result.previous_head == start and result.skipped == []
        assert [i for i, _ in result.commits] == list(range(len(variants)))
        assert result.head == result.commits[-1][1].commit == repo.head()
        for (_, commit), tree, single in zip(result.commits, single_trees, singles, strict=True):
            assert repo.raw[commit.commit].tree.id == tree, "same content as single writes"
            assert commit.files == single.files == repo.commit_info(commit.commit).files
        parents = [c.parent for _, c in result.commits]
        assert parents == [start] + [c.commit for _, c in result.commits[:-1]]
        first = repo.commit_info(result.commits[0][1].commit)
        assert first.created_at.timestamp() == 1_500_000_000 and first.message == "version 0"
    fsck(two)
    # One pack for the whole batch; git itself reads it and agrees on the dates and offsets.
    assert len(list((two / "objects" / "pack").glob("pack-*.pack"))) == 1
    assert git(two, "verify-pack", str(next((two / "objects" / "pack").glob("*.idx")))).returncode == 0
    dates = git(two, "log", "--format=%ad", "--date=raw", "main").stdout.decode().split("\n")
    assert dates[0] == f"{1_500_000_000 + (len(variants) - 1) * 3600} +0200"


def test_import_skips_no_change_versions(repo: DeviceRepo) -> None:
    versions = _as_import([Changes(configs={"a": b"1\n"}), Changes(configs={"a": b"1\n"}),
                           Changes(ports=[]), Changes(configs={"a": b"2\n"})])
    result = repo.import_versions(versions, AUTHOR)
    assert result.skipped == [1, 2] and [i for i, _ in result.commits] == [0, 3]
    assert result.commits[1][1].parent == result.commits[0][1].commit
    nothing = repo.import_versions(_as_import([Changes(configs={"a": b"2\n"})]), AUTHOR)
    assert nothing.commits == [] and nothing.skipped == [0] and nothing.head == repo.head()
    fsck(repo.path)


def test_a_bad_version_leaves_the_repo_untouched(repo: DeviceRepo) -> None:
    head = repo.head()
    packs = list((repo.path / "objects").rglob("*"))
    bad = [Changes(configs={"a": b"1\n"}), Changes(configs={"../x": b"2\n"})]
    with pytest.raises(InvalidChange) as caught:
        repo.import_versions(_as_import(bad), AUTHOR)
    assert caught.value.field.startswith("versions[1].configs")
    clash = [Changes(configs={"a": b"1\n"}), Changes(configs={"a/b": b"2\n"})]
    with pytest.raises(InvalidChange) as caught:
        repo.import_versions(_as_import(clash), AUTHOR)
    assert caught.value.field == "versions[1].configs.a/b"
    with pytest.raises(ConflictError):
        repo.import_versions(_as_import([Changes(configs={"a": b"1\n"})]), AUTHOR, expected_parent="0" * 40)
    assert repo.head() == head and list((repo.path / "objects").rglob("*")) == packs


def test_stats_fall_back_to_a_tree_diff_for_renames(repo: DeviceRepo) -> None:
    text = b"".join(b"line %d\n" % i for i in range(50))
    repo.commit_version(Changes(configs={"old-name": text}), AUTHOR, "add")
    result = repo.commit_version(Changes(configs={"old-name": None, "new-name": text}), AUTHOR, "mv")
    assert [(f.path, f.status, f.old_path) for f in result.files] == [
        ("configs/new-name", "renamed", "configs/old-name")]
    assert diffing.changes_from_edits(repo.raw, []) == []
