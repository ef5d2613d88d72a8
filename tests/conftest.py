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
