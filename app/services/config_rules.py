"""Noise rules and secret redaction: what happens to a config's bytes before they are stored.

A project's rule set has two kinds of noise rules, each a regular expression matched against one
line: `strip` (matching lines are removed before storing) and `ignore` (a change confined to
matching lines makes no version; when anything else changed, the lines are kept as collected).
The vendor presets (`config_presets`) add their volatile lines as `ignore` rules and their secret
patterns for redaction, chosen per device from its platform, or one platform for the project.

Redaction replaces each secret value by `<redacted:xxxxxxxx>`, the first 32 bits of an HMAC of
the value under a per-team key derived from the app's secret key: equal secrets give equal
placeholders (so a rotated secret is still a visible change) and the value itself never reaches
git, SQL, mirrors, exports, diffs or webhooks. It is one-way: nothing can turn a placeholder back.

Order, on every way in: strip, then redact, then the `ignore` comparison against the stored
version (which was stripped and redacted the same way). User patterns run under the `regex`
module's timeout, so a pathological expression is refused instead of stalling a worker.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import regex
from flask import current_app, g, has_app_context

from app.extensions import db
from app.models import Device, ProjectIntakeSettings
from app.services.config_presets import PRESETS, Preset
from app.services.errors import ValidationError
from app.services.validation import check_name
from gitstore import Changes
from gitstore.secrets import SecretScanner
from gitstore.textchange import TextChange

RULE_KINDS = ("ignore", "strip")
NOISE_MODES = ("all", "platform", "off")
PLATFORM_AUTO = "auto"
MAX_RULES = 100
MAX_PATTERN = 500
# Seconds all user-written patterns together may spend on one config before the write is refused.
RULES_TIME_BUDGET = 2.0
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class RuleTimeout(ValidationError):
    """A rule's pattern took too long on this input (catastrophic backtracking)."""

    code = "rule_timeout"


# -- platforms ----------------------------------------------------------------------------------


def preset_for_text(text: str | None) -> str | None:
    """The preset a platform, vendor or model text names (`Cisco` + `Nexus 9300` -> nxos), or None."""
    if not text:
        return None
    lowered = text.lower()
    if lowered.strip() in PRESETS:
        return lowered.strip()
    words = set(_WORD.findall(lowered))
    joined = " ".join(_WORD.findall(lowered))
    # The specific Cisco families first: "cisco" alone means IOS.
    for key in ("nxos", "iosxr", "asa", "junos", "eos", "fortios", "routeros", "procurve", "ios"):
        for alias in PRESETS[key].aliases:
            if (" " in alias and alias in joined) or alias in words or (len(alias) > 3 and alias in lowered):
                return key
    if "cisco" in words:
        return "ios"
    return None


def device_platform(device: Any) -> str | None:
    """A device's preset: its `platform` custom field, else what its vendor and model say."""
    custom = getattr(device, "custom_fields", None) or {}
    explicit = custom.get("platform") if isinstance(custom, dict) else None
    if isinstance(explicit, str) and preset_for_text(explicit):
        return preset_for_text(explicit)
    return preset_for_text(f"{getattr(device, 'vendor', '') or ''} {getattr(device, 'model', '') or ''}")


# -- settings -----------------------------------------------------------------------------------


@dataclass
class Rule:
    kind: str
    pattern: str
    description: str = ""

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "pattern": self.pattern, "description": self.description}


@dataclass
class Settings:
    """A project's intake settings (the defaults are what a new project starts with)."""

    config_name: str = "running-config"
    platform: str = PLATFORM_AUTO
    noise_presets: str = "all"
    redaction: bool = True
    rules: list[Rule] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "config_name": self.config_name,
            "platform": self.platform,
            "noise_presets": self.noise_presets,
            "redaction": self.redaction,
            "rules": [r.as_json() for r in self.rules],
        }


def compile_user_pattern(pattern: str, field_name: str) -> Any:
    try:
        return regex.compile(pattern.encode("utf-8"))
    except (regex.error, UnicodeEncodeError) as exc:
        raise ValidationError("'%(field)s' is not a valid regular expression: %(reason)s", field=field_name,
                              code="invalid_pattern", params={"field": field_name, "reason": str(exc)}) from None


def parse_rules(value: Any) -> list[Rule]:
    if not isinstance(value, list):
        raise ValidationError("'rules' must be a list of {kind, pattern}.", field="rules", code="wrong_type")
    if len(value) > MAX_RULES:
        raise ValidationError("At most %(limit)s rules.", field="rules", code="too_long",
                              params={"limit": MAX_RULES})
    rules = []
    for index, item in enumerate(value):
        where = f"rules[{index}]"
        if not isinstance(item, dict):
            raise ValidationError("'%(where)s' must be an object.", field=where, code="wrong_type",
                                  params={"where": where})
        unknown = set(item) - {"kind", "pattern", "description"}
        if unknown:
            name = sorted(unknown)[0]
            raise ValidationError("Unknown field '%(field)s'.", field=f"{where}.{name}", code="unknown_field",
                                  params={"field": name})
        kind, pattern, description = item.get("kind"), item.get("pattern"), item.get("description", "")
        if kind not in RULE_KINDS:
            raise ValidationError("'%(where)s.kind' must be one of: %(choices)s.",
                                  field=f"{where}.kind", code="invalid_choice",
                                  params={"where": where, "choices": ", ".join(RULE_KINDS)})
        pattern = check_name(pattern, f"{where}.pattern", max_length=MAX_PATTERN, strip=False)
        description = check_name(description, f"{where}.description", max_length=200, required=False)
        compile_user_pattern(pattern, f"{where}.pattern")
        rules.append(Rule(kind, pattern, description))
    return rules


# -- redaction keys -----------------------------------------------------------------------------


def team_key(team_id: str) -> bytes:
    """The team's redaction key: derived from the app secret, never stored."""
    secret = current_app.config["INFRATRACE"].secret_key.encode()
    return hmac.new(secret, b"infratrace/redaction/v1/" + team_id.encode(), hashlib.sha256).digest()


def placeholder_for(key: bytes, value: bytes) -> bytes:
    return b"<redacted:" + hmac.new(key, value, hashlib.sha256).hexdigest()[:8].encode() + b">"


# -- the rule set of one device -----------------------------------------------------------------


def _alternation(patterns: Iterable[str]) -> Any:
    patterns = list(patterns)
    if not patterns:
        return None
    return regex.compile("|".join(f"(?:{p})" for p in patterns).encode("utf-8"))


@dataclass
class RuleSet:
    """The compiled rules for one device: transform on the way in, noise test against the stored."""

    strip: Any = None
    ignore: Any = None
    scanner: SecretScanner | None = None
    key: bytes = b""
    presets: list[str] = field(default_factory=list)
    _deadline: float = 0.0

    def _search(self, pattern: Any, line: bytes) -> bool:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise RuleTimeout("The noise rules took too long on this config; simplify the patterns.",
                              field="rules")
        try:
            return pattern.search(line, timeout=remaining) is not None
        except TimeoutError:
            raise RuleTimeout("The noise rules took too long on this config; simplify the patterns.",
                              field="rules") from None

    def _start(self) -> None:
        self._deadline = time.monotonic() + RULES_TIME_BUDGET

    def strip_lines(self, data: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
        """`data` without the lines `strip` rules match, and those lines (1-based numbers)."""
        if self.strip is None or not data:
            return data, []
        self._start()
        kept: list[bytes] = []
        removed: list[tuple[int, bytes]] = []
        for number, line in enumerate(data.split(b"\n"), start=1):
            if self._search(self.strip, line):
                removed.append((number, line))
            else:
                kept.append(line)
        if not removed:
            return data, []
        return b"\n".join(kept), removed

    def redact(self, data: bytes, batch: dict[str, Any] | None = None, name: str = "") -> bytes:
        """`data` with its secrets replaced. `batch` (one per batch of versions of one device)
        keeps each file's scan for the next version's (`SecretScanner.scan_next`)."""
        if self.scanner is None:
            return data
        starts = None
        if batch is not None:
            starts, batch[name] = self.scanner.scan_next(data, batch.get(name))
        return self.scanner.redact(data, lambda value: placeholder_for(self.key, value), starts)

    def transform(self, data: bytes, batch: dict[str, Any] | None = None, name: str = "") -> bytes:
        """What is stored for collected `data`: stripped, then redacted."""
        return self.redact(self.strip_lines(data)[0], batch, name)

    def significant(self, lines: list[bytes]) -> list[bytes]:
        """The lines that count when deciding whether a version changed (without `ignore` lines)."""
        if self.ignore is None:
            return lines
        return [line for line in lines if not self._search(self.ignore, line)]

    def is_noise(self, path: str, old: bytes, new: bytes) -> bool:
        """True when `old` and `new` differ only in lines `ignore` rules match."""
        return self.is_noise_change(path, TextChange(old, new))

    def is_noise_change(self, _path: str, change: TextChange) -> bool:
        """`is_noise` on a change gitstore has compared line by line already (a write's own).

        When the lines both versions share appear in the same order in both (a config edited in
        place), the versions differ by exactly the lines only one side has, so only those are
        matched against the rules: a few lines, not the whole config. Otherwise the lines both
        share at the start and at the end are the same after filtering on either side, so only
        the region between them is filtered.
        """
        old, new = change.old, change.new
        if self.ignore is None or old == new:
            return False
        lines = change.changed_lines()
        if lines is not None:
            self._start()
            return all(self._search(self.ignore, line) for side in lines for line in side)
        a, b = old.split(b"\n"), new.split(b"\n")
        shortest = min(len(a), len(b))
        start = 0
        while start < shortest and a[start] == b[start]:
            start += 1
        end = 0
        while end < shortest - start and a[-1 - end] == b[-1 - end]:
            end += 1
        a, b = a[start:len(a) - end], b[start:len(b) - end]
        self._start()
        # Fast refusal for the common case, a real change: some line present on one side only
        # is not an `ignore` line. Only when every such line is one does
        # the order-sensitive comparison below need to run over the whole region.
        for line in set(a).symmetric_difference(b):
            if not self._search(self.ignore, line):
                return False
        return self.significant(a) == self.significant(b)

    @property
    def noise(self) -> Any:
        """The predicate gitstore asks (None when there is nothing to ignore)."""
        return self.is_noise_change if self.ignore is not None else None


def presets_for(settings: Settings, platform: str | None) -> list[Preset]:
    """The presets that apply to a device: the project's platform, else the device's, else all."""
    chosen = settings.platform if settings.platform != PLATFORM_AUTO else platform
    if chosen in PRESETS:
        return [PRESETS[chosen]]
    return list(PRESETS.values())


def build_ruleset(settings: Settings, team_id: str, platform: str | None) -> RuleSet:
    presets = presets_for(settings, platform)
    ignore = [r.pattern for r in settings.rules if r.kind == "ignore"]
    if settings.noise_presets == "all":
        ignore += [p for preset in PRESETS.values() for p in preset.noise]
    elif settings.noise_presets == "platform":
        ignore += [p for preset in presets for p in preset.noise]
    strip = [r.pattern for r in settings.rules if r.kind == "strip"]
    scanner = None
    if settings.redaction:
        scanner = SecretScanner([pattern for preset in presets for pattern in preset.secrets])
    return RuleSet(
        strip=_alternation(strip),
        ignore=_alternation(ignore),
        scanner=scanner,
        key=team_key(team_id) if settings.redaction else b"",
        presets=[p.key for p in presets],
    )


def secret_scanner(settings: Settings, platform: str | None) -> SecretScanner | None:
    """The scanner a push is checked with (None when the project does not redact)."""
    if not settings.redaction:
        return None
    return SecretScanner([pattern for preset in presets_for(settings, platform) for pattern in preset.secrets])


def redact_for_team(team_id: str, data: bytes, platform: str | None = None) -> bytes:
    """Every preset's secrets (or one platform's) in `data` replaced by the team's placeholders.

    For text built outside the write path (e.g. a webhook payload quoting config lines): stored
    configs are already redacted, and running this again over them changes nothing.
    """
    presets = [PRESETS[platform]] if platform in PRESETS else list(PRESETS.values())
    scanner = SecretScanner([pattern for preset in presets for pattern in preset.secrets])
    key = team_key(team_id)
    return scanner.redact(data, lambda value: placeholder_for(key, value))


def catalog() -> list[dict[str, Any]]:
    """The presets as the API and the rules page show them."""
    return [
        {"key": p.key, "name": p.name, "noise": list(p.noise),
         "secret_kinds": sorted({s.kind for s in p.secrets})}
        for p in PRESETS.values()
    ]


# -- settings in SQL, and the write paths' step -----------------------------------------------


def load_settings(project_id: str) -> Settings:
    row = db.session.get(ProjectIntakeSettings, project_id)
    if row is None:
        return Settings()
    return Settings(
        config_name=row.config_name,
        platform=row.platform,
        noise_presets=row.noise_presets,
        redaction=row.redaction,
        rules=[Rule(r.get("kind", ""), r.get("pattern", ""), r.get("description", "")) for r in row.rules or []],
    )


def ruleset_for(device: Device, settings: Settings | None = None) -> RuleSet:
    """The device's compiled rules; the saved ones are built once per app context (a request or a
    job), so a batch import of many versions loads and compiles them once."""
    if settings is not None:
        return build_ruleset(settings, device.team_id, device_platform(device))
    cache: dict[tuple[str, str | None], RuleSet] = g.setdefault("intake_rulesets", {}) if has_app_context() else {}
    key = (device.id, device_platform(device))
    if key not in cache:
        cache[key] = build_ruleset(load_settings(device.project_id), device.team_id, key[1])
    return cache[key]


def forget_rulesets() -> None:
    """Saved rules changed: later writes in this app context build them again."""
    if has_app_context():
        g.pop("intake_rulesets", None)


def apply_rules(device: Device, changes: Changes, ruleset: RuleSet | None = None,
                batch: dict[str, Any] | None = None) -> Changes:
    """Strip and redact the configs of `changes` in place, and hand gitstore the `ignore` test
    (`changes.noise`). The content step of every write path that carries configs, before the lock.
    `batch`: one dict per batch of consecutive versions of the device (see `RuleSet.redact`).
    """
    if not changes.configs:
        return changes
    ruleset = ruleset or ruleset_for(device)
    for name, data in changes.configs.items():
        if data is not None:
            changes.configs[name] = ruleset.transform(bytes(data), batch, name)
    changes.noise = ruleset.noise
    return changes


def push_scanner(device: Device) -> SecretScanner | None:
    """The secret patterns a push to this device is checked with (None: the project keeps secrets)."""
    return secret_scanner(load_settings(device.project_id), device_platform(device))
