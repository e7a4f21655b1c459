"""The once-per-write line comparison (gitstore/textchange.py): its counts are libgit2's, its
deltas rebuild the new version exactly, and an import stores versions as delta chains git reads."""

from __future__ import annotations

import random

import pygit2
from pygit2.enums import DiffOption

from gitstore import Changes, DeviceRepo, ImportVersion
from gitstore.pack import MAX_DEPTH
from gitstore.textchange import MAX_EXACT, TextChange
from tests.gitstore.gitstore_support import AUTHOR, fsck, git


def _apply(base: bytes, delta: bytes) -> bytes:
    """git's patch-delta, written out from the format: what a reader does with our deltas."""
    pos = 0

    def varint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = delta[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    assert varint() == len(base)
    size = varint()
    out = bytearray()
    while pos < len(delta):
        command = delta[pos]
        pos += 1
        assert command, "opcode 0 is reserved"
        if command & 0x80:
            offset = length = 0
            for bit in range(4):
                if command & (1 << bit):
                    offset |= delta[pos] << (8 * bit)
                    pos += 1
            for bit in range(3):
                if command & (0x10 << bit):
                    length |= delta[pos] << (8 * bit)
                    pos += 1
            length = length or 0x10000
            assert offset + length <= len(base)
            out += base[offset:offset + length]
        else:
            out += delta[pos:pos + command]
            pos += command
    assert len(out) == size
    return bytes(out)


def _libgit2_counts(old: bytes, new: bytes) -> tuple[int, int]:
    _, additions, deletions = pygit2.Patch.create_from(
        old, new, flag=DiffOption.INDENT_HEURISTIC, context_lines=0).line_stats
    return additions, deletions


def _pair(rng: random.Random) -> tuple[bytes, bytes]:
    """Config-like texts with repeated lines ('!', blanks, duplicates), edits in place, inserts,
    deletions, moves, and every combination of final newlines."""
    pool = [b"!", b"", b" shutdown", b" no ip address", b"interface Gi1/0/%d" % rng.randrange(5)]
    old = [rng.choice(pool) if rng.random() < 0.4 else b"line %d" % rng.randrange(400)
           for _ in range(rng.randrange(0, 300))]
    new = list(old)
    for _ in range(rng.choice([0, 1, 2, 3, 6, 7, 20])):
        kind = rng.random()
        at = rng.randrange(len(new) + 1)
        if kind < 0.4 and new and at < len(new):
            new[at] = rng.choice([b"changed %d" % rng.randrange(10**6), rng.choice(pool)])
        elif kind < 0.6:
            new.insert(at, rng.choice([b"added %d" % rng.randrange(10**6), rng.choice(pool)]))
        elif kind < 0.8 and new:
            del new[min(at, len(new) - 1)]
        elif new:
            new.insert(rng.randrange(len(new) + 1), new.pop(rng.randrange(len(new))))
    def text(lines: list[bytes]) -> bytes:
        return b"\n".join(lines) + (b"\n" if lines and rng.random() < 0.8 else b"")
    return text(old), text(new)


def test_counts_equal_libgit2_and_deltas_rebuild_the_new_version() -> None:
    rng = random.Random(11)
    counted = delta_made = 0
    for _ in range(3000):
        old, new = _pair(rng)
        change = TextChange(old, new)
        counts = change.stats()
        if counts is not None:
            counted += 1
            assert counts == _libgit2_counts(old, new), (old, new)
            assert max(counts) <= MAX_EXACT
        delta = change.delta()
        if delta is not None:
            delta_made += 1
            assert _apply(old, delta) == new, (old, new)
    assert counted > 400 and delta_made > 500  # the fast paths are really exercised


def test_changed_lines_are_the_lines_only_one_side_has() -> None:
    change = TextChange(b"a\n! t1\nb\nc\n", b"a\n! t2\nb\nc\nd\n")
    assert change.changed_lines() == ([b"! t1"], [b"! t2", b"d"])
    # A final newline added or removed is a change of its own: no line list describes it.
    assert TextChange(b"a\nb", b"a\nb\n").changed_lines() is None
    # Reordered lines: the fast comparison does not apply.
    assert TextChange(b"a\nb\nc\n", b"c\nb\na\n").changed_lines() is None


def test_binary_files_are_left_to_libgit2() -> None:
    assert TextChange(b"a\0\nb\n", b"a\0\nc\n").stats() is None


def test_import_stores_versions_as_delta_chains_git_reads(tmp_path) -> None:
    path, _ = DeviceRepo.create(tmp_path / "r", "33333333-3333-4333-8333-333333333333", {"name": "sw1"}, AUTHOR)
    rng = random.Random(5)
    lines = [b"interface Gi1/0/%d description %d" % (i, rng.randrange(10**6)) for i in range(400)]
    texts = []
    for i in range(130):
        at = rng.randrange(len(lines))
        lines[at] = b"interface Gi1/0/%d description changed %d" % (at, i)
        if i % 9 == 0:
            lines.insert(rng.randrange(len(lines)), b"added %d" % i)
        texts.append(b"\n".join(lines) + (b"" if i % 10 == 3 else b"\n"))
    versions = [ImportVersion(Changes(configs={"running": t}), f"v{i}", 1_500_000_000 + i, 0)
                for i, t in enumerate(texts)]
    with DeviceRepo.open(path) as repo:
        result = repo.import_versions(versions, AUTHOR, expected_parent=repo.head())
        assert len(result.commits) == len(texts)
        for (_, commit), text in zip(result.commits, texts, strict=True):
            assert repo.read_file(commit.commit, "configs/running") == text
    fsck(path)
    git(path, "fsck", "--full", "--strict", "--no-progress")
    for i, text in enumerate(texts):
        assert git(path, "show", f"main~{len(texts) - 1 - i}:configs/running").stdout == text
    pack = next((path / "objects" / "pack").glob("*.idx"))
    stats = git(path, "verify-pack", "-v", str(pack)).stdout.decode()
    chains = [int(line.split("=")[1].split(":")[0]) for line in stats.splitlines() if line.startswith("chain length")]
    assert chains and max(chains) == MAX_DEPTH  # deltas, and chains cut at git's pack.depth
