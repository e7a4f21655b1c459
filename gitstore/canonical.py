"""The one byte form of JSON files in a repository, and the natural sort of port names."""

from __future__ import annotations

import json
import re
from typing import Any

_DIGITS = re.compile(r"([0-9]+)")


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
