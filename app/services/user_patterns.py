"""Regular expressions typed by users (search queries, compliance rules): compiled once, bounded.

They run through the `regex` package, whose matching takes a timeout, so one pathological pattern
costs its caller a clear 422 instead of a stuck worker.
"""

from __future__ import annotations

import re
import time
from typing import Any

import regex

from app.services.errors import ValidationError

MAX_PATTERN = 500
# Seconds one search over one text may take before the pattern is refused as too slow.
MATCH_TIMEOUT = 2.0


# Syntax `regex` and `re` both accept but read differently: a POSIX class inside a set, or a `{` that
# does not open a quantifier (`{3}`, `{1,3}`, `{,3}` are read alike), such as the fuzzy `{e<=1}`. An
# escaped literal brace matches too: a caller then only loses a shortcut.
_READ_DIFFERENTLY = re.compile(r"\[:|\{(?!\d*(?:,\d*)?\})")


def read_alike_by_re(pattern: str) -> bool:
    """Whether Python's `re` reads `pattern` as the `regex` engine that runs it does, so that an
    analysis of `re`'s parse (the search's trigram prefilter) holds for the real matches."""
    return not _READ_DIFFERENTLY.search(pattern)


class PatternTooSlow(ValidationError):
    pass


def compile_pattern(pattern: Any, field: str, ignore_case: bool = False) -> regex.Pattern[str]:
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValidationError("'%(field)s' must be a non-empty regular expression.", field=field, code="required",
                              params={"field": field})
    if len(pattern) > MAX_PATTERN:
        raise ValidationError("'%(field)s' must be at most %(limit)s characters.", field=field, code="too_long",
                              params={"field": field, "limit": MAX_PATTERN})
    try:
        return regex.compile(pattern, regex.MULTILINE | (regex.IGNORECASE if ignore_case else 0))
    except (regex.error, ValueError, OverflowError) as exc:
        raise ValidationError("'%(field)s' is not a valid regular expression: %(reason)s.", field=field,
                              code="invalid_regex", params={"field": field, "reason": str(exc)}) from None


def finditer(pattern: regex.Pattern[str], text: str, field: str = "q"):  # type: ignore[no-untyped-def]
    """All matches, or PatternTooSlow once the pattern has spent MATCH_TIMEOUT on this text."""
    try:
        return list(pattern.finditer(text, timeout=MATCH_TIMEOUT))
    except TimeoutError:
        raise PatternTooSlow(f"The pattern in '{field}' is too slow to run; make it more specific.",
                             field=field, code="pattern_too_slow") from None


def search(pattern: regex.Pattern[str], text: str, field: str = "pattern") -> regex.Match[str] | None:
    try:
        return pattern.search(text, timeout=MATCH_TIMEOUT)
    except TimeoutError:
        raise PatternTooSlow(f"The pattern in '{field}' is too slow to run; make it more specific.",
                             field=field, code="pattern_too_slow") from None


# After a backslash, these start a reference to a group or a quoted run; a pattern holding one is not split.
_UNSPLITTABLE_ESCAPES = frozenset("0123456789gkQE")
# Group openers that leave the pattern's meaning where it is (no flags, names or branch resets).
_PLAIN_GROUPS = ("(?:", "(?=", "(?!", "(?<=", "(?<!", "(?>")


def alternatives(pattern: str) -> list[str] | None:
    """The top-level alternatives of `pattern` (`A|B` -> ["A", "B"]), or None when it has fewer than two
    or cannot be split for certain.

    `A|B` matches at a position exactly when `A` or `B` does, so a text holds a match of the pattern
    exactly when it holds a match of one alternative — and the `regex` engine finds a single anchored
    literal such as `^ip http server` by a fast string search, which a whole alternation defeats. Only
    plain syntax is split: any inline flag, named or numbered group reference, conditional, comment,
    quoted run or nested set makes this return None (the pattern is then searched whole).
    """
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            if i + 1 >= n or pattern[i + 1] in _UNSPLITTABLE_ESCAPES:
                return None
            i += 2
            continue
        if char == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":
                i += 1  # a `]` first in a set is a literal
            while i < n and pattern[i] != "]":
                if pattern[i] == "[":
                    return None  # a nested set or POSIX class: the engines differ on these
                if pattern[i] == "\\":
                    if i + 1 >= n or pattern[i + 1] in _UNSPLITTABLE_ESCAPES:
                        return None
                    i += 1
                i += 1
            if i >= n:
                return None
            i += 1
            continue
        if char == "(":
            if pattern.startswith("(?", i) and not pattern.startswith(_PLAIN_GROUPS, i):
                return None
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return None
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    if depth:
        return None
    parts.append(pattern[start:])
    if len(parts) < 2 or any(not part.strip() for part in parts):
        return None
    return parts


def search_any(patterns: list[regex.Pattern[str]], text: str, field: str = "pattern") -> bool:
    """Whether any of `patterns` occurs in `text`, all of them together given MATCH_TIMEOUT."""
    deadline = time.monotonic() + MATCH_TIMEOUT
    for pattern in patterns:
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            if pattern.search(text, timeout=remaining) is not None:
                return True
        except TimeoutError:
            raise PatternTooSlow(f"The pattern in '{field}' is too slow to run; make it more specific.",
                                 field=field, code="pattern_too_slow") from None
    return False


_QUANTIFIER = regex.compile(r"\{(?:\d+(?:,\d*)?|,\d+)\}")
# After a backslash: classes and assertions that never match or look past a line break.
_IN_LINE_ESCAPES = frozenset("dwSbB")


def within_lines(pattern: str) -> bool:
    """True when every match of `pattern` (compiled MULTILINE, without DOTALL) lies inside one line and
    depends on that line only, so texts joined by line breaks hold matches exactly where the texts do.

    Conservative, from the syntax: no line-break-matching class (`\\s`, `\\W`, `\\D`, negated sets), no
    escape but `\\d \\w \\S \\b \\B` and escaped punctuation, no lookaround, flag, `\\A`/`\\Z`, fuzzy or
    other brace, no control character. Anything else is "not certain", and the caller searches each
    text on its own.
    """
    i = 0
    n = len(pattern)
    while i < n:
        char = pattern[i]
        if ord(char) < 0x20 or char in "\x7f\x85\u2028\u2029":
            return False
        if char == "\\":
            if i + 1 >= n:
                return False
            nxt = pattern[i + 1]
            if not (nxt in _IN_LINE_ESCAPES or (not nxt.isalnum() and not nxt.isspace() and nxt != "_")):
                return False
            i += 2
            continue
        if char == "[":
            i += 1
            if i < n and pattern[i] == "^":
                return False  # a negated set matches a line break
            if i < n and pattern[i] == "]":
                i += 1
            while i < n and pattern[i] != "]":
                inner = pattern[i]
                if inner == "[" or ord(inner) < 0x20 or inner in "\x7f\x85\u2028\u2029":
                    return False
                if inner == "\\":
                    if i + 1 >= n:
                        return False
                    nxt = pattern[i + 1]
                    if not (nxt in "dwS" or (not nxt.isalnum() and not nxt.isspace() and nxt != "_")):
                        return False
                    i += 1
                i += 1
            if i >= n:
                return False
            i += 1
            continue
        if char == "(" and pattern.startswith("(?", i) and not pattern.startswith("(?:", i):
            return False
        if char == "{":
            quantifier = _QUANTIFIER.match(pattern, i)
            if quantifier is None:
                return False
            i = quantifier.end()
            continue
        i += 1
    return True
