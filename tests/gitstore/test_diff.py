from __future__ import annotations

import re
import subprocess

import pytest

from gitstore import Changes, DeviceRepo
from tests.gitstore.gitstore_support import AUTHOR, git

_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


def git_hunks(repo: DeviceRepo, a: str, b: str, path: str) -> list[tuple[int, int, int, int]]:
    out = git(repo.path, "diff", "-U3", a, b, "--", path).stdout
    return [
        (int(m[1]), int(m[2] if m[2] is not None else 1), int(m[3]), int(m[4] if m[4] is not None else 1))
        for m in _HUNK.finditer(out)
    ]


def test_statuses_and_rename_similarity(repo: DeviceRepo) -> None:
    body = "".join(f"interface Gi1/0/{i}\n description port {i}\n" for i in range(40)).encode()
    base = repo.commit_version(
        Changes(configs={"old-name": body, "gone": b"bye\n", "edit": b"a\nb\nc\n"}), AUTHOR, "base"
    ).commit
    head = repo.commit_version(
        Changes(configs={"old-name": None, "new-name": body + b"end\n", "gone": None,
                         "edit": b"a\nB\nc\n", "fresh": b"new\n"}),
        AUTHOR, "change",
    ).commit
    diff = repo.diff(base, head)
    by_path = {f.path: f for f in diff.files}
    assert by_path["configs/new-name"].status == "renamed"
    assert by_path["configs/new-name"].old_path == "configs/old-name"
    assert 50 < by_path["configs/new-name"].similarity < 100
    assert (by_path["configs/new-name"].additions, by_path["configs/new-name"].deletions) == (1, 0)
    assert by_path["configs/gone"].status == "deleted" and by_path["configs/gone"].deletions == 1
    assert by_path["configs/fresh"].status == "added" and by_path["configs/fresh"].old_path is None
    edit = by_path["configs/edit"]
    assert edit.status == "modified" and (edit.additions, edit.deletions) == (1, 1)
    assert [(ln.origin, ln.old_lineno, ln.new_lineno, ln.content) for ln in edit.hunks[0].lines] == [
        (" ", 1, 1, "a"), ("-", 2, None, "b"), ("+", None, 2, "B"), (" ", 3, 3, "c"),
    ]
    assert edit.hunks[0].header == "@@ -1,3 +1,3 @@"
    assert not diff.too_large


def test_hunk_line_numbers_match_git(repo: DeviceRepo) -> None:
    old = [f"line {i}" for i in range(300)]
    new = list(old)
    new[10] = "changed 10"
    del new[100:105]
    new.insert(200, "inserted")
    new[-1] = "last changed"
    a = repo.commit_version(Changes(configs={"c": ("\n".join(old) + "\n").encode()}), AUTHOR, "a")
    b = repo.commit_version(Changes(configs={"c": ("\n".join(new) + "\n").encode()}), AUTHOR, "b")
    ours = repo.diff(a.commit, b.commit).files[0]
    assert [(h.old_start, h.old_lines, h.new_start, h.new_lines) for h in ours.hunks] == git_hunks(
        repo, a.commit, b.commit, "configs/c"
    )
    numstat = git(repo.path, "diff", "--numstat", a.commit, b.commit).stdout.split()
    assert [ours.additions, ours.deletions] == [int(numstat[0]), int(numstat[1])]
    for hunk in ours.hunks:
        olds = [ln.old_lineno for ln in hunk.lines if ln.old_lineno is not None]
        assert olds == list(range(hunk.old_start, hunk.old_start + hunk.old_lines))


def test_binary_is_flagged_not_diffed(repo: DeviceRepo) -> None:
    a = repo.commit_version(Changes(configs={"fw.bin": b"\x00\x01" * 100}), AUTHOR, "a").commit
    b = repo.commit_version(Changes(configs={"fw.bin": b"\x00\x02" * 100}), AUTHOR, "b").commit
    (file,) = repo.diff(a, b).files
    assert file.binary and file.hunks == [] and not file.too_large


def test_size_and_line_budget_caps(repo: DeviceRepo) -> None:
    big = b"".join(b"line %d\n" % i for i in range(5000))
    a = repo.commit_version(Changes(configs={"big": big, "a": b"1\n", "b": b"1\n"}), AUTHOR, "a")
    b = repo.commit_version(
        Changes(configs={"big": big + b"more\n", "a": b"2\n", "b": b"2\n"}), AUTHOR, "b"
    )
    by_size = {f.path: f for f in repo.diff(a.commit, b.commit, max_file_bytes=10_000).files}
    assert by_size["configs/big"].too_large and by_size["configs/big"].hunks == []
    assert not by_size["configs/a"].too_large and by_size["configs/a"].hunks

    # Budget: files in path order a, b, big; `a` fits (2 lines), then `b` would overflow 3.
    capped = repo.diff(a.commit, b.commit, max_total_lines=3)
    by_path = {f.path: f for f in capped.files}
    assert capped.too_large
    assert by_path["configs/a"].hunks and not by_path["configs/a"].too_large
    assert by_path["configs/b"].too_large and by_path["configs/b"].hunks == []
    assert by_path["configs/big"].too_large and by_path["configs/big"].additions == 1
    assert not repo.diff(a.commit, b.commit).too_large


def test_ports_and_photos_diff_as_data(repo: DeviceRepo) -> None:
    photo1 = {"sha256": "1" * 64, "filename": "a.jpg", "content_type": "image/jpeg", "size": 1}
    photo2 = {"sha256": "2" * 64, "filename": "b.png", "content_type": "image/png", "size": 2}
    a = repo.commit_version(
        Changes(
            ports=[{"name": "Gi1/0/1", "vlans": [10], "enabled": True},
                   {"name": "Gi1/0/2", "description": "old"}],
            photos=[photo1],
        ),
        AUTHOR, "a",
    ).commit
    repo.commit_version(Changes(configs={"x": b"unrelated\n"}), AUTHOR, "between")
    b = repo.commit_version(
        Changes(
            ports=[{"name": "Gi1/0/1", "vlans": [10, 20], "enabled": False, "mtu": 9000},
                   {"name": "Gi1/0/3"}],
            photos=[photo2],
        ),
        AUTHOR, "b",
    ).commit
    diff = repo.diff(a, b)  # two versions apart: any two versions diff
    assert diff.ports.added == [{"name": "Gi1/0/3"}]
    assert diff.ports.removed == [{"name": "Gi1/0/2", "description": "old"}]
    assert diff.ports.changed == [{
        "name": "Gi1/0/1",
        "fields": {
            "enabled": {"from": True, "to": False},
            "mtu": {"from": None, "to": 9000},
            "vlans": {"from": [10], "to": [10, 20]},
        },
    }]
    assert diff.photos == {"added": [photo2], "removed": [photo1]}
    assert {f.path for f in diff.files} == {"configs/x", "ports.json", "photos.json"}
    assert diff.from_commit == a and diff.to_commit == b
    reverse = repo.diff(b, a)
    assert reverse.ports.added == diff.ports.removed
    assert repo.diff(a, a).files == []


def test_large_config_diff_matches_git(repo: DeviceRepo) -> None:
    """Correctness on a 50,000-line config; its speed against `git diff` is measured by the bench."""
    lines = [f" interface GigabitEthernet1/0/{i}\n  description host-{i}\n" for i in range(25_000)]
    old = "".join(lines).encode()  # 50,000 lines
    changed = list(lines)
    for i in range(0, 25_000, 100):  # 250 ports = 500 lines = 1% changed
        changed[i] = f" interface GigabitEthernet1/0/{i}\n  description CHANGED-{i}\n"
    a = repo.commit_version(Changes(configs={"running": old}), AUTHOR, "a").commit
    b = repo.commit_version(Changes(configs={"running": "".join(changed).encode()}), AUTHOR, "b").commit
    with DeviceRepo.open(repo.path) as fresh:  # cold handle, as in a request
        diff = fresh.diff(a, b, max_file_bytes=5_000_000)  # ~1.7 MB file
    assert diff.files[0].additions == 250 and diff.files[0].deletions == 250 and not diff.too_large
    numstat = subprocess.run(["git", "--git-dir", str(repo.path), "diff", "--numstat", a, b],
                             capture_output=True, check=True, text=True).stdout.split()
    assert numstat[:2] == ["250", "250"]
    assert len(diff.files[0].hunks) == 250


@pytest.mark.parametrize("context", [0, 1, 5])
def test_context_lines(repo: DeviceRepo, context: int) -> None:
    text = [f"{i}\n" for i in range(50)]
    a = repo.commit_version(Changes(configs={"c": "".join(text).encode()}), AUTHOR, "a").commit
    text[25] = "x\n"
    b = repo.commit_version(Changes(configs={"c": "".join(text).encode()}), AUTHOR, "b").commit
    (hunk,) = repo.diff(a, b, context_lines=context).files[0].hunks
    assert len(hunk.lines) == 2 + 2 * context
