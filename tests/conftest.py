import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path | None:
    """Real benchmark data: $ORCA2_DATA_DIR, else ../shared/data beside the repo; None if absent."""
    d = os.environ.get("ORCA2_DATA_DIR") or ROOT.parent / "shared" / "data"
    return Path(d) if Path(d).is_dir() else None


@pytest.fixture(scope="session")
def real_data():
    d = data_dir()
    if d is None:
        pytest.skip("real benchmark data not found (set ORCA2_DATA_DIR or place it at ../shared/data)")
    return d


@pytest.fixture(scope="session")
def smollm2_dir():
    from orca2_kit.models import ensure_embedded

    return ensure_embedded()


@pytest.fixture(scope="session")
def tiny_dir():
    from orca2_kit.models import ensure_tiny_random

    return ensure_tiny_random()


def run_cli(*args, env=None, timeout=900):
    return subprocess.run([sys.executable, "-m", "orca2_kit", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(smollm2_dir, tmp_path_factory):
    """`transformers serve` on loopback with the embedded SmolLM2 model (continuous batching)."""
    import time
    import urllib.request

    port = free_port()
    log = open(tmp_path_factory.mktemp("serve") / "serve.log", "w")
    cli = [sys.executable, "-c", "from transformers.cli.transformers import main; main()"]
    proc = subprocess.Popen(cli + ["serve", str(smollm2_dir), "--host", "127.0.0.1", "--port", str(port),
                                   "--device", "cpu", "--continuous-batching",
                                   # its KV cache takes 60% of RAM by default on a CPU: two servers (or one and
                                   # a training run) get OOM-killed; 5% holds thousands of tokens of this model
                                   "--cb-max-memory-percent", "0.05"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"transformers serve exited: see {log.name}")
        try:
            urllib.request.urlopen(url + "/health", timeout=2)
            break
        except OSError:
            time.sleep(1)
    else:
        proc.kill()
        pytest.fail("transformers serve did not come up in 180 s")
    yield {"base_url": url + "/v1", "url": url, "model": str(smollm2_dir)}
    proc.terminate()
    proc.wait(30)
