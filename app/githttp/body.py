"""Spooling a git request body to a temporary file, with a size cap, gunzipping it on the way.

git's stdin is then a real file, so a slow client never holds a git process open, and nothing
holds the pack in memory. The cap applies to what is read and, for gzip, to what it inflates to.
"""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Mapping
from typing import IO, Any

from werkzeug.wsgi import get_input_stream

CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    """The body (or what it inflates to) is over the cap."""


class BadBody(Exception):
    """The body cannot be read (bad Content-Length, broken gzip, unsupported encoding)."""


def declared_too_large(environ: Mapping[str, Any], cap: int) -> bool:
    """True as soon as the headers say the body is over the cap, before any of it is read."""
    length = environ.get("CONTENT_LENGTH")
    if not length:
        return False
    try:
        return int(length) > cap
    except ValueError:
        raise BadBody("invalid Content-Length") from None


def spool_body(environ: dict[str, Any], cap: int) -> IO[bytes]:
    """The request body, decoded, in a temporary file positioned at its start."""
    if declared_too_large(environ, cap):
        raise BodyTooLarge()
    encoding = (environ.get("HTTP_CONTENT_ENCODING") or "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise BadBody(f"unsupported Content-Encoding {encoding!r}")
    # With a Content-Length it reads that much; with chunked input (the server de-chunks and sets
    # wsgi.input_terminated) it reads to the end. max_content_length + 1 lets us see an overflow.
    stream = get_input_stream(environ, safe_fallback=True, max_content_length=None)
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding in ("gzip", "x-gzip") else None
    out = tempfile.TemporaryFile()
    try:
        received = written = 0
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            received += len(chunk)
            if received > cap:
                raise BodyTooLarge()
            if inflate is None:
                out.write(chunk)
                written += len(chunk)
                continue
            try:
                # Bounded output per call: a gzip bomb never inflates past the cap in memory.
                data = inflate.decompress(chunk, CHUNK)
                while data:
                    written += len(data)
                    if written > cap:
                        raise BodyTooLarge()
                    out.write(data)
                    data = inflate.decompress(inflate.unconsumed_tail, CHUNK)
            except zlib.error as exc:
                raise BadBody(f"the gzip body is corrupt ({exc})") from None
        if inflate is not None:
            if not inflate.eof:
                raise BadBody("the gzip body is truncated")
            tail = inflate.flush()
            if written + len(tail) > cap:
                raise BodyTooLarge()
            out.write(tail)
        out.seek(0)
        return out
    except BaseException:
        out.close()
        raise
