"""A loopback HTTP proxy that injects faults in front of a real OpenAI-compatible server.

Each POST is, by a seeded draw (or, first, by a fixed `schedule`): answered 429 with Retry-After,
answered 500, held past the client's timeout, answered 200 with a body that is not JSON
("malformed"), answered 200 with only half of the real answer before the connection drops
("truncated"), or forwarded to the upstream server unchanged (after `delay_s`, to slow a stage
down for kill tests). It counts what it did, which request bodies it forwarded successfully (so a
test can show that no request was answered twice), the usage of every answer it forwarded (what a
provider would bill), and the Authorization headers it saw (so a test can show the key really
travelled, and only there).

Servers that misbehave about money (issue 29), each forwarding to the real server, which bills:
"overlong" ignores the request's max_tokens (asks the upstream for `overlong_factor` times as many),
"no_usage" answers without a usage field, "502_after" answers 502 Bad Gateway after the upstream
answered (a gateway that timed out on a finished request), and "echo_error" answers 400 with a long
error page that echoes the request's Authorization header.
"""
from __future__ import annotations

import collections
import hashlib
import json
import random
import time
import urllib.error
import urllib.request

from tests.loopback import Handler, LoopbackServer

FAULTS = ("429", "500", "timeout", "malformed", "truncated", "overlong", "no_usage", "502_after", "echo_error")


class FaultProxy(LoopbackServer):
    def __init__(self, upstream: str, fault_rate: float = 0.3, seed: int = 0, hang_s: float = 3.0,
                 faults=("429", "500", "timeout"), schedule=(), delay_s: float = 0.0, overlong_factor: int = 8):
        unknown = (set(faults) | set(schedule)) - set(FAULTS) - {"forward"}
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {FAULTS}")
        self.upstream, self.rate, self.hang_s, self.faults = upstream.rstrip("/"), fault_rate, hang_s, faults
        self.schedule, self.delay_s, self.overlong_factor = collections.deque(schedule), delay_s, overlong_factor
        self.rng = random.Random(seed)
        self.counts: collections.Counter = collections.Counter()
        self.forwarded: collections.Counter = collections.Counter()  # body hash -> successful answers
        self.auth: collections.Counter = collections.Counter()  # Authorization headers seen
        self.usage: list[dict] = []  # the usage of every answer forwarded successfully (what a provider bills)
        self.latency: collections.defaultdict = collections.defaultdict(list)  # body hash -> seconds per answer
        super().__init__()

    @property
    def url(self) -> str:
        return self.origin

    def _draw(self) -> str:
        with self.lock:
            if self.schedule:
                return self.schedule.popleft()
            return self.rng.choice(self.faults) if self.rng.random() < self.rate else "forward"

    def _forward(self, path: str, body: bytes) -> tuple[int, bytes]:
        req = urllib.request.Request(self.upstream + path, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def _handler(self):
        proxy = self

        class ProxyHandler(Handler):
            def do_GET(self):
                with urllib.request.urlopen(proxy.upstream + self.path, timeout=30) as r:
                    self.reply(r.status, r.read(), [("Content-Type", r.headers.get("Content-Type", "application/json"))])

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                action = proxy._draw()
                with proxy.lock:
                    proxy.counts[action] += 1
                    proxy.auth[self.headers.get("Authorization")] += 1
                json_type = [("Content-Type", "application/json")]
                if action == "429":
                    return self.reply(429, b'{"error": {"message": "rate limited"}}', [("Retry-After", "0.2")] + json_type)
                if action == "500":
                    return self.reply(500, b'{"error": {"message": "server error"}}', json_type)
                if action == "malformed":  # a gateway's HTML error page, served as 200 JSON
                    return self.reply(200, b"<html><body>502 Bad Gateway</body></html>", json_type)
                if action == "echo_error":  # an error page that echoes what it was sent, key included
                    page = f"<html>bad request; you sent {self.headers.get('Authorization')}" + "<p>x</p>" * 2000
                    return self.reply(400, json.dumps({"error": {"message": page}}).encode(), json_type)
                if action == "timeout":
                    time.sleep(proxy.hang_s)  # longer than the client's timeout: it gives up and retries
                    try:
                        return self.reply(504, b"{}")
                    except OSError:  # the client has hung up, as intended
                        return None
                if proxy.delay_s:
                    time.sleep(proxy.delay_s)
                sent = body
                if action == "overlong":  # the server ignores max_tokens: it writes (and bills) more
                    req = json.loads(body)
                    req["max_tokens"] = int(req.get("max_tokens") or 16) * proxy.overlong_factor
                    sent = json.dumps(req).encode()
                t0 = time.monotonic()
                code, data = proxy._forward(self.path, sent)
                took = time.monotonic() - t0 + proxy.delay_s
                if action == "truncated":  # promise the whole body, send half, drop the connection
                    self.close_connection = True
                    return self.reply(code, data[: len(data) // 2], json_type, length=len(data))
                if code == 200:
                    with proxy.lock:
                        proxy.forwarded[hashlib.sha256(body).hexdigest()] += 1
                        proxy.latency[hashlib.sha256(body).hexdigest()].append(took)
                        try:
                            proxy.usage.append(json.loads(data).get("usage") or {})
                        except ValueError:
                            proxy.usage.append({})
                    if action == "502_after":  # the upstream did (and billed) the work; the gateway gave up
                        return self.reply(502, b"<html>502 Bad Gateway</html>", [("Content-Type", "text/html")])
                    if action == "no_usage":
                        reply = json.loads(data)
                        reply.pop("usage", None)
                        data = json.dumps(reply).encode()
                self.reply(code, data, json_type)

        return ProxyHandler
