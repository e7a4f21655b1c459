"""scripts/test on a fresh machine: Debian's chromium is installed when missing, or the script says in
one line why it cannot and fails (scripts/_chromium.sh, sourced by scripts/test and .ci/run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "scripts" / "_chromium.sh"


def _run(env: dict[str, str], *prefix: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, "bash", "-c", f"set -euo pipefail; source {CHECK}; echo READY"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)


def test_scripts_test_runs_the_chromium_check_first():
    script = (ROOT / "scripts" / "test").read_text()
    assert script.index("_chromium.sh") < script.index("-m pytest")
    assert "_chromium.sh" in (ROOT / ".ci" / "run").read_text()


def test_present_chromium_passes_silently(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    result = _run({"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert result.returncode == 0 and result.stdout.strip() == "READY" and result.stderr == ""


def test_missing_chromium_without_root_says_why_in_one_line_and_fails(tmp_path):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root to drop to an unprivileged user with setpriv")
    # A folder the unprivileged user can reach (pytest's tmp_path is private to root).
    bin_dir = Path(tempfile.mkdtemp(prefix="chromium-check-", dir="/tmp"))
    try:
        bin_dir.chmod(0o755)
        for tool in ("bash", "id", "apt-get"):  # everything the check uses, but no chromium
            if shutil.which(tool):
                (bin_dir / tool).symlink_to(shutil.which(tool))  # type: ignore[arg-type]
        result = _run({"PATH": str(bin_dir)}, shutil.which("setpriv") or "setpriv", "--reuid=65534",
                      "--regid=65534", "--clear-groups")
    finally:
        shutil.rmtree(bin_dir)
    assert result.returncode == 1
    assert "READY" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "chromium" in lines[0] and "not root" in lines[0]


def test_missing_chromium_as_root_without_apt_says_why_and_fails(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("runs as root")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "id"):
        (bin_dir / tool).symlink_to(shutil.which(tool))  # type: ignore[arg-type]
    result = _run({"PATH": str(bin_dir)})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no apt-get" in lines[0]


def test_named_chromium_that_is_missing_fails(tmp_path):
    result = _run({"PATH": "/usr/bin:/bin", "CHROMIUM": str(tmp_path / "nope")})
    assert result.returncode == 1 and "not an executable" in result.stderr
