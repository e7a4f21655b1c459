"""The cycle collector is paused only inside `cyclic_gc_paused` blocks, such as rendering a diff."""

from __future__ import annotations

import gc

import pytest

from gitstore import Changes, DeviceRepo
from gitstore import diff as diff_module
from gitstore.gc_pause import cyclic_gc_paused
from tests.gitstore.gitstore_support import AUTHOR


def test_paused_inside_resumed_after_even_on_error_and_nested_blocks_keep_it_off():
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block did not pause it, so it does not resume it
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_diff_is_rendered_with_the_collector_paused(repo: DeviceRepo, monkeypatch) -> None:
    a = repo.commit_version(Changes(configs={"c": b"one\ntwo\n"}), AUTHOR, "a")
    b = repo.commit_version(Changes(configs={"c": b"one\n2\n"}), AUTHOR, "b")
    seen: list[bool] = []
    original = diff_module.diff_lines

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(diff_module, "diff_lines", spy)
    [changed] = repo.diff(a.commit, b.commit).files
    assert seen == [False] and gc.isenabled()
    assert [line.content for hunk in changed.hunks for line in hunk.lines if line.origin != " "] == ["two", "2"]
