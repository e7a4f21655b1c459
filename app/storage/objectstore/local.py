"""Object store in a local folder: the embedded default, no setup needed.

On-disk layout, for key ``photos/ab/cd``::

    <root>/.lock                      flock target serialising commits against readers
    <root>/photos.d/ab.d/cd.obj       the bytes, exactly as given
    <root>/photos.d/ab.d/cd.meta      JSON sidecar: key, size, sha256, content_type

Each key segment gets a suffix by role (".d" directory, ".obj" data, ".meta" sidecar,
temporary files end in ".tmp"). S3 happily holds both ``a`` and ``a/b``; with plain names
the file ``a`` and the directory ``a`` would collide, and a key ``x.meta`` would collide
with the sidecar of ``x``. Suffixes make the mapping injective, so the folder has exactly
the semantics of a bucket. A segment is limited to 250 bytes by the file system.

Write protocol: data and sidecar are written to temporary files in the target directory,
fsynced, then - holding an exclusive lock - the sidecar is renamed into place first and the
data last. The data file's existence is the commit point: a crash before it leaves at most
an orphan sidecar for a key that does not exist (overwritten by the next put). A crash
between the two renames of an *overwrite* leaves new metadata over old bytes, which every
read detects (IntegrityError) rather than serving silently.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from .base import (
    DEFAULT_CHUNK_SIZE,
    Data,
    IntegrityError,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    iter_source,
    validate_key,
    validate_prefix,
)

_DIR, _DATA, _META = ".d", ".obj", ".meta"


class LocalObjectStore(ObjectStore):
    """An ObjectStore backed by a folder (see the module docstring for the layout)."""

    def __init__(self, root: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        self.chunk_size = chunk_size
        try:
            Path(root).mkdir(parents=True, exist_ok=True)
            # Resolve once: every object path is checked against this real path.
            self.root = Path(root).resolve(strict=True)
        except OSError as exc:
            raise ObjectStoreError(f"cannot use {root} as object store root: {exc}") from exc

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    # -- paths and locking ----------------------------------------------------------------

    def _paths(self, key: str) -> tuple[Path, Path, Path]:
        """(directory, data file, sidecar) for a validated key, guaranteed inside root."""
        *dirs, name = key.split("/")
        directory = self.root.joinpath(*(segment + _DIR for segment in dirs))
        data, meta = directory / (name + _DATA), directory / (name + _META)
        # Key validation already forbids "..", but a symlink planted inside the tree could
        # still point elsewhere: resolve and insist the real path stays under root.
        for path in (data, meta):
            if not path.resolve().is_relative_to(self.root):
                raise ObjectStoreError(f"refusing {key!r}: its path resolves outside {self.root}")
        return directory, data, meta

    @contextlib.contextmanager
    def _lock(self, exclusive: bool) -> Iterator[None]:
        # One store-wide flock, held only around renames/unlinks and metadata reads, so a
        # reader never pairs one put's sidecar with another put's bytes (gunicorn workers
        # and in-process jobs may write the same key concurrently).
        with open(self.root / ".lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _fsync_dir(self, directory: Path) -> None:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)  # make the renames themselves durable
        finally:
            os.close(fd)

    # -- write ----------------------------------------------------------------------------

    def _put(self, key: str, data: Data, content_type: str, expected_sha256: str | None) -> tuple[int, str]:
        directory, data_path, meta_path = self._paths(key)
        temps: list[str] = []
        try:
            with contextlib.ExitStack() as files:
                with self._lock(exclusive=True):
                    # Under the lock so delete()'s empty-directory pruning cannot remove
                    # the directory between our mkdir and our temp files landing in it.
                    directory.mkdir(parents=True, exist_ok=True)
                    data_out, data_tmp = self._temp(directory, files, temps)
                    meta_out, meta_tmp = self._temp(directory, files, temps)
                sha, size = hashlib.sha256(), 0
                for chunk in iter_source(data, self.chunk_size):
                    data_out.write(chunk)
                    sha.update(chunk)
                    size += len(chunk)
                digest = sha.hexdigest()
                if expected_sha256 is not None and digest != expected_sha256:
                    raise IntegrityError(
                        f"put {key!r}: content sha256 {digest} does not match expected {expected_sha256}"
                    )
                sidecar = {"key": key, "sha256": digest, "size": size, "content_type": content_type}
                meta_out.write(json.dumps(sidecar, sort_keys=True).encode() + b"\n")
                for out in (data_out, meta_out):
                    out.flush()
                    os.fsync(out.fileno())
            with self._lock(exclusive=True):
                os.replace(meta_tmp, meta_path)
                os.replace(data_tmp, data_path)  # the commit point (see module docstring)
            temps.clear()
            self._fsync_dir(directory)
            return size, digest
        except OSError as exc:
            raise ObjectStoreError(f"put {key!r}: {exc}") from exc
        finally:
            for name in temps:
                with contextlib.suppress(OSError):
                    os.unlink(name)

    @staticmethod
    def _temp(directory: Path, files: contextlib.ExitStack, temps: list[str]) -> tuple[BinaryIO, str]:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
        temps.append(name)  # registered first so it is removed whatever happens next
        return files.enter_context(os.fdopen(fd, "wb")), name

    # -- read -----------------------------------------------------------------------------

    def _info(self, key: str, stat: os.stat_result, meta_path: Path) -> ObjectInfo:
        try:
            sidecar = json.loads(meta_path.read_bytes())
        except FileNotFoundError:
            sidecar = {}  # a file dropped in by hand: serve it, but we cannot vouch for it
        except ValueError as exc:
            raise ObjectStoreError(f"{key!r}: unreadable metadata sidecar: {exc}") from exc
        return ObjectInfo(
            key=key,
            # Size comes from the data file itself, so a sidecar that disagrees with the
            # bytes shows up as a checksum mismatch on read instead of a silent truncation.
            size=stat.st_size,
            sha256=sidecar.get("sha256"),
            content_type=sidecar.get("content_type"),
            last_modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
        )

    def head(self, key: str) -> ObjectInfo | None:
        validate_key(key)
        _, data_path, meta_path = self._paths(key)
        try:
            with self._lock(exclusive=False):
                try:
                    stat = data_path.stat()
                except (FileNotFoundError, NotADirectoryError):
                    return None
                return self._info(key, stat, meta_path)
        except OSError as exc:
            raise ObjectStoreError(f"head {key!r}: {exc}") from exc

    def _open(self, key: str) -> tuple[ObjectInfo, Iterator[bytes]]:
        _, data_path, meta_path = self._paths(key)
        try:
            with self._lock(exclusive=False):
                try:
                    handle = open(data_path, "rb")  # noqa: SIM115 - closed by _chunks
                except (FileNotFoundError, NotADirectoryError) as exc:
                    raise ObjectNotFound(f"no object {key!r}") from exc
                try:
                    info = self._info(key, os.fstat(handle.fileno()), meta_path)
                except BaseException:
                    handle.close()
                    raise
        except OSError as exc:
            raise ObjectStoreError(f"get {key!r}: {exc}") from exc
        # The open descriptor keeps these exact bytes readable after the lock is released,
        # even if a concurrent put replaces or a delete unlinks the file.
        return info, self._chunks(key, handle)

    def _chunks(self, key: str, handle: BinaryIO) -> Iterator[bytes]:
        with handle:
            while True:
                try:
                    chunk = handle.read(self.chunk_size)
                except OSError as exc:
                    raise ObjectStoreError(f"get {key!r}: {exc}") from exc
                if not chunk:
                    return
                yield chunk

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        found: list[ObjectInfo] = []
        try:
            self._scan(self.root, "", prefix, found)
        except OSError as exc:
            raise ObjectStoreError(f"list {prefix!r}: {exc}") from exc
        # S3 orders by UTF-8 bytes; Python's code-point order is the same order.
        found.sort(key=lambda info: info.key)
        return iter(found)

    def _scan(self, directory: Path, key_prefix: str, prefix: str, found: list[ObjectInfo]) -> None:
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                # follow_symlinks=False: a symlink is never part of the store.
                if name.endswith(_DIR) and entry.is_dir(follow_symlinks=False):
                    segment = name[: -len(_DIR)]
                    if segment in ("", ".", ".."):
                        continue
                    sub = f"{key_prefix}{segment}/"
                    # Descend only where keys can still match the prefix.
                    if sub.startswith(prefix) or prefix.startswith(sub):
                        self._scan(Path(entry.path), sub, prefix, found)
                elif name.endswith(_DATA) and entry.is_file(follow_symlinks=False):
                    segment = name[: -len(_DATA)]
                    key = key_prefix + segment
                    if segment in ("", ".", "..") or not key.startswith(prefix):
                        continue
                    stat = entry.stat(follow_symlinks=False)
                    found.append(
                        ObjectInfo(
                            key=key,
                            size=stat.st_size,
                            sha256=None,  # listings carry no metadata on either backend
                            content_type=None,
                            last_modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                        )
                    )

    # -- delete ---------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        validate_key(key)
        directory, data_path, meta_path = self._paths(key)
        try:
            with self._lock(exclusive=True):
                for path in (data_path, meta_path):  # data first: it defines existence
                    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                        path.unlink()
                self._prune(directory)
        except OSError as exc:
            raise ObjectStoreError(f"delete {key!r}: {exc}") from exc

    def _prune(self, directory: Path) -> None:
        # Remove now-empty directories up to root so deleted trees leave no skeleton behind.
        while directory != self.root:
            try:
                directory.rmdir()
            except OSError:
                return  # not empty (or already gone): stop climbing
            directory = directory.parent

    # -- misc -----------------------------------------------------------------------------

    def presigned_get_url(
        self,
        key: str,
        expires_seconds: int = 300,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        validate_key(key)
        return None  # no HTTP server of its own: the app streams the bytes itself

    def ping(self) -> None:
        try:
            if not self.root.is_dir():
                raise ObjectStoreError(f"object store root {self.root} is not a directory")
            with self._lock(exclusive=False):
                pass  # proves we can create/open files in root
        except OSError as exc:
            raise ObjectStoreError(f"object store root {self.root} unusable: {exc}") from exc

    def close(self) -> None:
        """Nothing to release: every operation opens and closes its own files."""
