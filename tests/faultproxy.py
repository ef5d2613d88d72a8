"""A loopback HTTP proxy that injects faults in front of a real OpenAI-compatible server.

Each POST is, by a seeded draw: answered 429 with Retry-After, answered 500, held past the
client's timeout, or forwarded to the upstream server unchanged. It counts what it did, and which
request bodies it forwarded successfully, so a test can show that no request was answered twice.
"""
from __future__ import annotations

import collections
import hashlib
import random
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FaultProxy:
    def __init__(self, upstream: str, fault_rate: float = 0.3, seed: int = 0, hang_s: float = 3.0,
                 faults=("429", "500", "timeout")):
        self.upstream, self.rate, self.hang_s, self.faults = upstream.rstrip("/"), fault_rate, hang_s, faults
        self.rng, self.lock = random.Random(seed), threading.Lock()
        self.counts: collections.Counter = collections.Counter()
        self.forwarded: collections.Counter = collections.Counter()  # body hash -> successful answers
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _draw(self) -> str:
        with self.lock:
            return self.rng.choice(self.faults) if self.rng.random() < self.rate else "forward"

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, code, body=b"", headers=()):
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                with urllib.request.urlopen(proxy.upstream + self.path, timeout=30) as r:
                    self._reply(r.status, r.read(), [("Content-Type", r.headers.get("Content-Type", "application/json"))])

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                action = proxy._draw()
                with proxy.lock:
                    proxy.counts[action] += 1
                if action == "429":
                    return self._reply(429, b'{"error": {"message": "rate limited"}}',
                                       [("Retry-After", "0.2"), ("Content-Type", "application/json")])
                if action == "500":
                    return self._reply(500, b'{"error": {"message": "server error"}}', [("Content-Type", "application/json")])
                if action == "timeout":
                    time.sleep(proxy.hang_s)  # longer than the client's timeout: it gives up and retries
                    try:
                        return self._reply(504, b"{}")
                    except OSError:  # the client has hung up, as intended
                        return None
                req = urllib.request.Request(proxy.upstream + self.path, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=300) as r:
                        data = r.read()
                        with proxy.lock:
                            proxy.forwarded[hashlib.sha256(body).hexdigest()] += 1
                        self._reply(r.status, data, [("Content-Type", "application/json")])
                except urllib.error.HTTPError as e:
                    self._reply(e.code, e.read(), [("Content-Type", "application/json")])

        return Handler
