"""The mirror format itself: incremental pack chain, consolidation, deleted tags, no-op runs."""

from __future__ import annotations

import json

import pytest

from gitstore import Author, Changes, DeviceRepo
from workers import mirror
from workers.git import list_refs, run_git
from workers.mirror import mirror_repo
from workers.restore import restore_repo

AUTHOR = Author("user-x", "user-x@users.noreply.infratrace")
DEVICE = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("consolidate", [3])
def test_chain_grows_consolidates_and_restores(env, tmp_path, monkeypatch, consolidate):
    monkeypatch.setattr(mirror, "CONSOLIDATE_EVERY", consolidate)
    path, _ = DeviceRepo.create(tmp_path / "repos", DEVICE, {"name": "sw"}, AUTHOR)
    store = env.store()
    try:
        lengths = []
        for i in range(5):
            with DeviceRepo.open(path) as repo:
                repo.commit_version(Changes(configs={"c": f"{i}\n".encode()}), AUTHOR, f"v{i}")
                if i == 1:
                    repo.create_tag("t1", "main", "", AUTHOR)
                if i == 3:
                    repo.delete_tag("t1")
            result = mirror_repo(path, DEVICE, store, tmp_path)
            assert result.changed and result.uploaded_packs == 1
            manifest = json.loads(store.get_bytes(f"mirrors/{DEVICE}/manifest.json"))
            lengths.append(len(manifest["packs"]))
            assert manifest["refs"] == list_refs(path)
            # Only the packs the manifest names are kept.
            assert len(list(store.list(f"mirrors/{DEVICE}/packs/"))) == len(manifest["packs"])
        assert lengths == [1, 2, 3, 1, 2]
        assert not mirror_repo(path, DEVICE, store, tmp_path).changed  # nothing new: no upload
        target = tmp_path / "restored" / "r.git"
        restore_repo(store, DEVICE, target)
        assert list_refs(target) == list_refs(path)
        assert run_git(target, "log", "--format=%H", "main") == run_git(path, "log", "--format=%H", "main")
        run_git(target, "fsck", "--strict")
    finally:
        store.close()
