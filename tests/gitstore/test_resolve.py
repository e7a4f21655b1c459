from __future__ import annotations

from collections import defaultdict

import pygit2
import pytest

from gitstore import AmbiguousRevision, Changes, DeviceRepo, RevisionNotFound
from tests.gitstore.gitstore_support import AUTHOR


def test_resolve_forms(repo: DeviceRepo) -> None:
    first = repo.head()
    second = repo.commit_version(Changes(configs={"a": b"x"}), AUTHOR, "two").commit
    assert repo.resolve(first) == first
    assert repo.resolve(first.upper()) == first
    assert repo.resolve(first[:7]) == first
    assert repo.resolve("HEAD") == second
    assert repo.resolve("main") == second
    repo.create_tag("v1.0", first, "first release", AUTHOR)  # annotated: peeled to the commit
    assert repo.resolve("v1.0") == first
    # A full tag object id peels to its commit as well.
    tag_object = str(repo.raw.references.get("refs/tags/v1.0").target)
    assert repo.resolve(tag_object) == first


@pytest.mark.parametrize(
    "rev",
    ["-x", "--all", "HEAD..main", "main~1..", "a b", "v1\n", "x\x00", "", "0000", "nope",
     "0" * 40, "HEAD^{tree}"],
)
def test_resolve_refuses_unknown_and_unsafe(repo: DeviceRepo, rev: str) -> None:
    with pytest.raises(RevisionNotFound):
        repo.resolve(rev)


def test_resolve_refuses_a_tree_or_blob(repo: DeviceRepo) -> None:
    tree_id = str(repo.raw[repo.head()].tree.id)
    with pytest.raises(RevisionNotFound):
        repo.resolve(tree_id)


def test_ambiguous_prefix(repo: DeviceRepo) -> None:
    # Write commits (not on main) until two share a 4-hex prefix; ~300 expected (birthday bound).
    tree = repo.raw[repo.head()].tree.id
    seen: dict[str, list[str]] = defaultdict(list)
    sig = pygit2.Signature("t", "t@example.invalid", 0, 0)
    i = 0
    while True:
        oid = str(repo.raw.create_commit(None, sig, sig, f"c{i}\n", tree, []))
        i += 1
        seen[oid[:4]].append(oid)
        if len(seen[oid[:4]]) == 2:
            prefix = oid[:4]
            break
    with pytest.raises(AmbiguousRevision):
        repo.resolve(prefix)
    a, b = seen[prefix]
    first_difference = next(i for i in range(40) if a[i] != b[i])
    assert repo.resolve(a[: first_difference + 1]) == a


def test_ancestry_suffixes_follow_first_parents(repo: DeviceRepo) -> None:
    first = repo.head()
    second = repo.commit_version(Changes(configs={"a": b"1\n"}), AUTHOR, "two").commit
    third = repo.commit_version(Changes(configs={"a": b"2\n"}), AUTHOR, "three").commit
    repo.create_tag("v3", third, "", AUTHOR)
    assert repo.resolve("HEAD~1") == second
    assert repo.resolve("HEAD^") == second
    assert repo.resolve("HEAD~2") == first
    assert repo.resolve("HEAD~") == second
    assert repo.resolve("v3~1^") == first
    assert repo.resolve(third[:10] + "~2") == first
    with pytest.raises(RevisionNotFound):
        repo.resolve("HEAD~3")
    with pytest.raises(RevisionNotFound):
        repo.resolve("~1")
