"""A device's mirror and integrity state, for its page and its JSON (`mirror_state`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.models import Device, utcnow


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def mirror_state(device: Device) -> dict[str, Any]:
    """What object storage holds of the device and how far behind it is.

    `in_sync` is true when the mirrored head is the device's head; otherwise `lag_seconds` counts
    from the last change that is not yet mirrored. `error` is the last failed run's error (cleared
    by the next success), `integrity_error` the last failed `git fsck`.
    """
    in_sync = device.head_commit is not None and device.mirrored_head == device.head_commit
    lag = None
    if not in_sync and device.last_changed_at is not None:
        lag = max(0, int((utcnow() - device.last_changed_at).total_seconds()))
    return {
        "mirrored_head": device.mirrored_head,
        "mirrored_at": _iso(device.mirrored_at),
        "in_sync": in_sync,
        "lag_seconds": lag,
        "error": device.mirror_error,
        "failed_attempts": device.mirror_attempts or 0,
        "integrity_error": device.integrity_error,
        "checked_at": _iso(device.checked_at),
    }
