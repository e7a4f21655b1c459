"""Where a device's repository lives on disk."""

from __future__ import annotations

import uuid
from pathlib import Path


def repo_path_for(root: Path, device_uuid: str) -> Path:
    """`root/<hex[0:2]>/<hex[2:4]>/<uuid>.git`.

    The path is derived from the device's UUID only, never from a user-given name, so renames
    move nothing and no user input reaches the file system. Fanning out by two levels keeps
    directories small with millions of devices.
    """
    try:
        parsed = uuid.UUID(str(device_uuid))
    except (ValueError, AttributeError, TypeError) as exc:
        raise ValueError(f"not a UUID: {device_uuid!r}") from exc
    canonical = str(parsed)  # lower case, hyphenated: one spelling, one directory
    hexed = parsed.hex
    return Path(root) / hexed[0:2] / hexed[2:4] / f"{canonical}.git"
