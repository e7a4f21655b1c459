"""Device photos: upload, list, remove, and the permission-checked lookup behind every photo URL.

* Upload: the bytes are checked by content (app/storage/images.py: JPEG, PNG, WebP only; Pillow's
  pixel limit), EXIF location is removed unless the user opts out, and what remains is written to
  the local blob cache under its sha256 BEFORE the reference is committed to photos.json through
  the versions service (so no version ever names bytes this host lacks). The object store gets
  the bytes from the mirror job (enqueued by every commit), the thumbnail from `thumbnail_photo`.
* The same bytes already at HEAD: no new version, 200 with `changed: false` (a caption is not
  edited that way).
* Removal is a new version without the reference; blobs are never deleted here, since older
  versions (and other devices, content being shared) still name them.
* Serving (`photo_reference`): the device through the caller's teams (another team's: 404), the
  `version.read` role, then the sha256 must be referenced by THIS device's photos.json (at the
  given revision, or at HEAD, or in any version through the commit index). A blob is shared by
  content across teams, so knowing a sha256 must never be enough to read it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import CommitPath, CommitRecord, Device, User
from app.services import device_door, versions
from app.services.access import device_access
from app.services.device_door import Actor, Moved, RefChange, actor_of
from app.services.errors import Conflict, NotFound, ServiceError, TooLarge, ValidationError
from app.services.gitstore_bridge import author_for, open_repo
from app.services.teams import TeamAccess
from app.services.validation import check_fields, flag_arg, string_field
from app.storage.blobs import check_sha256
from app.storage.images import EXTENSIONS, ImageRejected, inspect, strip_location
from app.storage.objectstore import ObjectStoreError, open_object_store
from app.storage.photo_files import fetch_blob, fetch_thumbnail, make_thumbnail, store_blob
from gitstore import AmbiguousRevision, Changes, DeviceRepo, RevisionNotFound, load_json

PHOTOS_FILE = "photos.json"
UPLOAD_FIELDS = {"file", "caption", "strip_location", "parent"}
MAX_CAPTION = 1000
MAX_FILENAME = 200
_SEPARATORS = re.compile(r"[\\/]")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\"]")


class StoreUnavailable(ServiceError):
    status, code = 503, "store_unavailable"


def _settings() -> Any:
    return current_app.config["INFRATRACE"]


def _object_store() -> Any:
    config = _settings()
    return open_object_store(config.object_store_url, config.data_dir)


def clean_filename(name: str | None, content_type: str) -> str:
    """The last path segment, printable, without quotes, at most MAX_FILENAME characters."""
    base = _SEPARATORS.split(unicodedata.normalize("NFC", name or ""))[-1]
    base = _UNSAFE.sub("", base).strip().lstrip(".")
    if len(base) > MAX_FILENAME:
        stem, dot, ext = base.rpartition(".")
        ext = ext[:10] if dot else ""
        base = (stem or base)[: MAX_FILENAME - len(ext) - 1].rstrip() + ("." + ext if ext else "")
    return base or "photo" + EXTENSIONS[content_type]


def _read_limited(stream: BinaryIO, limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge("The photo is larger than %(limit)s bytes.", field="file", code="too_large",
                       params={"limit": limit})
    return data


def _head_photos(device: Device) -> tuple[str | None, list[dict[str, Any]]]:
    with open_repo(device) as repo:
        head = repo.head()
        return head, (repo.read(head).photos if head else [])


def _commit_photos(
    actor: Actor, device: Device, access: TeamAccess, parent: str | None, message: str, edit: Any,
    job: tuple[str, str] | None = None,
) -> tuple[dict[str, Any], bool, Any]:
    """Apply `edit(photos at head) -> (new photos or None for no change, result)` as one version
    through the door; `job` is enqueued with it (sent only if that version commits).

    The photos are read under the repo lock and the head read there is the expected parent
    (unless the caller named one), so a concurrent photo change is never overwritten.
    """

    def move(repo: DeviceRepo) -> Moved:
        head = repo.head()
        if parent is not None and versions._expected_parent(repo, parent) != head:
            raise Conflict("The device's head is no longer the given parent; read it again and retry.",
                           code="conflict", extra={"head": head})
        current = repo.read(head).photos if head else []
        new_photos, outcome = edit(current)
        if new_photos is None:
            return Moved(False, result=({"commit": head, "parent": None, "created_at": None,
                                         "changed": False}, outcome))
        result = repo.commit_version(Changes(photos=new_photos), author_for(actor.user), message, head)
        return Moved(result.changed, [(result, message)], "commit", "device_version",
                     {"commit": result.commit, "parent": result.parent, "message": message,
                      "files": [f.path for f in result.files]},
                     jobs=[job] if job else [], result=(result, outcome))

    moved = device_door.change_refs(actor, device, access, RefChange("photos", "version.write", move))
    data, outcome = moved.result
    if isinstance(data, dict):
        return data, False, outcome
    author = versions.author_json(actor.user, actor.user.author_name)
    return versions._commit_json(data, None, author), moved.changed, outcome


# -- upload and removal -------------------------------------------------------------------------


def upload_photo(
    user: User | Actor,
    device_id: str,
    fields: Mapping[str, str],
    filename: str | None,
    stream: BinaryIO | None,
    file_fields: tuple[str, ...] = (),
) -> tuple[dict[str, Any], bool]:
    """POST photos: returns ({"photo", "commit", "parent", "created_at", "changed", ...}, changed).

    `fields` are the form's text fields, `filename`/`stream` the `file` part, `file_fields` the
    names of every file part (any other than `file` is an unknown field).
    """
    actor = actor_of(user)
    device, access = device_access(actor.user, device_id)
    device_door.admit(actor, device, access, "photos", "version.write")
    check_fields({**fields, **dict.fromkeys(file_fields, "")}, UPLOAD_FIELDS)
    if stream is None or "file" in fields:
        raise ValidationError("'file' is required: send the image as a multipart file part.", field="file",
                              code="required")
    caption = string_field(fields, "caption", max_length=MAX_CAPTION)
    strip = flag_arg(fields, "strip_location", default=True)
    parent = fields.get("parent") or None
    data = _read_limited(stream, _settings().max_photo_bytes)
    try:
        info = inspect(data)
        if strip and info.has_location:
            data = strip_location(data, info)
    except ImageRejected as exc:
        raise ValidationError(exc.message, field="file", code=exc.code) from None
    sha = store_blob(_settings().data_dir, data)
    # The bytes now belong to this team too: its devices may reference them (door rule).
    device_door.record_team_photo(access.team.id, sha)
    reference: dict[str, Any] = {
        "sha256": sha, "filename": clean_filename(filename, info.content_type),
        "content_type": info.content_type, "size": len(data), "caption": caption,
        "width": info.width, "height": info.height,
    }

    def add(current: list[dict[str, Any]]) -> tuple[list[dict[str, Any]] | None, dict[str, Any]]:
        existing = next((p for p in current if p.get("sha256") == sha), None)
        if existing is not None:
            return None, existing
        return [*current, reference], reference

    result, changed, photo = _commit_photos(actor, device, access, parent, f"Add photo {reference['filename']}",
                                            add, job=("thumbnail_photo", sha))
    return {**result, "photo": photo, "location_removed": strip and info.has_location}, changed


def remove_photo(user: User | Actor, device_id: str, sha: str, parent: str | None = None) -> dict[str, Any]:
    """A new version without the photo; its bytes stay (older versions still reference them)."""
    actor = actor_of(user)
    device, access = device_access(actor.user, device_id)
    if parent is not None and not isinstance(parent, str):
        raise ValidationError("'parent' must be a commit id.", field="parent", code="wrong_type")

    def drop(current: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        found = next((p for p in current if p.get("sha256") == sha), None)
        if found is None:
            raise NotFound("This device has no such photo at its current version.", code="not_found")
        return [p for p in current if p.get("sha256") != sha], found

    _, current = _head_photos(device)
    found = next((p for p in current if p.get("sha256") == sha), None)
    name = found["filename"] if found else sha[:12]
    result, _, photo = _commit_photos(actor, device, access, parent, f"Remove photo {name}", drop)
    return {**result, "photo": photo}


# -- reading ------------------------------------------------------------------------------------


def _photos_at(device: Device, rev: str) -> tuple[str, list[dict[str, Any]]]:
    try:
        with open_repo(device) as repo:
            commit = repo.resolve(rev)
            return commit, repo.read(commit).photos
    except (RevisionNotFound, AmbiguousRevision) as exc:
        raise NotFound("No such version: %(reason)s", code="unknown_revision", params={"reason": str(exc)}) from None


def list_photos(user: User, device_id: str, rev: str | None = None) -> tuple[Device, str | None, list[dict]]:
    """(device, commit, photos) at `rev` or HEAD."""
    device, access = device_access(user, device_id)
    access.require("version.read")
    if rev:
        commit, photos = _photos_at(device, rev)
        return device, commit, photos
    head, photos = _head_photos(device)
    return device, head, photos


def _in_history(device: Device, sha: str) -> dict[str, Any] | None:
    """The newest reference to `sha` in any version: only commits that touched photos.json are
    read (the commit index knows them), newest first."""
    commits = db.session.scalars(
        select(CommitRecord.sha).join(CommitPath, CommitPath.commit_id == CommitRecord.id)
        .where(CommitPath.device_id == device.id, CommitPath.path == PHOTOS_FILE)
        .order_by(CommitPath.seq.desc())
    )
    with open_repo(device) as repo:
        for commit in commits:
            try:
                photos = load_json(repo.read_file(commit, PHOTOS_FILE))
            except (FileNotFoundError, RevisionNotFound, ValueError):
                continue  # the file was removed in that commit (or is unreadable): no reference
            for photo in photos if isinstance(photos, list) else []:
                if isinstance(photo, dict) and photo.get("sha256") == sha:
                    return photo
    return None


def photo_reference(user: User, device_id: str, sha: str, rev: str | None = None) -> tuple[Device, dict[str, Any]]:
    """The device and its reference to photo `sha`, or 404: the check behind every photo URL."""
    device, access = device_access(user, device_id)
    access.require("version.read")
    try:
        check_sha256(sha)
    except ValueError:
        raise NotFound("No such photo.") from None
    if rev:
        _, photos = _photos_at(device, rev)
        found = next((p for p in photos if p.get("sha256") == sha), None)
    else:
        _, photos = _head_photos(device)
        found = next((p for p in photos if p.get("sha256") == sha), None) or _in_history(device, sha)
    if found is None:
        raise NotFound("No such photo.")
    return device, found


def original_file(reference: dict[str, Any]) -> Path:
    """The photo's bytes as a local file: the cache, filled from the object store on a miss."""
    sha = reference["sha256"]
    store = _object_store()
    try:
        path = fetch_blob(_settings().data_dir, store, sha)
    except (ObjectStoreError, ValueError) as exc:
        raise StoreUnavailable(f"The photo could not be read from object storage: {exc}") from None
    finally:
        store.close()
    if path is None:
        raise NotFound("The photo's bytes are not available.", code="photo_missing")
    return path


def thumbnail_file(reference: dict[str, Any]) -> Path:
    """The thumbnail as a local file; made now if the job has not run yet (it is bounded work)."""
    sha = reference["sha256"]
    config = _settings()
    store = _object_store()
    try:
        path = fetch_thumbnail(config.data_dir, store, sha) or make_thumbnail(config.data_dir, store, sha)
    except ObjectStoreError as exc:
        raise StoreUnavailable(f"The thumbnail could not be read from object storage: {exc}") from None
    except (ImageRejected, OSError, ValueError):
        path = None
    finally:
        store.close()
    if path is None:
        raise NotFound("The photo's thumbnail is not available.", code="photo_missing")
    return path
