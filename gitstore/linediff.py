"""The line diff of one file, as rendered by the compare page and the API.

Two engines give the same kind of result (hunks of context/deleted/added lines, git's hunk
numbering, git's rule for merging nearby changes):

- a fast path for the common shape of a config change: every line both versions share appears
  in the same order in both. Then the common lines ARE a longest common subsequence (no line
  outside them can be matched, and all of them are), so the diff follows from set membership,
  computed with C-speed list and set operations. This is the same classification xdiff starts
  with (lines that have no match on the other side), just finished early.
- libgit2 (Myers with git's indent heuristic, like `git diff`) for everything else: moved or
  reordered lines, repeated lines whose matching is ambiguous.

Every byte is kept: a line that is not UTF-8 is shown with its odd bytes escaped (`\\xfc`) and
its raw bytes are kept for the API; a final line without a newline is flagged.
Word-level highlights: within a run of deleted lines followed by added lines, the i-th deleted
and i-th added line are paired and the changed middle (after the common prefix and suffix,
widened to whole words) is marked on both.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from itertools import compress, count, filterfalse, repeat
from operator import ne

import pygit2
from pygit2.enums import DiffOption

from .models import DiffLine, Hunk

_SPACE = re.compile(rb"\s+")
# How far up the new side the enclosing block of a change is searched for (lines).
_SECTION_LOOKBACK = 5000
# Lines starting with these are comments in the configs we keep (Cisco '!', Junos/shell '#').
_COMMENT = (b"!", b"#")


@dataclass(frozen=True)
class LineDiffOptions:
    context_lines: int = 3
    ignore_whitespace: bool = False
    ignore_eol: bool = False  # CRLF and LF line ends compare equal
    words: bool = True


def _split(data: bytes) -> list[bytes]:
    """Lines WITH their '\\n' (git splits on '\\n' only); only the last may lack one.

    BytesIO's readlines finds line ends with memchr, about half the work of bytes.split, which
    tests every byte in a loop; and a line that keeps its terminator is its own diff key (the
    unterminated last line "x" never equals "x\\n")."""
    return BytesIO(data).readlines()


def _text(raw: bytes) -> bytes:
    return raw[:-1] if raw.endswith(b"\n") else raw


def _keys(lines: list[bytes], opts: LineDiffOptions) -> list[bytes]:
    """What lines are compared by: the lines themselves, or with whitespace or a CR dropped."""
    if not (opts.ignore_whitespace or opts.ignore_eol):
        return lines
    keys = [_text(line) for line in lines]
    if opts.ignore_whitespace:
        keys = [_SPACE.sub(b"", key) for key in keys]
    else:
        keys = [key[:-1] if key.endswith(b"\r") else key for key in keys]
    if lines and not lines[-1].endswith(b"\n"):
        # '\n' never occurs inside a line, so this keeps "x" (no newline) apart from "x\n".
        keys[-1] += b"\n"
    return keys


def _decode(raw: bytes) -> tuple[str, bytes | None]:
    """A line's text, and its exact bytes when they are not UTF-8 (shown escaped: `\\xfc`)."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace"), raw


def _line(origin: str, old_no: int | None, new_no: int | None, raw: bytes, no_newline: bool) -> DiffLine:
    content, kept = _decode(raw)
    return DiffLine(origin, old_no, new_no, content, no_newline, kept)


Block = tuple[int, int, int, int]


def _fast_blocks(old_keys: list[bytes], new_keys: list[bytes]) -> list[tuple[int, int, int, int]] | None:
    """Change blocks (old_lo, old_hi, new_lo, new_hi), or None when the fast path does not apply."""
    if len(old_keys) == len(new_keys):
        blocks = _in_place_blocks(old_keys, new_keys)
        if blocks is not None:
            return blocks
    in_old, in_new = set(old_keys), set(new_keys)
    only_old, only_new = in_old - in_new, in_new - in_old
    # Set algebra, filterfalse and compress all run in C: no Python-level loop over 50,000 lines.
    old_common = list(filterfalse(only_old.__contains__, old_keys))
    new_common = list(filterfalse(only_new.__contains__, new_keys))
    if old_common != new_common:
        return None
    gaps: dict[int, list[int]] = {}
    # A changed line's gap = how many common lines precede it; lines of one gap form one block.
    for rank, index in enumerate(compress(count(), map(only_old.__contains__, old_keys))):
        gap = index - rank
        entry = gaps.get(gap)
        if entry is None:
            gaps[gap] = [index, index + 1, 0, 0]
        else:
            entry[1] = index + 1
    for rank, index in enumerate(compress(count(), map(only_new.__contains__, new_keys))):
        gap = index - rank
        entry = gaps.get(gap)
        if entry is None:
            gaps[gap] = entry = [-1, -1, index, index + 1]
        elif entry[3] == 0:
            entry[2], entry[3] = index, index + 1
        else:
            entry[3] = index + 1
    blocks = []
    # Empty sides are placed where the other side's lines would sit: old/new positions advance
    # together across common lines, so the offset between them is fixed inside a gap.
    old_extra = new_extra = 0
    for gap in sorted(gaps):
        o_lo, o_hi, n_lo, n_hi = gaps[gap]
        if o_lo < 0:
            o_lo = o_hi = gap + old_extra
        if n_hi == 0:
            n_lo = n_hi = gap + new_extra
        old_extra += o_hi - o_lo
        new_extra += n_hi - n_lo
        blocks.append((o_lo, o_hi, n_lo, n_hi))
    return blocks


def _in_place_blocks(old_keys: list[bytes], new_keys: list[bytes]) -> list[Block] | None:
    """Lines changed where they stand (same line count: values edited in place, the most common
    config change). Optimal when no changed line occurs anywhere on the other side: then none
    of them can be matched, and every other line is."""
    changed = _changed_positions(old_keys, new_keys)
    if not changed:
        return []
    if len(changed) * 4 > len(old_keys):
        return None  # mostly rewritten: the general path decides
    gone = {old_keys[i] for i in changed}
    came = {new_keys[i] for i in changed}
    if not gone.isdisjoint(came):
        return None
    blocks = blocks_of(changed)
    # The other side's lines are the changed lines of that side plus the lines both share, so
    # "no changed line occurs on the other side" is: gone and came are disjoint (above), and no
    # shared line is one of them. The shared lines are hashed once, on the old side only.
    shared: list[bytes] = []
    at = 0
    for lo, hi, _, _ in blocks:
        shared += old_keys[at:lo]
        at = hi
    shared += old_keys[at:]
    if not (gone | came).isdisjoint(shared):
        return None
    return blocks


def blocks_of(changed: list[int]) -> list[Block]:
    """Runs of consecutive changed line numbers as in-place blocks (old and new ranges alike)."""
    if not changed:
        return []
    blocks: list[Block] = []
    start = previous = changed[0]
    for index in changed[1:]:
        if index != previous + 1:
            blocks.append((start, previous + 1, start, previous + 1))
            start = index
        previous = index
    blocks.append((start, previous + 1, start, previous + 1))
    return blocks


# Lines compared per C-level list comparison before looking inside a chunk that differs.
_CHUNK = 32


def _changed_positions(old_keys: list[bytes], new_keys: list[bytes]) -> list[int]:
    """Indices at which two equally long lists differ. Whole chunks compare as lists (one C call
    each); only a chunk that differs is compared line by line."""
    changed: list[int] = []
    for start in range(0, len(old_keys), _CHUNK):
        old_chunk = old_keys[start:start + _CHUNK]
        new_chunk = new_keys[start:start + _CHUNK]
        if old_chunk != new_chunk:
            changed += compress(count(start), map(ne, old_chunk, new_chunk))
    return changed


Plan = tuple[int, int, int, int, list[Block]]


def _group(blocks: list[Block], n_old: int, n_new: int, context: int) -> list[Plan]:
    """git's hunks as plans (old_start, old_end, new_start, new_end, blocks): changes closer than
    2 x context lines share a hunk. Nothing is decoded yet."""
    groups: list[list[Block]] = []
    for block in blocks:
        if groups and block[0] - groups[-1][-1][1] <= 2 * context:
            groups[-1].append(block)
        else:
            groups.append([block])
    plans = []
    for group in groups:
        first, last = group[0], group[-1]
        lead = min(context, first[0], first[2])
        trail = min(context, n_old - last[1], n_new - last[3])
        plans.append((first[0] - lead, last[1] + trail, first[2] - lead, last[3] + trail, group))
    return plans


_tuple_new = tuple.__new__  # builds a DiffLine in C, skipping its Python-level __new__


def _materialize(plan: Plan, old: list[bytes], new: list[bytes], words: bool) -> Hunk:
    """One hunk of the fast path, built a column at a time: line texts are decoded with one
    decode per hunk, and word marks are computed only for the deleted/added pairs of each block
    (the pairs `_with_words` would find: blocks are separated by at least one context line)."""
    o_start, o_end, n_start, n_end, group = plan
    raws: list[bytes] = []
    origins: list[str] = []
    old_nos: list[int | None] = []
    new_nos: list[int | None] = []
    pairs: list[tuple[int, int, int]] = []  # (first deleted, first added, pairs) as hunk positions
    o, n = o_start, n_start
    for o_lo, o_hi, n_lo, n_hi in group:
        if o < o_lo:  # context: the lines are shared, shown as the new side has them
            raws += new[n:n + o_lo - o]
            origins += " " * (o_lo - o)
            old_nos += range(o + 1, o_lo + 1)
            new_nos += range(n + 1, n + 1 + o_lo - o)
        deleted, added = o_hi - o_lo, n_hi - n_lo
        if deleted and added:
            pairs.append((len(raws), len(raws) + deleted, min(deleted, added)))
        raws += old[o_lo:o_hi]
        origins += "-" * deleted
        old_nos += range(o_lo + 1, o_hi + 1)
        new_nos += [None] * deleted
        raws += new[n_lo:n_hi]
        origins += "+" * added
        old_nos += [None] * added
        new_nos += range(n_lo + 1, n_hi + 1)
        o, n = o_hi, n_hi
    if o < o_end:
        raws += new[n:n + o_end - o]
        origins += " " * (o_end - o)
        old_nos += range(o + 1, o_end + 1)
        new_nos += range(n + 1, n + 1 + o_end - o)
    size = len(raws)
    no_newline: list[bool] | Iterator[bool] = repeat(False)
    kept: list[bytes | None] | Iterator[None] = repeat(None)
    contents: list[str] | None = None
    # Only a file's last line can lack its '\n'; with every line terminated, the hunk's text
    # splits back into its lines at the '\n's (UTF-8 never hides a '\n' inside a character).
    if raws[-1].endswith(b"\n") and not (old and o_end == len(old) and not old[-1].endswith(b"\n")):
        try:
            contents = b"".join(raws).decode("utf-8").split("\n")
            contents.pop()
        except UnicodeDecodeError:
            contents = None
    if contents is None:  # odd bytes or a missing final newline: line by line
        decoded = [_decode(_text(raw)) for raw in raws]
        contents = [content for content, _ in decoded]
        kept = [raw for _, raw in decoded]
        no_newline = [not raw.endswith(b"\n") for raw in raws]
    spans: list[tuple[int, int] | None] | Iterator[None] = repeat(None)
    if words and pairs:
        spans = [None] * size
        for dels, adds, count_ in pairs:
            for k in range(count_):
                marks = word_spans(contents[dels + k], contents[adds + k])
                if marks is not None:
                    spans[dels + k], spans[adds + k] = marks
    columns = zip(origins, old_nos, new_nos, contents, no_newline, kept, spans, strict=False)  # repeat() is endless
    lines = list(map(_tuple_new, repeat(DiffLine), columns))
    first_lo, first_hi, first_new, _ = group[0]
    changed = old[first_lo] if first_hi > first_lo else new[first_new]
    o_count, n_count = o_end - o_start, n_end - n_start
    old_at, new_at = o_start + 1 if o_count else o_start, n_start + 1 if n_count else n_start
    header = _header_text(old_at, o_count, new_at, n_count, _enclosing(new, first_new, changed))
    return Hunk(old_at, o_count, new_at, n_count, header, lines)


def _libgit2_hunks(old: bytes, new: bytes, opts: LineDiffOptions) -> list[Hunk]:
    flags = DiffOption.INDENT_HEURISTIC | DiffOption.FORCE_TEXT
    if opts.ignore_whitespace:
        flags |= DiffOption.IGNORE_WHITESPACE
    patch = pygit2.Patch.create_from(old, new, flag=flags, context_lines=opts.context_lines)
    hunks = []
    for hunk in patch.hunks:
        lines = []
        # Numbered from the hunk header, as git numbers them: with whitespace ignored, a CR and a
        # missing final newline, libgit2 gives a deleted line a number past the old file's end.
        old_no, new_no = hunk.old_start, hunk.new_start
        for line in hunk.lines:
            origin = line.origin
            # '=', '>', '<' are libgit2's "\ No newline at end of file" markers: kept as a flag.
            if origin not in (" ", "+", "-"):
                continue
            raw = line.raw_content
            no_newline = not raw.endswith(b"\n")
            lines.append(_line(origin, old_no if origin != "+" else None, new_no if origin != "-" else None,
                               raw if no_newline else raw[:-1], no_newline))
            old_no += origin != "+"
            new_no += origin != "-"
        hunks.append(Hunk(hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines, "", lines))
    return hunks


def _indent(line: bytes) -> int:
    return len(line) - len(line.lstrip(b" \t"))


def _section(new: list[bytes], hunk: Hunk, old: list[bytes]) -> bytes:
    """The block enclosing the hunk's first change (see `_enclosing`)."""
    first = next((line for line in hunk.lines if line.origin != " "), None)
    if first is None:
        return b""
    if first.origin == "+":
        at = (first.new_lineno or 1) - 1
        changed = new[at]
    else:
        # A deletion sits after the new side's lines that precede it in the hunk.
        before = [line for line in hunk.lines[: hunk.lines.index(first)] if line.origin == " "]
        at = (before[-1].new_lineno if before else hunk.new_start - (1 if hunk.new_lines else 0)) or 0
        changed = old[(first.old_lineno or 1) - 1]
    return _enclosing(new, at, changed)


def _enclosing(new: list[bytes], at: int, changed: bytes) -> bytes:
    """The block enclosing a change, read on the NEW side: the nearest line above index `at` (where
    the change sits in the new side) that is indented less than the changed line `changed`
    (`interface Gi1/0/19` above its ` description`)."""
    depth = _indent(changed)
    if depth == 0 or not changed.strip():
        return b""
    for index in range(at - 1, max(-1, at - 1 - _SECTION_LOOKBACK), -1):
        line = new[index]
        stripped = line.strip()
        if stripped and not stripped.startswith(_COMMENT) and _indent(line) < depth:
            return stripped
    return b""


def _header(hunk: Hunk, section: bytes) -> str:
    return _header_text(hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines, section)


def _header_text(old_start: int, old_lines: int, new_start: int, new_lines: int, section: bytes) -> str:
    old_part = str(old_start) if old_lines == 1 else f"{old_start},{old_lines}"
    new_part = str(new_start) if new_lines == 1 else f"{new_start},{new_lines}"
    text = f"@@ -{old_part} +{new_part} @@"
    if section:
        text += " " + section.decode("utf-8", "backslashreplace")
    return text


def _is_word(char: str) -> bool:
    return char.isalnum() or char in "_-./:\\"


def _word_start(text: str, index: int) -> int:
    """Back to the start of the word `index` cuts through (unchanged when it cuts none)."""
    if index <= 0 or index >= len(text) or not (_is_word(text[index]) and _is_word(text[index - 1])):
        return index
    while index > 0 and _is_word(text[index - 1]):
        index -= 1
    return index


def _word_end(text: str, index: int) -> int:
    if index <= 0 or index >= len(text) or not (_is_word(text[index]) and _is_word(text[index - 1])):
        return index
    while index < len(text) and _is_word(text[index]):
        index += 1
    return index


def _common_ends(old: str, new: str, limit: int) -> tuple[int, int]:
    """Lengths of the common prefix, then of the common suffix of what the prefix leaves."""
    # Binary searches over C-level slice comparisons: a handful of compares per line.
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[:mid] == new[:mid]:
            lo = mid
        else:
            hi = mid - 1
    prefix = lo
    lo, hi = 0, limit - prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[len(old) - mid:] == new[len(new) - mid:]:
            lo = mid
        else:
            hi = mid - 1
    return prefix, lo


def _ascii_common_ends(old: bytes, new: bytes, limit: int) -> tuple[int, int]:
    """`_common_ends` for ASCII text (one byte per character), without a search: read as one big
    number each, the two texts XOR to a number whose highest set bit is in the first byte that
    differs (big-endian: the prefix) or in the last one (little-endian: the suffix)."""
    differ = int.from_bytes(old[:limit], "big") ^ int.from_bytes(new[:limit], "big")
    prefix = limit - (differ.bit_length() + 7) // 8
    rest = limit - prefix
    differ = (int.from_bytes(old[len(old) - rest:], "little")
              ^ int.from_bytes(new[len(new) - rest:], "little"))
    return prefix, rest - (differ.bit_length() + 7) // 8


def word_spans(old: str, new: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The changed middle of two paired lines, widened to whole words: ((old_lo, old_hi),
    (new_lo, new_hi)). None when the lines share nothing (the whole line is the change)."""
    if old == new:  # only the final newline differs: nothing inside the line to mark
        return None
    limit = min(len(old), len(new))
    if old.isascii() and new.isascii():
        prefix, suffix = _ascii_common_ends(old.encode("ascii"), new.encode("ascii"), limit)
    else:
        prefix, suffix = _common_ends(old, new, limit)
    if prefix == 0 and suffix == 0:
        return None
    o_lo, n_lo = _word_start(old, prefix), _word_start(new, prefix)
    o_hi, n_hi = _word_end(old, len(old) - suffix), _word_end(new, len(new) - suffix)
    # Widening must not cross into the other side's range (both sides share the prefix).
    lo = min(o_lo, n_lo)
    hi_back = min(len(old) - o_hi, len(new) - n_hi)
    return (lo, len(old) - hi_back), (lo, len(new) - hi_back)


def _with_words(hunk: Hunk) -> Hunk:
    lines = hunk.lines
    result = list(lines)
    index, count = 0, len(lines)
    while index < count:
        if lines[index].origin != "-":
            index += 1
            continue
        dels_start = index
        while index < count and lines[index].origin == "-":
            index += 1
        adds_start = index
        while index < count and lines[index].origin == "+":
            index += 1
        pairs = min(adds_start - dels_start, index - adds_start)
        for k in range(pairs):
            old, new = lines[dels_start + k], lines[adds_start + k]
            spans = word_spans(old.content, new.content)
            if spans is not None:
                result[dels_start + k] = DiffLine(*old[:6], spans[0])  # type: ignore[misc]
                result[adds_start + k] = DiffLine(*new[:6], spans[1])  # type: ignore[misc]
    return Hunk(hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines, hunk.header, result)


class FileLines:
    """One text file's change: hunk sizes and counts up front, hunks decoded only when asked."""

    def __init__(self, old_data: bytes, new_data: bytes, opts: LineDiffOptions) -> None:
        self.opts = opts
        self.old, self.new = _split(old_data), _split(new_data)  # lines with their '\n'
        self.new_line_count = len(self.new)
        blocks = _fast_blocks(_keys(self.old, opts), _keys(self.new, opts))
        self._plans: list[Plan] | None = None
        self._hunks: list[Hunk] | None = None
        if blocks is not None:
            self._plans = _group(blocks, len(self.old), len(self.new), opts.context_lines)
            self.sizes = [(p[1] - p[0]) + sum(b[3] - b[2] for b in p[4]) for p in self._plans]
            self.deletions = sum(b[1] - b[0] for b in blocks)
            self.additions = sum(b[3] - b[2] for b in blocks)
            return
        if opts.ignore_eol and not opts.ignore_whitespace:
            # libgit2 has no "ignore CR at end of line": diff the CR-less texts (same line
            # numbers) and show the lines' real bytes afterwards.
            old_data, new_data = old_data.replace(b"\r\n", b"\n"), new_data.replace(b"\r\n", b"\n")
        self._hunks = _libgit2_hunks(old_data, new_data, opts)
        self.sizes = [len(h.lines) for h in self._hunks]
        self.additions = sum(1 for h in self._hunks for line in h.lines if line.origin == "+")
        self.deletions = sum(1 for h in self._hunks for line in h.lines if line.origin == "-")

    def __len__(self) -> int:
        return len(self.sizes)

    def hunk(self, index: int) -> Hunk:
        if self._plans is not None:
            return _materialize(self._plans[index], self.old, self.new, self.opts.words)
        assert self._hunks is not None
        hunk = self._hunks[index]
        if self.opts.ignore_eol and not self.opts.ignore_whitespace:
            hunk = _restore_cr(hunk, self.old, self.new)
        hunk = Hunk(hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines,
                    _header(hunk, _section(self.new, hunk, self.old)), hunk.lines)
        return _with_words(hunk) if self.opts.words else hunk

    def hunks(self) -> list[Hunk]:
        return [self.hunk(i) for i in range(len(self))]


def _restore_cr(hunk: Hunk, old: list[bytes], new: list[bytes]) -> Hunk:
    """Lines of a CR-less diff shown with their real bytes again (their numbers are the same)."""
    lines = []
    for line in hunk.lines:
        raw = new[line.new_lineno - 1] if line.new_lineno is not None else old[(line.old_lineno or 1) - 1]
        lines.append(_line(line.origin, line.old_lineno, line.new_lineno, _text(raw), line.no_newline))
    return Hunk(hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines, hunk.header, lines)


def diff_lines(old_data: bytes, new_data: bytes, opts: LineDiffOptions) -> FileLines:
    """The change of one text file (either side may be empty: added or deleted files)."""
    return FileLines(old_data, new_data, opts)


def split_hunk(hunk: Hunk, size: int) -> list[Hunk]:
    """A hunk longer than `size` lines as consecutive pieces (a page shows at most `size`)."""
    if len(hunk.lines) <= size:
        return [hunk]
    pieces = []
    for start in range(0, len(hunk.lines), size):
        lines = hunk.lines[start: start + size]
        old_nos = [line.old_lineno for line in lines if line.old_lineno is not None]
        new_nos = [line.new_lineno for line in lines if line.new_lineno is not None]
        old_start = old_nos[0] if old_nos else 0
        new_start = new_nos[0] if new_nos else 0
        header = hunk.header if start == 0 else f"{hunk.header} (continued)"
        pieces.append(Hunk(old_start, len(old_nos), new_start, len(new_nos), header, lines))
    return pieces
