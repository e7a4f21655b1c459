"""Devices: SQL identity and metadata, plus the device's own bare repository.

A device row and its repository are made and removed together, through the door
(device_door.create_device / delete_device): a repository whose row failed to commit is removed
at once, and a repository is removed (under its lock) only after its row is gone.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import DEVICE_STATUSES, Device, DeviceTag, Project, User, new_id, utcnow
from app.services import audit, device_door
from app.services.access import device_access, project_access
from app.services.device_door import Actor, Moved, RefChange, actor_of
from app.services.errors import Conflict, ValidationError
from app.services.gitstore_bridge import author_for
from app.services.teams import TeamAccess
from app.services.validation import (
    NAME_FORBIDDEN,
    check_fields,
    check_text,
    choice_field,
    name_field,
    slugify,
    string_field,
)
from gitstore import Changes, DeviceRepo, ImportVersion, InvalidChange

MAX_IPS = 16
MAX_CUSTOM_FIELDS = 50
MAX_CUSTOM_KEY = 64
MAX_CUSTOM_VALUE = 1000

METADATA_FIELDS = ("name", "vendor", "model", "serial", "management_ips", "location", "status", "custom_fields")
CREATE_FIELDS = {*METADATA_FIELDS, "slug", "management_ip", "tags"}
UPDATE_FIELDS = {*CREATE_FIELDS, "archived"}
STRING_LIMITS = {"name": 100, "vendor": 100, "model": 100, "serial": 100, "location": 200}
SLUG_MAX = 64
MAX_TAGS = 20
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,49}$")


def snapshot(device: Device) -> dict[str, Any]:
    """What device.json holds: the metadata people edit, never ids, slugs or repo bookkeeping
    (a rename or a move must not rewrite what a clone sees as the device's content)."""
    return {
        "name": device.name,
        "vendor": device.vendor or "",
        "model": device.model or "",
        "serial": device.serial or "",
        "management_ips": list(device.management_ips or []),
        "location": device.location or "",
        "status": device.status,
        "custom_fields": dict(device.custom_fields or {}),
    }


# -- validation ---------------------------------------------------------------------------------


def _ip(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) > 64:
        raise ValidationError("'%(field)s' must be an IPv4 or IPv6 address.", field=field, code="invalid_ip",
                              params={"field": field})
    try:
        # One spelling per address (e.g. IPv6 compressed, lower case), so duplicates are seen.
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValidationError("'%(field)s' is not a valid IPv4 or IPv6 address.", field=field,
                              code="invalid_ip", params={"field": field}) from None


def _ips(body: dict[str, Any], current: list[str] | None) -> list[str] | None:
    """management_ips from the list and/or the single `management_ip`; None when neither is given."""
    if "management_ips" not in body and "management_ip" not in body:
        return None
    ips: list[str] = []
    if "management_ips" in body:
        raw = body["management_ips"]
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise ValidationError("'management_ips' must be a list of IP addresses.", field="management_ips",
                                  code="wrong_type")
        if len(raw) > MAX_IPS:
            raise ValidationError("At most %(limit)s management IPs.", field="management_ips", code="too_long",
                                  params={"limit": MAX_IPS})
        ips = [_ip(value, f"management_ips[{i}]") for i, value in enumerate(raw)]
    elif current:
        ips = list(current)
    if "management_ip" in body:
        single = body["management_ip"]
        if single in (None, ""):
            # Clearing the convenience field clears the primary address only.
            ips = ips[1:] if "management_ips" not in body else ips
        else:
            address = _ip(single, "management_ip")
            rest = ips if "management_ips" in body else ips[1:]
            ips = [address, *rest]
    seen: set[str] = set()
    unique = [ip for ip in ips if not (ip in seen or seen.add(ip))]
    return unique


def _custom_fields(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError("'custom_fields' must be an object.", field="custom_fields", code="wrong_type")
    if len(value) > MAX_CUSTOM_FIELDS:
        raise ValidationError("At most %(limit)s custom fields.", field="custom_fields",
                              code="too_long", params={"limit": MAX_CUSTOM_FIELDS})
    for key, item in value.items():
        field = f"custom_fields.{key}"
        if not key or len(key) > MAX_CUSTOM_KEY or NAME_FORBIDDEN.search(key):
            raise ValidationError("Custom field names are 1-%(limit)s printable characters.",
                                  field=field, code="invalid", params={"limit": MAX_CUSTOM_KEY})
        if isinstance(item, str):
            if len(item) > MAX_CUSTOM_VALUE:
                raise ValidationError("'%(field)s' must be at most %(limit)s characters.", field=field,
                                      code="too_long", params={"field": key, "limit": MAX_CUSTOM_VALUE})
            check_text(item, field)
        elif item is not None and not isinstance(item, bool | int | float):
            raise ValidationError("Custom field values are strings, numbers, booleans or null.", field=field,
                                  code="wrong_type")
        elif isinstance(item, float) and (item != item or item in (float("inf"), float("-inf"))):
            raise ValidationError("Custom field numbers must be finite.", field=field, code="invalid")
    return dict(value)


def _tags(body: dict[str, Any]) -> list[str] | None:
    """Labels for filtering lists (lower case, 1-50 of a-z 0-9 . _ : -); None when not given."""
    if "tags" not in body:
        return None
    raw = body["tags"] if body["tags"] is not None else []
    if not isinstance(raw, list) or not all(isinstance(tag, str) for tag in raw):
        raise ValidationError("'tags' must be a list of strings.", field="tags", code="wrong_type")
    if len(raw) > MAX_TAGS:
        raise ValidationError("At most %(limit)s tags.", field="tags", code="too_long", params={"limit": MAX_TAGS})
    tags = sorted({tag.strip().lower() for tag in raw if tag.strip()})
    for index, tag in enumerate(tags):
        if not TAG_RE.match(tag):
            raise ValidationError("Tags are 1-50 characters: letters, digits, '.', '_', ':' or '-'.",
                                  field=f"tags[{index}]", code="invalid")
    return tags


def tag_names(device: Device) -> list[str]:
    return [t.tag for t in device.tags]


def _set_tags(device: Device, tags: list[str]) -> None:
    keep = {t.tag: t for t in device.tags}
    device.tags = [keep.get(tag) or DeviceTag(tag=tag) for tag in tags]


def _slug(body: dict[str, Any]) -> str | None:
    if body.get("slug") in (None, ""):
        return None
    slug = string_field(body, "slug", max_length=SLUG_MAX)
    if slugify(slug, SLUG_MAX) != slug:
        raise ValidationError("'slug' may hold lower-case letters, digits and single dashes.", field="slug",
                              code="invalid")
    return slug


def _parse(body: dict[str, Any], device: Device | None) -> dict[str, Any]:
    """The validated metadata fields present in `body` (all of them on create)."""
    creating = device is None
    values: dict[str, Any] = {}
    for key, limit in STRING_LIMITS.items():
        if creating or key in body:
            values[key] = (name_field(body, key, max_length=limit) if key == "name"
                           else string_field(body, key, max_length=limit))
    if creating or "status" in body:
        values["status"] = choice_field(body, "status", DEVICE_STATUSES, "active")
    ips = _ips(body, device.management_ips if device else None)
    if ips is not None or creating:
        values["management_ips"] = ips or []
    if creating or "custom_fields" in body:
        values["custom_fields"] = _custom_fields(body.get("custom_fields"))
    return values


def _free_slug(project: Project, wanted: str, exclude: str | None = None) -> str:
    base, slug, n = wanted, wanted, 1
    while True:
        query = select(Device.id).where(Device.project_id == project.id, Device.slug == slug)
        if exclude:
            query = query.where(Device.id != exclude)
        if db.session.scalar(query) is None:
            return slug
        n += 1
        slug = f"{base[: SLUG_MAX - len(str(n)) - 1]}-{n}"


def _invalid(exc: InvalidChange) -> ValidationError:
    return ValidationError(exc.message, field=exc.field, code="invalid")


# -- operations ---------------------------------------------------------------------------------


def list_devices_query(access: TeamAccess, project: Project):  # type: ignore[no-untyped-def]
    access.require("inventory.read")
    return select(Device).where(Device.project_id == project.id)


def get_device(user: User, device_id: str) -> tuple[Device, TeamAccess]:
    device, access = device_access(user, device_id)
    access.require("inventory.read")
    return device, access


def create_device(
    user: User | Actor,
    project_id: str,
    body: dict[str, Any],
    history: list[ImportVersion] | None = None,
    before_commit: Callable[[Device], None] | None = None,
) -> tuple[Device, TeamAccess]:
    """A device row and its repository. With `history` (a history import) the repository starts
    with those versions (each through the door's content steps) instead of a creation commit;
    `before_commit` adds rows to the same transaction."""
    actor = actor_of(user)
    project, access = project_access(actor.user, project_id)
    device_door.authorize(actor, access, "inventory.write")
    check_fields(body, CREATE_FIELDS, required=("name",))
    values = _parse(body, None)
    tags = _tags(body) or []
    slug = _slug(body)
    if slug is not None:
        if _free_slug(project, slug) != slug:
            raise Conflict("A device with slug '%(slug)s' already exists in this project.", field="slug",
                           code="slug_taken", params={"slug": slug})
    else:
        slug = _free_slug(project, slugify(values["name"], 60))
    device = Device(id=new_id(), team_id=access.team.id, project_id=project.id, slug=slug,
                    created_by_id=actor.user.id, updated_by_id=actor.user.id, repo_path="", **values)
    _set_tags(device, tags)
    batch: dict = {}
    for version in history or []:
        version.changes = device_door.prepare_content(device, access, version.changes, batch)
    device_door.create_device(actor, access, device, snapshot(device),
                              audit.diff_fields({}, {"slug": slug, **values, **({"tags": tags} if tags else {})}),
                              history, before_commit)
    return device, access


# The archived check is the door's (one rule for every way in); kept here for old imports.
ensure_writable = device_door.ensure_writable


def update_device(user: User | Actor, device_id: str, body: dict[str, Any]) -> tuple[Device, TeamAccess]:
    """PATCH: changed metadata is committed as a new device.json through the door, with the row."""
    actor = actor_of(user)
    device, access = device_access(actor.user, device_id)
    device_door.authorize(actor, access, "inventory.write")
    check_fields(body, UPDATE_FIELDS)
    archived = body.get("archived")
    if "archived" in body and not isinstance(archived, bool):
        raise ValidationError("'archived' must be true or false.", field="archived", code="wrong_type")
    # Unarchiving is the one write an archived device accepts (with or without other changes).
    unarchiving = device.archived_at is not None and archived is False
    if not unarchiving:
        device_door.ensure_writable(device)
    values = _parse(body, device)
    tags = _tags(body)
    slug = _slug(body)
    before = {**snapshot(device), "slug": device.slug, "archived": device.archived_at is not None,
              "tags": tag_names(device)}
    if slug is not None and slug != device.slug:
        if _free_slug(device.project, slug, exclude=device.id) != slug:
            raise Conflict("A device with slug '%(slug)s' already exists in this project.", field="slug",
                           code="slug_taken", params={"slug": slug})
        device.slug = slug
    old_snapshot = snapshot(device)
    for key, value in values.items():
        setattr(device, key, value)
    new_snapshot = snapshot(device)
    if tags is not None:
        _set_tags(device, tags)
    if archived is True and device.archived_at is None:
        device.archived_at = utcnow()
    elif archived is False:
        device.archived_at = None
    device.updated_by_id = actor.user.id
    after = {**snapshot(device), "slug": device.slug, "archived": device.archived_at is not None,
             "tags": tags if tags is not None else before["tags"]}
    changes = audit.diff_fields(before, after)
    if changes:
        audit.record(access.team.id, actor.user, "update", "device", device.id, changes)

    def move(repo: DeviceRepo) -> Moved:
        if change.content is None:
            return Moved(False)
        result = repo.commit_version(change.content, author_for(actor.user), "Update device metadata")
        return Moved(result.changed, [(result, "Update device metadata")])

    # The archived rule was applied above, on the state before this change (so that archiving
    # itself and unarchiving pass); the door applies every other rule.
    content = Changes(device=new_snapshot) if new_snapshot != old_snapshot else None
    change = RefChange("device.metadata", "inventory.write", move, content, allow_archived=True)
    device_door.change_refs(actor, device, access, change)
    return device, access


def set_archived(user: User | Actor, device_id: str, archived: bool) -> tuple[Device, TeamAccess]:
    return update_device(user, device_id, {"archived": archived})


def delete_device(user: User | Actor, device_id: str) -> None:
    """Row, repository and mirror objects go together, under the repo lock (see the door)."""
    actor = actor_of(user)
    device, access = device_access(actor.user, device_id)
    device_door.delete_device(actor, device, access,
                              audit.diff_fields({**snapshot(device), "slug": device.slug}, {}))
