"""A local stand-in for Stripe's API (tests never reach Stripe): a threaded HTTP server on
127.0.0.1 that records every request and answers like Stripe for what the service calls
(customers, Checkout and portal sessions, subscriptions retrieve/cancel, invoices list), with
Stripe's idempotency (the same key gives the same answer), and webhook signing with the real
scheme (`t=<unix time>,v1=<HMAC-SHA256 of "t.body">`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class StripeStandIn:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    _idempotent: dict[tuple[str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.subscriptions.clear()
            self.invoices.clear()
            self.failures.clear()
            self._idempotent.clear()

    def fail_next(self, count: int, path: str = "/", status: int = 500) -> None:
        """The next `count` requests to paths starting with `path` get a Stripe-style error."""
        self.failures.extend([(status, path)] * count)

    def calls(self, method: str, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    # -- answering -------------------------------------------------------------------------------

    def answer(self, method: str, path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(Recorded(method, path, params, headers))
            failing = next((f for f in self.failures if path.startswith(f[1])), None)
            if failing is not None:
                self.failures.remove(failing)
                return failing[0], {"error": {"type": "api_error", "message": "stand-in failure"}}
            key = headers.get("idempotency-key")
            if method == "POST" and key:
                cached = self._idempotent.get((path, key))
                if cached is not None:
                    return cached
            result = self._route(method, path, params)
            if method == "POST" and key:
                self._idempotent[(path, key)] = result
            return result

    def _route(self, method: str, path: str, params: dict[str, str]) -> tuple[int, Any]:
        now = int(time.time())
        if method == "POST" and path == "/v1/customers":
            return 200, {"id": self.new_id("cus"), "object": "customer", "name": params.get("name"),
                         "metadata": {"team": params.get("metadata[team]")}, "created": now}
        if method == "POST" and path == "/v1/checkout/sessions":
            sid = self.new_id("cs_test")
            return 200, {"id": sid, "object": "checkout.session", "mode": params.get("mode"),
                         "customer": params.get("customer"), "url": f"{self.url}/c/pay/{sid}",
                         "client_reference_id": params.get("client_reference_id"), "created": now}
        if method == "POST" and path == "/v1/billing_portal/sessions":
            sid = self.new_id("bps")
            return 200, {"id": sid, "object": "billing_portal.session", "customer": params.get("customer"),
                         "url": f"{self.url}/p/session/{sid}", "return_url": params.get("return_url"),
                         "created": now}
        if path.startswith("/v1/subscriptions/"):
            sub_id = path.rsplit("/", 1)[1]
            sub = self.subscriptions.get(sub_id)
            if sub is None:
                return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                       "message": f"No such subscription: '{sub_id}'"}}
            if method == "DELETE":
                sub["status"] = "canceled"
                sub["canceled_at"] = now
            return 200, sub
        if method == "GET" and path == "/v1/invoices":
            data = [i for i in self.invoices if i.get("customer") == params.get("customer")]
            return 200, {"object": "list", "url": "/v1/invoices", "has_more": False, "data": data}
        return 404, {"error": {"type": "invalid_request_error", "message": f"stand-in: no route {method} {path}"}}


def subscription(sub_id: str, customer: str, status: str, price: str, team: str, **more: Any) -> dict[str, Any]:
    """A subscription object shaped like Stripe's."""
    return {
        "id": sub_id, "object": "subscription", "customer": customer, "status": status,
        "cancel_at_period_end": False, "current_period_end": int(time.time()) + 30 * 86400,
        "metadata": {"team": team},
        "items": {"object": "list", "data": [{"id": f"si_{sub_id}", "price": {"id": price}}]},
        **more,
    }


def event(event_id: str, kind: str, obj: dict[str, Any], created: int | None = None) -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": kind, "created": created or int(time.time()),
            "livemode": False, "api_version": "2024-06-20", "data": {"object": obj}}


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Stripe's webhook signature header for this exact payload."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def start() -> tuple[StripeStandIn, ThreadingHTTPServer]:
    standin = StripeStandIn()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            split = urlsplit(self.path)
            params = dict(parse_qsl(split.query, keep_blank_values=True))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                params.update(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = standin.answer(self.command, split.path, params, headers)
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("Request-Id", "req_standin")
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return standin, server
