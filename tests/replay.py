"""A local HTTP server that replays recorded responses of the internet's services.

Pools, explorers and price feeds are out of reach in tests, so each connector is
pointed at this server instead: the same paths, the recorded bodies (files under
tests/fixtures/), and the failures real services have — error statuses, slow answers,
connections closed mid-body, garbage. Only loopback addresses are served.

    with ReplayServer() as server:
        server.route("/api/blocks/tip/height", body=b"870000")
        server.route("/api/v1/prices", fixture="mempool-esplora/....json")
        server.route("/slow", body=b"{}", delay_s=5)
        client = SomeConnector(base_url=server.url)
        ...
        assert server.hits("/api/v1/prices") == 1
"""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MAX_RECORDED_BODY = 1 << 20


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay_s: float = 0.0
    # Send the headers and this many bytes of the body, then drop the connection.
    cut_after: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hit:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""  # the request body as received (receivers of webhooks check it)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read `ReplayServer.requests` instead."""

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_RECORDED_BODY)) if length > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.owner.record(Hit(method, parts.path, parts.query, headers, body))
        reply = self.server.owner.reply_for(parts.path, parts.query)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if reply.cut_after is not None:
                self.wfile.write(reply.body[: reply.cut_after])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (its timeout): nothing to answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ReplayServer


class ReplayServer:
    """Serves routes on a free port of a loopback address until closed."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"{host} is not a loopback address")
        self._routes: dict[str, Reply | list[Reply]] = {}
        self._lock = threading.Lock()
        self.requests: list[Hit] = []
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(
        self,
        path: str,
        *,
        body: bytes | str | None = None,
        fixture: str | None = None,
        status: int = 200,
        content_type: str = "application/json",
        delay_s: float = 0.0,
        cut_after: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Answer `path` (and `path?query` when given with one) with a body or a fixture
        file under tests/fixtures/. A later call for the same path replaces it."""
        if fixture is not None:
            data = (FIXTURES / fixture).read_bytes()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        reply = Reply(status, data, content_type, delay_s, cut_after, dict(headers or {}))
        with self._lock:
            self._routes[path] = reply
        return reply

    def sequence(self, path: str, replies: list[Reply]) -> None:
        """Answer `path` with these replies in turn; the last one repeats."""
        with self._lock:
            self._routes[path] = list(replies)

    def reply_for(self, path: str, query: str) -> Reply:
        with self._lock:
            found = self._routes.get(f"{path}?{query}") if query else None
            if found is None:
                found = self._routes.get(path)
            if found is None:
                return Reply(404, b'{"error":"not found"}')
            if isinstance(found, list):
                return found.pop(0) if len(found) > 1 else found[0]
            return found

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.requests.append(hit)

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for h in self.requests if h.path == path)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
