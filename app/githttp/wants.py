"""The object ids an upload-pack request asks for, read from its pkt-lines.

git's protocol v2 `fetch` hands out any object the repository holds, reachable or not (only v0
checks that a `want` is reachable from a ref), so a deleted tag's object or a commit that never
reached a ref could still be fetched by id. The route reads the wants first and refuses those no
ref reaches (`DeviceRepo.unreachable`), for every protocol version alike.
"""

from __future__ import annotations

import re
from typing import IO

_OID = re.compile(rb"[0-9a-f]{40}|[0-9a-f]{64}")


def wanted_oids(body: IO[bytes]) -> list[str]:
    """Every `want <oid>` of the request (v0 and v2 alike); the stream is left at its start.

    Special packets (flush 0000, delimiter 0001, response end 0002) are skipped; a malformed
    length stops the reading (git refuses such a request itself).
    """
    wants: list[str] = []
    try:
        while True:
            head = body.read(4)
            if len(head) < 4:
                break
            try:
                length = int(head, 16)
            except ValueError:
                break
            if length < 4:
                continue
            payload = body.read(length - 4)
            if payload.startswith(b"want "):
                match = _OID.match(payload, 5)
                if match:
                    wants.append(match.group().decode())
    finally:
        body.seek(0)
    return wants
