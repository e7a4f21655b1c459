"""Keeps the SQL commit index in step with a device's repository.

`sync_device` runs right after every ref move (API write, push, tag); it indexes whatever the repo
has that the index lacks, so a crash between the ref move and the SQL write is repaired by the
next sync. `rebuild_device` throws the rows away and indexes the whole history again.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select

from app.extensions import db
from app.models import ChangeSummary, CommitPath, CommitRecord, Device, User
from app.services import config_index, job_queue
from app.services.gitstore_bridge import open_repo
from gitstore import CommitInfo, CommitResult

PSEUDONYM_DOMAIN = "@users.noreply.infratrace"


def _author_ids(commits: list[CommitInfo]) -> dict[str, str]:
    """Maps pseudonymous author emails back to user ids (SQL is the only place that knows)."""
    pseudonyms = {
        c.author_email[len("user-"): -len(PSEUDONYM_DOMAIN)]
        for c in commits
        if c.author_email.startswith("user-") and c.author_email.endswith(PSEUDONYM_DOMAIN)
    }
    if not pseudonyms:
        return {}
    rows = db.session.execute(select(User.pseudonym, User.id).where(User.pseudonym.in_(pseudonyms)))
    return {f"user-{pseudonym}{PSEUDONYM_DOMAIN}": user_id for pseudonym, user_id in rows}


def _add(device: Device, commits: list[CommitInfo], first_seq: int, authors: dict[str, str] | None = None) -> None:
    """Insert the commits' rows and their paths: two statements however many commits there are.

    Core inserts, not ORM objects: the unit of work costs more than the SQL itself here, and
    nothing in the session reads these rows back through relationships.
    """
    if not commits:
        return
    authors = _author_ids(commits) if authors is None else authors
    rows = [
        {
            "device_id": device.id,
            "sha": info.commit,
            "parent_sha": info.parent,
            "seq": first_seq + offset,
            "created_at": info.created_at,
            "author_id": authors.get(info.author_email),
            "author_pseudonym": info.author_name,
            "message": info.message,
            "files_changed": len(info.files),
            "additions": sum(f.additions for f in info.files),
            "deletions": sum(f.deletions for f in info.files),
        }
        for offset, info in enumerate(commits)
    ]
    ids = db.session.scalars(
        insert(CommitRecord).returning(CommitRecord.id, sort_by_parameter_order=True), rows
    ).all()
    paths = [
        {"commit_id": commit_id, "device_id": device.id, "seq": row["seq"], "path": f.path,
         "old_path": f.old_path, "status": f.status, "additions": f.additions, "deletions": f.deletions}
        for commit_id, row, info in zip(ids, rows, commits, strict=True)
        for f in info.files
    ]
    if paths:
        db.session.execute(insert(CommitPath), paths)


def _latest(device: Device) -> CommitRecord | None:
    return db.session.scalar(
        select(CommitRecord).where(CommitRecord.device_id == device.id).order_by(CommitRecord.seq.desc()).limit(1)
    )


def _latest_seq_sha(device: Device) -> tuple[int, str] | None:
    """(seq, sha) of the newest indexed commit: two columns, no ORM object to build."""
    row = db.session.execute(
        select(CommitRecord.seq, CommitRecord.sha).where(CommitRecord.device_id == device.id)
        .order_by(CommitRecord.seq.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def _refresh_summary(device: Device, head: str | None) -> None:
    device.head_commit = head
    device.version_count = db.session.scalar(
        select(func.count(CommitRecord.id)).where(CommitRecord.device_id == device.id)
    ) or 0
    latest = _latest(device)
    device.last_changed_at = latest.created_at if latest else None


def sync_device(device: Device) -> int:
    """Index the commits the repo has and the index lacks; returns how many were added.

    The caller commits the SQL session. If the indexed head is no longer an ancestor of the repo's
    head (the index is damaged), the device is rebuilt from scratch. Every call (any ref move,
    tags included) goes through the door (device_door.py), which also schedules the mirror.
    """
    with open_repo(device) as repo:
        head = repo.head()
        latest = _latest(device)
        if head is None:
            new: list[CommitInfo] = []
        elif latest is not None and latest.sha == head:
            new = []
        else:
            known = latest.sha if latest is not None else None
            if known is not None and not repo.is_ancestor(known, head):
                return rebuild_device(device)
            new = repo.commits_between(known, head)
    _add(device, new, (latest.seq + 1) if latest else 1)
    db.session.flush()
    _refresh_summary(device, head)
    if latest is None:
        config_index.rebuild(device, head)
    elif new:
        config_index.refresh(device, head, _changed_paths(new))
    if new:
        job_queue.enqueue("analyse_device", device.id)
    return len(new)


def _changed_paths(commits: list[CommitInfo]) -> set[str]:
    return {path for info in commits for f in info.files for path in (f.path, f.old_path) if path}


def record_commit(device: Device, result: CommitResult, author: User | None, message: str) -> None:
    """Index a commit this process just made (the caller holds the repo's write lock)."""
    record_commits(device, [(result, message)], author)


def record_commits(
    device: Device, results: list[tuple[CommitResult, str]], author: User | None
) -> None:
    """Index a chain of commits this process just made, oldest first (caller holds the lock).

    When the index already ends at the first commit's parent, the rows are written from what the
    writes returned, without reopening the repo or diffing again; otherwise a full sync.
    """
    if not results:
        return
    latest = _latest_seq_sha(device)
    if latest is None or latest[1] != results[0][0].parent:
        sync_device(device)
        return
    email = author.author_email if author else ""
    infos = [
        CommitInfo(
            commit=result.commit, parent=result.parent, parents=[result.parent] if result.parent else [],
            author_name=author.author_name if author else "", author_email=email,
            created_at=result.created_at, message=message.strip(), files=result.files,
        )
        for result, message in results
    ]
    _add(device, infos, latest[0] + 1, {email: author.id} if author else {})
    config_index.refresh(device, results[-1][0].commit, _changed_paths(infos))
    job_queue.enqueue("analyse_device", device.id)
    device.head_commit = results[-1][0].commit
    device.version_count = latest[0] + len(results)  # seqs run 1..n without gaps
    device.last_changed_at = results[-1][0].created_at


def rebuild_device(device: Device) -> int:
    """Drop the device's index rows and index its whole history again from the repo.

    Block summaries are derived from commits that do not change, so they are kept by commit id
    across the rebuild (and the analysis resumes where it was), instead of waiting for a job.
    """
    kept = _summaries_by_sha(device)
    analysed_sha = db.session.scalar(select(CommitRecord.sha).where(
        CommitRecord.device_id == device.id, CommitRecord.seq == (device.analysed_seq or 0)))
    db.session.execute(delete(ChangeSummary).where(ChangeSummary.device_id == device.id))
    db.session.execute(delete(CommitPath).where(CommitPath.device_id == device.id))
    db.session.execute(delete(CommitRecord).where(CommitRecord.device_id == device.id))
    with open_repo(device) as repo:
        head = repo.head()
        commits = repo.commits_between(None, head) if head else []
    _add(device, commits, 1)
    db.session.flush()
    _refresh_summary(device, head)
    _restore_summaries(device, kept, analysed_sha)
    config_index.rebuild(device, head)
    job_queue.enqueue("analyse_device", device.id)
    return len(commits)


def _summaries_by_sha(device: Device) -> dict[str, list[dict[str, object]]]:
    rows = db.session.execute(
        select(CommitRecord.sha, ChangeSummary.path, ChangeSummary.block, ChangeSummary.summary,
               ChangeSummary.created_at)
        .join(ChangeSummary, ChangeSummary.commit_id == CommitRecord.id)
        .where(CommitRecord.device_id == device.id).order_by(ChangeSummary.id)).all()
    kept: dict[str, list[dict[str, object]]] = {}
    for sha, path, block, summary, created_at in rows:
        kept.setdefault(sha, []).append({"path": path, "block": block, "summary": summary, "created_at": created_at})
    return kept


def _restore_summaries(device: Device, kept: dict[str, list[dict[str, object]]], analysed_sha: str | None) -> None:
    ids = {sha: commit_id for sha, commit_id in db.session.execute(select(CommitRecord.sha, CommitRecord.id).where(
        CommitRecord.device_id == device.id))}
    rows = [{"commit_id": ids[sha], "device_id": device.id, "team_id": device.team_id, **item}
            for sha, items in kept.items() if sha in ids for item in items]
    if rows:
        db.session.execute(insert(ChangeSummary), rows)
    seq = db.session.scalar(select(CommitRecord.seq).where(
        CommitRecord.device_id == device.id, CommitRecord.sha == analysed_sha)) if analysed_sha else None
    device.analysed_seq = seq or 0


def reindex(device_id: str | None = None) -> tuple[int, int]:
    """Rebuild the index of one device (LookupError if unknown) or of all; returns (devices, commits).

    Through the reconciler, so a drift found on the way is also audited and mirrored.
    """
    from app.services.reconcile import reconcile

    devices, commits, _ = reconcile(device_id, reason="reindex", rebuild=True)
    return devices, commits
