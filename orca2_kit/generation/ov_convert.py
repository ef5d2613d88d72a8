"""A student exported to OpenVINO IR (fp32) once per fingerprint of its weights, and reused
(convert_cache.py says where, and how a conversion is made once).

The export is optimum-intel's (`optimum-cli export openvino --task text-generation-with-past`: a
stateful decoder whose attention OpenVINO GenAI turns into a paged cache). optimum-intel 2.2 needs
transformers<5.6 while the kit runs 5.24, so it lives in its own environment, `.venv-export`
(scripts/setup.sh makes it from requirements-export.lock; ORCA2_EXPORT_PYTHON names another
interpreter). The model in memory (a LoRA student merged at load) is saved as a plain Transformers
folder, exported by that interpreter, and the temporary folder removed: ~20 s for SmolLM2-135M.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

from orca2_kit.generation import convert_cache

VERSION = 1  # bump when the export below changes what it writes


class ExportFailed(RuntimeError):
    """The export environment could not export this model (the reason is its last error line)."""


_FAILED: dict[str, str] = {}  # fingerprint -> why its export failed in this process (tried once, not per call)


def export_python() -> Optional[Path]:
    """The export environment's interpreter: ORCA2_EXPORT_PYTHON, else `.venv-export` beside the
    running `.venv` or beside the kit's source tree; None when there is none."""
    named = os.environ.get("ORCA2_EXPORT_PYTHON", "").strip()
    if named:
        return Path(named) if Path(named).exists() else None
    here = Path(__file__).resolve().parents[2]
    for root in (Path(sys.prefix).parent, here):
        py = root / ".venv-export" / "bin" / "python"
        if py.exists():
            return py
    return None


def problem() -> Optional[str]:
    """None when OpenVINO GenAI can run here and a student can be exported for it; else why not."""
    try:
        import openvino_genai  # noqa: F401
    except ImportError as e:
        return f"openvino-genai is not installed ({e})"
    if export_python() is None:
        return ("no export environment (.venv-export: `bash scripts/setup.sh` makes it; ORCA2_EXPORT_PYTHON "
                "names another)")
    return None


def converted(model, tokenizer, log=print) -> Path:
    """The OpenVINO fp32 folder of this model: exported once, then found by its fingerprint.
    Raises ExportFailed (one line) when the export environment cannot export it."""
    import openvino

    fp = convert_cache.fingerprint(model, tokenizer, f"openvino {openvino.__version__} v{VERSION}")

    if fp in _FAILED:
        raise ExportFailed(_FAILED[fp])

    def make(tmp: Path) -> None:
        from transformers.utils import logging as hf_logging

        with tempfile.TemporaryDirectory(prefix="orca2-export-") as src:
            hf_logging.disable_progress_bar()  # "Writing model shards" of a temporary folder: not the reader's business
            try:
                model.save_pretrained(src, safe_serialization=True)
            finally:
                hf_logging.enable_progress_bar()
            tokenizer.save_pretrained(src)
            _export(Path(src), tmp)

    try:
        return convert_cache.build_once(model, "openvino", fp, make, log)
    except ExportFailed as e:
        _FAILED[fp] = str(e)
        raise


def _export(src: Path, out: Path) -> None:
    py = export_python()
    if py is None:
        raise ExportFailed(problem() or "no export environment")
    cmd = [str(py), "-m", "optimum.commands.optimum_cli", "export", "openvino", "--model", str(src),
           "--task", "text-generation-with-past", "--weight-format", "fp32", str(out)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": ""}  # the export environment's own packages only
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode or not (out / "openvino_model.xml").exists():
        lines = [ln for ln in (r.stderr or r.stdout).splitlines() if ln.strip()]
        raise ExportFailed(f"optimum-cli export openvino failed (exit {r.returncode}): "
                           f"{lines[-1].strip() if lines else 'no output'}")
