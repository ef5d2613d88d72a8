"""A real `transformers serve` on loopback for the tests, sized for a 2-core, 24 GiB machine, watched.

The server's continuous-batching loop sizes its paged KV cache from `--cb-max-memory-percent` of
*free* memory, after reserving attention masks for `max_batch_tokens` (default 8192) query tokens:
on a busy CPU machine that left a cache of a few requests, and under the suite's concurrency the
loop died ("No requests can be scheduled and no requests can be offloaded") and answered 503 from
then on. So the cache and the batch are given explicitly (below), and the `server` fixture probes the
server after every test that used it: a server that died fails *that* test loudly, naming its log,
and is restarted for the next test instead of failing every later one with 503s.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

# KV cache and batch, explicitly: 16-token blocks x 4096 blocks = 65k cached tokens (about 3 GiB for
# SmolLM2-135M in fp32: 30 layers x 3 KV heads x 64 dims x 2 x 4 bytes = 46 KB a token), enough for
# every request the suite keeps in flight (at most 16 concurrent, each under 2k tokens), and a batch
# of at most 1024 query tokens, so the attention masks stay small.
CB_ARGS = ["--continuous-batching", "--cb-block-size", "16", "--cb-num-blocks", "4096", "--cb-max-batch-tokens", "1024"]


class ServedModel:
    """`transformers serve <model dir>` on one port, restartable on the same port."""

    def __init__(self, model_dir: Path, port: int, log_path: Path):
        self.model_dir, self.port, self.log_path = Path(model_dir), port, Path(log_path)
        self.url = f"http://127.0.0.1:{port}"
        self.proc: Optional[subprocess.Popen] = None
        self.restarts = 0

    @property
    def info(self) -> dict:
        return {"base_url": self.url + "/v1", "url": self.url, "model": str(self.model_dir), "log": str(self.log_path)}

    def start(self, timeout_s: float = 180) -> None:
        cli = [sys.executable, "-c", "from transformers.cli.transformers import main; main()", "serve",
               str(self.model_dir), "--host", "127.0.0.1", "--port", str(self.port), "--device", "cpu", *CB_ARGS]
        log = open(self.log_path, "a")
        log.write(f"\n===== start {self.restarts} at {time.strftime('%H:%M:%S')}: {' '.join(cli[3:])}\n")
        log.flush()
        self.proc = subprocess.Popen(cli, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"transformers serve exited with {self.proc.returncode} at start; its log: "
                                   f"{self.log_path}\n{self.log_tail()}")
            try:
                urllib.request.urlopen(self.url + "/health", timeout=2)
                return
            except OSError:
                time.sleep(1)
        self.stop()
        raise RuntimeError(f"transformers serve did not come up in {timeout_s:.0f} s; its log: {self.log_path}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.restarts += 1
        self.start()

    def problem(self, timeout_s: float = 120) -> Optional[str]:
        """None if the server answers a one-token chat request; else what is wrong with it."""
        if self.proc is None or self.proc.poll() is not None:
            return f"the process exited ({None if self.proc is None else self.proc.returncode})"
        body = json.dumps({"model": str(self.model_dir), "max_tokens": 1,
                           "messages": [{"role": "user", "content": "Hi"}]}).encode()
        req = urllib.request.Request(self.url + "/v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as r:
                json.loads(r.read())
            return None
        except urllib.error.HTTPError as e:
            return f"HTTP {e.code} to a one-token request"
        except (OSError, ValueError) as e:
            return f"no answer to a one-token request ({type(e).__name__}: {e})"

    def log_tail(self, n: int = 15) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])
