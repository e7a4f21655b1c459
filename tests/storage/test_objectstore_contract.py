"""The ObjectStore contract: every test here runs against the local and the S3 backend."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.storage.objectstore import (
    IntegrityError,
    LocalObjectStore,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    S3ObjectStore,
)

MiB = 1024 * 1024

BINARY = bytes(range(256)) * 64 + b"\x00\r\n\x1a\xff"  # every byte value, plus awkward ones


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class OneWayStream:
    """A read-only, non-seekable stream, like a request body or a pipe."""

    def __init__(self, data: bytes, piece: int = 1000) -> None:
        self._buffer = io.BytesIO(data)
        self._piece = piece

    def read(self, size: int = -1) -> bytes:
        return self._buffer.read(min(size, self._piece) if size > 0 else self._piece)


def test_put_get_round_trip_binary(store: ObjectStore) -> None:
    info = store.put("blobs/binary", BINARY)
    assert info == ObjectInfo(
        key="blobs/binary",
        size=len(BINARY),
        sha256=sha(BINARY),
        content_type="application/octet-stream",
        last_modified=info.last_modified,
    )
    assert store.get_bytes("blobs/binary") == BINARY


def test_put_accepts_streams_including_unseekable(store: ObjectStore) -> None:
    data = os.urandom(300 * 1024)
    assert store.put("streams/seekable", io.BytesIO(data)).sha256 == sha(data)
    assert store.put("streams/one-way", OneWayStream(data)).sha256 == sha(data)
    assert store.get_bytes("streams/seekable") == data
    assert store.get_bytes("streams/one-way") == data


def test_put_empty_object(store: ObjectStore) -> None:
    info = store.put("empty", b"")
    assert (info.size, info.sha256) == (0, sha(b""))
    assert store.get_bytes("empty") == b""


def test_get_streams_in_bounded_chunks(store: ObjectStore) -> None:
    chunk_size = store.chunk_size  # 64 KiB in these tests
    data = os.urandom(3 * chunk_size + 17)
    store.put("big/file", data)
    stream = store.get("big/file")
    first = next(stream)
    assert 0 < len(first) <= chunk_size
    rest = list(stream)
    assert len(rest) >= 3
    assert all(0 < len(chunk) <= chunk_size for chunk in rest)
    assert first + b"".join(rest) == data


def test_abandoned_stream_is_harmless(store: ObjectStore) -> None:
    store.put("partial", os.urandom(3 * store.chunk_size))
    stream = store.get("partial")
    next(stream)
    stream.close()  # the reader gave up: the file/connection is released, no error
    assert store.head("partial") is not None


def test_head_reports_sha_size_type_and_time(store: ObjectStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    store.put("photos/rack.jpg", b"\xff\xd8jpeg", content_type="image/jpeg")
    info = store.head("photos/rack.jpg")
    assert info is not None
    assert (info.key, info.size, info.sha256, info.content_type) == (
        "photos/rack.jpg",
        6,
        sha(b"\xff\xd8jpeg"),
        "image/jpeg",
    )
    assert info.last_modified is not None and info.last_modified.tzinfo is not None
    assert before <= info.last_modified <= datetime.now(UTC) + timedelta(seconds=5)


def test_missing_key(store: ObjectStore, tmp_path: Path) -> None:
    assert store.head("nope") is None
    with pytest.raises(ObjectNotFound):
        store.get("nope")  # raised by the call itself, not on first iteration
    with pytest.raises(ObjectNotFound):
        store.get_bytes("nope")
    with pytest.raises(ObjectNotFound):
        store.download_to("nope", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_put_with_matching_sha256_is_accepted_in_any_case(store: ObjectStore) -> None:
    info = store.put("checked", BINARY, sha256=sha(BINARY).upper())
    assert info.sha256 == sha(BINARY)


def test_put_with_wrong_sha256_stores_nothing(store: ObjectStore) -> None:
    with pytest.raises(IntegrityError):
        store.put("fresh", b"content", sha256=sha(b"other content"))
    assert store.head("fresh") is None
    assert list(store.list()) == []

    # ...and an existing object under that key is left exactly as it was.
    store.put("kept", b"original")
    with pytest.raises(IntegrityError):
        store.put("kept", io.BytesIO(b"replacement"), sha256=sha(b"something else"))
    assert store.get_bytes("kept") == b"original"
    assert store.head("kept").sha256 == sha(b"original")


def test_malformed_sha256_argument_is_a_value_error(store: ObjectStore) -> None:
    with pytest.raises(ValueError):
        store.put("k", b"x", sha256="not-a-digest")
    assert store.head("k") is None


def test_failing_source_stream_stores_nothing(store: ObjectStore) -> None:
    class Broken:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise RuntimeError("client went away")
            return b"x" * 1000

    store.put("upload", b"old")
    with pytest.raises(RuntimeError):
        store.put("upload", Broken())
    assert store.get_bytes("upload") == b"old"


def test_overwrite_replaces_content_and_metadata(store: ObjectStore) -> None:
    store.put("doc", b"v1", content_type="text/plain")
    info = store.put("doc", b"version two", content_type="application/json")
    assert store.get_bytes("doc") == b"version two"
    assert store.head("doc") == info
    assert (info.size, info.sha256, info.content_type) == (11, sha(b"version two"), "application/json")


def test_multipart_sized_object_round_trips(store: ObjectStore) -> None:
    data = os.urandom(11 * MiB)  # > threshold: 3 parts of 5 + 5 + 1 MiB on S3
    info = store.put("mirrors/device.bundle", io.BytesIO(data))
    assert (info.size, info.sha256) == (len(data), sha(data))
    assert hashlib.sha256(b"".join(store.get("mirrors/device.bundle"))).hexdigest() == sha(data)


def test_list_by_prefix_sorted_and_paginated(store: ObjectStore) -> None:
    keys = [f"many/{i:03d}" for i in range(25)]  # s3 page size is 10: three pages
    for key in reversed(keys):
        store.put(key, key.encode())
    store.put("manx", b"-")
    store.put("other/x", b"-")

    listed = list(store.list("many/"))
    assert [info.key for info in listed] == keys
    assert all(info.size == len(info.key) for info in listed)
    # Listings carry no metadata on either backend (see ObjectInfo).
    assert {(info.sha256, info.content_type) for info in listed} == {(None, None)}
    assert [info.key for info in store.list("man")] == ["manx", *keys]  # "x" < "y"
    assert [info.key for info in store.list()] == ["manx", *keys, "other/x"]
    assert list(store.list("nothing-here/")) == []


def test_keys_that_collide_on_a_naive_file_system_coexist(store: ObjectStore) -> None:
    keys = ["a", "a/b", "a.d/x", "a/b.obj", "x", "x.meta", "x.obj", "x.tmp", ".hidden", "Café ☕ photo.jpg"]
    for key in keys:
        store.put(key, key.encode())
    for key in keys:
        assert store.get_bytes(key) == key.encode()
    assert [info.key for info in store.list()] == sorted(keys)


def test_delete(store: ObjectStore) -> None:
    store.put("gone/soon", b"x")
    store.put("gone/stays", b"y")
    store.delete("gone/soon")
    assert store.head("gone/soon") is None
    store.delete("gone/soon")  # missing key: no error
    store.delete("never/existed")
    assert [info.key for info in store.list()] == ["gone/stays"]


def test_delete_prefix(store: ObjectStore) -> None:
    for i in range(12):
        store.put(f"device/1/photo-{i}", b"p")
    store.put("device/10/photo", b"other device")
    store.put("device/2/photo", b"other device")
    assert store.delete_prefix("device/1/") == 12
    assert [info.key for info in store.list()] == ["device/10/photo", "device/2/photo"]
    assert store.delete_prefix("device/1/") == 0
    with pytest.raises(ValueError):
        store.delete_prefix("")  # never wipe the whole store by accident


BAD_KEYS = [
    "",
    "/absolute",
    "..",
    "../escape",
    "a/../../escape",
    "a/..",
    "a//b",
    "a/./b",
    "trailing/",
    "tab\there",
    "new\nline",
    "nul\x00byte",
    "del\x7f",
    "x" * 1025,
    "é" * 513,  # 513 characters but 1026 UTF-8 bytes
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_invalid_keys_are_rejected(store: ObjectStore, key: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        store.put(key, b"x")
    for operation in (store.get, store.get_bytes, store.head, store.delete):
        with pytest.raises(ValueError):
            operation(key)
    with pytest.raises(ValueError):
        store.download_to(key, tmp_path / "out")
    with pytest.raises(ValueError):
        store.presigned_get_url(key)
    assert list(store.list()) == []


def test_non_string_key_is_a_type_error(store: ObjectStore) -> None:
    with pytest.raises(TypeError):
        store.put(b"bytes-key", b"x")  # type: ignore[arg-type]


def test_longest_valid_key(store: ObjectStore) -> None:
    # S3 counts the store's own prefix against the 1024-byte limit; locally there is none.
    room = 1024 - len(getattr(store, "prefix", "").encode())
    segments = ["k" * 200] * 4  # file systems cap a name at 255 bytes
    key = "/".join(segments) + "/" + "z" * (room - 4 * 201)
    assert len(key.encode()) == room
    store.put(key, b"deep")
    assert store.get_bytes(key) == b"deep"
    with pytest.raises(ValueError):
        store.put(key + "z", b"one byte too long")


def test_content_type_cannot_inject_headers(store: ObjectStore) -> None:
    with pytest.raises(ValueError):
        store.put("k", b"x", content_type="text/plain\r\nX-Evil: 1")
    assert store.head("k") is None


def test_download_to_is_atomic_and_verified(
    store: ObjectStore, tmp_path: Path, corrupt: object
) -> None:
    data = os.urandom(2 * store.chunk_size + 5)
    store.put("exports/team.json", data)
    target = tmp_path / "downloads" / "team.json"
    info = store.download_to("exports/team.json", target)
    assert target.read_bytes() == data and info.sha256 == sha(data)

    corrupt(store, "exports/team.json", os.urandom(len(data)))  # type: ignore[operator]
    with pytest.raises(IntegrityError):
        store.download_to("exports/team.json", target)
    assert target.read_bytes() == data  # the previous good file is untouched
    assert sorted(p.name for p in target.parent.iterdir()) == ["team.json"]  # no temp left


def test_reads_detect_corruption(store: ObjectStore, corrupt: object) -> None:
    store.put("photo", b"the real bytes")
    corrupt(store, "photo", b"the fake bytes")  # type: ignore[operator]
    with pytest.raises(IntegrityError):
        store.get_bytes("photo")
    with pytest.raises(IntegrityError):
        for _chunk in store.get("photo"):
            pass


def test_presigned_get_url(store: ObjectStore) -> None:
    store.put("photos/abc", b"\x89PNG...", content_type="image/png")
    url = store.presigned_get_url("photos/abc", expires_seconds=60, filename='Rack "A" – front.png')
    if isinstance(store, LocalObjectStore):
        assert url is None  # the app streams local bytes itself
        return
    assert isinstance(store, S3ObjectStore) and url is not None
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"\x89PNG..."
        disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Rack%20A%20%E2%80%93%20front.png" in disposition
    with pytest.raises(ValueError):
        store.presigned_get_url("photos/abc", expires_seconds=0)


def test_ping(store: ObjectStore) -> None:
    """A usable store answers; an unusable one (root gone, bucket missing) raises, never passes."""
    assert store.ping() is None
    if isinstance(store, LocalObjectStore):
        root = store.root
        shutil.rmtree(root)
        root.write_bytes(b"a file where the folder was")
        with pytest.raises(ObjectStoreError):
            store.ping()
        root.unlink()
        root.mkdir()
        return
    assert isinstance(store, S3ObjectStore)
    bucket = store.bucket
    store.bucket = f"{bucket}-missing"
    try:
        with pytest.raises(ObjectStoreError, match="does not exist"):
            store.ping()
    finally:
        store.bucket = bucket
    assert store.ping() is None
