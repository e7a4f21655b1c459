"""Cloning a repository with a ~100 MiB pack: the serving process stays flat (the pack streams)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.githttp_support import (  # noqa: F401  (fixtures)
    add_device,
    device_path,
    git_env,
    git_home_fixture,
    server_fixture,
    username,
    world_fixture,
)

ROOT = Path(__file__).resolve().parent.parent
BLOBS, BLOB_MIB = 50, 2  # 100 MiB of random, incompressible data
SERVE = (
    "import sys\n"
    "from werkzeug.serving import make_server\n"
    "from app import create_app\n"
    "server = make_server('127.0.0.1', 0, create_app(), threaded=True)\n"
    "print(server.server_port, flush=True)\n"
    "server.serve_forever()\n"
)


def fill_with_random_blobs(repo: Path) -> None:
    """One commit on main adding BLOBS random blobs under configs/, written by git fast-import."""
    head = subprocess.run(["git", "--git-dir", str(repo), "rev-parse", "main"], capture_output=True, text=True,
                          check=True).stdout.strip()
    # unpackLimit=1: even a few objects are kept as one pack (the default would write loose ones).
    importer = subprocess.Popen(["git", "--git-dir", str(repo), "-c", "fastimport.unpackLimit=1", "fast-import",
                                 "--quiet"], stdin=subprocess.PIPE)
    assert importer.stdin is not None
    for i in range(BLOBS):
        blob = os.urandom(BLOB_MIB * 1024 * 1024)
        importer.stdin.write(f"blob\nmark :{i + 1}\ndata {len(blob)}\n".encode() + blob + b"\n")
    importer.stdin.write(f"commit refs/heads/main\nauthor A <a@b> 0 +0000\ncommitter A <a@b> 0 +0000\n"
                         f"data 5\nblobs\nfrom {head}\n".encode())
    for i in range(BLOBS):
        importer.stdin.write(f"M 100644 :{i + 1} configs/blob-{i:03d}\n".encode())
    importer.stdin.write(b"\n")
    importer.stdin.close()
    assert importer.wait() == 0


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_cloning_a_100_mib_pack_keeps_the_server_flat(app, config, world, git_home, tmp_path):
    device_id = add_device(app, "acme", "core", "big", world.users["owner"])
    repo = device_path(app, device_id)
    fill_with_random_blobs(repo)
    pack_bytes = sum(p.stat().st_size for p in (repo / "objects" / "pack").glob("*.pack"))
    assert pack_bytes > 95 * 1024 * 1024

    env = {**os.environ, "INFRATRACE_DATA": str(config.data_dir), "DATABASE_URL": config.database_url,
           "SECRET_KEY": config.secret_key, "PYTHONPATH": str(ROOT)}
    if config.redis_url:
        env["REDIS_URL"] = config.redis_url
    served = subprocess.Popen([sys.executable, "-c", SERVE], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert served.stdout is not None
        port = int(served.stdout.readline())
        url = f"http://{username('viewer')}:{world.tokens['viewer']}@127.0.0.1:{port}/git/acme/core/big.git"
        small = f"http://{username('viewer')}:{world.tokens['viewer']}@127.0.0.1:{port}/git/acme/core/sw1.git"
        # Warm up: every module and connection the clone path needs is loaded before the baseline.
        subprocess.run(["git", "clone", "-q", small, str(tmp_path / "warm")], env=git_env(git_home), check=True,
                       timeout=60)
        baseline = rss_kib(served.pid)
        peak = baseline
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_kib(served.pid))
                done.wait(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        subprocess.run(["git", "clone", "-q", url, str(tmp_path / "big")], env=git_env(git_home), check=True,
                       timeout=120)
        elapsed = time.monotonic() - started
        done.set()
        sampler.join()
        assert (tmp_path / "big" / "configs" / "blob-049").stat().st_size == BLOB_MIB * 1024 * 1024
        growth_mib = (peak - baseline) / 1024
        print(f"clone of {pack_bytes / 2**20:.0f} MiB in {elapsed:.1f}s; server RSS {baseline / 1024:.0f} MiB "
              f"-> peak {peak / 1024:.0f} MiB (+{growth_mib:.1f} MiB)")
        assert growth_mib < 32
    finally:
        served.terminate()
        served.wait(timeout=30)
