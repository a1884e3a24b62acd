"""Real servers on loopback for the notification tests: an HTTP receiver and an SMTP server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """A webhook receiver. ``statuses`` are answered in turn (the last one repeats);
    ``on_request(received)`` runs before answering (e.g. to kill the sender)."""

    statuses: list[int] = field(default_factory=lambda: [204])
    delay_s: float = 0.0
    on_request: Callable[[Received], None] | None = None
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    record: bool = True
    count: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    index = min(receiver.count, len(receiver.statuses) - 1)
                    status = receiver.statuses[index]
                    receiver.count += 1
                    received = Received(self.path, dict(self.headers.items()), body, status)
                    if receiver.record:
                        receiver.requests.append(received)
                if receiver.on_request is not None:
                    receiver.on_request(received)
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                answer = b"" if status == 204 else b'{"ok": false}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (the timeout test)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}/hooks/targets"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def delivery_ids(self) -> list[str]:
        return [request.headers["X-Targets-Delivery"] for request in self.requests]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailStore:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self) -> None:
        self.store = MailStore()
        self.port = free_port()
        self._controller: Controller | None = Controller(
            self.store, hostname="127.0.0.1", port=self.port
        )
        self._controller.start()
        self.url = f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[tuple[str, list[str], bytes]]:
        return self.store.messages

    def close(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
