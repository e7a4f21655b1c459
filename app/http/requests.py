"""The app's request class: a request body over the size limit is a 413, however it is sent.

Werkzeug caps a chunked body (no Content-Length; the server de-chunks it and sets
`wsgi.input_terminated`) at `MAX_CONTENT_LENGTH`, but reading it whole stops quietly AT the limit,
so a 50 MB chunked upload reached the handlers cut at 32 MiB and failed as malformed JSON (400).
Here the cap reads one byte past the limit and answers 413 when there is one.
"""

from __future__ import annotations

from typing import IO

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream


class CappedStream(LimitedStream):
    """At most `limit` bytes; RequestEntityTooLarge as soon as byte `limit + 1` arrives."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__(stream, limit + 1, is_max=True)
        self.cap = limit

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        count = super().readinto(buffer)
        if self._pos > self.cap:
            raise RequestEntityTooLarge()
        return count


class AppRequest(Request):
    @cached_property
    def stream(self) -> IO[bytes]:  # type: ignore[override]
        limit = self.max_content_length
        if limit is not None and self.content_length is None and "wsgi.input_terminated" in self.environ:
            return CappedStream(self.environ["wsgi.input"], limit)  # type: ignore[return-value]
        return super().stream
