"""The backend-neutral part of the object store: types, errors, key rules, hashing.

Everything here is shared by both backends so that "what is a valid key", "what does a
checksum mismatch raise" and "how is a read verified" have exactly one definition.
"""

from __future__ import annotations

import abc
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Self
from urllib.parse import quote

MiB = 1024 * 1024
DEFAULT_CHUNK_SIZE = 1 * MiB
MAX_KEY_BYTES = 1024  # S3's limit; enforced on both backends so keys stay portable.
DEFAULT_CONTENT_TYPE = "application/octet-stream"

Data = bytes | bytearray | memoryview | BinaryIO

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# C0 controls, DEL and C1 controls: never legitimate in a key, and some of them (CR/LF)
# would be dangerous if a key ever reached a header or a log line.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Content-Type travels as an HTTP header (and a JSON field locally): printable ASCII only.
_CONTENT_TYPE_RE = re.compile(r"^[\x20-\x7e]{1,255}$")


class ObjectStoreError(Exception):
    """A backend operation failed (network, permissions, disk...). Callers may retry."""


class ObjectNotFound(ObjectStoreError):
    """The key does not exist."""


class IntegrityError(ObjectStoreError):
    """Content does not match its SHA-256 (given by the caller or stored as metadata)."""


@dataclass(frozen=True)
class ObjectInfo:
    """What the store knows about one object.

    ``sha256`` and ``content_type`` are ``None`` in listings (S3 listings carry no user
    metadata, and a HEAD per key would make listing a bucket N requests); ``head()`` fills
    them in. ``sha256`` is also ``None`` for an object that was not written by this module.
    """

    key: str
    size: int
    sha256: str | None
    content_type: str | None
    last_modified: datetime | None


def validate_key(key: str) -> str:
    """Return ``key`` if it is a valid object key, else raise ValueError.

    Rules are the same on both backends so that an object written locally can always be
    mirrored to S3 and back: non-empty, at most 1024 UTF-8 bytes, no leading "/", no empty,
    "." or ".." path segment, no control characters.
    """
    if not isinstance(key, str):
        raise TypeError(f"object key must be a str, not {type(key).__name__}")
    if not key:
        raise ValueError("object key must not be empty")
    if _CONTROL_RE.search(key):
        raise ValueError(f"object key contains a control character: {key!r}")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates
        raise ValueError(f"object key is not valid UTF-8 text: {key!r}") from exc
    if len(encoded) > MAX_KEY_BYTES:
        raise ValueError(f"object key is longer than {MAX_KEY_BYTES} bytes")
    if key.startswith("/"):
        raise ValueError(f"object key must not start with '/': {key!r}")
    for segment in key.split("/"):
        # ".." is the escape risk; "" and "." are rejected too because a file system would
        # fold "a//b" and "a/./b" into "a/b", so two S3 keys would share one local file.
        if segment in ("", ".", ".."):
            raise ValueError(f"object key has an empty, '.' or '..' segment: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: like a key, but may be empty and may end anywhere."""
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, not {type(prefix).__name__}")
    if prefix.startswith("/"):
        raise ValueError(f"prefix must not start with '/': {prefix!r}")
    if _CONTROL_RE.search(prefix):
        raise ValueError(f"prefix contains a control character: {prefix!r}")
    try:
        encoded = prefix.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates
        raise ValueError(f"prefix is not valid UTF-8 text: {prefix!r}") from exc
    if len(encoded) > MAX_KEY_BYTES:
        raise ValueError(f"prefix is longer than {MAX_KEY_BYTES} bytes")
    return prefix


def validate_content_type(content_type: str) -> str:
    if not isinstance(content_type, str) or not _CONTENT_TYPE_RE.match(content_type):
        raise ValueError(f"content type must be 1-255 printable ASCII characters: {content_type!r}")
    return content_type


def normalize_sha256(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    value = sha256.strip().lower() if isinstance(sha256, str) else ""
    if not _SHA256_RE.match(value):
        raise ValueError(f"sha256 must be 64 hexadecimal characters: {sha256!r}")
    return value


def iter_source(data: Data, chunk_size: int) -> Iterator[bytes]:
    """Yield ``data`` in chunks, whether it is a bytes-like object or a binary stream."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data).cast("B")
        for start in range(0, len(view), chunk_size):
            yield bytes(view[start : start + chunk_size])
        return
    read = getattr(data, "read", None)
    if read is None:
        raise TypeError(f"data must be bytes or a binary stream, not {type(data).__name__}")
    while True:
        chunk = read(chunk_size)
        if not chunk:
            return
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError("data stream must be opened in binary mode")
        yield bytes(chunk)


@dataclass
class Spooled:
    """A payload held in a seekable file so it can be hashed once and re-sent on retry."""

    file: BinaryIO
    size: int
    sha256: str
    md5: bytes  # raw digest, for S3's Content-MD5 (the server re-checks the body with it)

    def close(self) -> None:
        self.file.close()


def spool(data: Data, chunk_size: int, spool_dir: Path | None, in_memory_max: int) -> Spooled:
    """Hash ``data`` and return it as a seekable file positioned at 0.

    Bytes are wrapped without copying. A stream is copied into a SpooledTemporaryFile:
    we must know the hash before we store anything, the upload may be retried (which needs
    a rewind), and the caller's stream might not be seekable or might change under us.
    """
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        sha.update(raw)
        md5.update(raw)
        return Spooled(io.BytesIO(raw), len(raw), sha.hexdigest(), md5.digest())
    # The caller owns (and closes) the returned file, hence no context manager here.
    tmp = tempfile.SpooledTemporaryFile(  # noqa: SIM115
        max_size=in_memory_max, dir=os.fspath(spool_dir) if spool_dir else None
    )
    try:
        size = 0
        for chunk in iter_source(data, chunk_size):
            tmp.write(chunk)
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
        tmp.seek(0)
    except BaseException:
        tmp.close()
        raise
    return Spooled(tmp, size, sha.hexdigest(), md5.digest())  # type: ignore[arg-type]


class ObjectStore(abc.ABC):
    """Bytes under string keys, with SHA-256 integrity, on local disk or S3.

    Subclasses implement the storage primitives (``_put``, ``_open``, ``head``, ...); the
    public read/write paths here add the parts that must behave identically everywhere:
    argument validation, the post-write check and the read-side checksum verification.
    """

    chunk_size: int = DEFAULT_CHUNK_SIZE

    # -- primitives -----------------------------------------------------------------------

    @abc.abstractmethod
    def _put(self, key: str, data: Data, content_type: str, expected_sha256: str | None) -> tuple[int, str]:
        """Store the object; return (size, sha256). Must raise IntegrityError, storing
        nothing, if ``expected_sha256`` is given and differs from the content."""

    @abc.abstractmethod
    def _open(self, key: str) -> tuple[ObjectInfo, Iterator[bytes]]:
        """Start reading: the object's info (from the same read, so they agree) and its chunks."""

    @abc.abstractmethod
    def head(self, key: str) -> ObjectInfo | None:
        """Info for ``key``, or None if it does not exist."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, sorted by key (see ObjectInfo)."""

    @abc.abstractmethod
    def presigned_get_url(
        self,
        key: str,
        expires_seconds: int = 300,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """A time-limited URL a browser can GET, or None if the backend cannot serve one."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise ObjectStoreError unless the store is reachable and usable."""

    # -- shared behaviour -----------------------------------------------------------------

    def put(
        self,
        key: str,
        data: Data,
        content_type: str = DEFAULT_CONTENT_TYPE,
        sha256: str | None = None,
    ) -> ObjectInfo:
        """Store ``data`` under ``key`` and return the stored object's info.

        The SHA-256 is computed while streaming and kept as metadata. If ``sha256`` is given
        and the content does not match, IntegrityError is raised and nothing is stored.
        After the write, the object is read back (HEAD) and its size and checksum compared,
        so a successful return means the store really holds these bytes.
        """
        validate_key(key)
        validate_content_type(content_type)
        expected = normalize_sha256(sha256)
        size, digest = self._put(key, data, content_type, expected)
        info = self.head(key)
        if info is None:
            raise ObjectStoreError(f"put {key!r}: object missing right after upload")
        if info.size != size or info.sha256 != digest:
            raise IntegrityError(
                f"put {key!r}: stored object does not match what was sent "
                f"(size {info.size} vs {size}, sha256 {info.sha256} vs {digest})"
            )
        return info

    def get(self, key: str) -> Iterator[bytes]:
        """Stream the object in chunks of at most ``chunk_size`` bytes.

        The request is made now (so ObjectNotFound is raised here, not on first iteration).
        The content is hashed as it streams; if it does not match the stored SHA-256 the
        iterator raises IntegrityError at the end instead of finishing normally.
        """
        validate_key(key)
        info, chunks = self._open(key)
        return _verified(info, chunks)

    def get_bytes(self, key: str) -> bytes:
        """The whole object in memory: only for objects known to be small."""
        return b"".join(self.get(key))

    def download_to(self, key: str, path: Path) -> ObjectInfo:
        """Write the object to ``path`` atomically, verifying its SHA-256.

        Bytes go to a temporary file next to ``path``, which replaces ``path`` only after
        the checksum matched and the data was fsynced; on any failure ``path`` is untouched.
        """
        validate_key(key)
        path = Path(path)
        info, chunks = self._open(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        except OSError as exc:
            _close(chunks)
            raise ObjectStoreError(f"download {key!r} to {path}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _verified(info, chunks):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, path)
        except BaseException as exc:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
            if isinstance(exc, OSError):
                raise ObjectStoreError(f"download {key!r} to {path}: {exc}") from exc
            raise
        return info

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix``; return how many.

        An empty prefix is refused: wiping a whole store should never be one typo away.
        """
        validate_prefix(prefix)
        if not prefix:
            raise ValueError("delete_prefix needs a non-empty prefix")
        count = 0
        for info in list(self.list(prefix)):  # materialise: don't delete under a live listing
            self.delete(info.key)
            count += 1
        return count

    @abc.abstractmethod
    def close(self) -> None:
        """Release network resources (abstract so no backend forgets its connections)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def _verified(info: ObjectInfo, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pass chunks through, then check size and SHA-256 against the stored metadata."""
    sha = hashlib.sha256()
    size = 0
    try:
        for chunk in chunks:
            sha.update(chunk)
            size += len(chunk)
            yield chunk
    finally:
        _close(chunks)  # release the file / HTTP connection even if the caller stops early
    if size != info.size:
        raise IntegrityError(f"{info.key!r}: read {size} bytes, metadata says {info.size}")
    # No stored checksum means the object was written by another tool; nothing to compare.
    if info.sha256 is not None and sha.hexdigest() != info.sha256:
        raise IntegrityError(
            f"{info.key!r}: content sha256 {sha.hexdigest()} does not match metadata {info.sha256}"
        )


def content_disposition(filename: str, disposition: str = "attachment", default: str = "download") -> str:
    """A Content-Disposition that is safe for any user-given file name: the one builder for
    every download (exports, raw configs, photos, presigned URLs).

    Quotes, backslashes, semicolons, path separators and control characters are dropped (header
    injection, path tricks in the browser's save dialog); the name travels in the RFC 6266 /
    RFC 5987 ``filename*=UTF-8''...`` form, with an ASCII fallback for old clients, so the header
    itself is always ASCII (a raw non-Latin-1 name cannot even be sent as a header).
    """
    clean = "".join(ch for ch in filename if ch.isprintable() and ch not in '"\\/;').strip()
    clean = clean or default
    fallback = "".join(ch if " " <= ch <= "~" else "_" for ch in clean)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(clean, safe='')}"
