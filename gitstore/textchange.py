"""One write's change to one text file, compared line by line ONCE and used twice: the commit
index's line counts and the pack delta that stores the new version as edits of the old one.

A config version usually changes a few lines in place. Then every line the two versions share
appears in the same order in both, and the change follows from C-speed list and set operations
(`linediff._fast_blocks`, the compare page's fast path), far cheaper than libgit2's Myers diff
of two 100 KB buffers. When it does not apply (moved or reordered lines, ambiguous repeats),
callers fall back to libgit2 and to a whole object.

The counts must be libgit2's own (`git diff --numstat`, and `file_changes` when the index is
rebuilt from the trees). They are, under the conditions `stats` checks: xdiff first marks every
line without a match on the other side as changed (exactly our changed lines), and may also mark
a line WITH matches as changed, but only a line occurring at least ~sqrt(n) times on the other
side sitting inside a run of more than six unmatched lines (xprepare.c, xdl_clean_mmatch: it
needs rdis > 3 * rpdis with rpdis >= 2). With at most MAX_EXACT changed lines on each side no
such run exists, every matched line is kept, the kept sequences are equal, and Myers adds
nothing. Larger changes are counted by libgit2.
"""

from __future__ import annotations

from itertools import compress, count
from operator import ne

from .linediff import Block, _fast_blocks, blocks_of

# Changed lines per side up to which our counts provably equal xdiff's (see the module doc).
MAX_EXACT = 6
# Git's binary rule, as libgit2 applies it to a diff: a NUL byte in the first 8000 bytes.
_BINARY_PROBE = 8000
# Longest copy a delta instruction carries; git's encoder keeps to 64 KiB for old readers.
_MAX_COPY = 0x10000
_MAX_INSERT = 0x7F


def changed_lines(old: list[bytes], new: list[bytes]) -> tuple[list[bytes], list[bytes]] | None:
    """The lines only `old` has and the lines only `new` has, when every other line appears in
    the same order on both sides (then the two sequences differ by exactly these lines);
    None when that is not so and the caller must compare the sequences itself."""
    blocks = _fast_blocks(old, new)
    if blocks is None:
        return None
    gone = [line for lo, hi, _, _ in blocks for line in old[lo:hi]]
    came = [line for _, _, lo, hi in blocks for line in new[lo:hi]]
    return gone, came


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _copy(out: bytearray, offset: int, size: int) -> None:
    while size > 0:
        chunk = min(size, _MAX_COPY)
        command, args = 0x80, bytearray()
        for bit in range(4):
            byte = (offset >> (8 * bit)) & 0xFF
            if byte:
                command |= 1 << bit
                args.append(byte)
        encoded = 0 if chunk == _MAX_COPY else chunk  # size 0 means 0x10000
        for bit in range(3):
            byte = (encoded >> (8 * bit)) & 0xFF
            if byte:
                command |= 0x10 << bit
                args.append(byte)
        out.append(command)
        out += args
        offset += chunk
        size -= chunk


def _insert(out: bytearray, data: bytes) -> None:
    for start in range(0, len(data), _MAX_INSERT):
        piece = data[start:start + _MAX_INSERT]
        out.append(len(piece))
        out += piece


Lines = tuple[list[bytes], bool]


def lines_of(data: bytes) -> Lines:
    """`data` split into lines without their '\\n', and whether it ends with one (git splits on
    '\\n' only). Not linediff's split, which keeps each '\\n': here a line is looked up in the
    text between two newlines, and a batch's next comparison reuses these lists."""
    if not data:
        return [], True
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
        return lines, True
    return lines, False


def _keys(lines: list[bytes], final_newline: bool) -> list[bytes]:
    """What `_fast_blocks` compares: the lines, the last one marked when it has no '\\n' ('\\n'
    never occurs inside a split line, so "x" without a newline stays apart from "x\\n")."""
    if not final_newline and lines:
        return [*lines[:-1], lines[-1] + b"\n"]
    return lines


def _span(lines: list[bytes], start: int, stop: int) -> int:
    """Bytes taken by lines[start:stop], each with its '\\n' (one too many if the last line of
    the text, without a '\\n', is among them: callers clamp to the text's end)."""
    return sum(map(len, lines[start:stop])) + (stop - start)


class TextChange:
    """Two versions of one file, split and compared once. `old_lines`: `old` already split
    (`lines_of`), e.g. the previous version's `new_lines` in a batch."""

    def __init__(self, old: bytes, new: bytes, old_lines: Lines | None = None) -> None:
        self.old, self.new = old, new
        self.old_lines = old_lines if old_lines is not None else lines_of(old)
        self.new_lines = lines_of(new)
        self.blocks = self._in_place() if self.old_lines[1] and self.new_lines[1] else None
        if self.blocks is None:
            self.blocks = _fast_blocks(_keys(*self.old_lines), _keys(*self.new_lines))

    def _in_place(self) -> list[Block] | None:
        """`linediff._in_place_blocks` for two texts ending in a newline, with "does a changed
        line occur anywhere on the other side?" asked of the text (a few substring searches)
        instead of hashing every line of both versions into sets."""
        old_lines, new_lines = self.old_lines[0], self.new_lines[0]
        if len(old_lines) != len(new_lines):
            return None
        changed = list(compress(count(), map(ne, old_lines, new_lines)))
        if len(changed) * 4 > len(old_lines):
            return None
        # Lines hold no newline, and both texts end with one: a line occurs in a text exactly
        # when newline + line + newline occurs in newline + text.
        old_text, new_text = b"\n" + self.old, b"\n" + self.new
        for i in changed:
            if b"\n" + old_lines[i] + b"\n" in new_text or b"\n" + new_lines[i] + b"\n" in old_text:
                return None
        return blocks_of(changed)

    def changed_lines(self) -> tuple[list[bytes], list[bytes]] | None:
        """The lines only `old` has and the lines only `new` has, when every other line appears
        in the same order on both sides and both end alike (with or without a final newline):
        then the two texts differ by exactly these lines. None otherwise."""
        if self.blocks is None or self.old_lines[1] != self.new_lines[1]:
            return None
        old, new = self.old_lines[0], self.new_lines[0]
        gone = [line for lo, hi, _, _ in self.blocks for line in old[lo:hi]]
        came = [line for _, _, lo, hi in self.blocks for line in new[lo:hi]]
        return gone, came

    def stats(self) -> tuple[int, int] | None:
        """(additions, deletions) exactly as libgit2 counts them, or None: ask libgit2."""
        if self.blocks is None or b"\0" in self.old[:_BINARY_PROBE] or b"\0" in self.new[:_BINARY_PROBE]:
            return None
        deletions = sum(hi - lo for lo, hi, _, _ in self.blocks)
        additions = sum(hi - lo for _, _, lo, hi in self.blocks)
        if deletions > MAX_EXACT or additions > MAX_EXACT:
            return None
        return additions, deletions

    def delta(self) -> bytes | None:
        """A git delta (pack format) that rebuilds `new` from `old`, or None when the lines were
        not compared (then the new version is stored whole)."""
        if self.blocks is None:
            return None
        old, new = self.old, self.new
        old_lines, new_lines = self.old_lines[0], self.new_lines[0]
        out = bytearray(_varint(len(old)) + _varint(len(new)))
        # Where old and new are read up to (line, byte). The lines shared between two blocks are
        # equal byte for byte, each with its newline (the texts' last lines are never between blocks).
        o_line = o_byte = n_byte = 0
        for o_lo, o_hi, n_lo, n_hi in self.blocks:
            shared = _span(old_lines, o_line, o_lo)
            if shared:
                _copy(out, o_byte, shared)
            n_byte += shared
            n_end = min(n_byte + _span(new_lines, n_lo, n_hi), len(new))
            if n_end > n_byte:
                _insert(out, new[n_byte:n_end])
            o_line, o_byte, n_byte = o_hi, o_byte + shared + _span(old_lines, o_lo, o_hi), n_end
        if o_byte < len(old):
            _copy(out, o_byte, len(old) - o_byte)
            n_byte += len(old) - o_byte
        if n_byte != len(new):  # cannot happen for equal shared lines; never store a wrong delta
            return None
        return bytes(out)
