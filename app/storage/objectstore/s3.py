"""Object store on any S3-compatible service (Cloudflare R2, MinIO, AWS S3, moto)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .base import (
    DEFAULT_CHUNK_SIZE,
    MAX_KEY_BYTES,
    Data,
    IntegrityError,
    MiB,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    content_disposition,
    spool,
    validate_content_type,
    validate_key,
    validate_prefix,
)

DEFAULT_MULTIPART_THRESHOLD = 8 * MiB
DEFAULT_PART_SIZE = 8 * MiB
MIN_PART_SIZE = 5 * MiB  # S3 rejects smaller parts (except the last) at completion time
MAX_PARTS = 10_000  # S3's cap on parts per upload
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs cannot outlive a week
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def make_config(connect_timeout: float, read_timeout: float, max_attempts: int) -> Config:
    return Config(
        # R2 (and some MinIO versions) reject the CRC checksums that botocore >= 1.36 adds
        # by default; only send/validate checksums where the API requires them. Integrity
        # is covered by our own Content-MD5 on uploads and SHA-256 on reads.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        signature_version="s3v4",
        # Path style works with every S3-compatible endpoint and with bucket names that
        # are not valid DNS labels; virtual-host style needs wildcard DNS.
        s3={"addressing_style": "path"},
    )


class S3ObjectStore(ObjectStore):
    """An ObjectStore in ``bucket``, with every key stored under ``prefix``.

    ``max_attempts`` is botocore's ``retries["max_attempts"]``, which counts *retries* after
    the first try (3 means up to 4 attempts; 0 disables retries, handy for health checks).

    Uploads carry ``x-amz-meta-sha256`` and a Content-MD5 the server checks on arrival.
    Objects larger than ``multipart_threshold`` go up as multipart uploads of ``part_size``
    parts, aborted on failure so no invisible, billed parts are left behind.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        max_attempts: int = 3,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        part_size: int = DEFAULT_PART_SIZE,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        list_page_size: int = 1000,
        spool_dir: Path | None = None,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ValueError("bucket name is required")
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3 minimum)")
        if multipart_threshold < 0 or chunk_size <= 0 or max_attempts < 0:
            raise ValueError("multipart_threshold, chunk_size and max_attempts must not be negative")
        if not 1 <= list_page_size <= 1000:
            raise ValueError("list_page_size must be between 1 and 1000")
        if bool(access_key_id) != bool(secret_access_key):
            raise ValueError("access key id and secret access key must be given together")
        self.bucket = bucket
        prefix = prefix.strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        if self.prefix:
            validate_prefix(self.prefix)
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.chunk_size = chunk_size
        self.list_page_size = list_page_size
        self.spool_dir = spool_dir
        if client is None:
            # A private session: boto3's default session is shared module state and not
            # thread-safe; the client itself is thread-safe and reused for every call.
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint_url or None,
                region_name=region,
                aws_access_key_id=access_key_id or None,
                aws_secret_access_key=secret_access_key or None,
                aws_session_token=session_token or None,
                config=make_config(connect_timeout, read_timeout, max_attempts),
            )
        self.client = client

    def __repr__(self) -> str:
        return f"S3ObjectStore(s3://{self.bucket}/{self.prefix} at {self.client.meta.endpoint_url})"

    # -- helpers --------------------------------------------------------------------------

    def _full_key(self, key: str) -> str:
        validate_key(key)
        full = self.prefix + key
        if len(full.encode("utf-8")) > MAX_KEY_BYTES:
            raise ValueError(f"object key plus store prefix is longer than {MAX_KEY_BYTES} bytes")
        return full

    @contextlib.contextmanager
    def _errors(self, op: str, key: str) -> Iterator[None]:
        """Translate botocore/network failures into ObjectStoreError (why: callers must
        not need to know which backend they talk to in order to retry or report)."""
        where = f"{op} {key!r} in s3://{self.bucket}/{self.prefix}"
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in _MISSING_CODES:
                raise ObjectNotFound(f"{where}: no such object") from exc
            raise ObjectStoreError(f"{where}: {code} {error.get('Message', '')}".rstrip()) from exc
        except (BotoCoreError, OSError) as exc:
            raise ObjectStoreError(f"{where}: {exc}") from exc

    def _info(self, key: str, response: dict[str, Any]) -> ObjectInfo:
        sha256 = response.get("Metadata", {}).get("sha256")
        return ObjectInfo(
            key=key,
            size=int(response["ContentLength"]),
            sha256=sha256.lower() if sha256 else None,
            content_type=response.get("ContentType"),
            last_modified=response.get("LastModified"),
        )

    # -- write ----------------------------------------------------------------------------

    def _put(self, key: str, data: Data, content_type: str, expected_sha256: str | None) -> tuple[int, str]:
        full = self._full_key(key)
        try:
            payload = spool(data, self.chunk_size, self.spool_dir, in_memory_max=self.chunk_size)
        except OSError as exc:  # e.g. the spool disk is full: same error type as locally
            raise ObjectStoreError(f"put {key!r}: cannot spool upload: {exc}") from exc
        try:
            # Checked before any request: a wrong checksum must leave the bucket untouched.
            if expected_sha256 is not None and payload.sha256 != expected_sha256:
                raise IntegrityError(
                    f"put {key!r}: content sha256 {payload.sha256} does not match expected {expected_sha256}"
                )
            metadata = {"sha256": payload.sha256}
            if payload.size > self.multipart_threshold:
                self._put_multipart(key, full, payload.file, payload.size, content_type, metadata)
            else:
                with self._errors("put", key):
                    self.client.put_object(
                        Bucket=self.bucket,
                        Key=full,
                        Body=payload.file,  # seekable, so botocore can rewind it to retry
                        ContentLength=payload.size,
                        ContentType=content_type,
                        ContentMD5=_b64(payload.md5),
                        Metadata=metadata,
                    )
            return payload.size, payload.sha256
        finally:
            payload.close()

    def _put_multipart(
        self, key: str, full: str, file: Any, size: int, content_type: str, metadata: dict[str, str]
    ) -> None:
        # Grow the part size if needed to stay within S3's 10,000-part cap.
        part_size = max(self.part_size, math.ceil(size / MAX_PARTS))
        with self._errors("start multipart upload of", key):
            upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=full, ContentType=content_type, Metadata=metadata
            )["UploadId"]
        try:
            parts = []
            number = 1
            # One part in memory at a time: bounded, and a bytes body is trivially retryable.
            while chunk := file.read(part_size):
                with self._errors(f"upload part {number} of", key):
                    response = self.client.upload_part(
                        Bucket=self.bucket,
                        Key=full,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=chunk,
                        ContentLength=len(chunk),
                        ContentMD5=_b64(hashlib.md5(chunk, usedforsecurity=False).digest()),
                    )
                parts.append({"ETag": response["ETag"], "PartNumber": number})
                number += 1
            with self._errors("complete multipart upload of", key):
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=full, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            # Best effort: the original failure is what the caller needs to see. Parts of an
            # upload that is neither completed nor aborted are stored (and billed) forever.
            with contextlib.suppress(Exception):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)
            raise

    # -- read -----------------------------------------------------------------------------

    def head(self, key: str) -> ObjectInfo | None:
        full = self._full_key(key)
        try:
            with self._errors("head", key):
                response = self.client.head_object(Bucket=self.bucket, Key=full)
        except ObjectNotFound:
            return None
        return self._info(key, response)

    def _open(self, key: str) -> tuple[ObjectInfo, Iterator[bytes]]:
        full = self._full_key(key)
        with self._errors("get", key):
            response = self.client.get_object(Bucket=self.bucket, Key=full)
        return self._info(key, response), self._chunks(key, response["Body"])

    def _chunks(self, key: str, body: Any) -> Iterator[bytes]:
        try:
            with self._errors("get", key):
                yield from body.iter_chunks(self.chunk_size)
        finally:
            body.close()  # return the connection to the pool even if the reader stops early

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)  # eagerly, not on first iteration
        return self._list(prefix)

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": self.prefix + prefix,
            "MaxKeys": self.list_page_size,
        }
        while True:
            with self._errors("list", prefix):
                response = self.client.list_objects_v2(**request)
            for item in response.get("Contents", []):
                yield ObjectInfo(
                    key=item["Key"][len(self.prefix) :],
                    size=int(item["Size"]),
                    sha256=None,  # listings carry no user metadata (see ObjectInfo)
                    content_type=None,
                    last_modified=item.get("LastModified"),
                )
            if not response.get("IsTruncated"):
                return
            request["ContinuationToken"] = response["NextContinuationToken"]

    # -- delete ---------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        full = self._full_key(key)
        with self._errors("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=full)  # idempotent on S3

    def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        if not prefix:
            raise ValueError("delete_prefix needs a non-empty prefix")
        keys = [self.prefix + info.key for info in self._list(prefix)]
        # DeleteObjects takes at most 1,000 keys: one request per batch, not per key.
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            with self._errors("delete prefix", prefix):
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise ObjectStoreError(
                    f"delete prefix {prefix!r}: {len(errors)} object(s) not deleted, "
                    f"e.g. {first.get('Key')!r}: {first.get('Code')} {first.get('Message')}"
                )
        return len(keys)

    # -- misc -----------------------------------------------------------------------------

    def presigned_get_url(
        self,
        key: str,
        expires_seconds: int = 300,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        full = self._full_key(key)
        if not 1 <= expires_seconds <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires_seconds must be between 1 and {MAX_PRESIGN_SECONDS}")
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": full}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        if content_type:
            params["ResponseContentType"] = validate_content_type(content_type)
        with self._errors("presign", key):  # local signing only: no request is made
            return self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_seconds
            )

    def ping(self) -> None:
        try:
            with self._errors("ping", ""):
                self.client.head_bucket(Bucket=self.bucket)
        except ObjectNotFound as exc:
            raise ObjectStoreError(f"bucket {self.bucket!r} does not exist") from exc

    def close(self) -> None:
        self.client.close()
