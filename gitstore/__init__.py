"""gitstore: everything that touches a device's git repository.

It owns the on-disk layout of the per-device bare repos (`repos/<2 hex>/<2 hex>/<uuid>.git`),
the content contract of `main` (device.json, configs/<name>, ports.json, photos.json, JSON in
canonical form), validation of that content (shared by the API, the web forms and the push
validator), compare-and-swap writes under a cross-process lock, crash safety, history, diffs
and tags. It imports pygit2 and the standard library only: never Flask, SQL or the app.
"""

from __future__ import annotations

import pygit2

from .canonical import MAX_JSON_DEPTH, JSONRefused, canonical_json, load_json, natural_key
from .errors import (
    AmbiguousRevision,
    ConflictError,
    GitStoreError,
    InvalidChange,
    RepositoryBusy,
    RepositoryNotFound,
    RevisionNotFound,
    TagExists,
)
from .models import (
    COMMITTER,
    Author,
    Changes,
    CommitInfo,
    CommitResult,
    Diff,
    DiffLine,
    FileChange,
    FileDiff,
    Hunk,
    ImportResult,
    ImportVersion,
    PortsDiff,
    Snapshot,
    TagInfo,
)
from .paths import repo_path_for
from .repo import REPO_CONFIG, DeviceRepo, init_bare_repo
from .source import SourceChange, SourceCommit, count_commits, walk_source
from .tags import validate_tag_name
from .validation import (
    validate_config_name,
    validate_device_json,
    validate_photos,
    validate_ports,
)

# Durability comes from explicit barriers (gitstore.durability: one filesystem flush after the
# objects and one after the ref move), not from libgit2 fsyncing every file it writes, which cost
# about a dozen fsyncs per version. Process-wide and idempotent, hence set once on import.
pygit2.settings.enable_fsync_gitdir(False)
# Like git itself, reads do not re-hash every object (that doubled the cost of reading a config
# for a diff); corruption is what `git fsck` in the maintenance sweep and `restore --verify` find.
pygit2.settings.enable_strict_hash_verification(False)

__all__ = [
    "MAX_JSON_DEPTH",
    "JSONRefused",
    "load_json",
    "COMMITTER",
    "AmbiguousRevision",
    "Author",
    "Changes",
    "CommitInfo",
    "CommitResult",
    "ConflictError",
    "DeviceRepo",
    "Diff",
    "DiffLine",
    "FileChange",
    "FileDiff",
    "GitStoreError",
    "Hunk",
    "ImportResult",
    "ImportVersion",
    "InvalidChange",
    "PortsDiff",
    "REPO_CONFIG",
    "RepositoryBusy",
    "RepositoryNotFound",
    "RevisionNotFound",
    "Snapshot",
    "SourceChange",
    "SourceCommit",
    "TagExists",
    "TagInfo",
    "canonical_json",
    "count_commits",
    "init_bare_repo",
    "natural_key",
    "repo_path_for",
    "validate_config_name",
    "validate_device_json",
    "validate_photos",
    "validate_ports",
    "validate_tag_name",
    "walk_source",
]
