"""OpenAI's Batch API on loopback, answered by a real chat server (`transformers serve`).

The Batch API itself cannot run here, so this is a small stand-in for its HTTP surface (files
upload/content, batches create/retrieve/list, in OpenAI's documented shapes): each created batch's
lines are sent one by one to the real upstream server, and the output file holds its real answers
and usage. It records every batch created, with its lines, so a test can show that a batch was
never submitted twice and what it held. `create_delay_s` holds the reply to a create *after* the
batch exists, so a test can kill the client in exactly the window between the two; `gate` (an
Event, open by default) holds every batch "in_progress" until it is set, so a test can act while a
batch is out; `strip_usage` leaves the usage out of the output lines (`usage` keeps what the
upstream reported: what a provider bills).
"""
from __future__ import annotations

import email.parser
import json
import threading
import time
import urllib.request

from tests.loopback import Handler, LoopbackServer


class BatchAPI(LoopbackServer):
    def __init__(self, upstream: str, create_delay_s: float = 0.0, strip_usage: bool = False):
        self.upstream = upstream.rstrip("/")
        self.create_delay_s, self.strip_usage = create_delay_s, strip_usage
        self.gate = threading.Event()
        self.gate.set()
        self.usage: list[dict] = []
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}  # id -> batch object (insertion order: creation order)
        self.lines: dict[str, list[dict]] = {}  # batch id -> its request lines
        super().__init__()

    @property
    def url(self) -> str:
        return self.origin + "/v1"

    # ------------------------------------------------------------------ the batch worker

    def _work(self, bid: str) -> None:
        b, out = self.batches[bid], []
        b.update(status="in_progress", in_progress_at=int(time.time()))
        self.gate.wait()
        for line in self.lines[bid]:
            req = urllib.request.Request(self.upstream + "/chat/completions", data=json.dumps(line["body"]).encode(),
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=300) as r:
                    body, code = json.loads(r.read()), r.status
                b["request_counts"]["completed"] += 1
                with self.lock:
                    self.usage.append(body.get("usage") or {})
                if self.strip_usage:
                    body.pop("usage", None)
            except Exception as e:  # noqa: BLE001 — recorded as the line's error, as the Batch API does
                body, code = {"error": {"message": str(e)}}, 500
                b["request_counts"]["failed"] += 1
            out.append({"id": f"r-{len(out)}", "custom_id": line["custom_id"], "error": None,
                        "response": {"status_code": code, "request_id": f"q-{len(out)}", "body": body}})
        fid = self._new_file("".join(json.dumps(x) + "\n" for x in out).encode())
        b.update(status="completed", output_file_id=fid, completed_at=int(time.time()))

    def _new_file(self, data: bytes) -> str:
        with self.lock:
            fid = f"file-{len(self.files) + 1}"
            self.files[fid] = data
        return fid

    # ------------------------------------------------------------------ HTTP

    def _handler(self):
        api = self

        class BatchHandler(Handler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.startswith("/v1/files"):
                    msg = email.parser.BytesParser().parsebytes(
                        f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body)
                    part = next(p for p in msg.get_payload() if p.get_param("name", header="content-disposition") == "file")
                    fid = api._new_file(part.get_payload(decode=True))
                    return self.reply_json({"id": fid, "object": "file", "bytes": len(api.files[fid]), "purpose": "batch",
                                       "created_at": int(time.time()), "filename": "input.jsonl", "status": "processed"})
                if self.path.startswith("/v1/batches"):
                    req = json.loads(body)
                    lines = [json.loads(x) for x in api.files[req["input_file_id"]].decode().splitlines() if x.strip()]
                    with api.lock:
                        bid = f"batch-{len(api.batches) + 1}"
                        api.batches[bid] = {
                            "id": bid, "object": "batch", "endpoint": req["endpoint"], "input_file_id": req["input_file_id"],
                            "completion_window": req["completion_window"], "status": "validating",
                            "created_at": int(time.time()), "metadata": req.get("metadata"),
                            "request_counts": {"total": len(lines), "completed": 0, "failed": 0}}
                        api.lines[bid] = lines
                    threading.Thread(target=api._work, args=(bid,), daemon=True).start()
                    time.sleep(api.create_delay_s)  # the batch exists; the client has not heard of it yet
                    return self.reply_json(api.batches[bid])
                self.reply_json({"error": {"message": f"no route {self.path}"}}, 404)

            def do_GET(self):
                path = self.path.split("?")[0]
                if path == "/v1/batches":
                    data = list(reversed(api.batches.values()))  # newest first, as OpenAI lists them
                    return self.reply_json({"object": "list", "data": data, "has_more": False,
                                       "first_id": data[0]["id"] if data else None,
                                       "last_id": data[-1]["id"] if data else None})
                if path.startswith("/v1/batches/"):
                    return self.reply_json(api.batches[path.rsplit("/", 1)[1]])
                if path.startswith("/v1/files/") and path.endswith("/content"):
                    data = api.files[path.split("/")[3]]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    return self.wfile.write(data)
                self.reply_json({"error": {"message": f"no route {self.path}"}}, 404)

        return BatchHandler
