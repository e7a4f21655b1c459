"""Commit and tag metadata: signatures and messages, checked so `git fsck --strict` accepts them."""

from __future__ import annotations

import re

import pygit2

from .errors import InvalidChange
from .models import COMMITTER, Author

_MESSAGE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_message(message: str, field: str = "message", required: bool = True) -> str:
    """Git's own cleanup (outer white space off, one final newline); NUL is refused by fsck."""
    if not isinstance(message, str):
        raise InvalidChange(field, "must be a string")
    text = message.strip()
    if required and not text:
        raise InvalidChange(field, "a message is required")
    if _MESSAGE_CONTROL.search(text):
        raise InvalidChange(field, "control characters are not allowed")
    return text + "\n"


def signature(person: Author, when: int, field: str = "author") -> pygit2.Signature:
    """A UTC signature; names with <, > or newlines would corrupt the object header."""
    for value in (person.name, person.email):
        if not isinstance(value, str) or not value.strip() or any(c in value for c in "<>\n\0"):
            raise InvalidChange(field, "name and email must be non-empty, without <, > or newlines")
    return pygit2.Signature(person.name, person.email, when, 0)


def committer(when: int) -> pygit2.Signature:
    """Every object is committed by the service; only the author is a (pseudonymous) person."""
    return pygit2.Signature(COMMITTER.name, COMMITTER.email, when, 0)
