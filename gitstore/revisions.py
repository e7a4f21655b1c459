"""Turning user-given revision strings into commit ids, refusing anything option- or range-like."""

from __future__ import annotations

import re

import pygit2

from .errors import AmbiguousRevision, RevisionNotFound

MAIN_REF = "refs/heads/main"
TAG_PREFIX = "refs/tags/"
FULL_ID = re.compile(r"[0-9a-f]{40}")
_SHORT_ID = re.compile(r"[0-9a-f]{4,39}")
# White space and control characters: never part of a revision or a tag name.
UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f]")
# Ancestry suffixes as git writes them: `HEAD~3`, `v1^`, `abc123~2^` (first parents only).
_ANCESTRY = re.compile(r"(?:~\d{0,6}|\^1?)+$")
_ANCESTRY_STEP = re.compile(r"~(\d{0,6})|\^1?")


def head(repo: pygit2.Repository) -> str | None:
    """The commit `main` points at, None before the first commit."""
    ref = repo.references.get(MAIN_REF)
    return None if ref is None else str(ref.target)


def _peel_commit(obj: pygit2.Object, rev: str) -> str:
    try:
        return str(obj.peel(pygit2.Commit).id)
    except (pygit2.InvalidSpecError, ValueError, KeyError, pygit2.GitError) as exc:
        raise RevisionNotFound(f"{rev!r} is not a commit") from exc


def resolve(repo: pygit2.Repository, rev: str) -> str:
    """Full id, unique id prefix (>= 4 hex), tag (peeled), `HEAD` or `main` -> full commit id.

    Strings starting with '-' (which git tools read as options), containing '..' (ranges), white
    space or control characters are refused outright, so a rev is safe to pass to git later.
    """
    if (
        not isinstance(rev, str)
        or not rev
        or len(rev) > 255
        or rev.startswith("-")
        or ".." in rev
        or UNSAFE_CHARS.search(rev)
    ):
        raise RevisionNotFound(f"invalid revision {rev!r}")
    suffix = _ANCESTRY.search(rev)
    if suffix and suffix.start() > 0:
        return _walk_back(repo, resolve(repo, rev[: suffix.start()]), suffix.group(0), rev)
    if rev in ("HEAD", "main"):
        current = head(repo)
        if current is None:
            raise RevisionNotFound("the repository has no commit")
        return current
    lowered = rev.lower()
    if FULL_ID.fullmatch(lowered):
        obj = repo.get(lowered)
        if obj is None:
            raise RevisionNotFound(f"no commit {rev}")
        return _peel_commit(obj, rev)
    # A tag wins over a short id, as in git: a tag named "2024" is all hex digits.
    if pygit2.reference_is_valid_name(TAG_PREFIX + rev):
        ref = repo.references.get(TAG_PREFIX + rev)
        if ref is not None:
            return _peel_commit(ref.peel(), rev)
    if _SHORT_ID.fullmatch(lowered):
        try:
            obj = repo[lowered]
        except pygit2.AmbiguousError as exc:
            raise AmbiguousRevision(f"{rev!r} matches more than one object") from exc
        except (KeyError, ValueError) as exc:
            raise RevisionNotFound(f"no commit {rev}") from exc
        return _peel_commit(obj, rev)
    raise RevisionNotFound(f"unknown revision {rev!r}")


def _walk_back(repo: pygit2.Repository, start: str, suffix: str, rev: str) -> str:
    """Follow first parents as `~N` / `^` ask; RevisionNotFound past the first commit."""
    steps = sum(int(m.group(1) or 1) if m.group(0).startswith("~") else 1 for m in _ANCESTRY_STEP.finditer(suffix))
    commit = repo[start]
    for _ in range(steps):
        if not commit.parent_ids:
            raise RevisionNotFound(f"{rev!r} goes back past the first commit")
        commit = repo[commit.parent_ids[0]]
    return str(commit.id)
