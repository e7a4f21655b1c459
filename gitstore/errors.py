"""Exceptions raised by gitstore; the app maps them to HTTP statuses."""

from __future__ import annotations


class GitStoreError(Exception):
    """Base class: anything gitstore refuses or fails to do."""


class RepositoryNotFound(GitStoreError, FileNotFoundError):
    """No device repository at the given path."""


class ConflictError(GitStoreError):
    """The head moved away from the parent the caller based its write on."""

    def __init__(self, current_head: str | None) -> None:
        super().__init__(f"head is {current_head}, not the expected parent")
        self.current_head = current_head


class RevisionNotFound(GitStoreError, LookupError):
    """A revision (or a tag) that does not name a commit of this repository."""


class AmbiguousRevision(GitStoreError, LookupError):
    """A short commit id that matches more than one object."""


class InvalidChange(GitStoreError, ValueError):
    """Input that may not be stored; `field` says where (e.g. `ports[3].vlans`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class TagExists(GitStoreError):
    """A tag of that name already exists."""


class RepositoryBusy(GitStoreError):
    """The repository's write lock (ours, or git's lock on a ref) could not be had in time."""
