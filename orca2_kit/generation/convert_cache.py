"""Where an engine keeps a student converted for it, and the rule that makes each conversion once.

The fingerprint is taken from the model in memory (its config, a strided sample of every tensor,
the tokenizer's vocabulary), so a LoRA student is converted as it is scored: merged
(models.load_model merges it on load), and a model changed in place (trained further) is a new
fingerprint, never a stale conversion. Where it is kept (`destination`): beside the adapter for a
LoRA student (`<adapter dir>/../.engine/<adapter name>-<engine>-<fingerprint>`, a hidden folder: a
cache, not a run artifact), in the kit's cache folder for the base model
(`<cache>/<engine>/<fingerprint>`), so each is converted once and every stage, study arm and later
process reuses it. A conversion is written to a temporary folder and renamed into place whole.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable

CONVERSIONS: list[dict] = []  # one entry per conversion made in this process: {"engine", "dir", "seconds", "fingerprint"}


def fingerprint(model, tokenizer, salt: str) -> str:
    """A hash of what a conversion would hold: engine and its version (`salt`), config, weights
    (models.weights_digest), vocabulary."""
    from orca2_kit.models import weights_digest

    h = hashlib.sha256(salt.encode())
    cfg = {k: v for k, v in model.config.to_dict().items() if k not in ("_name_or_path", "name_or_path")}
    h.update(json.dumps(cfg, sort_keys=True, default=str).encode())
    h.update(weights_digest(model).encode())
    h.update(_vocab_hash(tokenizer).encode())
    return h.hexdigest()[:20]


_VOCAB: dict[int, tuple[int, str]] = {}


def _vocab_hash(tokenizer) -> str:
    """The tokenizer's vocabulary (an engine maps token strings to ids with it), hashed once per tokenizer."""
    key, size = id(tokenizer), len(tokenizer)
    if key not in _VOCAB or _VOCAB[key][0] != size:
        _VOCAB[key] = (size, hashlib.sha256(json.dumps(sorted(tokenizer.get_vocab().items())).encode()).hexdigest())
    return _VOCAB[key][1]


def destination(model, engine: str, fp: str) -> Path:
    """Where this model's conversion for `engine` is kept: beside its adapter, else the kit's cache folder."""
    src = getattr(model, "orca2_source", None) or {}
    if src.get("adapter"):
        a = Path(src["adapter"]).expanduser().resolve()
        return a.parent / ".engine" / f"{a.name}-{engine}-{fp}"
    from orca2_kit.models import cache_root

    return Path(src.get("cache") or cache_root()) / engine / fp


def build_once(model, engine: str, fp: str, make: Callable[[Path], None], log=print) -> Path:
    """The finished conversion folder: found by its fingerprint, else made by `make(tmp)` in a
    temporary folder and renamed into place (two processes converting at once: the first rename wins)."""
    dest = destination(model, engine, fp)
    if (dest / ".complete").exists():
        return dest
    t0 = time.perf_counter()
    tmp = dest.parent / f".{dest.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        make(tmp)
        (tmp / ".complete").write_text(json.dumps({"fingerprint": fp, "source": getattr(model, "orca2_source", None)}))
        try:
            os.replace(tmp, dest)
        except OSError:  # another process finished the same conversion first
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    seconds = round(time.perf_counter() - t0, 2)
    CONVERSIONS.append({"engine": engine, "dir": str(dest), "seconds": seconds, "fingerprint": fp})
    log(f"generation.engine: converted the student for {engine} in {seconds} s ({dest}); reused from now on")
    return dest
