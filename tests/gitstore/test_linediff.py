"""The rendered line diff (gitstore.linediff) against `git diff` itself, byte for byte.

The fast path builds hunks a column at a time (one decode per hunk, word marks only for the
paired lines of a block); these tests pin what it produces to what git prints, including
non-UTF-8 lines, a missing final newline and word marks.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from gitstore.linediff import LineDiffOptions, _ascii_common_ends, _common_ends, diff_lines, word_spans
from gitstore.models import Hunk

_WORDS = [b"interface GigabitEthernet1/0/", b" description uplink-", b"  ip address 10.0.", b"!", b" mtu ",
          b"hostname r", b"banner motd f\xfcr ", b"  secret 5 $1$", b"caf\xc3\xa9 "]


def _config(rng: random.Random, count: int) -> list[bytes]:
    # Mostly distinct lines, as in a config, with a few repeated ones ('!', blank-ish lines).
    return [b"!" if rng.random() < 0.05 else rng.choice(_WORDS) + str(i).encode() for i in range(count)]


def _edit(rng: random.Random, lines: list[bytes], edits: int, in_place: bool) -> list[bytes]:
    lines = list(lines)
    for _ in range(edits):
        at = rng.randrange(len(lines))
        kind = 0 if in_place else rng.randrange(3)
        if kind == 0:
            lines[at] = lines[at] + b" changed-" + str(rng.randrange(10**6)).encode()
        elif kind == 1:
            lines.insert(at, b"  added " + str(rng.randrange(10**6)).encode())
        else:
            del lines[at]
    return lines


def _text(lines: list[bytes], final_newline: bool) -> bytes:
    return b"\n".join(lines) + (b"\n" if final_newline and lines else b"")


def _unified(hunks: list[Hunk]) -> bytes:
    """Our hunks printed as git prints them (without git's function-name header)."""
    out = []
    for hunk in hunks:
        old = str(hunk.old_start) if hunk.old_lines == 1 else f"{hunk.old_start},{hunk.old_lines}"
        new = str(hunk.new_start) if hunk.new_lines == 1 else f"{hunk.new_start},{hunk.new_lines}"
        out.append(f"@@ -{old} +{new} @@\n".encode())
        for line in hunk.lines:
            raw = line.raw if line.raw is not None else line.content.encode()
            out.append(line.origin.encode() + raw + b"\n")
            if line.no_newline:
                out.append(b"\\ No newline at end of file\n")
    return b"".join(out)


def _git_unified(tmp_path: Path, old: bytes, new: bytes, context: int) -> bytes:
    (tmp_path / "a").write_bytes(old)
    (tmp_path / "b").write_bytes(new)
    out = subprocess.run(["git", "-c", "diff.indentHeuristic=true", "diff", "--no-index", "--no-color",
                          "--no-ext-diff", f"-U{context}", "a", "b"],
                         cwd=tmp_path, capture_output=True, check=False).stdout
    body = out[out.index(b"\n@@") + 1:] if b"\n@@" in out else b""
    # Drop git's function-name context after the second '@@' of each header.
    return b"".join(line[: line.index(b" @@") + 3] + b"\n" if line.startswith(b"@@") else line + b"\n"
                    for line in body.split(b"\n")[:-1])


@pytest.mark.parametrize("seed", range(40))
def test_hunks_match_git_diff(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    old_lines = _config(rng, rng.randrange(1, 400))
    in_place = seed % 2 == 0  # even seeds: values edited where they stand (the fast path's own shape)
    new_lines = _edit(rng, old_lines, rng.randrange(1, 12), in_place)
    old = _text(old_lines, final_newline=seed % 5 != 1)
    new = _text(new_lines, final_newline=seed % 7 != 3)
    context = (3, 0, 1, 5)[seed % 4]
    result = diff_lines(old, new, LineDiffOptions(context_lines=context))
    hunks = result.hunks()
    assert _unified(hunks) == _git_unified(tmp_path, old, new, context)
    assert result.sizes == [len(h.lines) for h in hunks]
    assert result.additions == sum(line.origin == "+" for h in hunks for line in h.lines)
    assert result.deletions == sum(line.origin == "-" for h in hunks for line in h.lines)


def test_latin1_and_missing_final_newline_in_one_hunk() -> None:
    old = b"hostname r1\nbanner motd f\xfcr alle\n!\nend"
    new = b"hostname r1\nbanner motd f\xf6r alle\n!\nend\n"
    (hunk,) = diff_lines(old, new, LineDiffOptions()).hunks()
    assert [(line.origin, line.old_lineno, line.new_lineno) for line in hunk.lines] == [
        (" ", 1, 1), ("-", 2, None), ("+", None, 2), (" ", 3, 3), ("-", 4, None), ("+", None, 4)]
    deleted, added = hunk.lines[1], hunk.lines[2]
    assert (deleted.content, deleted.raw) == ("banner motd f\\xfcr alle", b"banner motd f\xfcr alle")
    assert (added.content, added.raw) == ("banner motd f\\xf6r alle", b"banner motd f\xf6r alle")
    assert deleted.spans == added.spans == (12, 18)  # the changed word, as shown (escaped)
    assert [line.no_newline for line in hunk.lines] == [False, False, False, False, True, False]
    assert hunk.lines[4].spans is None and hunk.lines[5].spans is None  # "end" vs "end\n": nothing inside
    assert all(line.raw is None for line in hunk.lines if "\\x" not in line.content)


def test_word_marks_on_a_changed_secret_line_only_for_paired_lines() -> None:
    old = "".join(f"interface Gi1/0/{i}\n description port {i}\n" for i in range(50)).encode()
    new = old.replace(b" description port 7\n", b" description port 7\n secret 5 $1$new\n").replace(
        b" description port 30\n", b" description uplink 30\n")
    old = old.replace(b" description port 7\n", b" description port 7\n secret 5 $1$old\n")
    first, second = diff_lines(old, new, LineDiffOptions()).hunks()
    changed = [line for line in first.lines if line.origin != " "]
    assert [(line.origin, line.content, line.spans) for line in changed] == [
        ("-", " secret 5 $1$old", (13, 16)), ("+", " secret 5 $1$new", (13, 16))]
    assert first.header == "@@ -14,7 +14,7 @@ interface Gi1/0/7"
    assert [line.spans for line in second.lines if line.origin != " "] == [(13, 17), (13, 19)]
    assert all(line.spans is None for line in first.lines + second.lines if line.origin == " ")
    plain = diff_lines(old, new, LineDiffOptions(words=False)).hunks()
    assert all(line.spans is None for hunk in plain for line in hunk.lines)
    assert [line.content for hunk in plain for line in hunk.lines] == [
        line.content for hunk in (first, second) for line in hunk.lines]


def test_ascii_common_ends_agree_with_the_search() -> None:
    rng = random.Random(1)
    for _ in range(2000):
        a = "".join(rng.choice("ab c") for _ in range(rng.randrange(0, 12)))
        b = "".join(rng.choice("ab c") for _ in range(rng.randrange(0, 12)))
        limit = min(len(a), len(b))
        assert _ascii_common_ends(a.encode(), b.encode(), limit) == _common_ends(a, b, limit), (a, b)
    assert word_spans("mtu 1500", "mtu 9000") == ((4, 8), (4, 8))
    assert word_spans("f\u00fcr x1", "f\u00f6r x1") == ((0, 3), (0, 3))  # not ASCII: the search


def test_line_numbers_stay_inside_both_files_with_whitespace_ignored():
    """libgit2 numbered a deleted line past the old file's end (whitespace ignored, a CR, no final
    newline), and naming the hunk's block then raised IndexError: a 500 on compare and in the API."""
    old, new = b"x\r\nx\n  ip address 10.0.0.1\n", b"x\n x"
    [hunk] = diff_lines(old, new, LineDiffOptions(ignore_whitespace=True)).hunks()
    assert [(line.origin, line.old_lineno, line.new_lineno) for line in hunk.lines] == [
        (" ", 1, 1), (" ", 2, 2), ("-", 3, None)]
    rng = random.Random(5)
    pool = [b"x", b" x", b"x\r", b"x\r2", b"  ip address 10.0.0.1", b"\tc", b"", b"  "]
    for _ in range(3000):
        old = b"\n".join(rng.choice(pool) for _ in range(rng.randint(0, 8))) + rng.choice([b"", b"\n"])
        new = b"\n".join(rng.choice(pool) for _ in range(rng.randint(0, 8))) + rng.choice([b"", b"\n"])
        n_old, n_new = (len(text.split(b"\n")) - text.endswith(b"\n") if text else 0 for text in (old, new))
        for opts in (LineDiffOptions(ignore_whitespace=True), LineDiffOptions(ignore_eol=True)):
            for hunk in diff_lines(old, new, opts).hunks():
                for line in hunk.lines:
                    assert line.old_lineno is None or 1 <= line.old_lineno <= n_old, (old, new)
                    assert line.new_lineno is None or 1 <= line.new_lineno <= n_new, (old, new)
