"""Named versions: annotated tags on commits of main."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pygit2
from pygit2.enums import ObjectType

from .canonical import natural_key
from .errors import InvalidChange, RevisionNotFound, TagExists
from .identity import clean_message, signature
from .models import TagInfo
from .refs import move_ref
from .revisions import FULL_ID, TAG_PREFIX, UNSAFE_CHARS, resolve

if TYPE_CHECKING:
    from collections.abc import Iterator
    from contextlib import AbstractContextManager

    from .models import Author

# Names that `resolve` (and git) read as something else than a tag.
_RESERVED = frozenset({"HEAD", "main", "@"})
# Beyond what git refuses: C1 controls and line/paragraph separators, never in a name people read.
_NAME_CONTROL = re.compile("[\x80-\x9f\u2028\u2029]")


def validate_tag_name(name: str) -> str:
    """A name git accepts under refs/tags/ that cannot be mistaken for an option or a commit."""
    if (
        not isinstance(name, str)
        or not name
        or len(name) > 100
        or name.startswith("-")
        or name in _RESERVED
        or UNSAFE_CHARS.search(name)  # the C check stops at NUL: "a\0b" would pass as "a"
        or _NAME_CONTROL.search(name)
        or FULL_ID.fullmatch(name.lower())
        or not pygit2.reference_is_valid_name(TAG_PREFIX + name)
    ):
        raise InvalidChange("name", f"invalid tag name {name!r}")
    return name


class TagsMixin:
    """Tag operations of DeviceRepo (kept apart to keep each module about one thing)."""

    raw: pygit2.Repository
    path: Path

    def write_lock(self) -> AbstractContextManager[None]:  # provided by DeviceRepo
        raise NotImplementedError

    def create_tag(self, name: str, rev: str, message: str, tagger: Author) -> TagInfo:
        """An annotated tag `name` on the commit `rev`; TagExists if the name is taken."""
        validate_tag_name(name)
        text = clean_message(message or "", field="message", required=False)
        tagger_sig = signature(tagger, int(time.time()), field="tagger")
        target = resolve(self.raw, rev)
        with self.write_lock():
            if self.raw.references.get(TAG_PREFIX + name) is not None:
                raise TagExists(name)
            # The tag object is written first and flushed, then the ref: libgit2's create_tag
            # would write both in one call, leaving no place for the durability barrier between.
            tag_id = self.raw.odb.write(ObjectType.TAG, _tag_object(name, target, tagger_sig, text))
            # Must not exist yet (TagExists otherwise): compare-and-swap with the barriers.
            move_ref(self.raw, self.path, TAG_PREFIX + name, tag_id, None, "tag")
        return self._tag_info(name)

    def list_tags(self) -> list[TagInfo]:
        """All tags pointing (possibly through tag objects) at commits, in natural name order."""
        result = []
        for name in self._tag_names():
            try:
                result.append(self._tag_info(name))
            except RevisionNotFound:
                continue  # a pushed tag on a tree or blob is no named version
        return sorted(result, key=lambda t: natural_key(t.name))

    def delete_tag(self, name: str) -> None:
        validate_tag_name(name)
        with self.write_lock():
            ref = self.raw.references.get(TAG_PREFIX + name)
            if ref is None:
                raise RevisionNotFound(f"no tag {name!r}")
            move_ref(self.raw, self.path, TAG_PREFIX + name, None, str(ref.target), "tag delete")

    def _tag_names(self) -> Iterator[str]:
        for refname in self.raw.references:
            if refname.startswith(TAG_PREFIX):
                yield refname[len(TAG_PREFIX):]

    def _tag_info(self, name: str) -> TagInfo:
        ref = self.raw.references.get(TAG_PREFIX + name)
        if ref is None:
            raise RevisionNotFound(f"no tag {name!r}")
        obj = self.raw[ref.target]
        try:
            commit = obj.peel(pygit2.Commit)
        except (pygit2.InvalidSpecError, ValueError, pygit2.GitError) as exc:
            raise RevisionNotFound(f"tag {name!r} is not on a commit") from exc
        if isinstance(obj, pygit2.Tag):
            tagger = obj.tagger
            return TagInfo(
                name, str(commit.id), obj.message.rstrip("\n"),
                tagger.name if tagger else None,
                datetime.fromtimestamp(tagger.time, tz=UTC) if tagger else None,
            )
        return TagInfo(name, str(commit.id), "", None, None)


def _tag_object(name: str, target: str, tagger: pygit2.Signature, message: str) -> bytes:
    """The raw bytes of an annotated tag object on a commit, exactly as git writes one."""
    offset = tagger.offset
    sign = "-" if offset < 0 else "+"
    zone = f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    header = (f"object {target}\ntype commit\ntag {name}\n"
              f"tagger {tagger.name} <{tagger.email}> {tagger.time} {zone}\n\n")
    return (header + message).encode("utf-8")
