"""user_patterns.alternatives: a rule pattern split at its top-level `|`, only where that is certain
to keep its meaning, so a config holds a match of the pattern exactly when it holds one of a part."""

from __future__ import annotations

import pytest
import regex

from app.services.user_patterns import (
    MATCH_TIMEOUT,
    PatternTooSlow,
    alternatives,
    compile_pattern,
    search_any,
    within_lines,
)
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


@pytest.mark.parametrize("pattern,certain", [
    (r"^interface GigabitEthernet", True), (r"switchport mode access", True),
    (r"spanning-tree (portfast|bpduguard)", True), (r"^ip address \d+\.\d+\.\d+\.\d+ \S+$", True),
    (r"vlan \w{2,4}\b", True), (r"[a-z\-]+ (?:x|y)", True), (r"[]a]", True),
    # A line break could be matched, or a match could look past one: searched text by text.
    (r"^\s+shutdown", False), (r"description [^\n]+", False), (r"a[^b]", False), (r"\W", False), (r"\D", False),
    (r"a\nb", False), (r"\x0a", False), (r"(?s)a.b", False), (r"a(?=\s)", False), (r"(?<!x)y", False),
    (r"\Aabc", False), (r"abc\Z", False), (r"(?:abc){e<=1}", False), (r"a{", False), (r"[[:space:]]", False),
    (r"[\s]", False), (r"\p{Zl}", False), ("a\tb", False), ("a\\", False), ("[a", False),
])
def test_within_lines(pattern, certain):
    assert within_lines(pattern) is certain


@pytest.mark.parametrize("pattern", [p for p in [
    r"^interface \S+", r"permit|deny", r"^ name", r"\d+$", r"^$", r"x?", r"description", r"\bvlan\b",
    r"^(?:ip|ipv6) access-list", r"neighbor 10\.\d+\.0\.\d+ remote-as", r"[0-9]{3}",
]])
@pytest.mark.parametrize("text", [IOS, NXOS, EOS, JUNOS], ids=["ios", "nxos", "eos", "junos"])
def test_joined_lines_hold_matches_where_the_texts_do(pattern, text):
    assert within_lines(pattern)
    compiled = compile_pattern(pattern, "pattern")
    items = text.split("!\n") + ["", "  "]  # multi-line texts, an empty one, a blank one
    joined = "\n".join(items)
    starts = [sum(len(item) + 1 for item in items[:i]) for i in range(len(items))]
    hits = {max(i for i, s in enumerate(starts) if s <= m.start()) for m in compiled.finditer(joined)}
    assert hits == {i for i, item in enumerate(items) if compiled.search(item)}
