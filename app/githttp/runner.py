"""Running real git for a request: a controlled command line and environment, a timeout, and a
process that is always reaped (and killed, with its children, when the client goes away).

Nothing from the request reaches the command line: the repository path comes from the Device
row, every option is ours. git reads no system or global config and only our hooks directory.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
# After git closed its stdout it is exiting; give it this long before it is killed.
EXIT_GRACE_SECONDS = 10.0
STDERR_TAIL = 4096

_live: dict[int, GitProcess] = {}
_live_lock = threading.Lock()


def git_binary() -> str:
    found = shutil.which("git")
    if found is None:
        raise RuntimeError("the git command is not installed")
    return found


def live_pids() -> list[int]:
    """Process ids of git processes started for requests and not yet reaped."""
    with _live_lock:
        return list(_live)


def base_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment: nothing of the server's GIT_* variables, no system or global config."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C",
        "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_NO_REPLACE_OBJECTS": "1",
    }
    if extra:
        env.update(extra)
    return env


def git_command(repo: Path, hooks_dir: Path, service: str, *options: str) -> list[str]:
    """`git -c ... <upload-pack|receive-pack> --stateless-rpc [options] <repo>`.

    `repo` is absolute (it starts with '/'), so it can never be read as an option.
    """
    if not repo.is_absolute():
        raise ValueError("the repository path must be absolute")
    if service not in ("upload-pack", "receive-pack"):
        raise ValueError(f"unknown git service {service!r}")
    return [
        git_binary(),
        # Exactly this repository is trusted even if its owner differs; never '*'.
        "-c", f"safe.directory={repo}",
        # Hooks from repository content never run: only the service's own directory.
        "-c", f"core.hooksPath={hooks_dir}",
        "-c", "receive.fsckObjects=true",
        "-c", "transfer.fsckObjects=true",
        "-c", "receive.advertisePushOptions=false",
        "-c", "gc.auto=0",
        "-c", "receive.autogc=false",
        # Partial clone (`git clone --filter=blob:none`): the client asks for commits and trees only
        # and fetches blobs on demand, wanting them by id; only objects reachable from this repo's
        # refs may be wanted, so nothing unreferenced (or of another device) is ever served.
        "-c", "uploadpack.allowFilter=true",
        "-c", "uploadpack.allowReachableSHA1InWant=true",
        service,
        "--stateless-rpc",
        *options,
        str(repo),
    ]


class GitProcess:
    """One git process. Read its output with `stream()` or let it write to a file with `wait()`.

    `close()` is idempotent and thread-safe: it kills the whole process group if git is still
    running, reaps it, and releases the pipes; the timeout calls it too.
    """

    def __init__(
        self,
        argv: list[str],
        env: Mapping[str, str],
        cwd: Path,
        timeout: float,
        stdin: IO[bytes] | None = None,
        stdout: IO[bytes] | None = None,
    ) -> None:
        self._stderr = tempfile.TemporaryFile()
        self._lock = threading.Lock()
        self._closed = False
        self._reaped = False
        self.timed_out = False
        self._proc = subprocess.Popen(
            argv,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=self._stderr,
            env=dict(env),
            cwd=str(cwd),
            close_fds=True,
            # Its own process group, so pack-objects and hooks die with it.
            start_new_session=True,
        )
        self.pid = self._proc.pid
        with _live_lock:
            _live[self.pid] = self
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.timed_out = True
        log.warning("git process %s exceeded its time limit and is killed", self.pid)
        self._kill()

    def _kill(self) -> None:
        # Only while the leader is not reaped: until then its pid (the group id) cannot be reused,
        # so the signal can only reach our git and its children.
        with self._lock:
            if not self._reaped:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def _exited(self, block: bool) -> bool:
        """Has git exited? Never reaps it (WNOWAIT), so the group can still be killed after."""
        flags = os.WEXITED | os.WNOWAIT | (0 if block else os.WNOHANG)
        try:
            return os.waitid(os.P_PID, self.pid, flags) is not None
        except ChildProcessError:
            return True

    def stream(self, prefix: bytes = b"") -> Iterator[bytes]:
        """git's stdout in chunks as they come; the process is closed when this ends or is closed."""
        finished = False
        try:
            if prefix:
                yield prefix
            assert self._proc.stdout is not None
            read = self._proc.stdout.read1
            while chunk := read(CHUNK):
                yield chunk
            finished = True
        finally:
            self.close(grace=EXIT_GRACE_SECONDS if finished else 0.0)

    def wait(self) -> int:
        """Wait for git to exit (the timer kills it at the time limit); returns its exit status."""
        self._exited(block=True)
        self.close()
        return self.returncode if self.returncode is not None else -1

    def close(self, grace: float = 0.0) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._timer.cancel()
        if grace:
            deadline = time.monotonic() + grace
            while not self._exited(block=False) and time.monotonic() < deadline:
                time.sleep(0.005)
        with self._lock:
            # Kill whatever is left of the group (all of it after an early close), then reap.
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._proc.wait()
            self._reaped = True
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        with _live_lock:
            _live.pop(self.pid, None)
        if self._proc.returncode != 0:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - STDERR_TAIL))
            tail = self._stderr.read().decode("utf-8", "replace").strip()
            log.info("git %s exited with %s%s: %s", self.pid, self._proc.returncode,
                     " (timed out)" if self.timed_out else "", tail)
        self._stderr.close()

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode
