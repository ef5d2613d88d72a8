"""Teacher client throughput against a local OpenAI-compatible server: 8 requests in flight vs serial.

    .venv/bin/python benchmarks/teacher_concurrency.py [--requests 16] [--max-tokens 48] [--no-continuous-batching]

Starts `transformers serve` on loopback with the embedded SmolLM2 model, sends the same number of
distinct chat requests once with max_concurrency=1 and once with 8, each through a fresh cache
(so every request really reaches the server), and reports requests/s of each and their ratio.
"""
from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model_dir: str, port: int, continuous: bool, log):
    cmd = [sys.executable, "-c", "from transformers.cli.transformers import main; main()", "serve", model_dir,
           "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    if continuous:
        cmd.append("--continuous-batching")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("transformers serve exited; see its log") from None
            time.sleep(1)
    proc.kill()
    raise RuntimeError("transformers serve did not start")


def timed_run(cfg, convs, cache_path) -> float:
    from orca2_kit.client.cache import ResponseCache
    from orca2_kit.client.chat_client import TeacherClient

    client = TeacherClient(cfg.model_copy(update={"cache_path": str(cache_path)}), ResponseCache(cache_path))
    t0 = time.perf_counter()
    replies = client.complete(convs, desc=f"concurrency {cfg.max_concurrency}")
    wall = time.perf_counter() - t0
    failed = [r[0].error for r in replies if r[0].text is None]
    if failed:
        raise RuntimeError(f"{len(failed)} requests failed: {failed[:3]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--no-continuous-batching", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "outputs" / "benchmarks" / "teacher_concurrency.json"))
    args = ap.parse_args()

    from orca2_kit.config import TeacherConfig
    from orca2_kit.models import ensure_embedded

    model_dir = str(ensure_embedded())
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log = open(Path(tmp) / "serve.log", "w")
        proc = start_server(model_dir, port, not args.no_continuous_batching, log)
        try:
            cfg = TeacherConfig(kind="openai", base_url=f"http://127.0.0.1:{port}/v1", model=model_dir, api_key_env=None,
                                max_tokens=args.max_tokens, temperature=0.0, timeout_s=600)
            convs = [[{"role": "user", "content": f"Write one sentence about the number {i}."}] for i in range(args.requests)]
            timed_run(cfg.model_copy(update={"max_concurrency": 2}), convs[:2], Path(tmp) / "warm.sqlite")  # warm-up
            serial = timed_run(cfg.model_copy(update={"max_concurrency": 1}), convs, Path(tmp) / "serial.sqlite")
            convs = [[{"role": "user", "content": f"Write one sentence about the number {i}!"}] for i in range(args.requests)]
            parallel = timed_run(cfg.model_copy(update={"max_concurrency": 8}), convs, Path(tmp) / "parallel.sqlite")
        finally:
            proc.terminate()
            proc.wait(30)
    report = {"requests": args.requests, "max_tokens": args.max_tokens,
              "continuous_batching": not args.no_continuous_batching,
              "serial_requests_per_s": args.requests / serial, "in_flight_8_requests_per_s": args.requests / parallel,
              "ratio": serial / parallel}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
