"""Regular expressions typed by users (search queries, compliance rules): compiled once, bounded.

They run through the `regex` package, whose matching takes a timeout, so one pathological pattern
costs its caller a clear 422 instead of a stuck worker.
"""

from __future__ import annotations

from typing import Any

import regex

from app.services.errors import ValidationError

MAX_PATTERN = 500
# Seconds one search over one text may take before the pattern is refused as too slow.
MATCH_TIMEOUT = 2.0


class PatternTooSlow(ValidationError):
    pass


def compile_pattern(pattern: Any, field: str, ignore_case: bool = False) -> regex.Pattern[str]:
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValidationError(f"'{field}' must be a non-empty regular expression.", field=field, code="required")
    if len(pattern) > MAX_PATTERN:
        raise ValidationError(f"'{field}' must be at most {MAX_PATTERN} characters.", field=field, code="too_long")
    try:
        return regex.compile(pattern, regex.MULTILINE | (regex.IGNORECASE if ignore_case else 0))
    except (regex.error, ValueError, OverflowError) as exc:
        raise ValidationError(f"'{field}' is not a valid regular expression: {exc}.", field=field,
                              code="invalid_regex") from None


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
