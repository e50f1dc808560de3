"""Real destinations on loopback for notification tests: an SMTP server and an HTTP webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server received, and the logins it saw."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} e-mails, got {len(self.messages)}")
            time.sleep(0.02)
        return self.messages


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.box.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        self.box.messages.append(message_from_bytes(content))
        return "250 Message accepted"


@contextmanager
def smtp_server(*, username: str | None = None, password: str | None = None) -> Iterator[Mailbox]:
    """aiosmtpd on a free loopback port; with ``username``, it requires that login (AUTH PLAIN/LOGIN)."""
    box = Mailbox(port=free_port())
    kwargs: dict[str, Any] = {}
    if username is not None:

        def authenticator(
            server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            if isinstance(data, LoginPassword):
                user, pwd = data.login.decode(), data.password.decode()
                box.logins.append((user, pwd))
                return AuthResult(success=user == username and pwd == password)
            return AuthResult(success=False)

        kwargs = {"authenticator": authenticator, "auth_require_tls": False}
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port, **kwargs)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Received:
    """One request the webhook receiver got."""

    at: float
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def signature_ok(self, secret: str) -> bool:
        ts = self.headers.get("x-dais-timestamp", "")
        expected = hmac.new(secret.encode(), ts.encode() + b"." + self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest("sha256=" + expected, self.headers.get("x-dais-signature", ""))


@dataclass
class Receiver:
    """A webhook receiver: answers the statuses of ``script`` in turn, then ``default``."""

    url: str
    received: list[Received]
    script: list[int]
    default: int = 200
    delay_s: float = 0.0

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} requests, got {len(self.received)}")
            time.sleep(0.02)
        return self.received


@contextmanager
def webhook_receiver(
    script: list[int] | None = None, *, default: int = 200, delay_s: float = 0.0, reply: str = ""
) -> Iterator[Receiver]:
    """A real HTTP server on loopback in a thread; ``delay_s`` makes it slow to answer."""
    state = Receiver("", [], list(script or []), default, delay_s)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with lock:
                state.received.append(
                    Received(time.monotonic(), {k.lower(): v for k, v in self.headers.items()}, body)
                )
                code = state.script.pop(0) if state.script else state.default
            if state.delay_s:
                time.sleep(state.delay_s)
            payload = (reply or ("ok" if code < 300 else "receiver error")).encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
