"""The service-owned hooks directory: git's `core.hooksPath` for every device repository.

It holds exactly one hook, `pre-receive`, which runs our push check (prereceive.py) with this
interpreter. Hooks inside a repository are never used, whatever was pushed or configured there.
"""

from __future__ import annotations

import os
import secrets
import shlex
import sys
import threading
from pathlib import Path

PRERECEIVE_SCRIPT = Path(__file__).resolve().parent / "prereceive.py"
_lock = threading.Lock()


def hook_text(python: str = sys.executable, script: Path = PRERECEIVE_SCRIPT) -> str:
    return (
        "#!/bin/sh\n"
        "# Written by InfraTrace (app/githttp/hooks.py); the only hook git runs for device repos.\n"
        f"exec {shlex.quote(python)} {shlex.quote(str(script))}\n"
    )


def ensure_hooks_dir(data_dir: Path) -> Path:
    """`<data>/git-hooks` with our pre-receive, (re)written atomically when it is not current."""
    hooks = data_dir / "git-hooks"
    target = hooks / "pre-receive"
    text = hook_text()
    with _lock:
        hooks.mkdir(mode=0o755, parents=True, exist_ok=True)
        try:
            current = target.read_text()
        except OSError:
            current = None
        if current != text or not os.access(target, os.X_OK):
            tmp = hooks / f".pre-receive.{secrets.token_hex(6)}"
            tmp.write_text(text)
            tmp.chmod(0o755)
            os.replace(tmp, target)
        # Nothing else may sit there: git would run any file named like a hook.
        for entry in hooks.iterdir():
            if entry.name != "pre-receive" and not entry.name.startswith(".pre-receive."):
                if entry.is_file() or entry.is_symlink():
                    entry.unlink()
    return hooks


def home_dir(data_dir: Path) -> Path:
    """An empty HOME for git processes (no ~/.gitconfig of the server's user is ever read)."""
    home = data_dir / "git-home"
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home
