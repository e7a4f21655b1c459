"""The one door: every change to a device's refs passes through here, whichever way it came in.

Ways in (each a thin adapter that builds a `RefChange` and calls `change_refs`, or one of the
device-lifecycle functions below): the versions API write and batch import, tag create/delete,
photo add/remove (app/services/versions.py, photos.py), device create / metadata update /
archive / delete (devices.py), git push (`push`, called by app/githttp/routes.py), and restore
plus `infratrace reindex` (app/services/reconcile.py, which records through `record_moved`).

The steps, in this order, each written once:

 1. authorize     role for the action + the token's scope (`authorize`)
 2. archived      an archived device refuses every change but unarchiving and deletion
 3. plan limits   `plans.check_can_change_device` (billing fills the limits)
 4. content       CONTENT_STEPS (seam: noise rules, redaction) then validation, including
                  photo ownership (`check_photo_ownership`) and, for pushes, the pusher's own
                  identity (enforced by the pre-receive hook with the rules `push_rules` gives)
 5. repo lock     the device's cross-process write lock (RepoBusy, 503 + Retry-After, on timeout)
 6. CAS ref move  gitstore.refs.move_ref: git's ref lock, old-value check, never a forced write
 7. record        the SQL commit index (RECORD_STEPS seam: search's line index, same transaction)
 8. audit         one audit event
 9. enqueue       the mirror, then AFTER_COMMIT_JOBS (seam: notifications, compliance)
10. SQL commit
11. answers       `answer()` maps every failure to one ServiceError, so the same failure has the
                  same status on the API, the web pages and git (see routes.py)

Between 6 and 10 lies the documented fault-injection point `door.after_ref_move`
(app/services/faults.py): off unless INFRATRACE_FAULT names it, used by the crash test to show
that the reconciler repairs what a process killed there leaves behind.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Device, TeamPhoto, User
from app.services import audit, commit_index, config_rules, faults, job_queue, notifications, plans
from app.services.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationError
from app.services.gitstore_bridge import locked_repo, repo_path
from app.services.permissions import ACTION_MIN_ROLE, role_allows
from app.services.teams import TeamAccess
from gitstore import (
    AmbiguousRevision,
    Changes,
    CommitResult,
    ConflictError,
    DeviceRepo,
    GitStoreError,
    ImportVersion,
    InvalidChange,
    RepositoryBusy,
    RepositoryNotFound,
    RevisionNotFound,
    TagExists,
)

log = logging.getLogger(__name__)

FULL_SCOPES = frozenset({"read", "write"})
# Seconds a client is told to wait when the repository is busy (lock timeout).
RETRY_AFTER_SECONDS = 5

_VERBS = {
    "version.write": "writing versions",
    "tag.write": "creating tags",
    "tag.delete": "deleting tags",
    "repo.push": "pushing",
    "inventory.write": "changing devices",
    "inventory.delete": "deleting devices",
}


class RepoBusy(ServiceError):
    """The device's repository stayed locked longer than the lock timeout."""

    status, code = 503, "repo_busy"

    def __init__(self, message: str = "The repository is busy; try again in a few seconds.",
                 params: dict[str, object] | None = None) -> None:
        super().__init__(message, params=params)
        self.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}


@dataclass(frozen=True)
class Actor:
    """Who knocks: the user (None for the service itself), the token's scopes, the transport."""

    user: User | None
    scopes: frozenset[str] = FULL_SCOPES
    transport: str = "web"  # web | api | git | system


def actor_of(who: User | Actor) -> Actor:
    """A plain user is a browser session or an in-process caller: both have every scope."""
    return who if isinstance(who, Actor) else Actor(who)


@dataclass
class Moved:
    """What a ref move did, for the recording steps.

    `commits`: the commits this process just made, oldest first (indexed without re-reading the
    repo); None means "index whatever the repo has" (pushes, tags, restore).
    """

    changed: bool
    commits: list[tuple[CommitResult, str]] | None = None
    audit_action: str | None = None
    audit_type: str = "device_version"
    audit_changes: dict[str, Any] = field(default_factory=dict)
    jobs: list[tuple[str, ...]] = field(default_factory=list)
    result: Any = None
    # The indexed head before this change (set by `record_moved`): what the JobSteps compare with.
    previous_head: str | None = None


@dataclass
class RefChange:
    """One request to change a device's refs.

    `move(repo)` runs under the repo lock and must move refs only through gitstore's
    compare-and-swap; `content` (when the change carries files) goes through CONTENT_STEPS and
    validation first and is replaced by what they made of it, so `move` must commit
    `change.content` (never the raw input; see versions.commit); `allow_archived` is for
    unarchiving.
    """

    kind: str
    action: str
    move: Callable[[DeviceRepo], Moved]
    content: Changes | None = None
    allow_archived: bool = False


# -- the seams ----------------------------------------------------------------------------------

# Content transforms, in order: f(device, access, changes) -> changes. The intake engineer's
# noise rules (strip/ignore) and secret redaction plug in here; they run before validation and
# before the lock, so no secret value ever reaches git, SQL or a mirror.
ContentStep = Callable[[Device, TeamAccess, Changes], Changes]
CONTENT_STEPS: list[ContentStep] = []
# Recording steps run after the commit index, in the same SQL transaction: f(device, moved).
# The search engineer's per-device config-line index plugs in here.
RecordStep = Callable[[Device, Moved], None]
RECORD_STEPS: list[RecordStep] = []
# Jobs enqueued (sent once the SQL transaction commits) after every change that moved a ref:
# f(device, moved) -> [(job name, *ids)]. Webhooks/watch mail (migrate) and compliance (search).
JobStep = Callable[[Device, Moved], list[tuple[str, ...]]]
AFTER_COMMIT_JOBS: list[JobStep] = [notifications.after_move]


# -- steps 1-3: who, archived, plan -------------------------------------------------------------


def authorize(actor: Actor, access: TeamAccess, action: str) -> None:
    """The token's scope, then the role for `action`: 403 for either, on every transport."""
    if "write" not in actor.scopes:
        if actor.transport == "git":
            raise Forbidden("This token is read-only: pushing needs a personal access token with the 'write' "
                            "scope.", code="insufficient_scope")
        raise Forbidden("This token is read-only; a token with the 'write' scope is needed.", code="insufficient_scope")
    if not role_allows(access.role, action):
        if actor.transport == "git":  # git prints it as `remote: ...`: say what is needed
            needed = ACTION_MIN_ROLE.get(action, "owner")
            verb = _VERBS.get(action, "this")
            raise Forbidden("Your role in team %(team)s is %(role)s: %(verb)s needs the %(needed)s role or above.",
                            code="forbidden",
                            params={"team": access.team.slug, "role": access.role, "verb": verb, "needed": needed})
        raise Forbidden("Your role does not allow this (%(action)s).", code="forbidden", params={"action": action})


def ensure_writable(device: Device) -> None:
    if device.archived_at is not None:
        raise Conflict("This device is archived: its history is read-only. Unarchive it to change it.",
                       code="archived")


def admit(actor: Actor, device: Device, access: TeamAccess, kind: str, action: str,
          allow_archived: bool = False) -> None:
    """Steps 1-3: role and scope, archived state, plan limits."""
    authorize(actor, access, action)
    if not allow_archived:
        ensure_writable(device)
    plans.check_can_change_device(access.team, device, kind)


# -- step 4: content ----------------------------------------------------------------------------


def prepare_content(device: Device, access: TeamAccess, changes: Changes,
                    batch: dict[str, Any] | None = None) -> Changes:
    """The project's noise rules and redaction, CONTENT_STEPS, then the checks gitstore cannot
    make (it knows no teams). `batch`: one dict for the consecutive versions of one batch, in
    order (lets redaction scan each version against the previous one: `RuleSet.redact`)."""
    # Strip, redact, and hand gitstore the `ignore` test (changes.noise): before the lock, so no
    # secret value ever reaches git, SQL or a mirror.
    changes = config_rules.apply_rules(device, changes, batch=batch)
    for step in CONTENT_STEPS:
        changes = step(device, access, changes)
    if changes.photos is not None:
        check_photo_ownership(device, [p.get("sha256") for p in changes.photos if isinstance(p, dict)])
    return changes


def team_photo_shas(team_id: str) -> set[str]:
    return set(db.session.scalars(select(TeamPhoto.sha256).where(TeamPhoto.team_id == team_id)))


def record_team_photo(team_id: str, sha: str) -> None:
    """Remember that `sha` was uploaded to this team: from now on its devices may name it."""
    if db.session.get(TeamPhoto, (team_id, sha)) is None:
        db.session.add(TeamPhoto(team_id=team_id, sha256=sha))


def check_photo_ownership(device: Device, shas: list[Any]) -> None:
    """A photo reference is valid only for a blob uploaded to the device's team or one the
    device's own history already names; knowing another team's sha256 is not enough."""
    wanted = {s for s in shas if isinstance(s, str)}
    if not wanted:
        return
    unknown = wanted - team_photo_shas(device.team_id)
    if unknown:
        with DeviceRepo.open(repo_path(device)) as repo:
            unknown -= repo.referenced_photo_shas()
    if unknown:
        raise ValidationError("Photo %(sha)s was not uploaded to this team.", field="photos", code="foreign_photo",
                              params={"sha": sorted(unknown)[0]})


# -- steps 5-11 ---------------------------------------------------------------------------------


@contextmanager
def repo_lock(device: Device) -> Iterator[DeviceRepo]:
    """Step 5. The device may have been deleted while we waited: then it is not found."""
    try:
        with locked_repo(device) as repo:
            if not (repo.path / "objects").is_dir():
                raise NotFound("No such device.")
            yield repo
    except RepositoryNotFound:
        raise NotFound("No such device.") from None


def answer(exc: BaseException) -> ServiceError | None:
    """Step 11: a gitstore failure as the one ServiceError every transport answers with."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, InvalidChange):
        return ValidationError(exc.message, field=exc.field, code="invalid")
    if isinstance(exc, TagExists):
        return Conflict("A tag named '%(name)s' already exists.", field="name", code="tag_exists",
                        params={"name": str(exc)})
    if isinstance(exc, ConflictError):
        return Conflict("The device's head is no longer the given parent; read it again and retry.",
                        code="conflict", extra={"head": exc.current_head})
    if isinstance(exc, (RevisionNotFound, AmbiguousRevision)):
        return ValidationError("No such version: %(rev)s", field="rev", code="unknown_revision",
                               params={"rev": str(exc)})
    if isinstance(exc, RepositoryBusy):
        return RepoBusy()
    if isinstance(exc, RepositoryNotFound):
        return NotFound("No such device.")
    if isinstance(exc, GitStoreError):
        return RepoBusy("The repository could not be changed now (%(reason)s); try again.", params={"reason": str(exc)})
    return None


def record_moved(device: Device, actor: Actor, moved: Moved, repo: DeviceRepo) -> int:
    """Steps 7-9 (the caller holds the repo lock and commits SQL): index, audit, jobs.

    Also stores the digest of the repo's refs: what the reconciler compares with the repo to
    find a move whose recording never committed. Returns how many commits were indexed.
    """
    device.refs_digest = repo.refs_digest()
    moved.previous_head = device.head_commit
    if moved.commits is not None:
        commit_index.record_commits(device, moved.commits, actor.user)
        added = len(moved.commits)
    else:
        added = commit_index.sync_device(device)
    for step in RECORD_STEPS:
        step(device, moved)
    if moved.audit_action:
        audit.record(device.team_id, actor.user, moved.audit_action, moved.audit_type, device.id,
                     moved.audit_changes)
    job_queue.enqueue("mirror_device", device.id)
    for job in moved.jobs:
        job_queue.enqueue(*job)
    for job_step in AFTER_COMMIT_JOBS:
        for job in job_step(device, moved):
            job_queue.enqueue(*job)
    return added


def change_refs(actor: User | Actor, device: Device, access: TeamAccess, change: RefChange) -> Moved:
    """Every step, in order, for one change of a device's refs; returns what moved."""
    actor = actor_of(actor)
    admit(actor, device, access, change.kind, change.action, change.allow_archived)
    try:
        if change.content is not None:
            change.content = prepare_content(device, access, change.content)
        with repo_lock(device) as repo:
            moved = change.move(repo)
            if moved.changed:
                faults.point("door.after_ref_move")
                record_moved(device, actor, moved, repo)
            commit_sql()
    except (GitStoreError, ServiceError) as exc:
        db.session.rollback()
        mapped = answer(exc)
        if mapped is exc:
            raise
        raise mapped from None  # type: ignore[misc]
    except BaseException:
        db.session.rollback()
        raise
    return moved


def commit_sql() -> None:
    """Step 10; a unique-constraint race (a slug taken meanwhile) is a conflict, not a 500."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("A device with that slug already exists in this project.", field="slug",
                       code="slug_taken") from None


# -- device lifecycle ---------------------------------------------------------------------------


def create_device(actor: User | Actor, access: TeamAccess, device: Device, snapshot: dict[str, Any],
                  audit_changes: dict[str, Any], history: list[ImportVersion] | None = None,
                  before_commit: Callable[[Device], None] | None = None) -> None:
    """A new device's row and repository, made and committed together.

    The repository is built under a temporary name and renamed into place (gitstore), so the
    "ref move" here is that rename; a failed SQL commit removes the repository again. With
    `history` (a history import, content already prepared) the repository starts with those
    versions instead of a creation commit; `before_commit` adds rows to the same transaction.
    """
    from app.services.gitstore_bridge import author_for, repos_root

    actor = actor_of(actor)
    authorize(actor, access, "inventory.write")
    plans.check_can_add_device(access.team)
    root = repos_root()
    try:
        path, _ = DeviceRepo.create(root, device.id, snapshot, author_for(actor.user), history=history)
    except GitStoreError as exc:
        raise answer(exc) from None  # type: ignore[misc]
    try:
        device.repo_path = str(path.relative_to(root))
        db.session.add(device)
        db.session.flush()
        with DeviceRepo.open(path) as repo:
            record_moved(device, actor, Moved(True, audit_action="create", audit_type="device",
                                              audit_changes=audit_changes), repo)
        if before_commit is not None:
            before_commit(device)
        commit_sql()
    except BaseException:
        db.session.rollback()
        # No repository without its row: a later device could never reach it, and it holds data.
        DeviceRepo.delete(path)
        raise


def delete_device(actor: User | Actor, device: Device, access: TeamAccess, audit_changes: dict[str, Any]) -> None:
    """Row, repository and mirror go together, under the repo lock (no write can slip between).

    The row is deleted and committed first (with the audit event and the job that removes the
    device's mirror objects from object storage), then the repository, still under the lock;
    a writer that waited for the lock finds the repository gone and answers 404.
    """
    actor = actor_of(actor)
    authorize(actor, access, "inventory.delete")
    path = repo_path(device)
    device_id, team_id = device.id, device.team_id
    try:
        with locked_repo(device):
            audit.record(team_id, actor.user, "delete", "device", device_id, audit_changes)
            job_queue.enqueue("delete_device_mirror", device_id)
            notifications.device_deleted(device)
            db.session.delete(device)
            db.session.commit()
            DeviceRepo.delete(path)
    except RepositoryNotFound:
        # No repository (a damaged row): the row still goes.
        audit.record(team_id, actor.user, "delete", "device", device_id, audit_changes)
        job_queue.enqueue("delete_device_mirror", device_id)
        notifications.device_deleted(device)
        db.session.delete(device)
        db.session.commit()
    except GitStoreError as exc:
        db.session.rollback()
        raise answer(exc) from None  # type: ignore[misc]


def remove_repository(path: Path) -> bool:
    """Remove a device repository under its write lock (a writer that was waiting for the lock
    then finds it gone); False if there was none. For deletions that commit SQL elsewhere
    (project cascade, purge); their mirrors go by `delete_device_mirror` or the purge itself."""
    try:
        with DeviceRepo.open(path) as repo, repo.write_lock():
            DeviceRepo.delete(path)
    except (RepositoryNotFound, FileNotFoundError):
        return False
    return True


# -- git push -----------------------------------------------------------------------------------


@dataclass
class PushRules:
    """What the pre-receive hook (a separate process) must enforce, as its environment."""

    env: dict[str, str]
    allowlist: str  # a temporary file; removed by `push`


def pusher_pseudonym(user: User) -> str:
    return user.author_name


def push_rules(actor: Actor, device: Device, access: TeamAccess, max_file_bytes: int) -> PushRules:
    """The rules of step 4 for a push, handed to app/githttp/prereceive.py.

    The pusher's own pseudonym is the only identity new commits and tags may carry; photo
    references must name blobs of this team (the allowlist file) or of the device's own history
    (the hook reads that from the repository itself).
    """
    user = actor.user
    assert user is not None
    handle, allowlist = tempfile.mkstemp(prefix="infratrace-photos-", suffix=".txt")
    with os.fdopen(handle, "w") as out:
        for sha in sorted(team_photo_shas(device.team_id)):
            out.write(sha + "\n")
    env = {
        "INFRATRACE_MAX_FILE_BYTES": str(max_file_bytes),
        "INFRATRACE_ALLOW_TAG_DELETE": "1" if role_allows(access.role, "tag.delete") else "0",
        "INFRATRACE_PUSHER_PSEUDONYM": pusher_pseudonym(user),
        "INFRATRACE_PUSHER_EMAIL": user.author_email,
        "INFRATRACE_PHOTO_ALLOWLIST": allowlist,
    }
    # The project's redaction patterns: a pushed config holding a value they match is refused.
    scanner = config_rules.push_scanner(device)
    if scanner is not None:
        env["INFRATRACE_SECRET_PATTERNS"] = scanner.to_json()
    return PushRules(env, allowlist)


def check_push(actor: Actor, device: Device, access: TeamAccess) -> None:
    """Steps 1-3 for a push (also asked when git first lists the refs, so it fails early)."""
    admit(actor, device, access, "push", "repo.push")


def push(actor: Actor, device: Device, access: TeamAccess, max_file_bytes: int,
         receive: Callable[[dict[str, str]], None]) -> dict[str, dict[str, str | None]]:
    """A git push through the door; `receive(env)` runs `git receive-pack` (the face's part).

    receive-pack moves the refs itself, each with git's own compare-and-swap (old value checked
    under the ref's lock), after our pre-receive hook accepted every ref and commit. Returns the
    refs that moved.
    """
    check_push(actor, device, access)
    rules = push_rules(actor, device, access, max_file_bytes)
    # No SQL transaction stays open while we wait for the lock (an API writer holding the lock
    # may need to write SQL before it releases it).
    db.session.commit()
    moved: dict[str, dict[str, str | None]] = {}
    try:
        with repo_lock(device) as repo:
            before = repo.refs()
            receive(rules.env)
            after = repo.refs()
            moved = {
                ref: {"from": before.get(ref), "to": after.get(ref)}
                for ref in sorted(set(before) | set(after))
                if before.get(ref) != after.get(ref)
            }
            if moved:
                faults.point("door.after_ref_move")
                try:
                    added = record_moved(device, actor, Moved(True), repo)
                    audit.record(device.team_id, actor.user, "push", "device", device.id,
                                 {"refs": moved, "commits": added, "head": device.head_commit})
                    commit_sql()
                except Exception:  # noqa: BLE001 - git already moved the refs and said so
                    # receive-pack has reported success to the client; the reconciler (sweep,
                    # start-up) records this push later, marked as recovered.
                    db.session.rollback()
                    log.exception("push to device %s: the refs moved but recording failed", device.id)
    except GitStoreError as exc:
        db.session.rollback()
        raise answer(exc) from None  # type: ignore[misc]
    finally:
        try:
            os.unlink(rules.allowlist)
        except FileNotFoundError:
            pass
    return moved
