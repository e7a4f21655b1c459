"""Bodies are capped before they are read whole; git is reaped when the client leaves or time is up."""

from __future__ import annotations

import base64
import os
import select
import socket
import subprocess
import time
from pathlib import Path

import pytest

from app.githttp import runner
from tests.githttp_support import device_path, git_home_fixture, server_fixture, username, world_fixture  # noqa: F401  (fixtures)

REPO = "/git/acme/core/sw1.git"
CAP = 1024 * 1024


def _auth(world, who: str = "editor") -> str:
    return "Basic " + base64.b64encode(f"{username(who)}:{world.tokens[who]}".encode()).decode()


def _read_response(sock: socket.socket, deadline: float) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.5)
        if ready:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    return data


@pytest.fixture
def small_cap(app, monkeypatch):
    monkeypatch.setitem(app.config, "INFRATRACE", app.config["INFRATRACE"].with_changes(max_push_bytes=CAP))


def _headers(world, extra: str) -> bytes:
    return (
        f"POST {REPO}/git-receive-pack HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {_auth(world)}\r\nContent-Type: application/x-git-receive-pack-request\r\n"
        f"{extra}\r\n"
    ).encode()


def test_declared_oversized_push_is_refused_before_the_body_is_sent(server, world, small_cap):
    declared = 64 * CAP
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(_headers(world, f"Content-Length: {declared}\r\n"))
        sock.sendall(b"\0" * 1024)  # a sliver of the body, then nothing more
        response = _read_response(sock, time.monotonic() + 30)
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert b"larger than the limit of 1048576 bytes" in response or b"Connection: close" in response


def test_streamed_oversized_push_is_refused_as_the_count_passes_the_cap(server, world, small_cap):
    chunk = b"\0" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    limit = 16 * CAP
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(_headers(world, "Transfer-Encoding: chunked\r\n"))
        sock.setblocking(False)
        response = b""
        deadline = time.monotonic() + 30
        pending = frame
        while time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock] if sent < limit else [], [], 0.5)
            if readable:
                sock.setblocking(True)
                response = _read_response(sock, deadline)
                break
            if writable:
                try:
                    written = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    sock.setblocking(True)
                    response = _read_response(sock, deadline)
                    break
                sent += written
                pending = pending[written:] or frame
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    # The server answered once it had read just over the cap, long before the sender was done.
    assert sent < limit


def _make_big(repo: Path, megabytes: int) -> str:
    """A commit on main adding `megabytes` MiB of random (incompressible) data via fast-import."""
    head = subprocess.run(["git", "--git-dir", str(repo), "rev-parse", "main"], capture_output=True, text=True,
                          check=True).stdout.strip()
    blob = os.urandom(megabytes * 1024 * 1024)
    stream = (
        b"blob\nmark :1\ndata " + str(len(blob)).encode() + b"\n" + blob + b"\n"
        b"commit refs/heads/main\nauthor A <a@b> 0 +0000\ncommitter A <a@b> 0 +0000\ndata 4\nbig\n"
        b"from " + head.encode() + b"\nM 100644 :1 configs/big\n\n"
    )
    subprocess.run(["git", "--git-dir", str(repo), "fast-import", "--quiet"], input=stream, check=True)
    return subprocess.run(["git", "--git-dir", str(repo), "rev-parse", "main"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _session_members(leaders: list[int]) -> list[int]:
    """Processes still alive in the sessions (process groups) of these git leaders."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, session = fields[0], int(fields[3])
        if session in leaders and state != "Z":
            alive.append(int(entry))
    return alive


def test_client_going_away_kills_and_reaps_git(app, server, world):
    head = _make_big(device_path(app, world.device_id), 24)
    body = f"0032want {head}\n".encode() + b"0000" + b"0009done\n"
    request = (
        f"POST {REPO}/git-upload-pack HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {_auth(world, 'viewer')}\r\n"
        f"Content-Type: application/x-git-upload-pack-request\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(request)
    first = _read_response(sock, time.monotonic() + 30)
    assert first.startswith(b"HTTP/1.1 200")
    leaders = runner.live_pids()
    assert leaders, "git should still be sending the pack"
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()  # RST: the client is gone mid-pack
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (set(leaders) & set(runner.live_pids()) or _session_members(leaders)):
        select.select([], [], [], 0.05)
    assert not set(leaders) & set(runner.live_pids())
    assert _session_members(leaders) == []


def test_a_git_process_past_its_time_limit_is_killed(tmp_path):
    started = time.monotonic()
    process = runner.GitProcess(["sh", "-c", "sleep 60 & sleep 60"], runner.base_env(tmp_path), tmp_path,
                                timeout=0.5)
    status = process.wait()
    assert process.timed_out
    assert status != 0
    assert time.monotonic() - started < 10
    # SIGKILL reaches the group at once but each process dies on its own schedule: the orphaned
    # `sleep` may still be on its way out when the leader is reaped. Poll, with a deadline.
    deadline = time.monotonic() + 5
    while _session_members([process.pid]) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _session_members([process.pid]) == []
    assert process.pid not in runner.live_pids()


def test_command_line_takes_no_user_input_as_options(tmp_path):
    argv = runner.git_command(tmp_path / "repo.git", tmp_path / "hooks", "upload-pack")
    assert argv[-1] == str(tmp_path / "repo.git") and argv[-2] == "--stateless-rpc"
    assert f"safe.directory={tmp_path / 'repo.git'}" in argv
    assert "safe.directory=*" not in argv
    assert f"core.hooksPath={tmp_path / 'hooks'}" in argv
    with pytest.raises(ValueError):
        runner.git_command(Path("-repo.git"), tmp_path / "hooks", "upload-pack")
    with pytest.raises(ValueError):
        runner.git_command(tmp_path, tmp_path, "--upload-pack=touch")


def test_hooks_inside_the_repository_never_run(app, server, world, git_home, tmp_path):
    """A pre-receive hook planted in the repo is ignored: only the service's hooks directory counts."""
    from tests.githttp_support import repo_url, run_git

    repo = device_path(app, world.device_id)
    marker = tmp_path / "planted-hook-ran"
    for name in ("pre-receive", "update", "post-receive", "post-update", "reference-transaction"):
        hook = repo / "hooks" / name
        hook.parent.mkdir(exist_ok=True)
        hook.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
        hook.chmod(0o755)
    work = tmp_path / "w"
    run_git(git_home, "clone", repo_url(server, "editor", world.tokens["editor"]), str(work))
    (work / "configs").mkdir()
    (work / "configs" / "a").write_text("x\n")
    run_git(git_home, "add", "-A", cwd=work)
    run_git(git_home, "commit", "-q", "-m", "x", cwd=work)
    run_git(git_home, "push", "-q", "origin", "main", cwd=work)
    assert not marker.exists()
    hooks_dir = app.config["INFRATRACE"].data_dir / "git-hooks"
    assert sorted(p.name for p in hooks_dir.iterdir()) == ["pre-receive"]
