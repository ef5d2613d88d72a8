"""A student converted to CTranslate2 (fp32) once per fingerprint of its weights, and reused.

The fingerprint is taken from the model in memory (its config, a strided sample of every tensor,
the tokenizer's vocabulary), so a LoRA student is converted as it is scored:
merged (models.load_model merges it on load), and a model changed in place (trained further) is
a new fingerprint, never a stale conversion. Where it is kept (`home`): beside the adapter for a
LoRA student (`<adapter dir>/../.engine/<adapter name>-<fingerprint>`, a hidden folder: a cache, not
a run artifact), in the kit's cache folder for the base model (`<cache>/ct2/<fingerprint>`), so
each is converted once and every stage, study arm and later process reuses it.

Conversion goes through CTranslate2's own Transformers loaders on the model already in memory (no
second load from disk); `CONVERSIONS` records each one with its wall time, for the benchmark and
the tests that count them.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Optional

CONVERSIONS: list[dict] = []  # one entry per conversion made in this process: {"dir", "seconds", "fingerprint"}
VERSION = 1  # bump when the conversion below changes what it writes


def supported_architecture(model) -> Optional[str]:
    """None when CTranslate2 can convert this model's architecture, else why not."""
    try:
        from ctranslate2.converters.transformers import _MODEL_LOADERS
    except ImportError as e:
        return f"ctranslate2 is not installed ({e})"
    name = type(getattr(model, "config", None)).__name__
    if name not in _MODEL_LOADERS:
        return f"ctranslate2 has no converter for {name}"
    return None


def fingerprint(model, tokenizer) -> str:
    """A hash of what the converted model would hold: config, weights (sampled + summed), vocabulary."""
    import ctranslate2
    import torch

    h = hashlib.sha256(f"ct2 {ctranslate2.__version__} v{VERSION}".encode())
    cfg = {k: v for k, v in model.config.to_dict().items() if k not in ("_name_or_path", "name_or_path")}
    h.update(json.dumps(cfg, sort_keys=True, default=str).encode())
    with torch.no_grad():
        for name, t in model.state_dict().items():
            flat = t.detach().reshape(-1)
            h.update(f"{name} {tuple(t.shape)} {t.dtype}".encode())
            # a strided sample of every tensor (training moves every weight, so it moves the sample);
            # a full sum took seconds per call on a busy 2-core machine, this takes milliseconds
            h.update(flat[::max(1, flat.numel() // 4096)].float().cpu().numpy().tobytes())
    h.update(_vocab_hash(tokenizer).encode())
    return h.hexdigest()[:20]


_VOCAB: dict[int, tuple[int, str]] = {}


def _vocab_hash(tokenizer) -> str:
    """The tokenizer's vocabulary (CTranslate2 maps token strings to ids with it), hashed once per tokenizer."""
    key, size = id(tokenizer), len(tokenizer)
    if key not in _VOCAB or _VOCAB[key][0] != size:
        _VOCAB[key] = (size, hashlib.sha256(json.dumps(sorted(tokenizer.get_vocab().items())).encode()).hexdigest())
    return _VOCAB[key][1]


def _twin(model):
    """The model's module tree copied around the same tensors: CTranslate2's loaders delete each
    layer's attention and MLP once read (to save memory), which must not happen to the model that
    the caller goes on using (log-likelihoods, the reference decoder)."""
    import copy

    memo = {id(t): t for t in list(model.parameters()) + list(model.buffers())}
    return copy.deepcopy(model, memo)


def home_of(model) -> Path:
    """Where conversions of this model are kept: beside its adapter, else the kit's cache folder."""
    src = getattr(model, "orca2_source", None) or {}
    if src.get("adapter"):
        a = Path(src["adapter"]).expanduser().resolve()
        return a.parent / ".engine" / a.name
    from orca2_kit.models import cache_root

    return Path(src.get("cache") or cache_root()) / "ct2"


def converted(model, tokenizer, log=print) -> Path:
    """The CTranslate2 fp32 folder of this model: made once, then found by its fingerprint."""
    fp = fingerprint(model, tokenizer)
    home = home_of(model)
    dest = home / fp if home.name == "ct2" else home.parent / f"{home.name}-{fp}"
    if (dest / ".complete").exists():
        return dest
    from ctranslate2.converters.transformers import _MODEL_LOADERS, TransformersConverter

    class InMemory(TransformersConverter):
        """CTranslate2's converter on a model already loaded (and merged): its loader, not from_pretrained."""

        def _load(self):  # the converter's one loading hook; everything after it (validate, save) is theirs
            import torch

            with torch.no_grad():
                return _MODEL_LOADERS[type(model.config).__name__](_twin(model), tokenizer)

    t0 = time.perf_counter()
    tmp = dest.parent / f".{dest.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    InMemory("in-memory").convert(str(tmp), quantization="float32", force=True)
    (tmp / ".complete").write_text(json.dumps({"fingerprint": fp, "source": getattr(model, "orca2_source", None)}))
    try:
        os.replace(tmp, dest)
    except OSError:  # another process finished the same conversion first
        shutil.rmtree(tmp, ignore_errors=True)
    seconds = round(time.perf_counter() - t0, 2)
    CONVERSIONS.append({"dir": str(dest), "seconds": seconds, "fingerprint": fp})
    log(f"generation.engine: converted the student to CTranslate2 fp32 in {seconds} s ({dest}); reused from now on")
    return dest
