"""Editing a config in the browser: keep the device's line endings, preview the change, and
detect a stale edit (someone saved since the form was opened).

Browsers send a textarea's lines with CRLF whatever the text held, so a pasted config would
otherwise become a whole-file change. The write itself goes through `versions.write_version`.
"""

from __future__ import annotations

import base64
from typing import Any

from app.models import User
from app.services import compare, versions
from app.services.errors import NotFound
from gitstore import Diff
from gitstore.diff import ports_diff, render_contents

PREVIEW_LINES = 5000


def current_config(user: User, device_id: str, name: str, rev: str = "HEAD") -> bytes | None:
    """The config as it is at `rev` (None: no such config yet, or the device has no version)."""
    try:
        return versions.read_file(user, device_id, rev, f"configs/{name}")
    except NotFound:
        return None


def match_line_endings(existing: bytes | None, new: bytes, from_textarea: bool) -> bytes:
    """`new` with the line endings of `existing`: all CRLF stays CRLF, all LF stays LF (a mixed
    file is left as sent). A new config typed or pasted in the browser is stored with LF. When the
    existing config ends with a newline, so does the new one."""
    if existing is None:
        return new.replace(b"\r\n", b"\n") if from_textarea else new
    lf_only = new.replace(b"\r\n", b"\n")
    crlf = existing.count(b"\r\n")
    if crlf and crlf == existing.count(b"\n"):
        result = lf_only.replace(b"\n", b"\r\n")
        ending = b"\r\n"
    elif not crlf:
        result, ending = lf_only, b"\n"
    else:
        return new
    if existing.endswith(b"\n") and result and not result.endswith(b"\n"):
        result += ending
    return result


def preview(existing: bytes | None, new: bytes, name: str) -> Diff:
    """What saving would change in this config (nothing is written)."""
    path = f"configs/{name}"
    rendered = render_contents({path: existing} if existing is not None else {}, {path: new}, 3,
                               versions.MAX_DIFF_FILE_BYTES, PREVIEW_LINES,
                               compare.diff_request({}, paged=False).options, None)
    return Diff("", "", rendered.files, ports_diff([], []), {"added": [], "removed": []}, rendered.too_large)


def save(user: User, device_id: str, name: str, content: bytes, message: str,
         parent: str | None) -> tuple[dict[str, Any], bool]:
    """One version with this config; `parent` makes a stale edit a 409 instead of an overwrite."""
    try:
        text: str | None = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    body: dict[str, Any] = {"message": message}
    if text is not None:
        body["configs"] = {name: text}
    else:
        body["configs_base64"] = {name: base64.b64encode(content).decode()}
    if parent:
        body["parent"] = parent
    return versions.write_version(user, device_id, body)
