from __future__ import annotations

import pytest

from gitstore import (
    Changes,
    ConflictError,
    DeviceRepo,
    FileChange,
    InvalidChange,
    canonical_json,
    natural_key,
)
from tests.gitstore.gitstore_support import AUTHOR, fsck, git


def test_partial_writes_change_only_what_is_given(repo: DeviceRepo) -> None:
    first = repo.commit_version(
        Changes(configs={"running-config": b"hostname sw1\n", "startup-config": b"x\n"}),
        AUTHOR, "configs",
    )
    second = repo.commit_version(Changes(ports=[{"name": "Gi1/0/1"}]), AUTHOR, "ports")
    assert second.parent == first.commit
    assert [f.path for f in second.files] == ["ports.json"]
    snap = repo.read("HEAD")
    assert snap.configs == {"running-config": b"hostname sw1\n", "startup-config": b"x\n"}
    assert snap.device == {"name": "sw1"}
    assert snap.ports == [{"name": "Gi1/0/1"}]
    assert snap.message == "ports"
    assert snap.parents == [first.commit]
    assert snap.created_at.tzinfo is not None
    fsck(repo.path)


def test_null_removes_a_config_and_missing_removal_is_no_change(repo: DeviceRepo) -> None:
    repo.commit_version(Changes(configs={"a": b"1\n", "b": b"2\n"}), AUTHOR, "add")
    removed = repo.commit_version(Changes(configs={"a": None}), AUTHOR, "rm a")
    assert removed.changed
    assert removed.files == [FileChange("configs/a", "deleted", 0, 1)]
    assert repo.read("HEAD").configs == {"b": b"2\n"}
    again = repo.commit_version(Changes(configs={"a": None}), AUTHOR, "rm a again")
    assert not again.changed and again.commit == removed.commit


def test_no_change_makes_no_commit(repo: DeviceRepo) -> None:
    done = repo.commit_version(
        Changes(configs={"c": b"x\n"}, ports=[{"name": "Gi1"}]), AUTHOR, "one"
    )
    count = git(repo.path, "rev-list", "--count", "main").stdout
    same = repo.commit_version(
        Changes(device={"name": "sw1"}, configs={"c": b"x\n"}, ports=[{"name": "Gi1"}]),
        AUTHOR, "same again",
    )
    assert (same.changed, same.commit, same.parent) == (False, done.commit, done.parent)
    assert same.files == []
    assert git(repo.path, "rev-list", "--count", "main").stdout == count
    # An empty port list equals no ports.json at all (one representation of "no ports").
    cleared = repo.commit_version(Changes(ports=[]), AUTHOR, "clear ports")
    assert cleared.changed and repo.read("HEAD").ports == []
    assert not repo.commit_version(Changes(ports=[], photos=[]), AUTHOR, "still none").changed


def test_message_is_required(repo: DeviceRepo) -> None:
    with pytest.raises(InvalidChange) as err:
        repo.commit_version(Changes(configs={"a": b"x"}), AUTHOR, "  \n ")
    assert err.value.field == "message"


def test_bytes_are_preserved_exactly(repo: DeviceRepo) -> None:
    crlf = b"interface Gi1/0/1\r\n description uplink\r\n"
    binary = bytes(range(256)) * 4
    latin1 = "banner motd Caf\xe9\n".encode("latin-1")
    repo.commit_version(
        Changes(configs={"crlf.cfg": crlf, "blob.bin": binary, "latin1": latin1}), AUTHOR, "raw"
    )
    for name, data in (("crlf.cfg", crlf), ("blob.bin", binary), ("latin1", latin1)):
        assert git(repo.path, "cat-file", "blob", f"main:configs/{name}").stdout == data
        assert repo.read_file("HEAD", f"configs/{name}") == data
    assert repo.read("HEAD").configs["blob.bin"] == binary


def test_json_files_are_canonical_and_ports_natural_order(repo: DeviceRepo) -> None:
    ports = [
        {"name": "Gi1/0/10", "enabled": True, "vlans": [30, 10, 10]},
        {"name": "Gi1/0/2", "description": "caf\u00e9", "mode": "access"},
        {"name": "Gi1/0/1", "peer": {"port": "eth0", "device": "srv"}},
    ]
    photo = {"sha256": "a" * 64, "filename": "front.jpg", "content_type": "image/jpeg", "size": 3}
    repo.commit_version(
        Changes(device={"z": 1, "a": {"y": [1, 2], "b": None}}, ports=ports, photos=[photo]),
        AUTHOR, "json",
    )
    stored_ports = git(repo.path, "cat-file", "blob", "main:ports.json").stdout
    assert [p["name"] for p in repo.read("HEAD").ports] == ["Gi1/0/1", "Gi1/0/2", "Gi1/0/10"]
    assert stored_ports == canonical_json(repo.read("HEAD").ports)
    assert '"description": "café"'.encode() in stored_ports  # UTF-8, not \u escapes
    assert b'"vlans": [\n      10,\n      30\n    ]' in stored_ports  # sorted, deduplicated
    device = git(repo.path, "cat-file", "blob", "main:device.json").stdout
    assert device == b'{\n  "a": {\n    "b": null,\n    "y": [\n      1,\n      2\n    ]\n  },\n  "z": 1\n}\n'
    assert git(repo.path, "cat-file", "blob", "main:photos.json").stdout == canonical_json([photo])
    assert natural_key("Gi1/0/2") < natural_key("Gi1/0/10") < natural_key("Gi2/0/1")
    fsck(repo.path)


def test_nested_config_names_make_nested_trees(repo: DeviceRepo) -> None:
    repo.commit_version(
        Changes(configs={"junos/re0/config": b"a\n", "junos/re1/config": b"b\n", "top": b"c\n"}),
        AUTHOR, "nested",
    )
    listing = git(repo.path, "ls-tree", "-r", "-t", "--name-only", "main").stdout.decode().split()
    assert "configs/junos/re0" in listing and "configs/junos/re0/config" in listing
    assert repo.read("HEAD").configs == {
        "junos/re0/config": b"a\n", "junos/re1/config": b"b\n", "top": b"c\n"
    }
    # Removing the last file of a directory drops the directory too.
    repo.commit_version(Changes(configs={"junos/re0/config": None}), AUTHOR, "rm re0")
    listing = git(repo.path, "ls-tree", "-r", "-t", "--name-only", "main").stdout.decode().split()
    assert "configs/junos/re0" not in listing
    with pytest.raises(InvalidChange):
        repo.commit_version(Changes(configs={"top/x": b"x"}), AUTHOR, "file as dir")
    with pytest.raises(InvalidChange):
        repo.commit_version(Changes(configs={"junos": b"x"}), AUTHOR, "dir as file")
    fsck(repo.path)


def test_read_file_missing_paths(repo: DeviceRepo) -> None:
    repo.commit_version(Changes(configs={"d/f": b"x"}), AUTHOR, "one")
    for path in ("configs/nope", "configs/d", "configs/../device.json", "", "/device.json"):
        with pytest.raises(FileNotFoundError):
            repo.read_file("HEAD", path)
    assert repo.read_file("main", "device.json") == canonical_json({"name": "sw1"})


def test_expected_parent_conflict_and_stacking(repo: DeviceRepo) -> None:
    base = repo.head()
    first = repo.commit_version(Changes(configs={"a": b"1"}), AUTHOR, "one", expected_parent=base)
    with pytest.raises(ConflictError) as err:
        repo.commit_version(Changes(configs={"a": b"2"}), AUTHOR, "stale", expected_parent=base)
    assert err.value.current_head == first.commit
    # Without a parent, writes stack on whatever the head is.
    second = repo.commit_version(Changes(configs={"b": b"1"}), AUTHOR, "two")
    third = repo.commit_version(Changes(configs={"c": b"1"}), AUTHOR, "three")
    assert (second.parent, third.parent) == (first.commit, second.commit)
    assert repo.read("HEAD").configs == {"a": b"1", "b": b"1", "c": b"1"}


def test_log_and_commit_index_data(repo: DeviceRepo) -> None:
    create = repo.head()
    one = repo.commit_version(Changes(configs={"a": b"1\n2\n"}), AUTHOR, "one")
    two = repo.commit_version(Changes(ports=[{"name": "Gi1"}]), AUTHOR, "two")
    three = repo.commit_version(Changes(configs={"a": b"1\n3\n4\n"}), AUTHOR, "three")
    log = list(repo.log())
    assert [c.commit for c in log] == [three.commit, two.commit, one.commit, create]
    assert log[0].files == [FileChange("configs/a", "modified", 2, 1)]
    assert log[-1].parent is None and log[0].parent == two.commit
    assert log[0].author_email == AUTHOR.email and log[0].message == "three"
    assert [c.commit for c in repo.log(path="configs/a")] == [three.commit, one.commit]
    assert [c.commit for c in repo.log(path="configs")] == [three.commit, one.commit]
    assert [c.commit for c in repo.log(start=two.commit)] == [two.commit, one.commit, create]
    assert repo.commit_info(two.commit[:10]) == log[1]
    between = repo.commits_between(one.commit, three.commit)
    assert [c.commit for c in between] == [two.commit, three.commit]
    assert [c.commit for c in repo.commits_between(None, one.commit)] == [create, one.commit]
    # Counts agree with git's own numstat.
    numstat = git(repo.path, "show", "--numstat", "--format=", three.commit).stdout.split()
    assert numstat == [b"2", b"1", b"configs/a"]
