"""A test HTTP server on loopback, for the fake endpoints the suite puts in front of real servers
(faultproxy.FaultProxy, batchapi.BatchAPI): a ThreadingHTTPServer on 127.0.0.1 in a daemon thread,
used as a context manager, and a request handler with the replies they all send."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer:
    """Subclasses define `_handler()`, returning a Handler class (it may close over `self`)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError


class Handler(BaseHTTPRequestHandler):
    """Quiet, with one way to send a reply (a promised `length` longer than the body truncates it)."""

    def log_message(self, *args):
        pass

    def reply(self, code: int, body: bytes = b"", headers=(), length: int | None = None) -> None:
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def reply_json(self, obj, code: int = 200) -> None:
        self.reply(code, json.dumps(obj).encode(), [("Content-Type", "application/json")])
