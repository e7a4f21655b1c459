"""The pre-receive check of a push: which refs may move, and what every new commit may hold.

git runs this file (through the hook script in the service-owned hooks directory, see hooks.py)
after the pushed objects landed in the quarantine directory and before any ref moves. A non-zero
exit makes git refuse every ref of the push and delete the quarantine, so a refused push leaves
the repository as it was. What we print on stderr reaches the pusher as `remote: ...` lines.

It runs as a script (`python .../prereceive.py`), not as `-m app.githttp.prereceive`: importing
the `app` package loads Flask and SQLAlchemy (most of a second per push); this file needs only
gitstore and pygit2. The rules come from gitstore, so a push is validated exactly as an API write.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

if __package__ in (None, ""):
    # Run as a script: the project root replaces this file's folder on the path, so our modules
    # cannot shadow anything and `gitstore` is importable.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pygit2  # noqa: E402
from pygit2.enums import FileMode, ObjectType, SortMode  # noqa: E402

from gitstore import (  # noqa: E402
    InvalidChange,
    JSONRefused,
    canonical_json,
    load_json,
    validate_config_name,
    validate_device_json,
    validate_photos,
    validate_ports,
    validate_tag_name,
)
from gitstore.secrets import SecretScanner  # noqa: E402

MAIN_REF = "refs/heads/main"
TAG_PREFIX = "refs/tags/"
ZERO_ID = "0" * 40
DEVICE_FILE, PORTS_FILE, PHOTOS_FILE, CONFIGS_DIR = "device.json", "ports.json", "photos.json", "configs"
JSON_VALIDATORS = {DEVICE_FILE: validate_device_json, PORTS_FILE: validate_ports, PHOTOS_FILE: validate_photos}
REGULAR_FILES = (FileMode.BLOB, FileMode.BLOB_EXECUTABLE)
MAX_REPORTED = 20
MAX_TAG_DEPTH = 10
LAYOUT_HINT = "allowed: device.json, configs/<name>, ports.json, photos.json"
# The only identities a commit may carry: InfraTrace pseudonyms (as the API writes) and the service.
PSEUDONYM = re.compile(
    r"(user-([0-9a-f]{6,32}) <user-\2@users\.noreply\.infratrace>)|(InfraTrace <service@infratrace\.invalid>)"
)
CANONICAL_HINT = (
    "not in canonical form: InfraTrace stores JSON with sorted keys, two-space indent, one item per "
    "line and a final newline (ports in natural name order, VLAN lists sorted), so equal content "
    "always has the same bytes"
)


class Refused(Exception):
    """One reason to refuse the push, worded for the person who pushed."""


@dataclass
class Limits:
    """The door's rules for this push (device_door.push_rules), read from the environment."""

    max_file_bytes: int
    allow_tag_delete: bool
    pusher_pseudonym: str = ""
    pusher_email: str = ""
    # sha256s of the photo blobs uploaded to the device's team; None: photo references unchecked
    # (only when the door gave no list, i.e. never for a push through the service).
    team_photos: frozenset[str] | None = None
    # The project's secret patterns (None when it does not redact): a pushed config holding a
    # value they match is refused, since a push cannot be redacted without rewriting its commits.
    secrets: SecretScanner | None = None


@dataclass
class Update:
    old: str
    new: str
    ref: str


def parse_updates(lines: Iterable[str]) -> list[Update]:
    updates = []
    for line in lines:
        parts = line.split()
        if len(parts) == 3:
            updates.append(Update(*parts))
    return updates


@dataclass
class Checker:
    """Validates one push against a repository opened with the quarantined objects visible."""

    repo: pygit2.Repository
    limits: Limits
    errors: list[str] = field(default_factory=list)
    _good_blobs: set[tuple[str, str]] = field(default_factory=set)
    _good_trees: set[str] = field(default_factory=set)
    _history_photos: set[str] | None = None

    def run(self, updates: list[Update]) -> list[str]:
        new_main = self._current_main()
        for update in updates:
            if update.ref == MAIN_REF and update.new != ZERO_ID:
                new_main = update.new
        for update in updates:
            try:
                self._check_ref(update, new_main)
            except Refused as exc:
                self.errors.append(str(exc))
        if not self.errors:
            self._check_new_commits([u.new for u in updates if u.new != ZERO_ID])
        return self.errors

    # -- refs ---------------------------------------------------------------------------------

    def _current_main(self) -> str | None:
        ref = self.repo.references.get(MAIN_REF)
        return None if ref is None else str(ref.target)

    def _commit(self, oid: str, what: str) -> pygit2.Commit:
        obj = self.repo.get(oid)
        if obj is None:
            raise Refused(f"{what}: object {oid[:12]} is missing")
        try:
            return obj.peel(pygit2.Commit)
        except (pygit2.InvalidSpecError, ValueError, pygit2.GitError):
            raise Refused(f"{what}: {oid[:12]} is not a commit") from None

    def _check_ref(self, update: Update, new_main: str | None) -> None:
        ref, old, new = update.ref, update.old, update.new
        if ref == MAIN_REF:
            if new == ZERO_ID:
                raise Refused("main: deleting main is not allowed")
            commit = self._commit(new, "main")
            if self.repo[new].type != ObjectType.COMMIT:
                raise Refused("main: must point at a commit, not a tag")
            if old != ZERO_ID and old != new and not self.repo.descendant_of(commit.id, pygit2.Oid(hex=old)):
                raise Refused(
                    "main: non-fast-forward update refused: history is never rewritten; "
                    "fetch, rebase or merge onto the current main, and push again"
                )
            return
        if ref.startswith(TAG_PREFIX):
            name = ref[len(TAG_PREFIX):]
            try:
                validate_tag_name(name)
            except InvalidChange as exc:
                raise Refused(f"{ref}: {exc.message}") from None
            if new == ZERO_ID:
                if not self.limits.allow_tag_delete:
                    raise Refused(f"{ref}: deleting a tag needs the admin role")
                return
            if old != ZERO_ID:
                raise Refused(f"{ref}: the tag already exists; named versions are never moved")
            self._check_tag_chain(ref, new)
            target = self._commit(new, ref)
            if new_main is None or (
                str(target.id) != new_main and not self.repo.descendant_of(pygit2.Oid(hex=new_main), target.id)
            ):
                raise Refused(f"{ref}: a tag must name a commit of main")
            return
        raise Refused(f"{ref}: only refs/heads/main and tags (refs/tags/*) may be pushed")

    def _check_tag_chain(self, ref: str, oid: str) -> None:
        """Every tag object down to the commit carries only the pusher's identity: a tag of a
        tag (of a tag ...) must not smuggle a real name past the outer tagger's check."""
        obj = self.repo.get(oid)
        depth = 0
        while obj is not None and obj.type == ObjectType.TAG:
            depth += 1
            if depth > MAX_TAG_DEPTH:
                raise Refused(f"{ref}: tags nested more than {MAX_TAG_DEPTH} deep")
            if obj.tagger is None:
                raise Refused(f"{ref}: a tag without a tagger is not allowed")
            self._check_identity(ref, "tagger", obj.tagger)
            obj = self.repo.get(obj.target)

    # -- commits ------------------------------------------------------------------------------

    def _check_new_commits(self, tips: list[str]) -> None:
        walker = self.repo.walk(None, SortMode.TOPOLOGICAL | SortMode.REVERSE)
        pushed = False
        for tip in tips:
            obj = self.repo.get(tip)
            if obj is not None and obj.type == ObjectType.COMMIT:
                walker.push(obj.id)
                pushed = True
        if not pushed:
            return
        for name in self.repo.references:
            try:
                walker.hide(self.repo.references[name].peel(pygit2.Commit).id)
            except (pygit2.InvalidSpecError, ValueError, pygit2.GitError, KeyError):
                continue
        for commit in walker:
            self._check_commit(commit)
            if len(self.errors) >= MAX_REPORTED:
                return

    def _check_commit(self, commit: pygit2.Commit) -> None:
        subject = commit.message.split("\n", 1)[0][:60]
        where = f"commit {str(commit.id)[:12]} ({subject})"
        for role, signature in (("author", commit.author), ("committer", commit.committer)):
            self._check_identity(where, role, signature)
        tree = commit.tree
        if str(tree.id) in self._good_trees:
            return
        before = len(self.errors)
        names = {entry.name for entry in tree}
        if DEVICE_FILE not in names:
            self.errors.append(f"{where}: {DEVICE_FILE} is missing; every version holds the device metadata")
        for entry in tree:
            path = entry.name
            if path in JSON_VALIDATORS:
                self._check_json(where, path, entry)
            elif path == CONFIGS_DIR:
                if entry.filemode != FileMode.TREE:
                    self.errors.append(f"{where}: {CONFIGS_DIR} must be a directory")
                else:
                    self._check_configs(where, self.repo[entry.id], CONFIGS_DIR + "/")
            else:
                self.errors.append(f"{where}: {path}: outside the repository layout ({LAYOUT_HINT})")
        if len(self.errors) == before:
            self._good_trees.add(str(tree.id))

    def _check_identity(self, where: str, role: str, signature: pygit2.Signature) -> None:
        """History is pseudonymous (the privacy policy): no real name or email enters a repo,
        and a pusher writes as themself only: their own pseudonym, never another user's."""
        identity = f"{signature.name} <{signature.email}>"
        if self.limits.pusher_pseudonym:
            if (signature.name, signature.email) == (self.limits.pusher_pseudonym, self.limits.pusher_email):
                return
            if PSEUDONYM.fullmatch(identity):
                self.errors.append(
                    f"{where}: the {role} '{identity}' is not you: a push may only carry your own "
                    f"pseudonym ({self.limits.pusher_pseudonym}); run `git commit --amend --reset-author` "
                    "(or rebase) with the identity below and push again"
                )
                return
        elif PSEUDONYM.fullmatch(identity):
            return
        name = self.limits.pusher_pseudonym or "user-<your id>"
        self.errors.append(
            f"{where}: the {role} '{signature.name} <{signature.email}>' would publish a name or email; "
            f"InfraTrace keeps device history pseudonymous. Run `git config user.name {name}` and "
            f"`git config user.email {name}@users.noreply.infratrace`, then `git commit --amend --reset-author` "
            "(or rebase) and push again"
        )

    def _size(self, oid: pygit2.Oid) -> int:
        return self.repo.odb.read_header(oid)[1]

    def _check_size(self, where: str, path: str, oid: pygit2.Oid) -> bool:
        size = self._size(oid)
        if size > self.limits.max_file_bytes:
            self.errors.append(
                f"{where}: {path}: {size} bytes is over the limit of {self.limits.max_file_bytes} bytes per file"
            )
            return False
        return True

    def _check_json(self, where: str, path: str, entry: pygit2.Object) -> None:
        if entry.filemode not in REGULAR_FILES:
            self.errors.append(f"{where}: {path}: must be a regular file")
            return
        key = (path, str(entry.id))
        if key in self._good_blobs:
            return
        if not self._check_size(where, path, entry.id):
            return
        data = self.repo[entry.id].data
        try:
            parsed = load_json(data)
        except JSONRefused as exc:
            self.errors.append(f"{where}: {path}: {exc.message}")
            return
        try:
            clean = JSON_VALIDATORS[path](parsed)
            canonical = canonical_json(clean)
        except InvalidChange as exc:
            self.errors.append(f"{where}: {path}: {exc.field}: {exc.message}")
            return
        except (TypeError, ValueError) as exc:
            self.errors.append(f"{where}: {path}: {exc}")
            return
        if canonical != data:
            self.errors.append(f"{where}: {path}: {CANONICAL_HINT}")
            return
        if path == PHOTOS_FILE and not self._check_photo_owner(where, clean):
            return
        self._good_blobs.add(key)

    def _check_photo_owner(self, where: str, photos: list[dict]) -> bool:
        """A photo reference must name a blob uploaded to this team, or one the device's own
        history (before this push) already names: a sha256 of another team's photo is in every
        photo URL, and knowing it must not let a push read those bytes through this device."""
        allowed = self.limits.team_photos
        if allowed is None:
            return True
        foreign = [p["sha256"] for p in photos if p.get("sha256") not in allowed]
        if foreign and self._history_photos is None:
            self._history_photos = _history_photos(self.repo)
        foreign = [sha for sha in foreign if sha not in (self._history_photos or set())]
        if foreign:
            self.errors.append(f"{where}: {PHOTOS_FILE}: photo {foreign[0]} was not uploaded to this team; "
                               "upload photos through InfraTrace, then pull and push again")
            return False
        return True

    def _check_configs(self, where: str, tree: pygit2.Tree, prefix: str) -> None:
        for entry in tree:
            path = prefix + entry.name
            if entry.filemode == FileMode.TREE:
                self._check_configs(where, self.repo[entry.id], path + "/")
                continue
            if entry.filemode not in REGULAR_FILES:
                kind = "a symbolic link" if entry.filemode == FileMode.LINK else "a submodule"
                self.errors.append(f"{where}: {path}: {kind} is not allowed, only regular files")
                continue
            key = ("config:" + path, str(entry.id))
            if key in self._good_blobs:
                continue
            try:
                validate_config_name(path[len(CONFIGS_DIR) + 1:])
            except InvalidChange as exc:
                self.errors.append(f"{where}: {path}: {exc.message}")
                continue
            if self._check_size(where, path, entry.id) and self._check_secrets(where, path, entry.id):
                self._good_blobs.add(key)

    def _check_secrets(self, where: str, path: str, oid: pygit2.Oid) -> bool:
        if self.limits.secrets is None:
            return True
        hits = list(self.limits.secrets.hits(self.repo[oid].data))
        for hit in hits[:MAX_REPORTED]:
            # Never echo the value: the refusal is printed on the pusher's terminal and in CI logs.
            self.errors.append(
                f"{where}: {path}:{hit.line}: holds a secret ({hit.kind}); this project keeps secrets out of "
                "its history: replace the value with its <redacted:...> placeholder (as the API stores it), "
                "commit and push again"
            )
        return not hits


def _history_photos(repo: pygit2.Repository) -> set[str]:
    """Every photo sha256 any commit reachable from the current refs names (before this push)."""
    walker = repo.walk(None, SortMode.NONE)
    pushed = False
    for name in repo.references:
        try:
            walker.push(repo.references[name].peel(pygit2.Commit).id)
            pushed = True
        except (pygit2.InvalidSpecError, ValueError, pygit2.GitError, KeyError):
            continue
    shas: set[str] = set()
    if not pushed:
        return shas
    seen_blobs: set[str] = set()
    for commit in walker:
        try:
            entry = commit.tree[PHOTOS_FILE]
        except KeyError:
            continue
        if str(entry.id) in seen_blobs:
            continue
        seen_blobs.add(str(entry.id))
        try:
            photos = load_json(repo[entry.id].data)
        except JSONRefused:
            continue  # an unreadable file names no photo
        for photo in photos if isinstance(photos, list) else []:
            if isinstance(photo, dict) and isinstance(photo.get("sha256"), str):
                shas.add(photo["sha256"])
    return shas


def _team_photos(path: str | None) -> frozenset[str] | None:
    if not path:
        return None
    with open(path, encoding="ascii") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def open_with_quarantine(git_dir: str, env: dict[str, str]) -> pygit2.Repository:
    """The repository, with the objects of this push (still in quarantine) readable too."""
    flags = pygit2.enums.RepositoryOpenFlag.NO_SEARCH | pygit2.enums.RepositoryOpenFlag.BARE
    repo = pygit2.Repository(git_dir, flags)
    quarantine = env.get("GIT_QUARANTINE_PATH") or env.get("GIT_OBJECT_DIRECTORY")
    if quarantine:
        repo.odb.add_disk_alternate(os.path.abspath(quarantine))
    return repo


def main() -> int:
    env = dict(os.environ)
    try:
        limits = Limits(
            max_file_bytes=int(env["INFRATRACE_MAX_FILE_BYTES"]),
            allow_tag_delete=env.get("INFRATRACE_ALLOW_TAG_DELETE") == "1",
            pusher_pseudonym=env.get("INFRATRACE_PUSHER_PSEUDONYM", ""),
            pusher_email=env.get("INFRATRACE_PUSHER_EMAIL", ""),
            team_photos=_team_photos(env.get("INFRATRACE_PHOTO_ALLOWLIST")),
            secrets=SecretScanner.from_json(env["INFRATRACE_SECRET_PATTERNS"])
            if env.get("INFRATRACE_SECRET_PATTERNS") else None,
        )
    except (KeyError, ValueError, TypeError, OSError):
        print("InfraTrace: push refused: the push check is not configured", file=sys.stderr)
        return 1
    updates = parse_updates(sys.stdin.read().splitlines())
    repo = open_with_quarantine(env.get("GIT_DIR", "."), env)
    try:
        errors = Checker(repo, limits).run(updates)
    finally:
        repo.free()
    if not errors:
        return 0
    print("InfraTrace refused this push; nothing was changed:", file=sys.stderr)
    for line in errors[:MAX_REPORTED]:
        print(f"  {line}", file=sys.stderr)
    if len(errors) > MAX_REPORTED:
        print(f"  ... and more problems after these {MAX_REPORTED}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
