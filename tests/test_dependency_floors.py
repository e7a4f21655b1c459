"""The declared pygit2 floor covers every pygit2 API the code calls (issue 9, point 6): an install
at the floor must not fail at run time on a missing method."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# API (as it appears in our source) -> the first pygit2 release that has it (pygit2's CHANGELOG).
SINCE = {
    r"pygit2\.enums|from pygit2\.enums import": (1, 14, 0),
    r"\.odb\.read_header\(": (1, 19, 2),
    r"\.transaction\(\)": (1, 19, 0),
}


def _floor() -> tuple[int, ...]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    [spec] = [d for d in deps if re.match(r"pygit2\b", d)]
    match = re.search(r">=\s*([0-9.]+)", spec)
    assert match, spec
    return tuple(int(part) for part in match.group(1).split("."))


def _source() -> str:
    files = [*ROOT.glob("app/**/*.py"), *ROOT.glob("gitstore/**/*.py"), *ROOT.glob("workers/**/*.py")]
    return "\n".join(path.read_text() for path in files)


def test_the_pygit2_floor_has_every_api_we_use():
    floor, source = _floor(), _source()
    used = {pattern: version for pattern, version in SINCE.items() if re.search(pattern, source)}
    assert used, "the scan found no pygit2 API at all"
    for pattern, version in used.items():
        assert floor >= version, f"{pattern} needs pygit2 >= {'.'.join(map(str, version))}, the floor is {floor}"
