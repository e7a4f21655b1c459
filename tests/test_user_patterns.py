"""user_patterns.alternatives: a rule pattern split at its top-level `|`, only where that is certain
to keep its meaning, so a config holds a match of the pattern exactly when it holds one of a part."""

from __future__ import annotations

import pytest
import regex

from app.services.user_patterns import MATCH_TIMEOUT, PatternTooSlow, alternatives, compile_pattern, search_any
from tests.fleet_config_support import EOS, IOS, JUNOS, NXOS


@pytest.mark.parametrize("pattern,parts", [
    (r"^snmp-server community \S+ RW|^ip http server", [r"^snmp-server community \S+ RW", "^ip http server"]),
    (r"^ntp server 10\.0\.0\.123$|^logging host", [r"^ntp server 10\.0\.0\.123$", "^logging host"]),
    (r"a|b|c", ["a", "b", "c"]),
    (r"(?:a|b)c|d", ["(?:a|b)c", "d"]),  # only the top level is split
    (r"[|]x|y", ["[|]x", "y"]),  # a `|` in a set is a character
    (r"[]|]x|y", ["[]|]x", "y"]),  # so is a `]` first in a set
    (r"\|x|y", [r"\|x", "y"]),
    (r"(?<!no )shutdown|(?=x)y", ["(?<!no )shutdown", "(?=x)y"]),
    (r"(a)|b", ["(a)", "b"]),
    # Not split: one alternative, group references, flags, names, branch resets, quoting, nested sets.
    (r"^ip http server", None),
    (r"(?:a|b)", None),
    (r"(a)x|\1", None),
    (r"(?P<x>a)|(?P=x)", None),
    (r"(?i)a|b", None),
    (r"a|(?i:b)", None),
    (r"(?|(a)|(b))|c", None),
    (r"\Qa|b\E|c", None),
    (r"[[:digit:]]|x", None),
    (r"a\g<1>|b", None),
    (r"a||b", None),
    (r"a|", None),
    (r"(a|b", None),
    (r"a)|(b", None),
    (r"[a|b", None),
    ("a\\", None),
])
def test_alternatives(pattern, parts):
    assert alternatives(pattern) == parts


PATTERNS = [
    r"^snmp-server community \S+ RW|^ip http server", r"^ip http server|^snmp-server", r"permit|deny",
    r"^ntp server 10\.0\.0\.123$|^logging host", r"^\s+shutdown$|^end$", r"vlan \d+$|^hostname \S+-1$",
    r"description \"[^\"]+\"|unit 0 \{", r"^interface \S+\n description|^xyz",
    r"neighbor 10\.0\.0\.9|neighbor 10\.20\.0\.9", r"^ name|\{$",
]


@pytest.mark.parametrize("text", [IOS, NXOS, EOS, JUNOS], ids=["ios", "nxos", "eos", "junos"])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_text_holds_the_pattern_exactly_when_it_holds_a_part(pattern, text):
    whole = compile_pattern(pattern, "pattern")
    parts = [regex.compile(part, whole.flags) for part in alternatives(pattern)]
    assert search_any(parts, text) == (whole.search(text) is not None)


def test_the_parts_share_one_time_limit(monkeypatch):
    """The limit is for the whole search: once the first part has used it up, the next is not run."""
    calls = []

    def clock() -> float:
        calls.append(None)
        return 0.0 if len(calls) <= 2 else MATCH_TIMEOUT + 1.0

    monkeypatch.setattr("app.services.user_patterns.time.monotonic", clock)
    with pytest.raises(PatternTooSlow):
        search_any([regex.compile("x"), regex.compile("y")], "nothing here")
    assert len(calls) == 3  # the deadline, the first part's remainder, the second's (none left)
