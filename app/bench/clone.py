"""Clone benchmark: InfraTrace's git endpoint against `git http-backend`, same repo, same run.

A device with many versions (2,000 commits quick, 10,000 full, built with git fast-import) is
served twice on loopback by gunicorn (gthread, as in production): once by InfraTrace (token auth,
scoped SQL lookup, our process runner and push hooks) and once by a minimal CGI wrapper around
`git http-backend`. Reported:

- `clone.ratio_vs_http_backend`: our clone throughput / http-backend's (target >= 0.8);
- `clone.noop_fetch_ms`: median latency of an up-to-date `git fetch` through InfraTrace (< 150 ms).

Run: `python -m app.bench.clone [--quick] [--json FILE]`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CONFIG_LINES = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def _fast_import_history(repo: Path, commits: int) -> None:
    """`commits` versions on main, each changing a few lines of a realistic running-config."""
    base = subprocess.run(["git", "--git-dir", str(repo), "rev-parse", "main"], capture_output=True, text=True,
                          check=True).stdout.strip()
    lines = [f"interface GigabitEthernet1/0/{i}\n description port {i}\n switchport access vlan 10\n"
             for i in range(1, CONFIG_LINES // 3 + 1)]
    importer = subprocess.Popen(["git", "--git-dir", str(repo), "fast-import", "--quiet"], stdin=subprocess.PIPE)
    assert importer.stdin is not None
    write = importer.stdin.write
    for n in range(commits):
        port = n % len(lines)
        lines[port] = (f"interface GigabitEthernet1/0/{port + 1}\n description changed in version {n}\n"
                       f" switchport access vlan {10 + n % 50}\n")
        config = ("hostname sw1\n!\n" + "".join(lines)).encode()
        message = f"Version {n}".encode()
        when = 1_700_000_000 + n * 60
        write(f"commit refs/heads/main\nauthor user-bench <user-bench@users.noreply.infratrace> {when} +0000\n"
              f"committer InfraTrace <service@infratrace.invalid> {when} +0000\n".encode())
        write(f"data {len(message)}\n".encode() + message + b"\n")
        if n == 0:
            write(f"from {base}\n".encode())
        write(f"M 100644 inline configs/running-config\ndata {len(config)}\n".encode() + config + b"\n\n")
    importer.stdin.close()
    if importer.wait() != 0:
        raise RuntimeError("git fast-import failed")
    # As housekeeping leaves it: one pack, deltas, a commit graph.
    subprocess.run(["git", "--git-dir", str(repo), "repack", "-a", "-d", "-q"], check=True)
    subprocess.run(["git", "--git-dir", str(repo), "commit-graph", "write", "--reachable"], check=True,
                   capture_output=True)


def _prepare(data_dir: Path, commits: int) -> tuple[str, Path]:
    """Database, user, team, device and token; returns (clone path with credentials, repo path)."""
    from app import create_app
    from app.config import Config
    from app.extensions import db
    from app.migrate import upgrade
    from app.models import Device, Project
    from app.services import accounts, gitstore_bridge, teams, tokens
    from gitstore import DeviceRepo

    database_url = f"sqlite:///{data_dir / 'bench.db'}"
    upgrade(database_url)
    config = Config(data_dir=data_dir, database_url=database_url, secret_key="bench", bcrypt_rounds=4)
    app = create_app(config)
    with app.app_context():
        user = accounts.create_user(accounts.SignupForm(email="bench@example.com", username="bench",
                                                        password="bench password 1", age_confirmed=True))
        access = teams.create_team(user, "Bench")
        project = Project(team_id=access.team.id, name="Core", slug="core")
        db.session.add(project)
        db.session.flush()
        device = Device(team_id=access.team.id, project_id=project.id, name="sw1", slug="sw1", repo_path="")
        db.session.add(device)
        db.session.flush()
        path, _ = DeviceRepo.create(gitstore_bridge.repos_root(), device.id, {"name": "sw1"},
                                    gitstore_bridge.author_for(user))
        device.repo_path = str(path.relative_to(gitstore_bridge.repos_root()))
        secret = tokens.create_token(user, "bench", ["read"]).secret
        db.session.commit()
    _fast_import_history(path, commits)
    return f"bench:{secret}@", path


def _gunicorn(app_spec: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    argv = [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "1", "--threads", "8",
            "--timeout", "600", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app_spec]
    process = subprocess.Popen(argv, env=env, cwd=ROOT)
    _wait_for_port(port, process)
    return process


def _client_env(home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1", "LANG": "C"}


def _time_clone(url: str, dest: Path, env: dict[str, str]) -> float:
    shutil.rmtree(dest, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(["git", "clone", "--bare", "-q", url, str(dest)], env=env, check=True, timeout=600)
    return time.perf_counter() - started


def run_clone_bench(quick: bool, commits: int | None = None) -> dict[str, float]:
    commits = commits or (2_000 if quick else 10_000)
    rounds = 3
    work = Path(tempfile.mkdtemp(prefix="infratrace-bench-clone-"))
    servers: list[subprocess.Popen] = []
    try:
        data_dir = work / "data"
        data_dir.mkdir()
        credentials, repo = _prepare(data_dir, commits)
        pack_bytes = sum(p.stat().st_size for p in (repo / "objects" / "pack").glob("*.pack"))
        ours_port, backend_port = _free_port(), _free_port()
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "DATABASE_URL", "REDIS_URL"))}
        servers.append(_gunicorn("app:create_app()", ours_port, {
            **base_env, "INFRATRACE_DATA": str(data_dir), "DATABASE_URL": f"sqlite:///{data_dir / 'bench.db'}",
            "SECRET_KEY": "bench", "PYTHONPATH": str(ROOT)}))
        servers.append(_gunicorn("app.bench.clone:http_backend_app()", backend_port, {
            **base_env, "BENCH_GIT_ROOT": str(repo.parent), "PYTHONPATH": str(ROOT)}))
        ours_url = f"http://{credentials}127.0.0.1:{ours_port}/git/bench/core/sw1.git"
        backend_url = f"http://127.0.0.1:{backend_port}/{repo.name}"
        home = work / "home"
        home.mkdir()
        env = _client_env(home)
        # One warm-up each (page cache, imports), then alternate so both see the same conditions.
        _time_clone(ours_url, work / "warm-ours", env)
        _time_clone(backend_url, work / "warm-backend", env)
        ours, backend = [], []
        for _ in range(rounds):
            ours.append(_time_clone(ours_url, work / "ours", env))
            backend.append(_time_clone(backend_url, work / "backend", env))
        fetches = []
        for _ in range(15):
            started = time.perf_counter()
            subprocess.run(["git", "fetch", "-q", "origin"], cwd=work / "ours", env=env, check=True, timeout=60)
            fetches.append((time.perf_counter() - started) * 1000)
        best_ours, best_backend = min(ours), min(backend)
        return {
            "clone.commits": commits,
            "clone.pack_bytes": pack_bytes,
            "clone.seconds": round(best_ours, 3),
            "clone.http_backend_seconds": round(best_backend, 3),
            "clone.throughput_mib_s": round(pack_bytes / best_ours / 2**20, 2),
            "clone.ratio_vs_http_backend": round(best_backend / best_ours, 3),
            "clone.noop_fetch_ms": round(statistics.median(fetches), 1),
        }
    finally:
        for server in servers:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


def http_backend_app():  # type: ignore[no-untyped-def]
    """WSGI app running `git http-backend` as CGI for every request (the baseline of the bench)."""
    root = os.environ["BENCH_GIT_ROOT"]

    def application(environ, start_response):  # type: ignore[no-untyped-def]
        body = tempfile.TemporaryFile()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        stream = environ["wsgi.input"]
        if length or environ.get("wsgi.input_terminated"):
            remaining = length or None
            while remaining is None or remaining > 0:
                chunk = stream.read(65536 if remaining is None else min(65536, remaining))
                if not chunk:
                    break
                body.write(chunk)
                if remaining is not None:
                    remaining -= len(chunk)
        size = body.tell()
        body.seek(0)
        cgi_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": root, "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": environ["REQUEST_METHOD"],
            "PATH_INFO": environ.get("PATH_INFO", ""), "QUERY_STRING": environ.get("QUERY_STRING", ""),
            "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""), "CONTENT_LENGTH": str(size),
            "REMOTE_ADDR": environ.get("REMOTE_ADDR", "127.0.0.1"), "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": root,
        }
        for header in ("HTTP_CONTENT_ENCODING", "HTTP_GIT_PROTOCOL"):
            if environ.get(header):
                cgi_env[header] = environ[header]
        process = subprocess.Popen(["git", "http-backend"], stdin=body,
                                   stdout=subprocess.PIPE, env=cgi_env)
        body.close()
        assert process.stdout is not None
        status, headers = "200 OK", []
        while True:
            line = process.stdout.readline().rstrip(b"\r\n")
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "status":
                status = value.strip()
            else:
                headers.append((name, value.strip()))
        start_response(status, headers)

        def chunks() -> Iterator[bytes]:
            try:
                while chunk := process.stdout.read1(65536):
                    yield chunk
            finally:
                process.stdout.close()
                process.kill()
                process.wait()

        return chunks()

    return application


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="2,000 versions instead of 10,000")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run_clone_bench(args.quick)
    text = json.dumps(figures, indent=2, sort_keys=True)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
