"""Parsing `/git/<team>/<project>/<device>[.git]/<endpoint>`: three slugs and one of three endpoints.

Anything else under /git (repository files, dumb-protocol paths, encoded or traversing names) is
not a route at all and answers 404 before authentication: such a URL names no repository, so the
answer tells nothing about which repositories exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Slugs are lower-case words and hyphens; a little wider here (the lookup is an exact match in
# SQL), but never starting with '-' or '.', never containing '/', '\\', '%', '..' or controls.
_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}"
# The device may be named with or without `.git` (`git clone .../sw1` works like `.../sw1.git`);
# the lazy quantifier lets an optional `.git` suffix go to the suffix, not into the slug.
_DEVICE = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}?"
_GIT_PATH = re.compile(
    rf"/git/(?P<team>{_SEGMENT})/(?P<project>{_SEGMENT})/(?P<device>{_DEVICE})(?:\.git)?"
    r"/(?P<endpoint>info/refs|git-upload-pack|git-receive-pack)"
)
ENDPOINTS = ("info/refs", "git-upload-pack", "git-receive-pack")


@dataclass(frozen=True)
class GitPath:
    team: str
    project: str
    device: str
    endpoint: str


def parse(path_info: str, raw_uri: str | None) -> GitPath | None:
    """The parsed path, or None when the request is not one of our three git endpoints.

    `raw_uri` is the path as sent (before percent-decoding) when the server tells us: our URLs
    never need escapes, so any '%' (an encoded '.', '/', newline ...) or backslash is refused.
    """
    raw_path = (raw_uri or "").split("?", 1)[0]
    if "%" in raw_path or "\\" in raw_path:
        return None
    match = _GIT_PATH.fullmatch(path_info)
    if match is None or ".." in path_info:
        return None
    return GitPath(match["team"], match["project"], match["device"], match["endpoint"])
