"""Helpers for the shop-integration tests: the app served over real HTTP on 127.0.0.1, a
webhook receiver on loopback that can be stopped and started again on the same port, and
payloads shaped like the platforms' documented examples, signed as the platforms sign them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from werkzeug.serving import make_server

SHOPIFY_SECRET = "shpss_test_0123456789abcdef"
WOO_SECRET = "woo secret with spaces & symbols"


def hmac_b64(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(app):
    """The app behind a real threaded HTTP server on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def post(url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"raw": raw.decode("utf-8", "replace")}


def shopify_order(
    tokens: list[str], *, order_id: int = 820982911946154508, text_only: str | None = "Zoë Müller"
) -> dict:
    """Shaped like Shopify's documented orders/create example payload (trimmed)."""
    line_items = []
    for n, token in enumerate(tokens):
        line_items.append(
            {
                "id": 866550311766439020 + n,
                "variant_id": 808950810 + n,
                "title": "Engraved bar necklace",
                "quantity": 1,
                "sku": "BAR-N",
                "price": "49.00",
                "properties": [
                    {"name": "Personalization", "value": f"Line {n}"},
                    {"name": "_proof_design", "value": token},
                    {"name": "_proof_preview", "value": "https://proofs.example/preview.jpg"},
                ],
            }
        )
    if text_only is not None:
        line_items.append(
            {
                "id": 141249953214522974,
                "title": "Hand-stamped ornament",
                "quantity": 1,
                "properties": [{"name": "Personalization", "value": text_only}],
            }
        )
    line_items.append({"id": 257004973105615842, "title": "Gift box", "quantity": 2, "properties": []})
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "contact_email": "jon@example.com",
        "created_at": "2026-11-02T09:30:00-05:00",
        "currency": "USD",
        "email": "jon@example.com",
        "financial_status": "paid",
        "name": "#9999",
        "order_number": 1234,
        "customer": {
            "id": 115310627314723954,
            "email": "jon@example.com",
            "first_name": "John",
            "last_name": "Smith",
        },
        "billing_address": {"first_name": "Bob", "last_name": "Biller", "name": "Bob Biller"},
        "line_items": line_items,
    }


def woo_order(tokens: list[str], *, order_id: int = 727, text_only: str | None = "Zoë") -> dict:
    """Shaped like WooCommerce's documented order (REST API v3) that order.created delivers."""
    line_items = []
    for n, token in enumerate(tokens):
        line_items.append(
            {
                "id": 315 + n,
                "name": "Engraved bar necklace",
                "product_id": 93,
                "quantity": 1,
                "meta_data": [
                    {"id": 1000 + n, "key": "Personalization", "value": f"Line {n}"},
                    {"id": 2000 + n, "key": "_proof_design", "value": token},
                ],
            }
        )
    if text_only is not None:
        line_items.append(
            {
                "id": 320,
                "name": "Hand-stamped ornament",
                "product_id": 94,
                "quantity": 1,
                "meta_data": [{"id": 3000, "key": "Personalization", "value": text_only}],
            }
        )
    line_items.append({"id": 321, "name": "Gift box", "product_id": 95, "quantity": 1, "meta_data": []})
    return {
        "id": order_id,
        "parent_id": 0,
        "number": str(order_id),
        "status": "processing",
        "currency": "USD",
        "billing": {
            "first_name": "John",
            "last_name": "Doe",
            "address_1": "969 Market",
            "city": "San Francisco",
            "email": "john.doe@example.com",
        },
        "shipping": {"first_name": "John", "last_name": "Doe"},
        "line_items": line_items,
    }


class Receiver:
    """A webhook receiver on 127.0.0.1 that keeps every request it gets. `fail_next` makes
    it answer 500 to that many requests; `stop()` and `start()` take it down and back up on
    the same port."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.received: list[dict] = []
        self.fail_next = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/proofmark"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    failing = receiver.fail_next > 0
                    receiver.fail_next -= failing
                    receiver.received.append(
                        {
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "answered": 500 if failing else 204,
                        }
                    )
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._server = None
