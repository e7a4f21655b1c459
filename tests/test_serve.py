"""The embedded defaults: `infratrace migrate` then `infratrace serve` answer /signup with nothing else running.

This is what `scripts/run` does after making the virtualenv: no DATABASE_URL, no REDIS_URL, a fresh
data folder (SQLite file, generated secret key, local folders).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_migrate_and_serve_with_embedded_defaults(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "OBJECT_STORE_URL",
                                                             "SECRET_KEY", "PORT")}
    env["INFRATRACE_DATA"] = str(tmp_path / "instance")
    migrate = subprocess.run([sys.executable, "-m", "app", "migrate"], env=env, cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    assert (tmp_path / "instance" / "infratrace.db").exists()
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0, "the generated key is private"
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", "1"],
                              env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/signup", timeout=5) as response:
                    status = response.status
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.2)
        assert status == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}" in output, "the URL is printed"
