"""Finding secret values in config text, line by line: the engine behind redaction.

Which patterns apply (vendor presets, project settings) is decided above, in the service layer;
this module only runs them. It lives here, with the other content checks, because the push check
(`app/githttp/prereceive.py`, which must not load Flask) runs the very same scanner as the
service's write path, so a push is refused exactly where a write would have been redacted.

A pattern is a regular expression over ONE line (bytes) with a named group `secret`: the value
to hide, and `keywords`: literal words one of which every line it can match contains. A single
pass for all keywords at once finds the few candidate lines (a config is mostly interfaces and
routes), so the patterns themselves run on a handful of lines, not on every line. `within`
restricts a pattern to lines inside a section whose header matches it; how headers are found
depends on the vendor's syntax (`section`):

- `indent`: the last line that starts at column 0 (Cisco, Arista, ProCurve style);
- `slash`: the last line starting with `/` (MikroTik RouterOS exports);
- `config`: the innermost open `config ...` block, closed by `end` (FortiOS).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import compress, count
from operator import ne
from typing import NamedTuple

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
    keywords: tuple[str, ...]
    within: str | None = None
    section: str = "indent"


@dataclass(frozen=True)
class SecretHit:
    """A secret value found in a text: 1-based line number, byte span in the text, its kind."""

    line: int
    start: int
    end: int
    kind: str


class ScanState(NamedTuple):
    """What scanning one version of a file leaves for the next version's scan (`scan_next`)."""

    scanner: SecretScanner
    lines: list[bytes]
    marked: list[int]  # indexes of the lines holding a keyword, ascending


class _Compiled:
    def __init__(self, pattern: SecretPattern) -> None:
        if _GROUP not in pattern.regex:
            raise ValueError(f"secret pattern {pattern.kind!r} has no (?P<secret>...) group")
        if not pattern.keywords:
            raise ValueError(f"secret pattern {pattern.kind!r} has no keywords")
        if pattern.section not in SECTION_KINDS:
            raise ValueError(f"unknown section kind {pattern.section!r}")
        self.pattern = pattern
        self.regex = re.compile(pattern.regex.encode())
        self.within = re.compile(pattern.within.encode()) if pattern.within else None
        self.keywords = [k.encode() for k in pattern.keywords]


class SecretScanner:
    """Compiled once per set of patterns; `hits`, `redact` and `find` are pure functions of the text."""

    def __init__(self, patterns: Sequence[SecretPattern]) -> None:
        self.patterns = list(patterns)
        self._compiled = [_Compiled(p) for p in self.patterns]
        self._words = sorted({k.encode() for p in self.patterns for k in p.keywords})
        if any(b"\n" in word for word in self._words):
            raise ValueError("a secret keyword cannot span lines")

    def hits(self, data: bytes, starts: list[int] | None = None) -> Iterator[SecretHit]:
        """Every secret value in `data` that is not already a placeholder, in text order.
        `starts`: the candidate lines' offsets when already known (`scan_next`)."""
        if not self._words or not data:
            return
        number, counted = 1, 0
        for start in self._candidate_lines(data) if starts is None else starts:
            stop = data.find(b"\n", start)
            line = data[start:] if stop < 0 else data[start:stop]
            number += data.count(b"\n", counted, start)
            counted = start
            spans: list[tuple[int, int, str]] = []
            headers: dict[str, bytes] = {}
            for compiled in self._compiled:
                if not any(word in line for word in compiled.keywords):
                    continue
                if compiled.within is not None:
                    kind = compiled.pattern.section
                    if kind not in headers:
                        headers[kind] = _header(data, start, kind)
                    if not compiled.within.search(headers[kind]):
                        continue
                for match in compiled.regex.finditer(line):
                    begin, end = match.span("secret")
                    if begin < 0 or begin == end or PLACEHOLDER_RE.fullmatch(line, begin, end):
                        continue
                    spans.append((begin, end, compiled.pattern.kind))
            for begin, end, kind in _disjoint(spans):
                yield SecretHit(number, start + begin, start + end, kind)

    def _candidate_lines(self, data: bytes) -> list[int]:
        """Start offsets of the lines holding a keyword. `bytes.find` per keyword runs at memchr
        speed, far faster than one regex alternation scanning every byte of a large config."""
        starts: set[int] = set()
        for word in self._words:
            pos = data.find(word)
            while pos >= 0:
                start = data.rfind(b"\n", 0, pos) + 1
                starts.add(start)
                end = data.find(b"\n", pos)
                if end < 0:
                    break
                pos = data.find(word, end)
        return sorted(starts)

    def scan_next(self, data: bytes, previous: ScanState | None) -> tuple[list[int], ScanState]:
        """The candidate lines' offsets in `data`, using the scan of the previous version of the
        same file (a batch of versions): holding a keyword is a fact about one line, so a line
        unchanged at the same place is a candidate exactly when it was. When the line count
        changed or much changed, the whole text is scanned. Returns the state for the next one."""
        lines = data.split(b"\n")
        if previous is not None and previous.scanner is self and len(previous.lines) == len(lines):
            changed = list(compress(count(), map(ne, previous.lines, lines)))
            if len(changed) * 4 <= len(lines):
                gone = set(changed)
                marked = [i for i in previous.marked if i not in gone]
                marked += [i for i in changed if any(word in lines[i] for word in self._words)]
                marked.sort()
                starts, at, offset = [], 0, 0
                for i in marked:
                    offset += sum(map(len, lines[at:i])) + (i - at)
                    at = i
                    starts.append(offset)
                return starts, ScanState(self, lines, marked)
        starts = self._candidate_lines(data)
        marked, number, counted = [], 0, 0
        for start in starts:
            number += data.count(b"\n", counted, start)
            counted = start
            marked.append(number)
        return starts, ScanState(self, lines, marked)

    def redact(self, data: bytes, placeholder: Callable[[bytes], bytes], starts: list[int] | None = None) -> bytes:
        """`data` with every secret value replaced by `placeholder(value)`."""
        hits = list(self.hits(data, starts))
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
        return cls([SecretPattern(**{**item, "keywords": tuple(item["keywords"])}) for item in json.loads(text)])


def _header(data: bytes, start: int, kind: str) -> bytes:
    """The section header in force at the line starting at `start`, found by walking back."""
    depth = 0
    pos = start
    while pos > 0:
        begin = data.rfind(b"\n", 0, pos - 1) + 1
        line = data[begin:pos - 1]
        pos = begin
        if kind == "indent":
            if line[:1] not in (b" ", b"\t", b"") and line.strip():
                return line
        elif kind == "slash":
            if line[:1] == b"/":
                return line
        elif _CONFIG_END.match(line):
            depth += 1
        elif _CONFIG_OPEN.match(line):
            if depth == 0:
                return line.strip()
            depth -= 1
    return b""


def _disjoint(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping matches (two patterns seeing the same value) become one, the widest first."""
    result: list[tuple[int, int, str]] = []
    for begin, end, kind in sorted(spans, key=lambda s: (s[0], -s[1])):
        if result and begin < result[-1][1]:
            continue
        result.append((begin, end, kind))
    return result
