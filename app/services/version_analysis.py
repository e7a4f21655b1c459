"""What each new version did, worked out after the write: block summaries and compliance.

Runs as the `analyse_device` job (enqueued by the commit index whenever a device gets new commits),
so a write never waits for the parser. Safe to run twice: the device's `analysed_seq` moves by
compare-and-swap, and a run that lost the race rolls back.
"""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import select, update

from app.extensions import db
from app.models import ChangeSummary, CommitPath, CommitRecord, Device, Membership, Project, User
from app.services import audit, compliance, config_blocks, job_queue, notifications
from app.services.config_index import as_text
from app.services.gitstore_bridge import open_repo
from app.services.mail import in_language_of, send_mail

log = logging.getLogger(__name__)

# Commits summarised per run; a longer backlog (an import) continues in a new run.
BATCH = 200


def _summaries(device: Device, commits: list[CommitRecord]) -> list[dict]:
    paths: dict[int, list[CommitPath]] = {}
    for row in db.session.scalars(select(CommitPath).where(CommitPath.commit_id.in_([c.id for c in commits]))):
        if row.path.startswith("configs/") or (row.old_path or "").startswith("configs/"):
            paths.setdefault(row.commit_id, []).append(row)
    rows: list[dict] = []
    if not paths:
        return rows
    platform = None
    with open_repo(device) as repo:
        for commit in commits:
            for change in paths.get(commit.id, []):
                old = b""
                if commit.parent_sha and change.status != "added":
                    try:
                        old = repo.read_file(commit.parent_sha, change.old_path or change.path)
                    except FileNotFoundError:
                        old = b""
                new = b""
                if change.status != "deleted":
                    try:
                        new = repo.read_file(commit.sha, change.path)
                    except FileNotFoundError:
                        new = b""
                old_text, new_text = as_text(old), as_text(new)
                if platform is None:
                    platform = compliance.device_platform(device, new_text or old_text)
                if not old_text or not new_text:
                    continue  # a config added or removed as a whole: the file list already says it
                for change_block in config_blocks.summarize(platform, old_text, new_text):
                    rows.append({"commit_id": commit.id, "device_id": device.id, "team_id": device.team_id,
                                 "path": change.path, "block": change_block.block[:500],
                                 "summary": change_block.summary, "created_at": commit.created_at})
    # One row per (commit, path, block).
    unique = {(r["commit_id"], r["path"], r["block"]): r for r in rows}
    return list(unique.values())


def _notify_failing(device: Device, result_failures: list[dict]) -> None:
    """A device just became non-compliant: the project's webhooks (event `device.noncompliant`)
    and the team's owners and admins (email) hear of it."""
    for job in notifications.device_noncompliant(device, device.head_commit or "", result_failures):
        job_queue.enqueue(*job)
    project = db.session.get(Project, device.project_id)
    rules = ", ".join(sorted({f["rule"] for f in result_failures}))
    audit.record(device.team_id, None, "noncompliant", "device", device.id, {"rules": rules})
    recipients = db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == device.team_id, Membership.role.in_(("owner", "admin")),
               User.deleted_at.is_(None)))
    for user in recipients:
        with in_language_of(user):
            send_mail(user.email, _("InfraTrace: %(device)s is not compliant", device=device.name),
                      _("The device %(device)s in project %(project)s now fails these compliance rules: %(rules)s.",
                        device=device.name, project=project.name if project else "", rules=rules) + "\n")


def analyse_device(device_id: str) -> None:
    device = db.session.get(Device, device_id)
    if device is None:
        return
    start = device.analysed_seq or 0
    commits = list(db.session.scalars(
        select(CommitRecord).where(CommitRecord.device_id == device.id, CommitRecord.seq > start)
        .order_by(CommitRecord.seq).limit(BATCH)))
    if commits:
        rows = _summaries(device, commits)
        moved = db.session.execute(
            update(Device).where(Device.id == device.id, Device.analysed_seq == start)
            .values(analysed_seq=commits[-1].seq, updated_at=Device.updated_at))
        if moved.rowcount != 1:
            db.session.rollback()
            return
        if rows:
            db.session.execute(ChangeSummary.__table__.insert(), rows)
        if len(commits) == BATCH:
            job_queue.enqueue("analyse_device", device.id)
    result, previous = compliance.evaluate_device_head(device)
    if result is not None and result.status == "failing" and previous != "failing":
        _notify_failing(device, result.failures)
    db.session.commit()


def evaluate_project(project_id: str) -> None:
    """Rules changed: evaluate every device of the project at its head again."""
    ids = list(db.session.scalars(select(Device.id).where(Device.project_id == project_id)))
    for device_id in ids:
        device = db.session.get(Device, device_id)
        if device is None:
            continue
        result, previous = compliance.evaluate_device_head(device)
        if result is not None and result.status == "failing" and previous != "failing":
            _notify_failing(device, result.failures)
        db.session.commit()


def summaries_for(commit_ids: list[int]) -> dict[int, list[str]]:
    """Block sentences by commit row id, for history rows and compare headers."""
    out: dict[int, list[str]] = {}
    if not commit_ids:
        return out
    for row in db.session.scalars(select(ChangeSummary).where(ChangeSummary.commit_id.in_(commit_ids))
                                  .order_by(ChangeSummary.id)):
        out.setdefault(row.commit_id, []).append(row.summary)
    return out


def summaries_between(device_id: str, from_sha: str, to_sha: str, limit: int = 50) -> list[tuple[int, str]]:
    """(version number, sentence) of the block changes after `from_sha` up to `to_sha` (newer side),
    for the compare header; empty when `to` is not newer than `from` in the device's history."""
    seqs = {sha: seq for sha, seq in db.session.execute(select(CommitRecord.sha, CommitRecord.seq).where(
        CommitRecord.device_id == device_id, CommitRecord.sha.in_([from_sha, to_sha])))}
    low, high = seqs.get(from_sha), seqs.get(to_sha)
    if low is None or high is None or high <= low:
        return []
    return [(seq, summary) for seq, summary in db.session.execute(
        select(CommitRecord.seq, ChangeSummary.summary).join(ChangeSummary, ChangeSummary.commit_id == CommitRecord.id)
        .where(CommitRecord.device_id == device_id, CommitRecord.seq > low, CommitRecord.seq <= high)
        .order_by(CommitRecord.seq, ChangeSummary.id).limit(limit))]
