"""Intake: configs arriving from collectors, and the rules they pass on the way in.

- The rules themselves run in `config_rules.apply_rules`, called by the one door's content step
  (`device_door.prepare_content`), which every way in that carries configs passes through; these
  two adapters reach it by way of `versions.commit`.
- `oxidized(...)` and `upload(...)` are the two collector doors: a device named by the collector
  (found case-insensitively within the project, created when missing), one config, one version.
- `get_rules` / `put_rules` / `preview` are the project's rule settings and their dry run.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import Device, Project, ProjectIntakeSettings, User
from app.services import audit, config_rules, devices, versions
from app.services.access import device_access, project_access
from app.services.config_presets import PRESETS
from app.services.config_rules import PLATFORM_AUTO, RuleSet, Settings, load_settings, ruleset_for
from app.services.device_door import Actor, actor_of
from app.services.errors import Conflict, NotFound, TooLarge, ValidationError
from app.services.gitstore_bridge import open_repo
from app.services.teams import TeamAccess
from app.services.validation import check_fields, check_name, check_text
from gitstore import Changes, InvalidChange, validate_config_name

SETTINGS_FIELDS = {"config_name", "platform", "noise_presets", "redaction", "rules"}
PREVIEW_FIELDS = {"device_id", "limit", *SETTINGS_FIELDS}
OXIDIZED_FIELDS = {"msg", "user", "email", "group", "node", "config"}
MAX_PREVIEW_VERSIONS = 500
DEFAULT_PREVIEW_VERSIONS = 100
MAX_NODE = 100


# -- settings -----------------------------------------------------------------------------------


def _parse_settings(body: dict[str, Any], base: Settings) -> Settings:
    settings = Settings(base.config_name, base.platform, base.noise_presets, base.redaction, list(base.rules))
    if "config_name" in body:
        name = body["config_name"]
        try:
            settings.config_name = validate_config_name(name)
        except InvalidChange as exc:
            raise ValidationError("'config_name': %(reason)s", field="config_name", code="invalid",
                                  params={"reason": exc.message}) from None
    if "platform" in body:
        platform = body["platform"]
        if not isinstance(platform, str) or (platform != PLATFORM_AUTO and platform not in PRESETS):
            raise ValidationError("'platform' must be 'auto' or one of: %(choices)s.", field="platform",
                                  code="invalid_choice", params={"choices": ", ".join(PRESETS)})
        settings.platform = body["platform"]
    if "noise_presets" in body:
        if body["noise_presets"] not in config_rules.NOISE_MODES:
            raise ValidationError("'noise_presets' must be one of: %(choices)s.",
                                  field="noise_presets", code="invalid_choice",
                                  params={"choices": ", ".join(config_rules.NOISE_MODES)})
        settings.noise_presets = body["noise_presets"]
    if "redaction" in body:
        if not isinstance(body["redaction"], bool):
            raise ValidationError("'redaction' must be true or false.", field="redaction", code="wrong_type")
        settings.redaction = body["redaction"]
    if "rules" in body:
        settings.rules = config_rules.parse_rules(body["rules"])
    return settings


def _rules_json(project: Project, settings: Settings, saved: bool) -> dict[str, Any]:
    return {
        "project": project.id,
        **settings.as_json(),
        "saved": saved,
        "presets": config_rules.catalog(),
    }


def get_rules(user: User, project_id: str) -> dict[str, Any]:
    project, access = project_access(user, project_id)
    access.require("inventory.read")
    saved = db.session.get(ProjectIntakeSettings, project.id) is not None
    return _rules_json(project, load_settings(project.id), saved)


def put_rules(user: User, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Save the project's rules (any subset of the fields); the change is audited."""
    project, access = project_access(user, project_id)
    access.require("intake.rules")
    check_fields(body, SETTINGS_FIELDS)
    before = load_settings(project.id)
    settings = _parse_settings(body, before)
    row = db.session.get(ProjectIntakeSettings, project.id)
    if row is None:
        row = ProjectIntakeSettings(project_id=project.id)
        db.session.add(row)
    row.config_name = settings.config_name
    row.platform = settings.platform
    row.noise_presets = settings.noise_presets
    row.redaction = settings.redaction
    row.rules = [r.as_json() for r in settings.rules]
    row.updated_by_id = user.id
    changes = audit.diff_fields(before.as_json(), settings.as_json())
    if changes:
        audit.record(access.team.id, user, "update", "project_rules", project.id, changes)
    db.session.commit()
    config_rules.forget_rulesets()
    return _rules_json(project, settings, True)


# -- collectors ---------------------------------------------------------------------------------


def _device_by_name(actor: Actor, project: Project, access: TeamAccess, name: str,
                    field: str) -> tuple[Device, TeamAccess]:
    """The project's device named `name` (case-insensitive; its slug also counts), created when
    missing. Creating needs the rights and plan room a device creation needs (403 / 402)."""
    # Checked before the lookup: the name is a query parameter first (PostgreSQL refuses a NUL).
    wanted = check_name(name, field, max_length=MAX_NODE)
    found = list(db.session.scalars(
        select(Device).where(Device.project_id == project.id, func.lower(Device.name) == wanted.lower())
        .order_by(Device.created_at).limit(2)
    ))
    if not found:
        found = list(db.session.scalars(
            select(Device).where(Device.project_id == project.id, Device.slug == wanted.lower()).limit(1)))
    if len(found) > 1:
        raise Conflict("More than one device of this project is named '%(name)s'; rename one.",
                       code="ambiguous_device", params={"name": wanted})
    if found:
        return found[0], access
    return devices.create_device(actor, project.id, {"name": wanted})


def _write_config(
    actor: Actor, project: Project, access: TeamAccess, name: str, config_name: str, data: bytes, message: str,
    name_field: str,
) -> tuple[Device, dict[str, Any], bool]:
    access.require("version.write")
    limit = current_app.config["INFRATRACE"].max_config_bytes
    if len(data) > limit:
        raise TooLarge("The config is larger than %(limit)s bytes.", field="config", params={"limit": limit})
    if not data.strip():
        raise ValidationError("The config is empty; nothing was stored.", field="config", code="empty_config")
    device, access = _device_by_name(actor, project, access, name, name_field)
    result, changed = versions.commit(device, access, Changes(configs={config_name: data}), message, actor=actor)
    return device, result, changed


def _text_field(body: dict[str, Any], key: str, required: bool = False, limit: int | None = 10_000) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise ValidationError("'%(field)s' is required.", field=key, code="required", params={"field": key})
        return None
    if not isinstance(value, str):
        raise ValidationError("'%(field)s' must be a string.", field=key, code="wrong_type", params={"field": key})
    if limit is not None and len(value) > limit:
        raise ValidationError("'%(field)s' must be at most %(limit)s characters.", field=key, code="too_long",
                              params={"field": key, "limit": limit})
    return value


def oxidized(who: User | Actor, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """What Oxidized's `http` output posts: one node's config as one version.

    `user` and `email` (the Oxidized user who triggered the run) are read and dropped: no name or
    email enters a repo; the author is the InfraTrace account the token belongs to.
    """
    actor = actor_of(who)
    project, access = project_access(actor.user, project_id)
    access.require("version.write")
    check_fields(body, OXIDIZED_FIELDS)
    node = check_name(body.get("node"), "node", max_length=MAX_NODE)
    config = _text_field(body, "config", required=True, limit=None)  # its size in bytes: 413 below
    _text_field(body, "group", limit=200)  # read and dropped
    message = check_text(_text_field(body, "msg") or "", "msg").strip() or f"Oxidized: update {node}"
    try:
        data = (config or "").encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("'config' is not valid Unicode text.", field="config", code="invalid") from None
    settings = load_settings(project.id)
    device, result, changed = _write_config(actor, project, access, node, settings.config_name, data, message,
                                            "node")
    return {"device": device.id, "device_name": device.name, "commit": result["commit"], "changed": changed,
            "path": f"configs/{settings.config_name}"}


def upload(who: User | Actor, project_id: str, name: str, config_name: str, data: bytes,
           message: str | None) -> tuple[dict[str, Any], bool]:
    """PUT .../devices/by-name/<name>/configs/<config>: the raw bytes as one version."""
    actor = actor_of(who)
    project, access = project_access(actor.user, project_id)
    access.require("version.write")
    try:
        config_name = validate_config_name(config_name)
    except InvalidChange as exc:
        raise ValidationError(exc.message, field="config", code="invalid") from None
    if message is not None and len(message) > versions.MAX_MESSAGE:
        raise ValidationError("The message must be at most %(limit)s characters.", field="message",
                              code="too_long", params={"limit": versions.MAX_MESSAGE})
    message = check_text(message or "", "message").strip() or f"Upload configs/{config_name}"
    device, result, changed = _write_config(actor, project, access, name, config_name, data, message, "name")
    return {"device": device.id, "device_name": device.name, **result}, changed


# -- preview ------------------------------------------------------------------------------------


def _blob_id(data: bytes) -> str:
    """git's blob id of `data`, so a preview can be checked against what a write then stores."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 (git's own id)


def preview(user: User, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Run a rule set (the saved one, with any field of the body replacing it) over a device's
    stored history, oldest first, exactly as the write path would have: which versions would
    have been skipped (`unchanged` after stripping, or `ignored`: only `ignore` lines changed),
    which lines stripped, and the blob each kept config would have been stored as."""
    project, access = project_access(user, project_id)
    access.require("inventory.read")
    check_fields(body, PREVIEW_FIELDS, required=("device_id",))
    device_id = body["device_id"]
    if not isinstance(device_id, str):
        raise ValidationError("'device_id' must be a string.", field="device_id", code="wrong_type")
    device, _ = device_access(user, device_id)
    if device.project_id != project.id:
        raise NotFound("No such device in this project.", code="not_found")
    access.require("version.read")
    limit = body.get("limit", DEFAULT_PREVIEW_VERSIONS)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PREVIEW_VERSIONS:
        raise ValidationError("'limit' must be a whole number from 1 to %(limit)s.", field="limit",
                              code="invalid", params={"limit": MAX_PREVIEW_VERSIONS})
    settings = _parse_settings({k: v for k, v in body.items() if k in SETTINGS_FIELDS},
                               load_settings(project.id))
    ruleset = ruleset_for(device, settings)
    with open_repo(device) as repo:
        head = repo.head()
        commits = repo.commits_between(None, head) if head else []
        commits = commits[-limit:]
        snapshots = [repo.read(c.commit) for c in commits]
    items: list[dict[str, Any]] = []
    kept: dict[str, bytes] | None = None
    summary = {"versions": len(snapshots), "kept": 0, "skipped": 0, "stripped_lines": 0}
    for snap in snapshots:
        files: dict[str, bytes] = {}
        stripped: list[dict[str, Any]] = []
        for name, data in sorted(snap.configs.items()):
            clean, removed = ruleset.strip_lines(data)
            files[f"configs/{name}"] = ruleset.redact(clean)
            stripped += [{"path": f"configs/{name}", "line": number, "text": text.decode("utf-8", "replace")}
                         for number, text in removed]
        # Everything else in the tree counts as "anything else changed", as it does for a write.
        for other, value in (("device.json", snap.device), ("ports.json", snap.ports), ("photos.json", snap.photos)):
            files[other] = repr(value).encode()
        outcome, reason = "kept", "changed"
        if kept is None:
            reason = "first"
        elif files == kept:
            outcome, reason = "skipped", "unchanged"
        elif _only_ignored(ruleset, kept, files):
            outcome, reason = "skipped", "ignored"
        if outcome == "kept":
            kept = files
        summary["kept" if outcome == "kept" else "skipped"] += 1
        summary["stripped_lines"] += len(stripped)
        items.append({
            "commit": snap.commit, "message": snap.message, "created_at": snap.created_at,
            "outcome": outcome, "reason": reason, "stripped": stripped,
            "configs": {path: _blob_id(data) for path, data in files.items() if path.startswith("configs/")},
        })
    return {"device": device.id, "rules": settings.as_json(), "presets": ruleset.presets, "summary": summary,
            "versions": items}


def _only_ignored(ruleset: RuleSet, old: dict[str, bytes], new: dict[str, bytes]) -> bool:
    """The preview's form of gitstore's rule: every changed file is a config present in both whose
    change the `ignore` rules call noise."""
    changed = [path for path in set(old) | set(new) if old.get(path) != new.get(path)]
    return bool(changed) and all(
        path.startswith("configs/") and path in old and path in new and ruleset.is_noise(path, old[path], new[path])
        for path in changed
    )
