"""Compliance rules per project (or team) and their results per device version.

Three kinds of rule, each a regular expression matched against config lines:
* `must_contain`: some line of the config matches `pattern`;
* `must_not_contain`: no line matches (the offending lines are reported);
* `block_must_contain`: every block whose parent line matches `block` (and, when `block_filter` is
  set, that holds a line matching it) holds a line matching `pattern` — e.g. every `interface` block
  with `switchport mode access` has `spanning-tree portfast`. Blocks come from hier_config.

A rule applies to devices by project (or the whole team), platform, tag and name pattern
(shell-style). Results are kept per version, so a device's compliance can
be followed over its history; the newest evaluation of each device is marked `current`.
"""

from __future__ import annotations

import csv
import fnmatch
import io
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import regex
from hier_config import HConfig, Platform
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    COMPLIANCE_KINDS,
    ComplianceResult,
    ComplianceRule,
    ConfigText,
    Device,
    DeviceTag,
    Project,
    User,
)
from app.services import audit, config_blocks, job_queue
from app.services.access import device_access, project_access
from app.services.errors import NotFound, ValidationError
from app.services.teams import TeamAccess
from app.services.user_patterns import alternatives, compile_pattern, finditer, search, search_any, within_lines
from app.services.validation import check_fields, check_name, looks_like_id, string_field

RULE_FIELDS = ("name", "description", "kind", "pattern", "block", "block_filter", "config_path", "platform",
               "tag", "name_pattern", "enabled", "scope")
MAX_RULES_PER_PROJECT = 500
MAX_REPORTED_LINES = 20


# -- rules --------------------------------------------------------------------------------------


def _text(body: dict[str, Any], name: str, limit: int, default: str = "") -> str:
    """A rule's field: one line (the shared name check), except the description, which may hold
    line breaks (never other controls)."""
    value = body.get(name, default)
    if name == "description":
        return string_field({name: value}, name, max_length=limit)
    return check_name(value, name, max_length=limit, required=False)


def _validated(body: Any, rule: ComplianceRule | None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object.", code="wrong_type")
    check_fields(body, RULE_FIELDS, required=() if rule else ("name", "kind", "pattern"))
    values: dict[str, Any] = {}
    current = (lambda n: getattr(rule, n)) if rule else (lambda n: "")
    for name, limit in (("name", 100), ("description", 2000), ("block", 500), ("block_filter", 500),
                        ("config_path", 300), ("platform", 50), ("tag", 50), ("name_pattern", 200),
                        ("pattern", 500), ("kind", 30)):
        if name in body or rule is None:
            values[name] = _text(body, name, limit, current(name) or "")
    kind = values.get("kind", rule.kind if rule else "")
    if kind not in COMPLIANCE_KINDS:
        raise ValidationError("'kind' must be one of: %(choices)s.", field="kind",
                              code="invalid_choice", params={"choices": ", ".join(COMPLIANCE_KINDS)})
    if not values.get("name", rule.name if rule else ""):
        raise ValidationError("'name' is required.", field="name", code="required")
    compile_pattern(values.get("pattern", rule.pattern if rule else ""), "pattern")
    block = values.get("block", rule.block if rule else "")
    if kind == "block_must_contain":
        compile_pattern(block, "block")
    if values.get("block_filter"):
        compile_pattern(values["block_filter"], "block_filter")
    path = values.get("config_path", rule.config_path if rule else "")
    if not path:
        values["config_path"] = "configs/running-config"
    elif not path.startswith("configs/"):
        values["config_path"] = f"configs/{path}"
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise ValidationError("'enabled' must be true or false.", field="enabled", code="wrong_type")
        values["enabled"] = body["enabled"]
    return values


def rule_json(rule: ComplianceRule) -> dict[str, Any]:
    return {
        "id": rule.id, "name": rule.name, "description": rule.description, "kind": rule.kind,
        "pattern": rule.pattern, "block": rule.block, "block_filter": rule.block_filter,
        "config_path": rule.config_path, "platform": rule.platform, "tag": rule.tag,
        "name_pattern": rule.name_pattern, "enabled": rule.enabled,
        "scope": "project" if rule.project_id else "team", "project_id": rule.project_id,
        "created_at": rule.created_at, "updated_at": rule.updated_at,
    }


def list_rules(user: User, project_id: str) -> tuple[Project, list[ComplianceRule]]:
    project, access = project_access(user, project_id)
    access.require("inventory.read")
    rules = db.session.scalars(
        select(ComplianceRule).where(ComplianceRule.team_id == project.team_id,
                                     (ComplianceRule.project_id == project.id) | ComplianceRule.project_id.is_(None))
        .order_by(ComplianceRule.name, ComplianceRule.id))
    return project, list(rules)


def _rule_access(user: User, rule_id: str) -> tuple[ComplianceRule, TeamAccess, Project | None]:
    rule = db.session.get(ComplianceRule, rule_id) if looks_like_id(rule_id) else None
    if rule is None:
        raise NotFound("No such compliance rule.")
    from app.services.teams import team_access_by_id

    try:
        access = team_access_by_id(user, rule.team_id)
    except NotFound:
        raise NotFound("No such compliance rule.") from None
    project = db.session.get(Project, rule.project_id) if rule.project_id else None
    return rule, access, project


def get_rule(user: User, rule_id: str) -> ComplianceRule:
    rule, access, _ = _rule_access(user, rule_id)
    access.require("inventory.read")
    return rule


def create_rule(user: User, project_id: str, body: Any) -> ComplianceRule:
    project, access = project_access(user, project_id)
    access.require("inventory.write")
    values = _validated(body, None)
    scope = body.get("scope", "project")
    if scope not in ("project", "team"):
        raise ValidationError("'scope' must be 'project' or 'team'.", field="scope", code="invalid_choice")
    count = len(list_rules(user, project_id)[1])
    if count >= MAX_RULES_PER_PROJECT:
        raise ValidationError("At most %(limit)s rules apply to a project.", code="too_many",
                              params={"limit": MAX_RULES_PER_PROJECT})
    rule = ComplianceRule(team_id=project.team_id, project_id=project.id if scope == "project" else None, **values)
    db.session.add(rule)
    db.session.flush()
    audit.record(project.team_id, user, "create", "compliance_rule", rule.id, rule_json(rule) | {
        "created_at": None, "updated_at": None})
    _reevaluate(project.team_id, rule.project_id)
    db.session.commit()
    return rule


def update_rule(user: User, rule_id: str, body: Any) -> ComplianceRule:
    rule, access, _ = _rule_access(user, rule_id)
    access.require("inventory.write")
    values = _validated(body, rule)
    before = {k: getattr(rule, k) for k in values}
    for name, value in values.items():
        setattr(rule, name, value)
    audit.record(rule.team_id, user, "update", "compliance_rule", rule.id,
                 {k: {"from": before[k], "to": v} for k, v in values.items() if before[k] != v})
    _reevaluate(rule.team_id, rule.project_id)
    db.session.commit()
    return rule


def delete_rule(user: User, rule_id: str) -> None:
    rule, access, _ = _rule_access(user, rule_id)
    access.require("inventory.write")
    audit.record(rule.team_id, user, "delete", "compliance_rule", rule.id, {"name": rule.name})
    team_id, project_id = rule.team_id, rule.project_id
    db.session.delete(rule)
    _reevaluate(team_id, project_id)
    db.session.commit()


def _reevaluate(team_id: str, project_id: str | None) -> None:
    """Rules changed: every device they may apply to is evaluated again (by the job queue)."""
    stmt = select(Project.id).where(Project.team_id == team_id)
    if project_id:
        stmt = stmt.where(Project.id == project_id)
    for pid in db.session.scalars(stmt):
        job_queue.enqueue("evaluate_project_compliance", pid)


# -- evaluation ---------------------------------------------------------------------------------


def platform_hint(device: Device) -> str:
    """The device's own platform word: the `platform` custom field the intake presets use too."""
    value = (device.custom_fields or {}).get("platform")
    return value if isinstance(value, str) else ""


def device_platform(device: Device, text: str = "") -> Platform:
    return config_blocks.platform_for(platform_hint(device), device.vendor, device.model, text=text)


def device_tags(device: Device) -> set[str]:
    """The device's tags (lower-case), as the device list filters them."""
    return {tag.lower() for tag in db.session.scalars(select(DeviceTag.tag).where(DeviceTag.device_id == device.id))}


def applies(rule: ComplianceRule, device: Device, platform: Platform) -> bool:
    if not rule.enabled or rule.team_id != device.team_id:
        return False
    if rule.project_id and rule.project_id != device.project_id:
        return False
    if rule.platform and rule.platform.lower() not in (config_blocks.PLATFORM_NAMES[platform],
                                                       platform_hint(device).lower()):
        return False
    if rule.tag and rule.tag.lower() not in device_tags(device):
        return False
    return not (rule.name_pattern and not fnmatch.fnmatchcase(device.name.lower(), rule.name_pattern.lower()))


@dataclass
class Failure:
    rule: ComplianceRule
    lines: list[dict[str, Any]] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    missing: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"rule_id": self.rule.id, "rule": self.rule.name, "kind": self.rule.kind,
                "lines": self.lines[:MAX_REPORTED_LINES], "blocks": self.blocks[:MAX_REPORTED_LINES],
                "missing": self.missing}


def _blocks(tree: HConfig, platform: Platform) -> list[tuple[str, list[str]]]:
    """(parent line, child lines) of every block: hier_config's top-level sections, or for Junos
    (which hier_config keeps as `set` lines) the lines grouped by their first two path words."""
    if platform is Platform.JUNIPER_JUNOS:
        grouped: dict[str, list[str]] = {}
        for child in tree.children:
            block, rest = config_blocks._split_junos(child.text)
            grouped.setdefault(block, []).append(rest)
        return list(grouped.items())
    return [(child.text, [c.text for c in child.all_children()]) for child in tree.children]


class Evaluator:
    """Evaluates rules against one config text.

    Work is done once per version and shared by the rules that need it: the hier_config parse (only
    when a block rule or a Junos fallback needs it), each pattern's compilation, and each pattern's
    answer on this text — whether it occurs, its offending lines, which block parents it matches,
    which block bodies hold it, which blocks fail a block rule — so rules that share a pattern
    (several block rules over the same `interface` blocks and filter, say) search for it once.
    """

    def __init__(self, text: str, platform: Platform) -> None:
        self.text = text
        self.platform = platform
        self._tree: HConfig | None = None
        self._parsed = False
        self._block_list: list[tuple[str, str]] | None = None
        self._set_lines: str | None = None
        self._compiled: dict[tuple[str, str], regex.Pattern[str]] = {}
        self._contains: dict[str, bool] = {}
        self._offenders: dict[str, list[dict[str, Any]]] = {}
        self._parents: dict[str, list[int]] = {}
        self._bodies: dict[str, dict[int, bool]] = {}
        self._alternatives: dict[str, list[regex.Pattern[str]] | None] = {}
        self._block_failures: dict[tuple[str, str, str], list[str]] = {}
        self._joined_hits: dict[tuple[str, int], list[bool] | None] = {}

    def tree(self) -> HConfig | None:
        if not self._parsed:
            self._tree = config_blocks.parse(self.platform, self.text)
            self._parsed = True
        return self._tree

    def _pattern(self, source: str, field_name: str) -> regex.Pattern[str]:
        key = (source, field_name)
        if key not in self._compiled:
            self._compiled[key] = compile_pattern(source, field_name)
        return self._compiled[key]

    def _set_text(self) -> str | None:
        """Junos only: the config as hier_config's `set` lines, so a rule may be written either way."""
        if self.platform is not Platform.JUNIPER_JUNOS:
            return None
        if self._set_lines is None:
            tree = self.tree()
            if tree is None:
                return None
            self._set_lines = "\n".join(child.text for child in tree.children)
        return self._set_lines

    def _occurs(self, source: str, text: str) -> bool:
        """Whether the rule pattern `source` matches somewhere in `text` (a whole config).

        An alternation is searched one alternative at a time: the same answer, but each anchored
        literal is found by the engine's fast string search instead of a try at every position.
        """
        if source not in self._alternatives:
            parts = alternatives(source)
            flags = self._pattern(source, "pattern").flags
            try:
                self._alternatives[source] = None if parts is None else [regex.compile(p, flags) for p in parts]
            except (regex.error, ValueError, OverflowError):
                self._alternatives[source] = None
        split = self._alternatives[source]
        if split is None:
            return search(self._pattern(source, "pattern"), text) is not None
        return search_any(split, text)

    def _offending(self, pattern: regex.Pattern[str], text: str, numbered: bool) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for match in finditer(pattern, text, "pattern"):
            start = text.rfind("\n", 0, match.start()) + 1
            end = text.find("\n", match.start())
            line = text[start: end if end >= 0 else len(text)]
            entry = {"line": text.count("\n", 0, match.start()) + 1 if numbered else None, "text": line}
            if entry not in found:
                found.append(entry)
            if len(found) >= MAX_REPORTED_LINES:
                break
        return found

    def _blocks(self) -> list[tuple[str, str]]:
        if self._block_list is None:
            tree = self.tree()
            # Each block's lines joined once: one multi-line search per block and pattern, not per line.
            self._block_list = [] if tree is None else [
                (parent, "\n".join(children)) for parent, children in _blocks(tree, self.platform)]
        return self._block_list

    def _holders(self, source: str, field_name: str, part: int) -> list[bool] | None:
        """For every block, whether its parent line (`part` 0) or its body (1) holds a match of `source`
        — by one search over them all, joined by line breaks, when every match of `source` lies
        within one line (user_patterns.within_lines); else None."""
        key = (source, part)
        if key not in self._joined_hits:
            if not within_lines(source):
                self._joined_hits[key] = None
            else:
                items = [block[part] for block in self._blocks()]
                starts: list[int] = []
                offset = 0
                for item in items:
                    starts.append(offset)
                    offset += len(item) + 1
                hits = [False] * len(items)
                for match in finditer(self._pattern(source, field_name), "\n".join(items), field_name):
                    hits[bisect_right(starts, match.start()) - 1] = True
                self._joined_hits[key] = hits
        return self._joined_hits[key]

    def _parents_matching(self, source: str) -> list[int]:
        """Indexes of the blocks whose parent line matches the block pattern `source`."""
        if source not in self._parents:
            hits = self._holders(source, "block", 0)
            if hits is None:
                pattern = self._pattern(source, "block")
                hits = [search(pattern, parent) is not None for parent, _ in self._blocks()]
            self._parents[source] = [i for i, hit in enumerate(hits) if hit]
        return self._parents[source]

    def _body_holds(self, source: str, field_name: str, index: int) -> bool:
        """Whether block `index` holds a match of `source` (searched once per block and pattern)."""
        hits = self._holders(source, field_name, 1)
        if hits is not None:
            return hits[index]
        answers = self._bodies.setdefault(source, {})
        if index not in answers:
            answers[index] = search(self._pattern(source, field_name), self._blocks()[index][1]) is not None
        return answers[index]

    def check(self, rule: ComplianceRule) -> Failure | None:
        pattern = self._pattern(rule.pattern, "pattern")
        if rule.kind == "must_contain":
            if rule.pattern not in self._contains:
                found = self._occurs(rule.pattern, self.text)
                if not found:
                    set_text = self._set_text()
                    found = set_text is not None and self._occurs(rule.pattern, set_text)
                self._contains[rule.pattern] = found
            return None if self._contains[rule.pattern] else Failure(rule, missing=rule.pattern)
        if rule.kind == "must_not_contain":
            if rule.pattern not in self._offenders:
                # Most configs hold no offending line: that answer needs no walk over matches.
                found = (self._offending(pattern, self.text, numbered=True)
                         if self._occurs(rule.pattern, self.text) else [])
                set_text = self._set_text() if not found else None
                if set_text is not None and self._occurs(rule.pattern, set_text):
                    found = self._offending(pattern, set_text, numbered=False)
                self._offenders[rule.pattern] = found
            found = self._offenders[rule.pattern]
            return Failure(rule, lines=list(found)) if found else None
        if self.tree() is None:
            return Failure(rule, missing="(the config could not be parsed into blocks)")
        # Plain strings: the rule's column attributes are read once, not once per block.
        block, block_filter, source = rule.block, rule.block_filter, rule.pattern
        self._pattern(block, "block")
        if block_filter:
            self._pattern(block_filter, "block_filter")
        key = (block, block_filter, source)
        if key not in self._block_failures:
            blocks = self._blocks()
            self._block_failures[key] = [
                blocks[i][0] for i in self._parents_matching(block)
                if (not block_filter or self._body_holds(block_filter, "block_filter", i))
                and not self._body_holds(source, "pattern", i)]
        bad = self._block_failures[key]
        return Failure(rule, blocks=list(bad), missing=source) if bad else None


def evaluate(device: Device, rules: list[ComplianceRule], texts: dict[str, str]) -> tuple[str, int, list[Failure]]:
    """(status, rules checked, failures) of one device against `rules`, given its config texts by path."""
    some_text = next(iter(texts.values()), "")
    platform = device_platform(device, some_text)
    evaluators: dict[str, Evaluator] = {}
    failures: list[Failure] = []
    checked = 0
    for rule in rules:
        if not applies(rule, device, platform):
            continue
        text = texts.get(rule.config_path)
        if text is None:
            continue
        checked += 1
        if rule.config_path not in evaluators:
            evaluators[rule.config_path] = Evaluator(text, platform)
        failure = evaluators[rule.config_path].check(rule)
        if failure is not None:
            failures.append(failure)
    if not checked:
        return "not_applicable", 0, []
    return ("failing" if failures else "compliant"), checked, failures


def _rules_for(device: Device) -> list[ComplianceRule]:
    return list(db.session.scalars(
        select(ComplianceRule).where(ComplianceRule.team_id == device.team_id, ComplianceRule.enabled.is_(True),
                                     (ComplianceRule.project_id == device.project_id)
                                     | ComplianceRule.project_id.is_(None))
        .order_by(ComplianceRule.name, ComplianceRule.id)))


def current_result(device_id: str) -> ComplianceResult | None:
    return db.session.scalar(select(ComplianceResult).where(ComplianceResult.device_id == device_id,
                                                            ComplianceResult.current.is_(True)))


def evaluate_device_head(device: Device) -> tuple[ComplianceResult | None, str | None]:
    """Evaluate the device's indexed head; returns (the new current result, the previous status).

    Reads config text from the search index, never the repo. The caller commits.
    """
    if device.head_commit is None:
        return None, None
    from app.models import CommitRecord

    texts = {row.path: row.content for row in db.session.scalars(
        select(ConfigText).where(ConfigText.device_id == device.id, ConfigText.kind == "config"))}
    status, checked, failures = evaluate(device, _rules_for(device), texts)
    previous = current_result(device.id)
    previous_status = previous.status if previous else None
    seq = db.session.scalar(select(CommitRecord.seq).where(CommitRecord.device_id == device.id,
                                                            CommitRecord.sha == device.head_commit)) or 0
    db.session.execute(update(ComplianceResult).where(ComplianceResult.device_id == device.id,
                                                      ComplianceResult.current.is_(True)).values(current=False))
    result = db.session.scalar(select(ComplianceResult).where(ComplianceResult.device_id == device.id,
                                                              ComplianceResult.commit == device.head_commit))
    if result is None:
        result = ComplianceResult(device_id=device.id, team_id=device.team_id, commit=device.head_commit, seq=seq)
        db.session.add(result)
    result.status = status
    result.rules_checked = checked
    result.failures = [f.as_json() for f in failures]
    result.current = True
    result.evaluated_at = datetime.now(UTC)
    db.session.flush()
    return result, previous_status


def result_json(result: ComplianceResult | None) -> dict[str, Any]:
    if result is None:
        return {"status": "unknown", "commit": None, "rules_checked": 0, "failures": [], "evaluated_at": None}
    return {"status": result.status, "commit": result.commit, "seq": result.seq,
            "rules_checked": result.rules_checked, "failures": result.failures,
            "evaluated_at": result.evaluated_at}


# -- reading ------------------------------------------------------------------------------------


def project_report(user: User, project_id: str) -> tuple[Project, list[tuple[Device, ComplianceResult | None]]]:
    project, access = project_access(user, project_id)
    access.require("inventory.read")
    devices = list(db.session.scalars(select(Device).where(Device.project_id == project.id)
                                      .order_by(Device.name, Device.id)))
    results = {r.device_id: r for r in db.session.scalars(
        select(ComplianceResult).where(ComplianceResult.device_id.in_([d.id for d in devices]),
                                       ComplianceResult.current.is_(True)))} if devices else {}
    return project, [(d, results.get(d.id)) for d in devices]


def report_csv(rows: list[tuple[Device, ComplianceResult | None]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["device", "device_id", "status", "commit", "rules_checked", "failing_rules", "details"])
    for device, result in rows:
        data = result_json(result)
        details = "; ".join(
            f"{f['rule']}: " + (", ".join(f"L{line['line']} {line['text']}" for line in f["lines"])
                                or ", ".join(f["blocks"]) or f"missing {f['missing']}")
            for f in data["failures"])
        writer.writerow([_csv_safe(device.name), device.id, data["status"], data["commit"] or "",
                         data["rules_checked"], len(data["failures"]), _csv_safe(details)])
    return out.getvalue()


def _csv_safe(value: str) -> str:
    """Cells a spreadsheet would run as a formula get a leading quote (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def results_for(device_id: str, limit: int = 100) -> list[ComplianceResult]:
    """Results of an already access-checked device, newest version first."""
    return list(db.session.scalars(select(ComplianceResult).where(ComplianceResult.device_id == device_id)
                                   .order_by(ComplianceResult.seq.desc(), ComplianceResult.id.desc()).limit(limit)))


def device_history(user: User, device_id: str, limit: int = 100) -> tuple[Device, list[ComplianceResult]]:
    device, access = device_access(user, device_id)
    access.require("inventory.read")
    return device, results_for(device.id, limit)

