"""A student converted to CTranslate2 (fp32) once per fingerprint of its weights, and reused
(convert_cache.py says where, and how a conversion is made once).

Conversion goes through CTranslate2's own Transformers loaders on the model already in memory (no
second load from disk).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from orca2_kit.generation import convert_cache

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


def _twin(model):
    """The model's module tree copied around the same tensors: CTranslate2's loaders delete each
    layer's attention and MLP once read (to save memory), which must not happen to the model that
    the caller goes on using (log-likelihoods, the reference decoder)."""
    import copy

    memo = {id(t): t for t in list(model.parameters()) + list(model.buffers())}
    return copy.deepcopy(model, memo)


def converted(model, tokenizer, log=print) -> Path:
    """The CTranslate2 fp32 folder of this model: made once, then found by its fingerprint."""
    import ctranslate2

    fp = convert_cache.fingerprint(model, tokenizer, f"ct2 {ctranslate2.__version__} v{VERSION}")

    def make(tmp: Path) -> None:
        from ctranslate2.converters.transformers import _MODEL_LOADERS, TransformersConverter

        class InMemory(TransformersConverter):
            """CTranslate2's converter on a model already loaded (and merged): its loader, not from_pretrained."""

            def _load(self):  # the converter's one loading hook; everything after it (validate, save) is theirs
                import torch

                with torch.no_grad():
                    return _MODEL_LOADERS[type(model.config).__name__](_twin(model), tokenizer)

        InMemory("in-memory").convert(str(tmp), quantization="float32", force=True)

    return convert_cache.build_once(model, "ct2", fp, make, log)
