"""Finding secret values in config text, line by line: the engine behind redaction.

Which patterns apply (vendor presets, project settings) is decided above, in the service layer;
this module only runs them. It lives here, with the other content checks, because the push check
(`app/githttp/prereceive.py`, which must not load Flask) runs the very same scanner as the
service's write path, so a push is refused exactly where a write would have been redacted.

A pattern is a regular expression over ONE line (bytes) with a named group `secret`: the value
to hide. `within` restricts it to lines inside a section whose header matches it; how headers
are found depends on the vendor's syntax (`section`):

- `indent`: the last line that starts at column 0 (Cisco, Arista, ProCurve style);
- `slash`: the last line starting with `/` (MikroTik RouterOS exports);
- `config`: the innermost open `config ...` block, closed by `end` (FortiOS).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass

# What a redacted value becomes. A value that already is a placeholder is never a secret.
PLACEHOLDER_RE = re.compile(rb"<redacted:[0-9a-f]{8}>")
SECTION_KINDS = ("indent", "slash", "config")
_GROUP = "(?P<secret>"
_CONFIG_OPEN = re.compile(rb"^\s*config\s")
_CONFIG_END = re.compile(rb"^\s*end\s*$")


@dataclass(frozen=True)
class SecretPattern:
    """One kind of secret in one vendor's syntax."""

    kind: str
    regex: str
    within: str | None = None
    section: str = "indent"


@dataclass(frozen=True)
class SecretHit:
    """A secret value found in a text: 1-based line number, byte span in the text, its kind."""

    line: int
    start: int
    end: int
    kind: str


class _Compiled:
    def __init__(self, pattern: SecretPattern) -> None:
        if _GROUP not in pattern.regex:
            raise ValueError(f"secret pattern {pattern.kind!r} has no (?P<secret>...) group")
        if pattern.section not in SECTION_KINDS:
            raise ValueError(f"unknown section kind {pattern.section!r}")
        self.pattern = pattern
        self.regex = re.compile(pattern.regex.encode())
        self.within = re.compile(pattern.within.encode()) if pattern.within else None


class SecretScanner:
    """Compiled once per set of patterns; `hits`, `redact` and `find` are pure functions of the text."""

    def __init__(self, patterns: Sequence[SecretPattern]) -> None:
        self.patterns = list(patterns)
        self._compiled = [_Compiled(p) for p in self.patterns]
        # One pass over the lines with all patterns at once finds the few candidate lines; the
        # patterns one by one (and the section bookkeeping) run only there.
        combined = "|".join(f"(?:{p.regex.replace(_GROUP, '(?:')})" for p in self.patterns)
        self._any = re.compile(combined.encode()) if self.patterns else None
        self._sections = {c.pattern.section for c in self._compiled if c.within is not None}

    def hits(self, data: bytes) -> Iterator[SecretHit]:
        """Every secret value in `data` that is not already a placeholder, in text order."""
        if self._any is None or not data:
            return
        headers: dict[str, bytes] = {}
        stack: list[bytes] = []
        offset = 0
        for number, line in enumerate(data.split(b"\n"), start=1):
            start = offset
            offset += len(line) + 1
            if self._sections:
                _track(line, headers, stack, self._sections)
            if not self._any.search(line):
                continue
            spans: list[tuple[int, int, str]] = []
            for compiled in self._compiled:
                if compiled.within is not None:
                    header = headers.get(compiled.pattern.section, b"")
                    if not compiled.within.search(header):
                        continue
                for match in compiled.regex.finditer(line):
                    begin, end = match.span("secret")
                    if begin < 0 or begin == end or PLACEHOLDER_RE.fullmatch(line, begin, end):
                        continue
                    spans.append((begin, end, compiled.pattern.kind))
            for begin, end, kind in _disjoint(spans):
                yield SecretHit(number, start + begin, start + end, kind)

    def redact(self, data: bytes, placeholder: Callable[[bytes], bytes]) -> bytes:
        """`data` with every secret value replaced by `placeholder(value)`."""
        hits = list(self.hits(data))
        if not hits:
            return data
        parts: list[bytes] = []
        last = 0
        for hit in hits:
            parts.append(data[last:hit.start])
            parts.append(placeholder(data[hit.start:hit.end]))
            last = hit.end
        parts.append(data[last:])
        return b"".join(parts)

    def to_json(self) -> str:
        """The patterns as JSON (how the service hands them to the push check's process)."""
        return json.dumps([asdict(p) for p in self.patterns])

    @classmethod
    def from_json(cls, text: str) -> SecretScanner:
        return cls([SecretPattern(**item) for item in json.loads(text)])


def _track(line: bytes, headers: dict[str, bytes], stack: list[bytes], kinds: Iterable[str]) -> None:
    """Keep the current section header of each syntax in use up to date with `line`."""
    for kind in kinds:
        if kind == "indent":
            if line[:1] not in (b" ", b"\t", b"") and line.strip():
                headers["indent"] = line
        elif kind == "slash":
            if line[:1] == b"/":
                headers["slash"] = line
        elif kind == "config":
            if _CONFIG_OPEN.match(line):
                stack.append(line.strip())
            elif _CONFIG_END.match(line) and stack:
                stack.pop()
            headers["config"] = stack[-1] if stack else b""


def _disjoint(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping matches (two patterns seeing the same value) become one, the widest first."""
    result: list[tuple[int, int, str]] = []
    for begin, end, kind in sorted(spans, key=lambda s: (s[0], -s[1])):
        if result and begin < result[-1][1]:
            continue
        result.append((begin, end, kind))
    return result
