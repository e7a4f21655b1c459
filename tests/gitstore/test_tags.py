from __future__ import annotations

import pytest

from gitstore import Changes, DeviceRepo, InvalidChange, RevisionNotFound, TagExists
from tests.gitstore.gitstore_support import AUTHOR, fsck, git


def test_create_list_delete(repo: DeviceRepo) -> None:
    first = repo.head()
    second = repo.commit_version(Changes(configs={"a": b"x"}), AUTHOR, "two").commit
    tag = repo.create_tag("v1.10", first, "Before the upgrade\n\nnotes", AUTHOR)
    assert (tag.name, tag.target, tag.message, tag.tagger_name) == (
        "v1.10", first, "Before the upgrade\n\nnotes", AUTHOR.name
    )
    assert tag.created_at is not None
    repo.create_tag("v1.9", "HEAD", "later", AUTHOR)
    assert git(repo.path, "cat-file", "-t", "v1.10").stdout.strip() == b"tag"  # annotated
    assert git(repo.path, "rev-parse", "v1.10^{commit}").stdout.decode().strip() == first
    assert [(t.name, t.target) for t in repo.list_tags()] == [("v1.9", second), ("v1.10", first)]
    with pytest.raises(TagExists):
        repo.create_tag("v1.9", first, "again", AUTHOR)
    repo.delete_tag("v1.9")
    assert [t.name for t in repo.list_tags()] == ["v1.10"]
    with pytest.raises(RevisionNotFound):
        repo.delete_tag("v1.9")
    with pytest.raises(RevisionNotFound):
        repo.create_tag("v2", "nope", "x", AUTHOR)
    fsck(repo.path)


def test_lightweight_tag_pushed_by_git_is_listed(repo: DeviceRepo) -> None:
    git(repo.path, "tag", "light", "main")
    (tag,) = repo.list_tags()
    assert (tag.name, tag.target, tag.message, tag.tagger_name) == ("light", repo.head(), "", None)


@pytest.mark.parametrize(
    "name",
    ["", "-x", "a..b", "a b", "a~1", "a^", "a:b", "x.lock", "/x", "x/", "a\x00b", "HEAD",
     "@", "a@{1}", "0123456789abcdef0123456789abcdef01234567", "x" * 101],
)
def test_invalid_tag_names(repo: DeviceRepo, name: str) -> None:
    with pytest.raises(InvalidChange):
        repo.create_tag(name, "HEAD", "x", AUTHOR)
