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


@pytest.fixture(scope="session", autouse=True)
def _no_user_config(tmp_path_factory):
    """A developer's `python -m orca2_kit data use DIR` (a user config file) must not change what the
    suite sees: the tests find data only through ORCA2_DATA_DIR, ../shared/data or data/ beside the repo."""
    old = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    yield
    if old is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = old


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
def _served(smollm2_dir, tmp_path_factory):
    """One `transformers serve` of the embedded SmolLM2 for the session (see tests/served.py)."""
    from tests.served import ServedModel

    served = ServedModel(smollm2_dir, free_port(), tmp_path_factory.mktemp("serve") / "serve.log")
    try:
        served.start()
    except RuntimeError as e:
        pytest.fail(str(e))
    yield served
    served.stop()


@pytest.fixture(scope="session")
def server(_served):
    """`transformers serve` on loopback with the embedded SmolLM2 model (continuous batching):
    {"base_url", "url", "model", "log"}. Watched by `_server_watch` below."""
    return _served.info


@pytest.fixture(autouse=True)
def _server_watch(request):
    """Around every test that uses the server (directly or through another fixture): a server found
    dead before the test is restarted (on the same port, so every fixture's URL stays valid); one that
    dies during the test fails that test, naming its log, and is restarted, so one crash never turns
    the rest of the suite into 503s."""
    if "server" not in request.fixturenames:
        yield
        return
    served = request.getfixturevalue("_served")
    if served.problem() is not None:
        served.restart()
    yield
    why = served.problem()
    if why is not None:
        tail = served.log_tail()
        served.restart()
        pytest.fail(f"transformers serve stopped working during this test: {why}. Its log: {served.log_path}\n"
                    f"{tail}\n(restarted for the next tests)")
