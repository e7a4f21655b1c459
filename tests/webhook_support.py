"""Shared pieces of the webhook tests: a real local receiver, and the setting that lets webhooks
reach it.

Webhooks refuse private addresses by default (app/services/webhook_targets.py), and the receiver
listens on 127.0.0.1, so every test that delivers to it turns on the on-premises setting with the
`private_webhooks` fixture: in the test's app and, for `infratrace worker` subprocesses, in the
environment.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask

from app.services import notifications


class Receiver:
    """A local webhook receiver: answers with the next scripted status, records what it got.

    Each record keeps the raw request body (`raw`, bytes as received) next to the parsed one.
    `redirect` (a URL) makes every answer a 307 to it.
    """

    def __init__(self, statuses: list[int] | None = None, default: int = 200, redirect: str | None = None) -> None:
        self.statuses = list(statuses or [])
        self.default = default
        self.redirect = redirect
        self.received: list[dict] = []  # every request
        self.accepted: list[dict] = []  # the ones answered 2xx with a valid signature
        self.secret = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get("InfraTrace-Signature", "")
                valid = notifications.verify_signature(receiver.secret, signature, body)
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                if receiver.redirect:
                    status = 307
                if not valid:
                    status = 400
                record = {"raw": body, "body": json.loads(body), "headers": self.headers, "valid": valid,
                          "status": status}
                receiver.received.append(record)
                if 200 <= status < 300:
                    receiver.accepted.append(record)
                self.send_response(status)
                if receiver.redirect:
                    self.send_header("Location", receiver.redirect)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try later")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name="receivers")
def receivers_fixture():
    made: list[Receiver] = []

    def make(*args, **kwargs) -> Receiver:
        made.append(Receiver(*args, **kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def allow_private_webhooks(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """INFRATRACE_WEBHOOK_ALLOW_PRIVATE=1 for `app` and for the worker processes tests start."""
    monkeypatch.setitem(app.config, "INFRATRACE", app.config["INFRATRACE"].with_changes(webhook_allow_private=True))
    monkeypatch.setenv("INFRATRACE_WEBHOOK_ALLOW_PRIVATE", "1")


@pytest.fixture(name="private_webhooks")
def private_webhooks_fixture(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    allow_private_webhooks(app, monkeypatch)
