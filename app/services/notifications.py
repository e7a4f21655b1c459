"""Change notifications: signed webhooks per project, and e-mail to users who watch a device or project.

Events: `version.created` (one event per write, whatever the way in: API, import, push, upload;
it lists the new versions), `device.created`, `device.deleted`, and `ping` (the "send test" button).

A write path calls `versions_indexed` / `device_created` / `device_deleted` before its SQL commit:
the delivery rows join the write's transaction and their jobs are dispatched only after it commits
(app.services.jobs), so a rolled-back write notifies nobody.

Signature (Stripe-like): header `InfraTrace-Signature: t=<unix seconds>,v1=<hex>` where
`<hex>` = HMAC-SHA256(webhook secret, "<t>." + raw body). Receivers recompute it over the raw body,
compare in constant time and refuse a `t` older than a few minutes (replays). `verify_signature`
is that check. Each delivery also sends `InfraTrace-Event` and `InfraTrace-Delivery` (an id that
stays the same across retries, so a receiver can drop duplicates).

Retries: a delivery that gets no 2xx is tried again after RETRY_DELAYS (about 16 hours in all),
then marked `failed`; every attempt's status and the start of the response body are kept and
listed on the project page and by the API. Each attempt first claims the delivery with a
conditional UPDATE, so two runners never send the same attempt twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, delete, func, or_, select, update

from app.extensions import db
from app.models import (
    WATCH_MODES,
    WEBHOOK_EVENTS,
    CommitPath,
    CommitRecord,
    Device,
    Membership,
    Project,
    User,
    Watch,
    Webhook,
    WebhookDelivery,
    utcnow,
)
from app.services import audit, job_queue, webhook_targets
from app.services.access import device_access, project_access
from app.services.errors import NotFound, ValidationError
from app.services.mail import in_language_of, send_mail
from app.services.validation import check_fields, check_name, looks_like_id
from gitstore import CommitInfo, FileChange

SIGNATURE_HEADER = "InfraTrace-Signature"
RETRY_DELAYS = [60, 300, 900, 1800, 3600, 7200, 14400, 28800]  # s after attempt 1, 2, ...: ~16 h
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
REQUEST_TIMEOUT = 10
CLAIM_SECONDS = 120  # an attempt in flight is not picked up again for this long
MAX_URL = 2000
MAX_WEBHOOKS = 20
MAX_RESPONSE_KEPT = 1000
MAX_VERSIONS_IN_PAYLOAD = 50
SIGNATURE_TOLERANCE = 300


# -- signatures -----------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, now: float | None = None,
                     tolerance: int = SIGNATURE_TOLERANCE) -> bool:
    """What a receiver does: recompute over the raw body, constant-time compare, refuse old `t`."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# -- webhooks: management ------------------------------------------------------------------------


def _check_url(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("'url' must be an http:// or https:// URL.", field="url", code="wrong_type")
    url = check_name(value, "url", max_length=MAX_URL)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValidationError("'url' is not a valid URL.", field="url", code="invalid") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError("Webhook URLs must use http or https.", field="url", code="invalid_scheme")
    if not parts.hostname or " " in url:
        raise ValidationError("'url' needs a host name.", field="url", code="invalid")
    if parts.username or parts.password:
        raise ValidationError("Put no credentials in the URL; the signature authenticates us.", field="url",
                              code="invalid")
    webhook_targets.check_url_target(url)
    return url


def _check_events(value: Any) -> list[str]:
    if value is None:
        return list(WEBHOOK_EVENTS)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationError("'events' must be a non-empty list of: %(choices)s.",
                              field="events", code="wrong_type", params={"choices": ", ".join(WEBHOOK_EVENTS)})
    unknown = sorted(set(value) - set(WEBHOOK_EVENTS))
    if unknown:
        raise ValidationError("Unknown event(s): %(unknown)s; known: %(choices)s.",
                              field="events", code="invalid",
                              params={"unknown": ", ".join(unknown), "choices": ", ".join(WEBHOOK_EVENTS)})
    return [e for e in WEBHOOK_EVENTS if e in value]


def _description(value: Any) -> str:
    return check_name(value, "description", max_length=200, required=False)


def _active(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("'active' must be true or false.", field="active", code="wrong_type")
    return value


def _managed_project(user: User, project_id: str) -> tuple[Project, Any]:
    project, access = project_access(user, project_id)
    access.require("webhook.manage")
    return project, access


def _managed_webhook(user: User, webhook_id: str, action: str = "webhook.manage") -> tuple[Webhook, Any]:
    hook = db.session.get(Webhook, webhook_id) if looks_like_id(webhook_id) else None
    if hook is None:
        raise NotFound("No such webhook.")
    try:
        _, access = project_access(user, hook.project_id)
    except NotFound:
        raise NotFound("No such webhook.") from None
    access.require(action)
    return hook, access


def list_webhooks(user: User, project_id: str) -> list[Webhook]:
    project, _ = _managed_project(user, project_id)
    return list(db.session.scalars(select(Webhook).where(Webhook.project_id == project.id)
                                   .order_by(Webhook.created_at, Webhook.id)))


def create_webhook(user: User, project_id: str, body: dict[str, Any]) -> tuple[Webhook, str]:
    """A new webhook and its secret (shown once: the API and the page never show it again)."""
    project, access = _managed_project(user, project_id)
    check_fields(body, {"url", "events", "description", "active"}, required=("url",))
    count = db.session.scalar(select(func.count(Webhook.id)).where(Webhook.project_id == project.id)) or 0
    if count >= MAX_WEBHOOKS:
        raise ValidationError("A project has at most %(limit)s webhooks.", field="url", code="too_many",
                              params={"limit": MAX_WEBHOOKS})
    secret = "whsec_" + secrets.token_urlsafe(32)
    hook = Webhook(team_id=project.team_id, project_id=project.id, url=_check_url(body["url"]),
                   events=_check_events(body.get("events")), description=_description(body.get("description")),
                   active=_active(body.get("active", True)), secret=secret, created_by_id=user.id)
    db.session.add(hook)
    db.session.flush()
    audit.record(access.team.id, user, "create", "webhook", hook.id,
                 {"url": hook.url, "events": hook.events, "project": project.id})
    db.session.commit()
    return hook, secret


def update_webhook(user: User, webhook_id: str, body: dict[str, Any]) -> Webhook:
    hook, access = _managed_webhook(user, webhook_id)
    check_fields(body, {"url", "events", "description", "active"})
    before = {"url": hook.url, "events": hook.events, "active": hook.active, "description": hook.description}
    if "url" in body:
        hook.url = _check_url(body["url"])
    if "events" in body:
        hook.events = _check_events(body["events"])
    if "description" in body:
        hook.description = _description(body["description"])
    if "active" in body:
        hook.active = _active(body["active"])
    after = {"url": hook.url, "events": hook.events, "active": hook.active, "description": hook.description}
    changes = audit.diff_fields(before, after)
    if changes:
        audit.record(access.team.id, user, "update", "webhook", hook.id, changes)
    db.session.commit()
    return hook


def delete_webhook(user: User, webhook_id: str) -> None:
    hook, access = _managed_webhook(user, webhook_id)
    audit.record(access.team.id, user, "delete", "webhook", hook.id, {"url": hook.url})
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id))
    db.session.delete(hook)
    db.session.commit()


def list_deliveries(user: User, webhook_id: str, limit: int = 50) -> tuple[Webhook, list[WebhookDelivery]]:
    hook, _ = _managed_webhook(user, webhook_id)
    return hook, recent_deliveries(hook, limit)


def recent_deliveries(hook: Webhook, limit: int = 10) -> list[WebhookDelivery]:
    return list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit)))


def send_test(user: User, webhook_id: str) -> WebhookDelivery:
    """A `ping` event to this webhook alone, delivered (and retried) like any other."""
    hook, _ = _managed_webhook(user, webhook_id)
    project = db.session.get(Project, hook.project_id)
    delivery = _queue(hook, "ping", {"project": _project_json(project), "webhook": {"id": hook.id},
                                     "web_url": _url(f"/projects/{hook.project_id}")})
    job_queue.enqueue("deliver_webhook", delivery.id)
    db.session.commit()
    return delivery


def webhook_json(hook: Webhook, secret: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": hook.id, "project_id": hook.project_id, "url": hook.url, "events": hook.events,
                            "active": hook.active, "description": hook.description,
                            "created_at": _iso(hook.created_at)}
    if secret is not None:
        data["secret"] = secret
    return data


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    return {"id": delivery.id, "event": delivery.event, "status": delivery.status, "attempts": delivery.attempts,
            "created_at": _iso(delivery.created_at), "last_attempt_at": _iso(delivery.last_attempt_at),
            "next_attempt_at": _iso(delivery.next_attempt_at) if delivery.status == "pending" else None,
            "delivered_at": _iso(delivery.delivered_at), "response_status": delivery.response_status,
            "response_body": delivery.response_body, "error": delivery.error, "payload": delivery.payload}


# -- events (called by write paths before their SQL commit) ----------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _url(path: str, **query: str) -> str:
    base = current_app.config["INFRATRACE"].public_url
    return base + path + (("?" + urlencode(query)) if query else "")


def _project_json(project: Project | None) -> dict[str, Any]:
    return {"id": project.id, "name": project.name, "slug": project.slug} if project else {}


def _device_json(device: Device) -> dict[str, Any]:
    return {"id": device.id, "name": device.name, "slug": device.slug, "project_id": device.project_id,
            "web_url": _url(f"/devices/{device.id}")}


def _hooks_for(project_id: str, event: str) -> list[Webhook]:
    hooks = db.session.scalars(select(Webhook).where(Webhook.project_id == project_id, Webhook.active.is_(True)))
    return [h for h in hooks if event in (h.events or [])]


def _queue(hook: Webhook, event: str, data: dict[str, Any]) -> WebhookDelivery:
    """A delivery row in the caller's transaction; its job is the caller's to enqueue."""
    delivery = WebhookDelivery(webhook_id=hook.id, event=event, status="pending", attempts=0,
                               next_attempt_at=utcnow())
    db.session.add(delivery)
    db.session.flush()
    delivery.payload = {"id": delivery.id, "type": event, "created_at": _iso(utcnow()), **data}
    return delivery


def after_move(device: Device, moved: Any) -> list[tuple[str, ...]]:
    """The door's AFTER_COMMIT_JOBS step: what a change of the device's refs announces.

    Runs in the change's transaction, after the commit index (so the new versions are read from
    it, whichever way they came in); the delivery rows join that transaction and the returned jobs
    are sent only once it commits. A plain creation commit is announced as `device.created` only.
    """
    jobs: list[tuple[str, ...]] = []
    created = moved.audit_type == "device" and moved.audit_action == "create"
    if created:
        jobs += device_created(device)
    previous = moved.previous_head
    # Cheap first: most projects have no webhook or watcher, and this runs inside every write's
    # SQL transaction (on SQLite, while the database's write lock is held).
    listening = bool(_hooks_for(device.project_id, "version.created")) or _has_watchers(device, "each")
    if listening and device.head_commit and device.head_commit != previous:
        commits, count = _indexed_since(device, previous)
        creation_only = (created and count == 1 and commits[0].parent is None
                         and [f.path for f in commits[0].files] == ["device.json"])
        if commits and not creation_only:
            jobs += versions_indexed(device, commits, count, previous)
    return jobs


def _indexed_since(device: Device, previous: str | None) -> tuple[list[CommitInfo], int]:
    """The last MAX_VERSIONS_IN_PAYLOAD commits indexed after `previous` (oldest first), and how
    many there are in all, from the commit index (rows of the current transaction included)."""
    after = 0
    if previous:
        after = db.session.scalar(select(CommitRecord.seq).where(
            CommitRecord.device_id == device.id, CommitRecord.sha == previous)) or 0
    where = and_(CommitRecord.device_id == device.id, CommitRecord.seq > after)
    count = db.session.scalar(select(func.count(CommitRecord.id)).where(where)) or 0
    rows = list(reversed(db.session.scalars(
        select(CommitRecord).where(where).order_by(CommitRecord.seq.desc()).limit(MAX_VERSIONS_IN_PAYLOAD)).all()))
    files: dict[int, list[FileChange]] = {}
    if rows:
        for path in db.session.scalars(select(CommitPath).where(CommitPath.commit_id.in_([r.id for r in rows]))
                                       .order_by(CommitPath.path)):
            files.setdefault(path.commit_id, []).append(
                FileChange(path.path, path.status, path.additions, path.deletions, path.old_path))
    infos = [CommitInfo(commit=r.sha, parent=r.parent_sha, parents=[r.parent_sha] if r.parent_sha else [],
                        author_name=r.author_pseudonym, author_email="", created_at=r.created_at,
                        message=r.message, files=files.get(r.id, [])) for r in rows]
    return infos, count


def versions_indexed(device: Device, commits: list[CommitInfo], count: int | None = None,
                     base: str | None = None) -> list[tuple[str, ...]]:
    """New versions of a device (oldest first; `count` in all, the last ones given, after `base`,
    the head before the change): one webhook event, one mail job for watchers."""
    if not commits:
        return []
    head = commits[-1]
    if count is None or count == len(commits):
        base = commits[0].parent
    web_url = _url(f"/devices/{device.id}/compare", **({"from": base} if base else {}), to=head.commit)
    jobs: list[tuple[str, ...]] = []
    hooks = _hooks_for(device.project_id, "version.created")
    if hooks:
        data = {
            "project": _project_json(db.session.get(Project, device.project_id)),
            "device": _device_json(device),
            "count": count if count is not None else len(commits),
            "head": head.commit,
            "parent": base,
            "versions": [{"commit": c.commit, "parent": c.parent, "message": c.message,
                          "author": c.author_name, "created_at": _iso(c.created_at),
                          "files": [{"path": f.path, "status": f.status, "additions": f.additions,
                                     "deletions": f.deletions} for f in c.files]}
                         for c in commits[-MAX_VERSIONS_IN_PAYLOAD:]],
            "web_url": web_url,
        }
        jobs += [("deliver_webhook", _queue(hook, "version.created", data).id) for hook in hooks]
    if _has_watchers(device, "each"):
        jobs.append(("mail_watchers", device.id, base or "0", head.commit))
    return jobs


def device_created(device: Device) -> list[tuple[str, ...]]:
    return [("deliver_webhook", _queue(hook, "device.created", {
        "project": _project_json(db.session.get(Project, device.project_id)),
        "device": _device_json(device), "web_url": _url(f"/devices/{device.id}")}).id)
        for hook in _hooks_for(device.project_id, "device.created")]


def device_noncompliant(device: Device, commit: str, failures: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """A device just started failing compliance rules (the analysis job): one event per webhook."""
    return [("deliver_webhook", _queue(hook, "device.noncompliant", {
        "project": _project_json(db.session.get(Project, device.project_id)),
        "device": _device_json(device), "commit": commit,
        "failures": [{"rule": f.get("rule"), "kind": f.get("kind"), "lines": f.get("lines", []),
                      "blocks": f.get("blocks", []), "missing": f.get("missing", "")} for f in failures],
        "web_url": _url(f"/projects/{device.project_id}/compliance")}).id)
        for hook in _hooks_for(device.project_id, "device.noncompliant")]


def device_deleted(device: Device) -> None:
    """Called by the door's delete before the row goes (the payload is built from it)."""
    for hook in _hooks_for(device.project_id, "device.deleted"):
        data = _device_json(device)
        data.pop("web_url")
        delivery = _queue(hook, "device.deleted", {"project": _project_json(db.session.get(Project, device.project_id)),
                                                   "device": data, "web_url": _url(f"/projects/{device.project_id}")})
        job_queue.enqueue("deliver_webhook", delivery.id)


# -- delivery (jobs) -------------------------------------------------------------------------------


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, str | None]:
    """(HTTP status or None, start of the response body, error text or None); only to a public
    address unless the install allows private ones, and never following a redirect
    (app.services.webhook_targets)."""
    status, text, error = webhook_targets.post(url, body, headers, timeout=REQUEST_TIMEOUT, keep=MAX_RESPONSE_KEPT)
    return status, text, error[:MAX_RESPONSE_KEPT] if error else None


def deliver(delivery_id: str, now: datetime | None = None) -> str | None:
    """One attempt of a due delivery; returns its status after the attempt (None: not due/claimed)."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
               or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now))
        .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
    ).rowcount
    db.session.commit()
    if not claimed:
        return None
    delivery = db.session.get(WebhookDelivery, delivery_id)
    hook = delivery.webhook
    body = json.dumps(_with_block_summaries(delivery.payload), separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())  # the moment of sending (receivers check it), whatever `now` schedules
    headers = {"Content-Type": "application/json", "User-Agent": "InfraTrace-Webhook/1",
               SIGNATURE_HEADER: sign(hook.secret, timestamp, body), "InfraTrace-Event": delivery.event,
               "InfraTrace-Delivery": delivery.id}
    db.session.commit()  # no transaction stays open while the receiver takes its time
    status, text, error = _post(hook.url, body, headers) if hook.active else (None, "", "webhook disabled")
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status, delivery.response_body, delivery.error = status, text, error
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
    elif delivery.attempts >= MAX_ATTEMPTS or not hook.active:
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = now + timedelta(seconds=RETRY_DELAYS[delivery.attempts - 1])
    db.session.commit()
    return delivery.status


def _with_block_summaries(payload: dict[str, Any]) -> dict[str, Any]:
    """A version event's versions with their block summaries (`summary`), once the analysis job
    has written them (it is queued before the delivery; a version without one gets an empty list)."""
    versions = payload.get("versions") if isinstance(payload, dict) else None
    device = (payload.get("device") or {}).get("id") if isinstance(payload, dict) else None
    if not versions or not device:
        return payload
    from app.models import ChangeSummary

    shas = [v.get("commit") for v in versions]
    rows = db.session.execute(
        select(CommitRecord.sha, ChangeSummary.summary).join(ChangeSummary, ChangeSummary.commit_id == CommitRecord.id)
        .where(CommitRecord.device_id == device, CommitRecord.sha.in_(shas)).order_by(ChangeSummary.id)).all()
    by_sha: dict[str, list[str]] = {}
    for sha, summary in rows:
        by_sha.setdefault(sha, []).append(summary)
    return {**payload, "versions": [{**v, "summary": by_sha.get(v.get("commit"), [])} for v in versions]}


def retry_due(now: datetime | None = None) -> int:
    """Enqueue every pending delivery whose next attempt is due (the scheduler runs this often)."""
    now = now or utcnow()
    ids = list(db.session.scalars(
        select(WebhookDelivery.id).where(WebhookDelivery.status == "pending",
                                         WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at).limit(1000)))
    for delivery_id in ids:
        job_queue.enqueue("deliver_webhook", delivery_id)
    db.session.commit()
    return len(ids)


# -- watches and e-mail ----------------------------------------------------------------------------


def _watch_scope(device: Device) -> Any:
    return and_(Watch.project_id == device.project_id,
                or_(Watch.device_id.is_(None), Watch.device_id == device.id))


def _has_watchers(device: Device, mode: str) -> bool:
    return db.session.scalar(select(Watch.id).where(_watch_scope(device), Watch.mode == mode).limit(1)) is not None


def _mode(body: dict[str, Any]) -> str:
    mode = body.get("mode", "each")
    if mode not in WATCH_MODES:
        raise ValidationError("'mode' must be one of: %(choices)s.", field="mode", code="invalid",
                              params={"choices": ", ".join(WATCH_MODES)})
    return mode


def watch(user: User, body: dict[str, Any], project_id: str | None = None, device_id: str | None = None) -> Watch:
    """Start (or change the mode of) watching a device or a whole project."""
    check_fields(body, {"mode"})
    mode = _mode(body)
    if device_id is not None:
        device, access = device_access(user, device_id)
        project_id, scope_device = device.project_id, device.id
    else:
        project, access = project_access(user, project_id or "")
        project_id, scope_device = project.id, None
    access.require("version.read")
    row = db.session.scalar(select(Watch).where(Watch.user_id == user.id, Watch.project_id == project_id,
                                                Watch.device_id.is_(None) if scope_device is None
                                                else Watch.device_id == scope_device))
    if row is None:
        cursor = db.session.scalar(select(func.max(CommitRecord.id))) or 0
        row = Watch(user_id=user.id, project_id=project_id, device_id=scope_device, digest_cursor=cursor)
        db.session.add(row)
    row.mode = mode
    db.session.commit()
    return row


def unwatch(user: User, project_id: str | None = None, device_id: str | None = None) -> None:
    if device_id is not None:
        device, _ = device_access(user, device_id)
        where = and_(Watch.device_id == device.id)
    else:
        project, _ = project_access(user, project_id or "")
        where = and_(Watch.project_id == project.id, Watch.device_id.is_(None))
    db.session.execute(delete(Watch).where(Watch.user_id == user.id, where))
    db.session.commit()


def watch_of(user: User, project_id: str, device_id: str | None = None) -> Watch | None:
    return db.session.scalar(select(Watch).where(
        Watch.user_id == user.id, Watch.project_id == project_id,
        Watch.device_id.is_(None) if device_id is None else Watch.device_id == device_id))


def list_watches(user: User) -> list[Watch]:
    return list(db.session.scalars(select(Watch).where(Watch.user_id == user.id).order_by(Watch.created_at)))


def watch_json(row: Watch) -> dict[str, Any]:
    return {"id": row.id, "project_id": row.project_id, "device_id": row.device_id, "mode": row.mode,
            "created_at": _iso(row.created_at)}


def _watchers(device: Device, mode: str) -> list[tuple[User, Watch]]:
    """Watchers who are still members of the device's team (a removed member hears nothing)."""
    rows = db.session.execute(
        select(User, Watch).join(Watch, Watch.user_id == User.id)
        .join(Membership, and_(Membership.user_id == User.id, Membership.team_id == device.team_id))
        .where(_watch_scope(device), Watch.mode == mode, User.deleted_at.is_(None)))
    seen: set[str] = set()
    out = []
    for user, row in rows:
        if user.id not in seen:
            seen.add(user.id)
            out.append((user, row))
    return out


def mail_watchers(device_id: str, base: str, head: str) -> int:
    """One mail per watcher (mode `each`) for the versions after `base` up to `head`."""
    device = db.session.get(Device, device_id)
    if device is None:
        return 0
    records = list(db.session.scalars(
        select(CommitRecord).where(CommitRecord.device_id == device.id).order_by(CommitRecord.seq.desc())
        .limit(MAX_VERSIONS_IN_PAYLOAD)))
    new: list[CommitRecord] = []
    started = False
    for record in records:
        started = started or record.sha == head
        if started:
            if record.sha == base:
                break
            new.append(record)
    if not new:
        return 0
    url = _url(f"/devices/{device.id}/compare", **({"from": base} if base != "0" else {}), to=head)
    lines = [f"- {r.created_at:%Y-%m-%d %H:%M} UTC  {r.message.splitlines()[0] if r.message else ''}"
             for r in reversed(new)]
    sent = 0
    for user, _row in _watchers(device, "each"):
        with in_language_of(user):
            # Counts stand after a colon: one wording for one and many (the catalogue has no plural forms).
            body = (gettext("New versions of %(device)s: %(count)s", device=device.name, count=len(new))
                    + "\n\n" + "\n".join(lines) + "\n\n" + gettext("Compare: %(link)s", link=url) + "\n\n"
                    + gettext("You get this mail because you watch this device or its project in InfraTrace.") + "\n")
            send_mail(user.email, gettext("[InfraTrace] %(device)s: new versions: %(count)s", device=device.name,
                                    count=len(new)), body)
        sent += 1
    db.session.commit()
    return sent


def send_digests() -> int:
    """Daily: one mail per digest watch listing what changed since its last digest."""
    sent = 0
    for row in list(db.session.scalars(select(Watch).where(Watch.mode == "digest"))):
        user = db.session.get(User, row.user_id)
        project = db.session.get(Project, row.project_id)
        member = user is not None and project is not None and user.deleted_at is None and db.session.scalar(
            select(Membership.id).where(Membership.user_id == user.id, Membership.team_id == project.team_id))
        query = (select(CommitRecord, Device).join(Device, Device.id == CommitRecord.device_id)
                 .where(Device.project_id == row.project_id, CommitRecord.id > row.digest_cursor)
                 .order_by(CommitRecord.id))
        if row.device_id is not None:
            query = query.where(Device.id == row.device_id)
        changes = list(db.session.execute(query.limit(500)))
        if not changes:
            continue
        row.digest_cursor = changes[-1][0].id
        if not member:
            continue
        lines = [f"- {device.name}: {record.created_at:%Y-%m-%d %H:%M} UTC  "
                 f"{record.message.splitlines()[0] if record.message else ''}\n  "
                 + _url(f"/devices/{device.id}/compare", **({"from": record.parent_sha} if record.parent_sha else {}),
                        to=record.sha)
                 for record, device in changes]
        with in_language_of(user):
            intro = (gettext("Changes in a device since your last digest:") if row.device_id else
                     gettext("Changes in the project %(project)s since your last digest:", project=project.name))
            send_mail(user.email,
                      gettext("[InfraTrace] daily digest of %(project)s: changes: %(count)s", project=project.name,
                        count=len(changes)),
                      intro + "\n\n" + "\n".join(lines) + "\n")
        sent += 1
    db.session.commit()
    return sent
