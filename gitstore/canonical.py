"""The one byte form of JSON files in a repository, the one strict JSON reader, and the natural
sort of port names."""

from __future__ import annotations

import json
import re
from typing import Any

_DIGITS = re.compile(r"([0-9]+)")
_SURROGATE = re.compile("[\ud800-\udfff]")

# Deeper than any JSON InfraTrace stores or accepts (a version body with ports is about 5 levels),
# and far below the depth where Python's recursive encoders, decoders, Jinja and the validators
# hit the interpreter's recursion limit.
MAX_JSON_DEPTH = 32


class JSONRefused(ValueError):
    """JSON that is not taken: `reason` is one of "malformed" (not JSON, NaN/Infinity, not UTF-8),
    "too_deep", "duplicate_key" or "invalid_text" (a lone surrogate, which is no character)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def load_json(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON strictly: the one reader for request bodies and for JSON files in repos.

    Refuses (JSONRefused) what json.loads would let through or crash on: nesting deeper than
    `max_depth` (json.loads raises RecursionError near 1000 levels, and a file just under that
    parses but then breaks every encoder and template that walks it), duplicate keys (json.loads
    silently keeps the last), NaN/Infinity (not JSON) and lone surrogates ("\\ud800" is valid
    JSON text but no character: it cannot be stored as UTF-8).
    """
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise JSONRefused("malformed", "not UTF-8") from None
    else:
        text = data
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except RecursionError:
        raise JSONRefused("too_deep", f"nested deeper than {max_depth} levels") from None
    except JSONRefused:
        raise
    except ValueError as exc:
        raise JSONRefused("malformed", f"not valid JSON ({exc})") from None
    _check_tree(value, max_depth)
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JSONRefused("duplicate_key", f"duplicate key {key!r}")
            seen.add(key)
    return result


def _constant(name: str) -> Any:
    raise JSONRefused("malformed", f"{name} is not JSON")


def _check_tree(value: Any, max_depth: int) -> None:
    """Depth and text checks without recursion (the value may be as deep as the parser allowed)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise JSONRefused("invalid_text", "text holds a lone surrogate (U+D800 to U+DFFF), no character")
            continue
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise JSONRefused("too_deep", f"nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    stack.append((key, depth + 1))
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, two-space indent, UTF-8, final newline.

    One item per line makes git diffs line-accurate, and a fixed form makes equal content hash
    equal, so "nothing changed" is a tree comparison. NaN/Infinity are refused because they are
    not JSON and other clients could not parse them.
    """
    text = json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def natural_key(name: str) -> tuple:
    """Sort key putting `Gi1/0/2` before `Gi1/0/10` (digit runs compare as numbers).

    Each chunk is tagged with its kind so numbers and text never compare with each other;
    the original string breaks ties (`01` vs `1`) so the order is total and deterministic.
    """
    chunks = []
    for i, part in enumerate(_DIGITS.split(name)):
        if i % 2:
            chunks.append((0, int(part), ""))
        elif part:
            chunks.append((1, 0, part.casefold()))
    return (tuple(chunks), name)
