"""Failure behaviour against real sockets: dead endpoints, silent endpoints, restarts.

Everything must surface as ObjectStoreError, quickly, so a job can back off and retry.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.storage.objectstore import ObjectStoreError, S3ObjectStore

FAST = {"connect_timeout": 0.5, "read_timeout": 0.5, "max_attempts": 0}
FAKE = {"access_key_id": "testing-key-id", "secret_access_key": "testing-secret"}


def all_operations(store: S3ObjectStore) -> dict[str, Callable[[], Any]]:
    return {
        "ping": store.ping,
        "put": lambda: store.put("k", b"data"),
        "get": lambda: store.get("k"),
        "head": lambda: store.head("k"),
        "list": lambda: list(store.list()),
        "delete": lambda: store.delete("k"),
        "delete_prefix": lambda: store.delete_prefix("k"),
    }


def assert_all_fail_fast(store: S3ObjectStore, budget: float) -> None:
    for name, operation in all_operations(store).items():
        started = time.monotonic()
        with pytest.raises(ObjectStoreError):
            operation()
        assert time.monotonic() - started < budget, f"{name} took too long to fail"


@pytest.fixture
def dead_port() -> Iterator[int]:
    # Bound but not listening: connections are refused, and no other test can take the port.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    # Listening but never answering: connect succeeds, then the read must time out.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


def test_refused_connection_fails_fast(dead_port: int) -> None:
    store = S3ObjectStore("bucket", endpoint_url=f"http://127.0.0.1:{dead_port}", **FAST, **FAKE)
    assert_all_fail_fast(store, budget=2)


def test_unresponsive_server_times_out(silent_port: int) -> None:
    store = S3ObjectStore("bucket", endpoint_url=f"http://127.0.0.1:{silent_port}", **FAST, **FAKE)
    started = time.monotonic()
    with pytest.raises(ObjectStoreError, match="timeout|Read timeout"):
        store.ping()
    assert time.monotonic() - started < 3


def test_retries_are_bounded(dead_port: int) -> None:
    # With retries on, a dead endpoint still fails within a predictable time.
    store = S3ObjectStore(
        "bucket", endpoint_url=f"http://127.0.0.1:{dead_port}", connect_timeout=0.5, max_attempts=2, **FAKE
    )
    started = time.monotonic()
    with pytest.raises(ObjectStoreError):
        store.ping()
    assert time.monotonic() - started < 10


def test_store_recovers_when_the_server_comes_back(restartable_moto: Any) -> None:
    store = S3ObjectStore(
        restartable_moto.bucket, "restart", endpoint_url=restartable_moto.endpoint, **FAST, **FAKE
    )
    store.put("before", b"written before the outage")
    stream = store.get("before")  # pool now holds a live keep-alive connection

    restartable_moto.stop()
    try:  # the body was either already received, or its read fails cleanly (no hang)
        assert b"".join(stream) == b"written before the outage"
    except ObjectStoreError:
        pass
    assert_all_fail_fast(store, budget=2)

    restartable_moto.start()  # same port
    # moto keeps its data in memory; a real service would still have the bucket.
    restartable_moto.create_bucket()
    store.ping()  # the same client recovers: no need to rebuild the store
    store.put("after", b"written after the outage")
    assert store.get_bytes("after") == b"written after the outage"
    assert [info.key for info in store.list()] == ["after"]
