"""Configuration text as blocks, through hier_config: the platform of a device, a parsed config, and
a short per-block summary of what changed between two versions.

hier_config (the network automation ecosystem's hierarchical parser) does the parsing and the
diff; this module only names platforms and turns hier_config's unified diff into sentences such as
`interface Gi1/0/19: description phone-471 -> printer-129` or `router bgp 65001: neighbor 10.0.0.2
removed`. Junos brace configs come out of hier_config as `set` lines; their block is the first two
words of the path (`interfaces ge-0/0/1`, `protocols bgp`).
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass
from functools import cache

from hier_config import HConfig, Platform, get_hconfig
from hier_config.constructors import get_hconfig_driver
from hier_config.exceptions import DuplicateChildError
from hier_config.platforms.driver_base import HConfigDriverBase

from gitstore.gc_pause import cyclic_gc_paused

# Device vendor/model/platform words -> hier_config platform; first match wins.
_PLATFORM_WORDS: tuple[tuple[tuple[str, ...], Platform], ...] = (
    (("junos", "juniper", "srx", "mx", "qfx", "ex2300", "ex3400", "ex4300"), Platform.JUNIPER_JUNOS),
    (("nxos", "nx-os", "nexus"), Platform.CISCO_NXOS),
    (("iosxr", "ios-xr", "ios xr", "asr9", "ncs"), Platform.CISCO_XR),
    (("arista", "eos"), Platform.ARISTA_EOS),
    (("fortinet", "fortigate", "fortios"), Platform.FORTINET_FORTIOS),
    (("procurve", "aruba", "hpe", "hp "), Platform.HP_PROCURVE),
    (("vyos",), Platform.VYOS),
    (("huawei", "vrp"), Platform.HUAWEI_VRP),
    (("cisco", "ios", "catalyst", "asa"), Platform.CISCO_IOS),
)
PLATFORM_NAMES = {
    Platform.JUNIPER_JUNOS: "junos", Platform.CISCO_NXOS: "nxos", Platform.CISCO_XR: "iosxr",
    Platform.ARISTA_EOS: "eos", Platform.FORTINET_FORTIOS: "fortios", Platform.HP_PROCURVE: "procurve",
    Platform.VYOS: "vyos", Platform.HUAWEI_VRP: "vrp", Platform.CISCO_IOS: "ios", Platform.GENERIC: "generic",
}
_COMMENT = re.compile(r"^\s*[!#]")
MAX_ITEMS_PER_BLOCK = 6


def platform_for(*hints: str | None, text: str = "") -> Platform:
    """The hier_config platform for a device, from its platform/vendor/model words, else its config."""
    words = " ".join(h.lower() for h in hints if h)
    if words:
        padded = f" {words} "
        for keys, platform in _PLATFORM_WORDS:
            if any(k in padded for k in keys):
                return platform
    if re.search(r"^\S[^\n]*\{\s*$", text, re.MULTILINE) and re.search(r"^\s+\S[^\n]*;\s*$", text, re.MULTILINE):
        return Platform.JUNIPER_JUNOS
    if re.search(r"^(interface|hostname|router|ip access-list|vlan) ", text, re.MULTILINE):
        return Platform.CISCO_IOS
    return Platform.GENERIC


class _StockParseNeeded(Exception):
    """A per-line substitution produced a line the fast path cannot hand on unchanged."""


# A backreference or group test in a substitution pattern would point elsewhere inside one union.
_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def _substitution_guard(patterns: list[str]) -> re.Pattern[str] | None:
    """One expression matching wherever any of `patterns` would, or None when it cannot be built."""
    if not patterns or any(_GROUP_REFERENCE.search(p) for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns))
    except re.error:  # e.g. a global inline flag, which must open the whole expression
        return None


def _normalized(line: str) -> str:
    """What hier_config's loader makes of a line before its substitutions: indent kept, words single-spaced."""
    indent = len(line) - len(line.lstrip())
    return " " * indent + " ".join(line.split())


class _GuardedLineSubs(HConfigDriverBase):
    """A hier_config driver whose per-line substitutions run only on the lines they can change.

    hier_config's loader runs every `per_line_sub` rule (16 for IOS) through `re.sub` on every line,
    which is most of the parse of a large config, although the rules touch a handful of lines (comments,
    `end`, `version`...). Here the loader gets no per-line rules; the driver's preprocessor (which the
    loader calls first) applies the same rules, in the same order, to the same lines — every line but
    those of a banner, which the loader keeps raw — and skips a line at once when one union of the
    rules' patterns finds nothing in it, which is when every rule would leave it unchanged. A line a
    rule does change is handed on as the loader would have seen it after its rules; when that could be
    read differently (a new banner, a line break, spacing the loader would fold), the caller parses
    with the stock driver instead. Everything else (platform preprocessor, full-text rules, tree,
    post-load callbacks, diff rules) is the platform driver's own: this class is mixed into it.
    """

    def __init__(self) -> None:
        super().__init__()
        rules = self.rules.per_line_sub
        self._line_subs = tuple((re.compile(rule.search), rule.replace) for rule in rules)
        self._line_guard = _substitution_guard([rule.search for rule in rules])
        self.rules = self.rules.model_copy(update={"per_line_sub": []})

    def config_preprocessor(self, config_text: str) -> str:  # type: ignore[override]
        config_text = super().config_preprocessor(config_text)
        if not self._line_subs:
            return config_text
        out: list[str] = []
        # The banner bookkeeping of hier_config's loader (constructors._load_from_string_lines), so the
        # same lines count as banner text here as there.
        banner_end_lines = {"EOF", "%", "!"}
        banner_end_contains: list[str] = []
        in_banner = False
        # Lines recur (`!` separators, `exit`...); each distinct one goes through the rules once.
        substituted: dict[str, str] = {}
        for line in config_text.splitlines():
            if in_banner:
                out.append(line)
                if (line.startswith("^") or line in banner_end_lines
                        or any(c in line for c in banner_end_contains)):
                    in_banner = False
                continue
            if line.startswith("banner ") and line != "banner motd ##":
                in_banner = True
                out.append(line)
                words = line.split()
                with suppress(IndexError):
                    banner_end_contains.append(words[2])
                    if words[2].startswith('"'):
                        banner_end_contains.append('"')
                    banner_end_lines.add(words[2][:1])
                    banner_end_lines.add(words[2][:2])
                continue
            normal = _normalized(line)
            if self._line_guard is not None and self._line_guard.search(normal) is None:
                out.append(line)  # no rule changes it; the loader normalises it as before
                continue
            changed = substituted.get(normal)
            if changed is None:
                changed = normal
                for pattern, replace in self._line_subs:
                    changed = pattern.sub(replace, changed)
                changed = substituted[normal] = changed.rstrip()
            if not changed:
                continue
            if changed.startswith("banner ") or len(changed.splitlines()) != 1 or _normalized(changed) != changed:
                raise _StockParseNeeded
            out.append(changed)
        return "\n".join(out)


@cache
def _guarded_driver_class(platform: Platform) -> type[HConfigDriverBase]:
    # A subclass of the platform's own driver, so hier_config's views and isinstance checks still see it.
    driver_class = type(get_hconfig_driver(platform))
    return type(f"Guarded{driver_class.__name__}", (_GuardedLineSubs, driver_class), {})


def parse(platform: Platform, text: str) -> HConfig | None:
    """The config as a block tree, or None when hier_config cannot read it (then no summary).

    The tree is the one hier_config's own driver builds (tests/test_config_parse.py holds the two side
    by side); only the per-line substitutions are skipped on lines they cannot change.
    """
    if platform is Platform.GENERIC:
        text = "\n".join(line for line in text.splitlines() if line.strip() and not _COMMENT.match(line))
    try:
        with cyclic_gc_paused():
            try:
                return get_hconfig(_guarded_driver_class(platform)(), text)
            except _StockParseNeeded:
                return get_hconfig(platform, text)
    except (DuplicateChildError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class BlockChange:
    block: str
    summary: str  # "<block>: <what changed>"


def _split_junos(line: str) -> tuple[str, str]:
    words = line.split()
    if words and words[0] in ("set", "delete", "deactivate"):
        words = words[1:]
    return " ".join(words[:2]), " ".join(words[2:])


_KEY_VALUE = re.compile(r'^(.*?)\s+("[^"]*"|\S+)$')
_SEQUENCE = re.compile(r"^\d+\s+")


def _key_value(item: str) -> tuple[str, str]:
    """`description phone-471` -> ("description", "phone-471"); a quoted value stays whole."""
    match = _KEY_VALUE.match(item)
    return (match.group(1), match.group(2)) if match else (item, "")


def _group_neighbors(items: list[str], others: list[str]) -> tuple[list[str], list[str]]:
    """Lines of a routing neighbor gone (or new) as a whole -> one `neighbor X` entry."""
    def peer(item: str) -> str | None:
        words = item.split()
        for i, word in enumerate(words[:-1]):
            if word == "neighbor":
                return " ".join(words[: i + 2])
        return None

    other_peers = {peer(o) for o in others}
    grouped: list[str] = []
    for item in items:
        name = peer(item)
        if name is not None and name not in other_peers:
            if name not in grouped:
                grouped.append(name)
        else:
            grouped.append(item)
    return grouped, others


def _phrases(block: str, removed: list[str], added: list[str]) -> str:
    """What changed inside one block, as short phrases."""
    removed, _ = _group_neighbors(removed, added)
    added, _ = _group_neighbors(added, removed)
    phrases: list[str] = []
    by_key_removed = {_key_value(r)[0]: r for r in removed}
    paired: set[str] = set()
    for item in added:
        key, value = _key_value(item)
        old = by_key_removed.get(key)
        if old is not None and key not in paired and len(key.split()) >= 1 and old != item:
            paired.add(key)
            phrases.append(f"{key} {_key_value(old)[1]} → {value}")
    rest_removed = [r for r in removed if _key_value(r)[0] not in paired]
    rest_added = [a for a in added if _key_value(a)[0] not in paired]
    is_list = bool(re.match(r"(ip(v6)? access-list|access-list|ip prefix-list|route-map|object-group|"
                            r"policy-options|firewall)", block))
    if is_list:
        # Entries are compared without their sequence numbers, which hier_config renumbers.
        plain_removed = [_SEQUENCE.sub("", r) for r in rest_removed]
        plain_added = [_SEQUENCE.sub("", a) for a in rest_added]
        rest_removed = [r for r in plain_removed if r not in plain_added]
        rest_added = [a for a in plain_added if a not in plain_removed]
    if is_list and (rest_removed or rest_added):
        if rest_added:
            phrases.append(f"+{len(rest_added)} entr{'y' if len(rest_added) == 1 else 'ies'}")
        if rest_removed:
            phrases.append(f"−{len(rest_removed)} entr{'y' if len(rest_removed) == 1 else 'ies'}")
    else:
        phrases += [f"{r} removed" for r in rest_removed] + [f"{a} added" for a in rest_added]
    if len(phrases) > MAX_ITEMS_PER_BLOCK:
        extra = len(phrases) - MAX_ITEMS_PER_BLOCK
        phrases = phrases[:MAX_ITEMS_PER_BLOCK] + [f"and {extra} more"]
    return ", ".join(phrases)


def summarize(platform: Platform, old_text: str, new_text: str) -> list[BlockChange]:
    """Per-block sentences for the change from `old_text` to `new_text` (empty if nothing changed
    or a side cannot be parsed)."""
    old, new = parse(platform, old_text), parse(platform, new_text)
    if old is None or new is None:
        return []
    blocks: dict[str, tuple[list[str], list[str]]] = {}
    order: list[str] = []
    # Unsigned lines are context: the enclosing lines of the signed ones, by indent.
    context: list[tuple[int, str]] = []
    whole_until: int | None = None  # inside a top-level block added/removed as a whole
    for raw in old.unified_diff(new):
        indent = len(raw) - len(raw.lstrip(" "))
        body = raw.strip()
        sign = body[:1] if body[:1] in "+-" and body[1:2] == " " else ""
        text = body[2:] if sign else body
        if whole_until is not None and indent > whole_until:
            continue  # inside a line added or removed with everything under it
        whole_until = None
        while context and context[-1][0] >= indent:
            context.pop()
        if not sign:
            context.append((indent, text))
            continue
        if platform is Platform.JUNIPER_JUNOS:
            block, item = _split_junos(text)
        elif not context:
            block, item = text, ""
            whole_until = indent
        else:
            block = context[0][1]
            item = " ".join([c for _, c in context[1:]] + [text])
            whole_until = indent
        if block not in blocks:
            blocks[block] = ([], [])
            order.append(block)
        removed, added = blocks[block]
        (added if sign == "+" else removed).append(item)
    changes: list[BlockChange] = []
    for block in order:
        removed, added = blocks[block]
        whole_removed, whole_added = "" in removed, "" in added
        if whole_added and not whole_removed:
            changes.append(BlockChange(block, f"{block}: added"))
        elif whole_removed and not whole_added:
            changes.append(BlockChange(block, f"{block}: removed"))
        else:
            removed = [r for r in removed if r]
            added = [a for a in added if a]
            if removed or added:
                changes.append(BlockChange(block, f"{block}: {_phrases(block, removed, added)}"))
    return changes
