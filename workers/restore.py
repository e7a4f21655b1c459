"""Rebuild device repos and photo blobs from object storage alone (the mirror manifests).

A repo is rebuilt in a temporary folder beside its final place - packs fetched and checked
against the manifest's sha256, indexed in chain order, refs set exactly as the manifest says,
the config of a new device repo applied - and renamed into place only when complete.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from app.storage.blobs import blob_path, photo_key
from app.storage.objectstore import IntegrityError, ObjectNotFound, ObjectStore, ObjectStoreError
from gitstore import init_bare_repo
from workers.git import GitCommandError, list_refs, run_git
from workers.mirror import MAIN_REF, MirrorFormatError, read_manifest


class RestoreError(Exception):
    """The mirror cannot rebuild this device (no manifest, a damaged or missing pack...)."""


@dataclass
class RestoreReport:
    device_id: str
    restored: bool = False  # False: the repo was already there and was left untouched
    photos_fetched: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def restore_repo(store: ObjectStore, device_id: str, target: Path) -> dict:
    """Rebuild the repo at `target` (which must not exist) from the mirror; returns the manifest."""
    manifest = read_manifest(store, device_id)
    if manifest is None:
        raise RestoreError("no mirror manifest in object storage")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.restore-{secrets.token_hex(8)}"
    try:
        init_bare_repo(tmp)
        with tempfile.TemporaryDirectory(prefix="infratrace-restore-") as work:
            for index, pack in enumerate(manifest["packs"]):
                local = Path(work) / f"{index}.pack"
                try:
                    info = store.download_to(pack["key"], local)
                except ObjectNotFound as exc:
                    raise RestoreError(f"pack {pack['key']} is missing") from exc
                except IntegrityError as exc:
                    raise RestoreError(f"pack {pack['key']} is damaged: {exc}") from exc
                if info.sha256 != pack["sha256"]:
                    raise RestoreError(f"pack {pack['key']} does not match the manifest's sha256")
                # index-pack checks every object's hash and, with --strict, its well-formedness.
                run_git(tmp, "index-pack", "--strict", "--stdin", stdin_path=local)
        updates = "".join(f"create {name} {oid}\n" for name, oid in sorted(manifest["refs"].items()))
        if updates:
            run_git(tmp, "update-ref", "--stdin", stdin=updates.encode())
        if list_refs(tmp) != manifest["refs"]:
            raise RestoreError("refs after restore differ from the manifest")
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def restore_photos(store: ObjectStore, data_dir: Path, shas: list[str]) -> tuple[int, list[str]]:
    """Fetch photo blobs missing from the local cache; returns (fetched, problems)."""
    fetched, problems = 0, []
    for sha in shas:
        path = blob_path(data_dir, sha)
        if path.is_file():
            continue
        try:
            info = store.download_to(photo_key(sha), path)
        except ObjectNotFound:
            problems.append(f"photo {sha} is not in object storage")
            continue
        except IntegrityError as exc:
            problems.append(f"photo {sha} is damaged: {exc}")
            continue
        if info.sha256 != sha:
            path.unlink(missing_ok=True)
            problems.append(f"photo {sha} holds other content")
            continue
        fetched += 1
    return fetched, problems


def verify_repo(path: Path, head_commit: str | None, manifest: dict | None) -> list[str]:
    """Problems found comparing the repo with the database's head and the manifest, plus fsck."""
    problems = []
    if not Path(path).is_dir():
        return ["repository is missing"]
    try:
        refs = list_refs(path)
    except GitCommandError as exc:
        return [f"refs unreadable: {exc}"]
    if refs.get(MAIN_REF) != head_commit:
        problems.append(f"main is {refs.get(MAIN_REF)}, the database says {head_commit}")
    if manifest is not None and refs != manifest.get("refs"):
        problems.append("refs differ from the mirror manifest")
    try:
        run_git(path, "fsck", "--strict", "--no-progress", "--no-dangling")
    except GitCommandError as exc:
        problems.append(f"git fsck failed: {exc}")
    return problems


def restore_devices(team_slug: str | None = None, device_id: str | None = None,
                    verify: bool = False, out: TextIO | None = None) -> int:
    """Restore (and optionally verify) every selected device; prints one line per device.

    Runs in an app context. Returns the number of devices with problems (0: all good).
    """
    from flask import current_app
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Device, Team
    from app.services.gitstore_bridge import repo_path
    from workers.jobs import object_store

    out = out or sys.stdout
    config = current_app.config["INFRATRACE"]
    query = select(Device).order_by(Device.id)
    if team_slug:
        query = query.join(Team, Team.id == Device.team_id).where(Team.slug == team_slug)
    if device_id:
        query = query.where(Device.id == device_id)
    devices = db.session.scalars(query).all()
    if not devices:
        print("no devices matched", file=out)
        return 1 if (team_slug or device_id) else 0
    failures = 0
    store = object_store()
    try:
        for device in devices:
            report = RestoreReport(device.id)
            path = repo_path(device)
            manifest = None
            try:
                if path.exists():
                    manifest = read_manifest(store, device.id)
                else:
                    manifest = restore_repo(store, device.id, path)
                    report.restored = True
                if manifest is not None:
                    report.photos_fetched, problems = restore_photos(store, config.data_dir, manifest["photos"])
                    report.problems.extend(problems)
                    for sha in manifest.get("missing_photos", []):
                        report.problems.append(f"photo {sha} was never mirrored (not in the cache when mirrored)")
            except (RestoreError, GitCommandError, MirrorFormatError, ObjectStoreError) as exc:
                report.problems.append(str(exc))
            if report.restored:
                # A restored repo is new to SQL: the reconciler rebuilds its index from git and
                # records the recovery (the door's recording steps, without a user).
                from app.services.reconcile import reconcile_device

                try:
                    reconcile_device(device, reason="restore", rebuild=True)
                except Exception as exc:  # noqa: BLE001 - reported per device, like every other problem
                    db.session.rollback()
                    report.problems.append(f"reindex after restore failed: {exc}")
            if verify:
                report.problems.extend(verify_repo(path, device.head_commit, manifest))
                for sha in (manifest or {}).get("photos", []):
                    if not blob_path(config.data_dir, sha).is_file():
                        problem = f"photo {sha} is missing from the blob cache"
                        if problem not in report.problems:
                            report.problems.append(problem)
            action = "restored" if report.restored else "kept"
            if report.ok:
                print(f"OK    {device.id} {action} head={device.head_commit} photos+{report.photos_fetched}", file=out)
            else:
                failures += 1
                print(f"FAIL  {device.id} {action}: " + "; ".join(report.problems), file=out)
    finally:
        store.close()
    print(f"{len(devices) - failures} of {len(devices)} device(s) OK", file=out)
    return failures
