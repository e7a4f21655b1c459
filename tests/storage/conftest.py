"""Fixtures for the object-store tests.

* ``store``: parametrized over ``local`` and ``s3`` so every contract test runs against both
  backends; each s3 test gets its own key prefix in the shared bucket.
* ``corrupt``: replaces an object's bytes behind the store's back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.storage.objectstore import LocalObjectStore, ObjectStore, S3ObjectStore
from tests.objectstore_support import make_store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    instance = make_store(request.param, tmp_path, request)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def corrupt() -> Callable[[ObjectStore, str, bytes], None]:
    """Replace an object's bytes behind the store's back, keeping its stored SHA-256."""

    def _corrupt(target: ObjectStore, key: str, data: bytes) -> None:
        if isinstance(target, LocalObjectStore):
            _, data_path, _ = target._paths(key)
            data_path.write_bytes(data)
        elif isinstance(target, S3ObjectStore):
            full = target.prefix + key
            old = target.client.head_object(Bucket=target.bucket, Key=full)
            target.client.put_object(Bucket=target.bucket, Key=full, Body=data, Metadata=old["Metadata"])
        else:  # pragma: no cover
            raise TypeError(target)

    return _corrupt

