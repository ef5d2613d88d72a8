"""The locked environment: what setup.sh installs is exactly requirements.lock, and the lock can be renewed."""
import importlib.util
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("lock", ROOT / "scripts" / "lock.py")
lock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lock)


def test_this_environment_holds_exactly_the_lock():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "lock.py"), "check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_the_comparison_names_every_difference():
    locked = {"transformers": "5.24.0", "trl": "1.16.0"}
    outside = {"torch": "2.13.0"}
    have = {"transformers": "5.25.0", "torch": "2.13.0+cpu", "orca2-kit": "0.1.0", "left-pad": "1.0",
            "nvidia-cublas-cu12": "12.8"}
    problems = lock.compare(locked, have, outside)
    assert problems == ["transformers: locked 5.24.0, installed 5.25.0", "trl==1.16.0 is locked but not installed",
                        "left-pad==1.0 is installed but not in the lock"]
    assert lock.compare(locked | {"left-pad": "1.0"}, have | {"transformers": "5.24.0", "trl": "1.16.0"}, outside) == []


def test_the_lock_pins_every_dependency_of_pyproject():
    import tomllib

    pins = lock.read_lock(lock.LOCK.read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    names = {lock.canonical(r.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip()) for r in wanted}
    assert names - {"torch"} <= set(pins), sorted(names - {"torch"} - set(pins))
    assert "torch" not in pins and lock.setup_pins()["torch"] == "2.13.0"  # the CPU build, pinned by setup.sh


def test_a_malformed_lock_line_is_one_clear_error():
    with pytest.raises(ValueError, match="line 2: 'transformers>=5' is not 'name==version'"):
        lock.read_lock("# header\ntransformers>=5\n")


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


@pytest.mark.slow
def test_upgrade_resolves_pyproject_afresh_into_a_complete_lock(tmp_path):
    if not _pypi_reachable():
        pytest.skip("PyPI is not reachable: the upgrade resolves against it")
    out = tmp_path / "requirements.lock"
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "lock.py"), "upgrade", "--out", str(out)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    new = lock.read_lock(out.read_text())
    for name in ("transformers", "trl", "peft", "lm-eval", "papermill", "pytest", "uv"):
        assert name in new
    assert "torch" not in new and not any(lock.CUDA_RUNTIME.match(n) for n in new)
    assert lock.LOCK.read_text() != "" and out.read_text().startswith("# orca2-kit lock")
