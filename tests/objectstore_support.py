"""Object-store test support (imported by name; tests/conftest.py registers the fixtures).

* ``moto_server`` (session): moto's standalone S3 server as a real subprocess on loopback,
  so the S3 backend is exercised over genuine HTTP (sockets, timeouts, retries).
* ``restartable_moto`` (function): a private server a test may stop and start again.
* ``make_store``: a local or S3 store with small chunks, for the contract tests' ``store``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from app.storage.objectstore import (
    ObjectStore,
    open_object_store,
)

BUCKET = "infratrace-test"
KiB = 1024
MiB = 1024 * KiB
CHUNK = 64 * KiB
# Fake credentials travel only through the env mapping given to open_object_store (and
# the explicit boto3 client below), never through ~/.aws or the process environment.
FAKE_CREDENTIALS = {
    "OBJECT_STORE_ACCESS_KEY_ID": "testing-key-id",
    "OBJECT_STORE_SECRET_ACCESS_KEY": "testing-secret",
    "OBJECT_STORE_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """moto's S3 server in a child process, startable and stoppable on a fixed port."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.bucket = BUCKET

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {**FAKE_CREDENTIALS, "OBJECT_STORE_ENDPOINT_URL": self.endpoint}

    def start(self, timeout: float = 30.0) -> None:
        assert self.process is None, "already running"
        # Log to a file, not a pipe: nobody reads a pipe while tests run, and a full pipe
        # buffer would freeze the server mid-test.
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while True:  # poll until it answers HTTP; any status code means it is serving
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited early:\n{self.log_path.read_text()}")
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto server did not answer within {timeout}s") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def client(self) -> Any:
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing-key-id",
            aws_secret_access_key="testing-secret",
        )

    def create_bucket(self) -> None:
        self.client().create_bucket(Bucket=BUCKET)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(free_port(), tmp_path_factory.mktemp("moto") / "server.log")
    server.start()
    try:
        server.create_bucket()
        yield server
    finally:
        server.stop()


@pytest.fixture
def restartable_moto(tmp_path: Path) -> Iterator[MotoServer]:
    server = MotoServer(free_port(), tmp_path / "moto.log")
    server.start()
    try:
        server.create_bucket()
        yield server
    finally:
        server.stop()


def make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> ObjectStore:
    if kind == "local":
        return open_object_store(None, tmp_path, env={}, chunk_size=CHUNK)
    # Only s3 tests pay for the server: requested lazily, so `-k local` never starts it.
    server: MotoServer = request.getfixturevalue("moto_server")
    return open_object_store(
        f"s3://{BUCKET}/tests/{uuid.uuid4().hex}",
        tmp_path,
        env=server.env(),
        chunk_size=CHUNK,
        # S3's minimum part size, so 11 MiB exercises a 3-part upload cheaply.
        multipart_threshold=5 * MiB,
        part_size=5 * MiB,
        list_page_size=10,  # small pages so listings of a few dozen keys paginate
        max_attempts=2,
    )
