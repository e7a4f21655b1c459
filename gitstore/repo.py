"""DeviceRepo: one device's bare repository, opened for one unit of work."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import pygit2
from pygit2.enums import FileMode, ObjectType, SortMode

from . import diff as diffing
from .canonical import JSONRefused, canonical_json, load_json
from .errors import ConflictError, GitStoreError, InvalidChange, RepositoryNotFound, RevisionNotFound
from .identity import clean_message, committer, signature
from .linediff import LineDiffOptions
from .lock import DEFAULT_TIMEOUT, flock_exclusive
from .models import (
    COMMITTER,
    Author,
    Changes,
    CommitInfo,
    CommitResult,
    Diff,
    FileChange,
    ImportResult,
    ImportVersion,
    Snapshot,
)
from .pack import OBJ_BLOB, OBJ_COMMIT, OBJ_TREE, PackWriter
from .paths import repo_path_for
from .refs import move_ref
from .revisions import MAIN_REF, head, resolve
from .tags import TagsMixin
from .textchange import Lines, TextChange
from .trees import MemTree, Touched, apply_edits
from .validation import (
    validate_config_name,
    validate_device_json,
    validate_photos,
    validate_ports,
)

DEVICE_FILE = "device.json"
PORTS_FILE = "ports.json"
PHOTOS_FILE = "photos.json"
CONFIGS_DIR = "configs"

# Written into every new repo's config.
REPO_CONFIG = {
    # Pushed objects are checked like `git fsck` before any ref moves.
    "receive.fsckObjects": True,
    # The git CLI (receive-pack, gc) fsyncs objects and refs; libgit2 writes are made durable by
    # gitstore's own barriers (durability.flush_filesystem) before and after each ref move.
    "core.fsync": "committed",
    # No git process may start a writer behind our lock (see lock.reclaim_stale_git_locks):
    # housekeeping is a scheduled job that takes the lock, never an automatic gc.
    "gc.auto": 0,
    "receive.autogc": False,
}


def init_bare_repo(path: Path) -> None:
    """An empty bare repo at `path` with main as HEAD and the config every device repo carries.

    Used by `DeviceRepo.create` and by restore (which fills the repo from a mirror), so a restored
    repo is configured exactly like one created by the service.
    """
    raw = pygit2.init_repository(str(path), bare=True, initial_head="main")
    try:
        for key, value in REPO_CONFIG.items():
            raw.config[key] = value
    finally:
        raw.free()


def _tz(minutes: int) -> bytes:
    sign = b"-" if minutes < 0 else b"+"
    hours, mins = divmod(abs(minutes), 60)
    return b"%s%02d%02d" % (sign, hours, mins)


# A write's "is this change only noise?" predicate (see Changes.noise).
Noise = Callable[[str, TextChange], bool]


def _only_noise(touched: list[Touched], compare: Callable[[Touched], TextChange], noise: Noise | None) -> bool:
    """True when every entry a write changed is a config file, there before and after, whose
    change `noise` calls noise: then the write makes no version (the lines stay as they were)."""
    if noise is None or not touched:
        return False
    for entry in touched:
        if (not entry.path.startswith(CONFIGS_DIR + "/") or entry.old_id is None or entry.new_data is None
                or not noise(entry.path, compare(entry))):
            return False
    return True


def _compared_text(entry: Touched) -> bool:
    """A plain file there before and after: its change is compared line by line (TextChange)."""
    return (entry.old_id is not None and entry.new_data is not None
            and entry.old_mode in (FileMode.BLOB, FileMode.BLOB_EXECUTABLE))


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _edits(changes: Changes) -> dict[str, bytes | None]:
    """Validate a Changes and turn it into {stored path: bytes or None}. Pure: runs unlocked."""
    edits: dict[str, bytes | None] = {}
    if changes.device is not None:
        edits[DEVICE_FILE] = canonical_json(validate_device_json(changes.device))
    for name, data in (changes.configs or {}).items():
        validate_config_name(name)
        if isinstance(data, str):
            data = data.encode("utf-8")
        elif data is not None and not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidChange(f"configs.{name}", "content must be bytes, text or null")
        edits[f"{CONFIGS_DIR}/{name}"] = None if data is None else bytes(data)
    # An empty list removes the file: "no ports" then has one representation.
    if changes.ports is not None:
        ports = validate_ports(changes.ports)
        edits[PORTS_FILE] = canonical_json(ports) if ports else None
    if changes.photos is not None:
        photos = validate_photos(changes.photos)
        edits[PHOTOS_FILE] = canonical_json(photos) if photos else None
    return edits


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DeviceRepo(TagsMixin):
    """A device's bare repository. Open it per unit of work with `with DeviceRepo.open(p) as r`.

    The pygit2 handle is not thread-safe: never share a DeviceRepo across threads or requests.
    """

    def __init__(self, path: Path, raw: pygit2.Repository) -> None:
        self.path = Path(path)
        self.raw = raw
        self._lock_depth = 0

    # -- lifecycle ------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> DeviceRepo:
        flags = pygit2.enums.RepositoryOpenFlag.NO_SEARCH | pygit2.enums.RepositoryOpenFlag.BARE
        try:
            raw = pygit2.Repository(str(path), flags)
        except pygit2.GitError as exc:
            raise RepositoryNotFound(f"no repository at {path}") from exc
        return cls(Path(path), raw)

    def close(self) -> None:
        self.raw.free()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @classmethod
    def create(
        cls,
        root: Path,
        device_uuid: str,
        device: dict,
        author: Author,
        message: str = "Create device",
        history: list[ImportVersion] | None = None,
    ) -> tuple[Path, CommitResult]:
        """Create the repo with a first commit holding only device.json; returns (path, result).

        With `history` (a history import), there is no creation commit: device.json goes into the
        first imported version, so the device's history starts with it (and its date), and the
        result is the last imported commit.

        The repo is built under a temporary name beside its final place and renamed into it, so a
        crash leaves either no repo or a complete one, never a repo without a first commit.
        """
        path = repo_path_for(root, device_uuid)
        if path.exists():
            raise GitStoreError(f"a repository already exists at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.tmp-{secrets.token_hex(8)}"
        try:
            init_bare_repo(tmp)
            with cls.open(tmp) as repo:
                if history:
                    first = history[0]
                    changes = Changes(device=device, configs=first.changes.configs, ports=first.changes.ports,
                                      photos=first.changes.photos)
                    seeded = [ImportVersion(changes, first.message, first.author_time, first.author_offset,
                                            first.author), *history[1:]]
                    imported = repo.import_versions(seeded, author)
                    result = imported.commits[-1][1]
                else:
                    result = repo.commit_version(Changes(device=device), author, message)
            try:
                os.rename(tmp, path)
            except OSError as exc:
                raise GitStoreError(f"a repository already exists at {path}") from exc
            _fsync_dir(path.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path, result

    @staticmethod
    def delete(path: Path) -> None:
        """Remove the repository, then its fan-out directories if they are left empty."""
        path = Path(path)
        shutil.rmtree(path)
        for parent in (path.parent, path.parent.parent):
            try:
                parent.rmdir()
            except OSError:  # not empty (other devices share it) or already gone
                break

    @contextmanager
    def write_lock(self, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
        """Exclusive write access across processes; re-entrant within this DeviceRepo.

        Anything that moves a ref (including `git receive-pack` run by the push handler, and
        housekeeping) must run inside it.
        """
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        with flock_exclusive(self.path, timeout):
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0

    # -- revisions ------------------------------------------------------------------------------

    def head(self) -> str | None:
        return head(self.raw)

    def resolve(self, rev: str) -> str:
        return resolve(self.raw, rev)

    def refs(self) -> dict[str, str]:
        """Every ref and the object it names (tags unpeeled), as git stores them."""
        return {name: str(self.raw.references[name].target) for name in self.raw.references}

    def refs_digest(self) -> str:
        """One sha256 over every ref: equal digests mean nothing moved."""
        text = "".join(f"{name} {target}\n" for name, target in sorted(self.refs().items()))
        return hashlib.sha256(text.encode()).hexdigest()

    def _commit(self, rev: str) -> pygit2.Commit:
        return self.raw[resolve(self.raw, rev)]

    # -- writing --------------------------------------------------------------------------------

    def commit_version(
        self,
        changes: Changes,
        author: Author,
        message: str,
        expected_parent: str | None = None,
    ) -> CommitResult:
        """Commit `changes` on main, compare-and-swap.

        With `expected_parent` (a full commit id), ConflictError(current head) unless main
        still points there.
        Without it, the write is built on the head read under the lock, so none is ever lost.
        A write that leaves the tree as it is makes no commit (`changed=False`), and so does one
        whose every change `changes.noise` calls noise (see `_only_noise`).
        """
        text = clean_message(message)
        now = int(time.time())
        author_sig = signature(author, now)
        edits = _edits(changes)
        if expected_parent is not None and not isinstance(expected_parent, str):
            raise InvalidChange("parent", "must be a commit id")

        with self.write_lock():
            current = self.head()
            if expected_parent is not None and expected_parent.lower() != current:
                raise ConflictError(current)
            parent = self.raw[current] if current else None
            old_tree = parent.tree if parent else None
            touched: list[Touched] = []
            tree_id = _apply(self.raw, old_tree, edits, touched)
            # Each changed file's lines are compared once: for the noise test and the line counts.
            compared: dict[str, TextChange] = {}

            def compare(entry: Touched) -> TextChange:
                if entry.path not in compared:
                    compared[entry.path] = TextChange(self.raw[entry.old_id].data, entry.new_data)
                return compared[entry.path]

            if parent is not None and (
                tree_id == old_tree.id or _only_noise(touched, compare, changes.noise)
            ):
                return CommitResult(
                    current, str(parent.parent_ids[0]) if parent.parent_ids else None, False,
                    _utc(parent.author.time), [],
                )
            oid = self.raw.create_commit(
                None, author_sig, committer(now), text, tree_id, [parent.id] if parent else []
            )
            # Compare-and-swap under git's ref lock, with the durability barriers (refs.py).
            move_ref(self.raw, self.path, MAIN_REF, oid, current, "commit")
        files = diffing.changes_from_edits(self.raw, touched, None, compared)
        if files is None:  # renames or unusual entries: let libgit2 diff the two trees
            files = diffing.file_changes(self.raw, old_tree, self.raw[oid].tree)
        return CommitResult(str(oid), current, True, _utc(now), files)

    def import_versions(
        self,
        versions: list[ImportVersion],
        author: Author,
        expected_parent: str | None = None,
    ) -> ImportResult:
        """Commit each version in order on main, as one all-or-nothing batch.

        Everything is validated, and every object built, before anything is written: an invalid
        version (InvalidChange with its field as `versions[i].<field>`) leaves the repo as it was.
        Versions that change nothing (or only what their `changes.noise` calls noise) are
        skipped. The new objects go into ONE pack file; then one
        filesystem barrier, one compare-and-swap move of main to the last commit (against
        `expected_parent`, or the head read under the lock), and one barrier more.
        """
        now = int(time.time())
        prepared = []
        for index, version in enumerate(versions):
            try:
                text = clean_message(version.message)
                when = now if version.author_time is None else version.author_time
                person = version.author or author
                signature(person, when)  # validates the name and email
                prepared.append((text, when, version.author_offset, _edits(version.changes),
                                 f"{person.name} <{person.email}>".encode(), version.changes.noise))
            except InvalidChange as exc:
                raise InvalidChange(f"versions[{index}].{exc.field}", exc.message) from None
        if expected_parent is not None and not isinstance(expected_parent, str):
            raise InvalidChange("parent", "must be a commit id")
        committer_line = b"%s <%s> %d +0000" % (COMMITTER.name.encode(), COMMITTER.email.encode(), now)

        with self.write_lock():
            current = self.head()
            if expected_parent is not None and expected_parent.lower() != current:
                raise ConflictError(current)
            pack = PackWriter()
            blobs: dict[bytes, bytes] = {}

            def add_blob(data: bytes) -> bytes:
                oid = pack.add(OBJ_BLOB, data)
                blobs[oid] = data
                return oid

            def add_tree(body: bytes) -> bytes:
                return pack.add(OBJ_TREE, body)

            def read_blob(oid: object) -> bytes:
                raw_id = oid.raw if isinstance(oid, pygit2.Oid) else oid
                return blobs[raw_id] if raw_id in blobs else self.raw[pygit2.Oid(raw=raw_id)].data

            head_raw = pygit2.Oid(hex=current).raw if current else None
            tree = MemTree(self.raw, self.raw[current].tree.id.raw if current else None)
            built: list[tuple[int, bytes, bytes | None, list[FileChange] | None, int]] = []
            skipped: list[int] = []
            # Each version's files are compared with the previous version's line by line once
            # (noise test, line counts, pack delta); the new side's lines serve the next version.
            last_lines: dict[str, tuple[object, Lines]] = {}
            compared: dict[str, TextChange] = {}

            def compare(entry: Touched) -> TextChange:
                if entry.path not in compared:
                    known = last_lines.get(entry.path)
                    compared[entry.path] = TextChange(
                        read_blob(entry.old_id), entry.new_data,  # type: ignore[arg-type]
                        known[1] if known is not None and known[0] == entry.old_id else None)
                return compared[entry.path]

            for index, (text, when, offset, edits, author_line, noise) in enumerate(prepared):
                before = tree.write(add_tree)
                compared = {}
                touched: list[Touched] = []
                try:
                    tree.edit(self.raw, edits, add_blob, touched)
                except InvalidChange as exc:
                    raise InvalidChange(f"versions[{index}].{exc.field}", exc.message) from None
                if head_raw is not None and _only_noise(touched, compare, noise):
                    # Put back what was there: the version is skipped as if it changed nothing.
                    tree.edit(self.raw, {t.path: read_blob(t.old_id) for t in touched}, add_blob, [])
                after = tree.write(add_tree)
                if head_raw is not None and after == before:
                    skipped.append(index)
                    continue
                body = b"tree %s\n" % after.hex().encode()
                if head_raw is not None:
                    body += b"parent %s\n" % head_raw.hex().encode()
                body += b"author %s %d %s\ncommitter %s\n\n%s" % (
                    author_line, when, _tz(offset), committer_line, text.encode())
                for entry in touched:
                    if _compared_text(entry):
                        change = compare(entry)
                        last_lines[entry.path] = (entry.new_id, change.new_lines)
                        delta = change.delta() if entry.old_id in pack else None
                        if delta is not None:
                            pack.add_delta(entry.new_id, entry.old_id, delta)  # type: ignore[arg-type]
                files = diffing.changes_from_edits(self.raw, touched, blobs, compared)
                commit_id = pack.add(OBJ_COMMIT, body)
                built.append((index, commit_id, head_raw, files, when))
                head_raw = commit_id
            if not built:
                return ImportResult(current, current, [], skipped)
            pack.write(self.path / "objects")
            # Compare-and-swap under git's ref lock, with the durability barriers (refs.py).
            move_ref(self.raw, self.path, MAIN_REF, pygit2.Oid(raw=head_raw), current, "import")
        results = []
        for index, commit_id, parent, files, when in built:
            if files is None:  # renames or unusual entries: let libgit2 diff the two trees
                new = self.raw[pygit2.Oid(raw=commit_id)]
                old_tree = new.parents[0].tree if parent is not None else None
                files = diffing.file_changes(self.raw, old_tree, new.tree)
            results.append((index, CommitResult(
                commit_id.hex(), parent.hex() if parent else None, True, _utc(when), files)))
        return ImportResult(current, head_raw.hex(), results, skipped)

    # -- reading --------------------------------------------------------------------------------

    def read(self, rev: str) -> Snapshot:
        """One version's content. A JSON file that cannot be read (a push or import from before
        the checks, or a damaged repo) is listed in `unreadable`, never an error: one bad version
        must not break the pages, API answers and data exports around it."""
        commit = self._commit(rev)
        tree = commit.tree
        configs: dict[str, bytes] = {}
        unreadable: list[str] = []
        if CONFIGS_DIR in tree:
            _collect_blobs(self.raw, tree[CONFIGS_DIR], "", configs)
        return Snapshot(
            commit=str(commit.id),
            parents=[str(p) for p in commit.parent_ids],
            message=commit.message.rstrip("\n"),
            author_name=commit.author.name,
            author_email=commit.author.email,
            created_at=_utc(commit.author.time),
            device=_json_file(tree, DEVICE_FILE, {}, unreadable),
            configs=configs,
            ports=_json_file(tree, PORTS_FILE, [], unreadable),
            photos=_json_file(tree, PHOTOS_FILE, [], unreadable),
            unreadable=tuple(unreadable),
        )

    def indexable_files(self, rev: str, folder: str, names: tuple[str, ...] = ()) -> dict[str, bytes]:
        """Every blob under `folder` (e.g. "configs/") plus the top-level files `names`, by full path,
        without parsing anything (a search index must not fail on a file it cannot read as JSON)."""
        tree = self._commit(rev).tree
        out: dict[str, bytes] = {}
        top = folder.rstrip("/")
        if top in tree and self.raw[tree[top].id].type == ObjectType.TREE:
            _collect_blobs(self.raw, self.raw[tree[top].id], f"{top}/", out)
        for name in names:
            if name in tree and self.raw[tree[name].id].type == ObjectType.BLOB:
                out[name] = self.raw[tree[name].id].data
        return out

    def read_file(self, rev: str, path: str) -> bytes:
        """Raw bytes of one file; FileNotFoundError if the path is not a file at that version."""
        commit = self._commit(rev)
        parts = path.split("/") if isinstance(path, str) else []
        if not parts or any(p in ("", ".", "..") or "\0" in p for p in parts):
            raise FileNotFoundError(path)
        try:
            obj = self.raw[commit.tree[path].id]
        except KeyError as exc:
            raise FileNotFoundError(path) from exc
        if obj.type != ObjectType.BLOB:
            raise FileNotFoundError(path)
        return obj.data

    # -- history --------------------------------------------------------------------------------

    def _info(self, commit: pygit2.Commit) -> CommitInfo:
        parents = [str(p) for p in commit.parent_ids]
        old_tree = commit.parents[0].tree if parents else None
        return CommitInfo(
            commit=str(commit.id),
            parent=parents[0] if parents else None,
            parents=parents,
            author_name=commit.author.name,
            author_email=commit.author.email,
            created_at=_utc(commit.author.time),
            message=commit.message.rstrip("\n"),
            files=diffing.file_changes(self.raw, old_tree, commit.tree),
        )

    def commit_info(self, rev: str) -> CommitInfo:
        return self._info(self._commit(rev))

    def log(self, start: str | None = None, path: str | None = None) -> Iterator[CommitInfo]:
        """Commits reachable from `start` (default main), newest first, topological order.

        With `path` (a file or a directory such as `configs`), only commits where that path
        differs from the first parent.
        """
        start_id = self.resolve(start) if start is not None else self.head()
        if start_id is None:
            return
        wanted = path.strip("/") if path else None
        for commit in self.raw.walk(start_id, SortMode.TOPOLOGICAL | SortMode.TIME):
            if wanted is not None:
                before = _entry_id(commit.parents[0].tree, wanted) if commit.parent_ids else None
                if before == _entry_id(commit.tree, wanted):
                    continue
            yield self._info(commit)

    def commits_between(self, old: str | None, new: str) -> list[CommitInfo]:
        """Commits reachable from `new` but not from `old`, oldest first (for a push)."""
        walker = self.raw.walk(
            self.resolve(new), SortMode.TOPOLOGICAL | SortMode.TIME | SortMode.REVERSE
        )
        if old is not None:
            walker.hide(self.resolve(old))
        return [self._info(commit) for commit in walker]

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when `ancestor` is `descendant` or lies in its history (unknown ids: False)."""
        try:
            old, new = self.resolve(ancestor), self.resolve(descendant)
        except RevisionNotFound:
            return False
        return old == new or self.raw.descendant_of(new, old)

    def photo_shas(self, tips: list[str], exclude: list[str] | None = None) -> dict[str, str]:
        """{sha256: content type} of every photo referenced by photos.json in commits reachable
        from `tips` but not from `exclude` (ids not in the repo are ignored): what a mirror must hold."""
        walker = self.raw.walk(None, SortMode.NONE)
        pushed = False
        for tip in tips:
            commit = self._peeled_commit(tip)
            if commit is not None:
                walker.push(commit)
                pushed = True
        if not pushed:
            return {}
        for old in exclude or []:
            commit = self._peeled_commit(old)
            if commit is not None:
                walker.hide(commit)
        shas: dict[str, str] = {}
        seen_blobs: set[pygit2.Oid] = set()
        for commit in walker:
            blob_id = _entry_id(commit.tree, PHOTOS_FILE)
            if blob_id is None or blob_id in seen_blobs:
                continue
            seen_blobs.add(blob_id)
            try:
                photos = load_json(self.raw[blob_id].data)
            except JSONRefused:
                continue  # validated on write; an unreadable file has no references to keep
            for photo in photos if isinstance(photos, list) else []:
                if isinstance(photo, dict) and isinstance(photo.get("sha256"), str):
                    shas.setdefault(photo["sha256"], str(photo.get("content_type") or "application/octet-stream"))
        return shas

    def unreachable(self, oids: list[str]) -> list[str]:
        """Those of `oids` that no ref reaches: what a fetch must not hand out.

        A ref's tip is reachable (every object of a tag chain included), and so is a commit in the
        history of any ref's commit. A tag object or commit no ref reaches (a deleted tag's object,
        a commit that lost a compare-and-swap race) and unknown ids are refused; trees and blobs
        are left to git (partial clones ask for them by id).
        """
        tips: set[str] = set()
        tip_commits: list[pygit2.Oid] = []
        for ref in self.raw.references.objects:
            try:
                obj = self.raw.get(ref.resolve().target)
            except (KeyError, pygit2.GitError):
                continue
            while obj is not None and obj.type == ObjectType.TAG:
                tips.add(str(obj.id))
                obj = self.raw.get(obj.target)
            if obj is not None:
                tips.add(str(obj.id))
                if obj.type == ObjectType.COMMIT:
                    tip_commits.append(obj.id)
        refused = []
        for oid in oids:
            if oid in tips:
                continue
            try:
                obj = self.raw.get(oid)
            except ValueError:
                obj = None
            if obj is not None and obj.type == ObjectType.COMMIT and any(
                self.raw.descendant_of(tip, obj.id) for tip in tip_commits
            ):
                continue
            if obj is not None and obj.type in (ObjectType.TREE, ObjectType.BLOB):
                # A blobless (partial) clone fetches blobs and trees by id; proving such an object
                # reachable means walking every tree of the history, so they are served. Tags and
                # commits (what a deleted tag or a lost write leaves behind) are checked.
                continue
            refused.append(oid)
        return refused

    def referenced_photo_shas(self) -> set[str]:
        """sha256 of every photo any version reachable from any ref (branch or tag) references."""
        tips = [str(ref.resolve().target) for ref in self.raw.references.objects]
        return set(self.photo_shas(tips))

    def _peeled_commit(self, oid: str) -> pygit2.Oid | None:
        try:
            obj = self.raw.get(oid)
            if obj is None:
                return None
            return obj.peel(pygit2.Commit).id
        except (ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            return None

    # -- diff -----------------------------------------------------------------------------------

    def diff(
        self,
        from_rev: str,
        to_rev: str,
        context_lines: int = 3,
        max_file_bytes: int = 1_000_000,
        max_total_lines: int = 10_000,
        options: LineDiffOptions | None = None,
        page_from: int | None = None,
    ) -> Diff:
        """Diff of any two versions: files with hunks, plus ports and photos compared as data.
        With `page_from`, one page of hunks from that index (see `diff.render_files`)."""
        old, new = self._commit(from_rev), self._commit(to_rev)
        rendered = diffing.render_files(
            self.raw, old.tree, new.tree, context_lines, max_file_bytes, max_total_lines, options, page_from
        )
        return Diff(
            from_commit=str(old.id),
            to_commit=str(new.id),
            files=rendered.files,
            ports=diffing.ports_diff(
                _json_file(old.tree, PORTS_FILE, []), _json_file(new.tree, PORTS_FILE, [])
            ),
            photos=diffing.photos_diff(
                _json_file(old.tree, PHOTOS_FILE, []), _json_file(new.tree, PHOTOS_FILE, [])
            ),
            too_large=rendered.too_large,
            next_hunk=rendered.next_hunk,
            hunk_offset=page_from or 0,
            total_hunks=rendered.total_hunks,
        )

    def patch(self, from_rev: str, to_rev: str, context_lines: int = 3) -> bytes:
        """The whole diff as git's patch text (bytes: configs need not be UTF-8), uncapped: for
        downloads when the rendered diff is too large to show."""
        old, new = self._commit(from_rev), self._commit(to_rev)
        return b"".join(patch.data for patch in diffing.tree_diff(self.raw, old.tree, new.tree, context_lines))


def _apply(
    raw: pygit2.Repository,
    tree: pygit2.Tree | None,
    edits: dict[str, bytes | None],
    touched: list[Touched] | None = None,
) -> pygit2.Oid:
    oid = apply_edits(raw, tree, edits, touched=touched)
    return oid if oid is not None else raw.TreeBuilder().write()


def _entry_id(tree: pygit2.Tree, path: str) -> pygit2.Oid | None:
    try:
        return tree[path].id
    except KeyError:
        return None


def _json_file(tree: pygit2.Tree, name: str, default: object, unreadable: list[str] | None = None) -> object:
    """A JSON file of the version, or `default` when it is absent or cannot be read (its name is
    then added to `unreadable`). Read with the strict reader, and of the shape the file must have
    (device.json an object; ports.json and photos.json lists of objects), so what is returned is
    safe for every template, encoder and diff that walks it."""
    if name not in tree:
        return default
    try:
        value = load_json(tree[name].data)
    except JSONRefused:
        value = None
    if not _json_shape_ok(name, value):
        if unreadable is not None:
            unreadable.append(name)
        return default
    return value


def _json_shape_ok(name: str, value: object) -> bool:
    if name == DEVICE_FILE:
        return isinstance(value, dict)
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _collect_blobs(
    raw: pygit2.Repository, tree: pygit2.Tree, prefix: str, out: dict[str, bytes]
) -> None:
    for entry in tree:
        obj = raw[entry.id]
        if obj.type == ObjectType.TREE:
            _collect_blobs(raw, obj, f"{prefix}{entry.name}/", out)
        elif obj.type == ObjectType.BLOB:
            out[prefix + entry.name] = obj.data
