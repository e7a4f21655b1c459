"""S3-only behaviour: multipart mechanics, request shapes, prefixes, the URL factory."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from app.storage.objectstore import (
    LocalObjectStore,
    ObjectStoreError,
    S3ObjectStore,
    open_object_store,
)

MiB = 1024 * 1024


@pytest.fixture
def s3(moto_server: Any, tmp_path: Path) -> S3ObjectStore:
    store = open_object_store(
        f"s3://{moto_server.bucket}/s3-only/{os.urandom(6).hex()}",
        tmp_path,
        env=moto_server.env(),
        multipart_threshold=5 * MiB,
        part_size=5 * MiB,
        list_page_size=10,
    )
    assert isinstance(store, S3ObjectStore)
    return store


def pending_uploads(store: S3ObjectStore) -> list[Any]:
    return store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix).get("Uploads", [])


def test_sha256_is_plain_s3_metadata(s3: S3ObjectStore) -> None:
    info = s3.put("photos/x", b"bytes", content_type="image/webp")
    raw = s3.client.head_object(Bucket=s3.bucket, Key=s3.prefix + "photos/x")
    # Visible to any S3 tool as x-amz-meta-sha256, e.g. for a restore script.
    assert raw["Metadata"] == {"sha256": info.sha256}
    assert raw["ContentType"] == "image/webp"


def test_large_objects_go_up_in_parts(s3: S3ObjectStore) -> None:
    data = os.urandom(11 * MiB)
    s3.put("mirror.bundle", io.BytesIO(data))
    etag = s3.client.head_object(Bucket=s3.bucket, Key=s3.prefix + "mirror.bundle")["ETag"]
    assert etag.strip('"').endswith("-3")  # a multipart ETag: 5 + 5 + 1 MiB
    assert pending_uploads(s3) == []

    s3.put("small", os.urandom(5 * MiB))  # at the threshold: one plain PUT
    etag = s3.client.head_object(Bucket=s3.bucket, Key=s3.prefix + "small")["ETag"]
    assert "-" not in etag


def test_failed_multipart_upload_is_aborted(s3: S3ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    real_upload_part = s3.client.upload_part
    calls: list[int] = []

    def flaky_upload_part(**kwargs: Any) -> Any:
        calls.append(kwargs["PartNumber"])
        if kwargs["PartNumber"] == 2:
            raise EndpointConnectionError(endpoint_url="http://simulated")
        return real_upload_part(**kwargs)

    monkeypatch.setattr(s3.client, "upload_part", flaky_upload_part)
    with pytest.raises(ObjectStoreError, match="upload part 2"):
        s3.put("mirror.bundle", os.urandom(11 * MiB))
    assert calls == [1, 2]
    assert pending_uploads(s3) == []  # no orphaned, billed parts
    assert s3.head("mirror.bundle") is None


def test_listing_really_paginates(s3: S3ObjectStore) -> None:
    for i in range(23):
        s3.put(f"k/{i:02d}", b"x")
    requests: list[dict[str, Any]] = []
    s3.client.meta.events.register(
        "before-call.s3.ListObjectsV2", lambda params, **_: requests.append(params)
    )
    assert len(list(s3.list("k/"))) == 23
    assert len(requests) == 3  # pages of 10, 10 and 3


def test_delete_prefix_uses_batches(s3: S3ObjectStore) -> None:
    for i in range(15):
        s3.put(f"batch/{i}", b"x")
    calls: list[str] = []
    s3.client.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    assert s3.delete_prefix("batch/") == 15
    assert calls.count("DeleteObjects") == 1 and "DeleteObject" not in calls


def test_prefixes_isolate_stores_in_one_bucket(moto_server: Any, tmp_path: Path) -> None:
    env = moto_server.env()
    one = open_object_store(f"s3://{moto_server.bucket}/iso/one", tmp_path, env=env)
    two = open_object_store(f"s3://{moto_server.bucket}/iso/two/", tmp_path, env=env)
    one.put("same-key", b"one")
    two.put("same-key", b"two")
    assert one.get_bytes("same-key") == b"one"
    assert [info.key for info in two.list()] == ["same-key"]
    assert one.delete_prefix("same") == 1
    assert two.get_bytes("same-key") == b"two"


def test_missing_bucket_fails_ping(moto_server: Any, tmp_path: Path) -> None:
    store = open_object_store("s3://no-such-bucket", tmp_path, env=moto_server.env())
    with pytest.raises(ObjectStoreError, match="no-such-bucket"):
        store.ping()


# -- open_object_store ----------------------------------------------------------------------


def test_factory_defaults_to_local_folder(tmp_path: Path) -> None:
    for url in (None, ""):
        store = open_object_store(url, tmp_path, env={})
        assert isinstance(store, LocalObjectStore)
        assert store.root == (tmp_path / "objects").resolve()


def test_factory_file_url(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "my objects"
    store = open_object_store(f"file://{target.as_posix().replace(' ', '%20')}", tmp_path, env={})
    assert isinstance(store, LocalObjectStore) and store.root == target.resolve()
    with pytest.raises(ValueError):
        open_object_store("file://remote-host/path", tmp_path, env={})


def test_factory_s3_url_reads_env(tmp_path: Path) -> None:
    env = {
        "OBJECT_STORE_ENDPOINT_URL": "https://acct.r2.cloudflarestorage.com",
        "AWS_ENDPOINT_URL": "http://ignored:9000",
        "OBJECT_STORE_REGION": "auto",
        "OBJECT_STORE_ACCESS_KEY_ID": "AKID",
        "OBJECT_STORE_SECRET_ACCESS_KEY": "SECRET",
    }
    store = open_object_store("s3://photos-bucket/prod/eu", tmp_path, env=env)
    assert isinstance(store, S3ObjectStore)
    assert (store.bucket, store.prefix) == ("photos-bucket", "prod/eu/")
    meta = store.client.meta
    assert meta.endpoint_url == "https://acct.r2.cloudflarestorage.com"
    assert meta.region_name == "auto"
    credentials = store.client._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key) == ("AKID", "SECRET")
    config = meta.config
    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"
    # botocore reads retries["max_attempts"] as retries after the first try: 4 attempts.
    assert config.retries == {"mode": "standard", "total_max_attempts": 4}
    assert (config.connect_timeout, config.read_timeout) == (5, 30)
    assert config.signature_version == "s3v4"
    assert config.s3 == {"addressing_style": "path"}


def test_factory_s3_fallbacks(tmp_path: Path) -> None:
    store = open_object_store("s3://b", tmp_path, env={"AWS_ENDPOINT_URL": "http://minio:9000"})
    assert isinstance(store, S3ObjectStore)
    assert store.client.meta.endpoint_url == "http://minio:9000"
    assert store.client.meta.region_name == "us-east-1"
    assert store.prefix == ""


@pytest.mark.parametrize(
    "url", ["gs://bucket", "http://host/bucket", "s3://", "s3:///prefix-only", "s3://b/p?x=1"]
)
def test_factory_rejects_unknown_or_malformed_urls(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="URL"):
        open_object_store(url, tmp_path, env={})
