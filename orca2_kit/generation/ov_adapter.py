"""A LoRA student on OpenVINO without an export of its own: the base model's IR (exported once per
cache, ov_convert.py) plus the student's PEFT adapter, fused into the weights when the pipeline is
compiled (OpenVINO GenAI's AdapterConfig in MODE_FUSE, scaled by lora_alpha / r as PEFT scales it).

Why: an export starts optimum-intel and traces the model (~27 s for SmolLM2-135M), once per
student; the study trains a student per arm and seed. Fusing the adapter takes ~2 s. Measured on
the 48 first of 05's prompts (generic system message, budget 199) with a trained offline student:
48/48 texts identical to the merged student's own export.

Served this way only when it is the same model: a plain LoRA adapter (one rank and alpha, no DoRA,
rsLoRA, biases or extra trained modules, which the fuse would not reproduce) on the base it was
loaded on, and weights not changed since the load (a digest taken at load; a student trained
further in place is exported as before, ov_convert.converted).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from orca2_kit.models import load_model, weights_digest

_BASE: dict[tuple, Path] = {}  # (base path, revision, cache) -> its IR folder, found once per process


def lora_scale(adapter_dir: str) -> Optional[float]:
    """PEFT's scale (lora_alpha / r) when the adapter is one MODE_FUSE reproduces exactly; else None."""
    folder = Path(adapter_dir)
    try:
        cfg = json.loads((folder / "adapter_config.json").read_text())
    except (OSError, ValueError):
        return None
    extras = ("use_dora", "use_rslora", "rank_pattern", "alpha_pattern", "modules_to_save", "lora_bias",
              "trainable_token_indices", "target_parameters", "fan_in_fan_out", "layers_to_transform",
              "layer_replication")
    if (cfg.get("peft_type") != "LORA" or any(cfg.get(k) for k in extras) or cfg.get("bias", "none") != "none"
            or not (folder / "adapter_model.safetensors").exists() or not cfg.get("r")):
        return None
    return float(cfg["lora_alpha"]) / float(cfg["r"])


def served(model, tokenizer, log=print) -> Optional[tuple[Path, str, float, str]]:
    """(the base model's IR folder, the adapter's safetensors file, its scale, the weights' digest
    at load: a pipeline is reused only for the same weights) when this model is a
    LoRA student as loaded (models.load_model recorded the adapter and a digest of the merged
    weights); None when it is not one (the caller exports it whole)."""
    src = getattr(model, "orca2_source", None) or {}
    if not src.get("adapter") or src.get("loaded_digest") != weights_digest(model):
        return None
    scale = lora_scale(src["adapter"])
    if scale is None:
        return None
    return (base_folder(src, model.dtype, tokenizer, log), str(Path(src["adapter"]) / "adapter_model.safetensors"),
            scale, src["loaded_digest"])


def base_folder(src: dict, dtype, tokenizer, log=print) -> Path:
    """The base model's OpenVINO folder: loaded once to fingerprint it (as 01 and 05 load it), then
    found in the cache, or exported there once."""
    key = (src["path"], src.get("revision"), src.get("cache"))
    if key not in _BASE:
        from orca2_kit.generation.ov_convert import converted

        base = load_model(src["path"], "cpu", dtype, revision=src.get("revision"),
                          cache=Path(src["cache"]) if src.get("cache") else None)
        _BASE[key] = converted(base, tokenizer, log)
        del base
    return _BASE[key]
