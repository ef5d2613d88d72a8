"""One training run of benchmarks/gpu_check.py: the kit's trainer (build_trainer: TRL's SFTTrainer with
the kit's config, sampler, packing and dtype rules) on a randomly initialised model of the plan's
shape, timed step by step.

The data are token ids with a completion mask (lengths drawn from the plan, seeded): no tokenizer or
chat template is involved, so any shape can be timed; the tiny student's tokenizer only supplies the
padding id. Reported for the timed steps (after the warm-up ones):
- tokens/s: real (non-padding) tokens of the timed steps / their wall time (CUDA synchronised at
  each step's end; the optimizer step included);
- model FLOPs: full fine-tuning 6N per token, LoRA 4N + 6N_lora (forward 2N, backward 2N for the
  activation gradients through frozen weights, adapters 6 per parameter), N the parameters that
  multiply (tied embeddings once, as the output layer); plus causal attention 6·L·d·t per token of an
  example of t tokens (QK^T and AV, forward and backward, half the square). Recomputation under
  activation checkpointing is not counted (MFU, not hardware FLOPs utilisation);
- the peak memory, the padding fraction, the loss of every step (finite), the weights' dtype.
"""
from __future__ import annotations

import json
import math
import random
import tempfile
import time
from pathlib import Path

CONFIGS = Path(__file__).resolve().parent / "configs"


def model_config(name: str):
    from transformers import AutoConfig

    raw = json.loads((CONFIGS / name).read_text())
    raw = {k: v for k, v in raw.items() if not k.startswith("_")}
    return AutoConfig.for_model(raw.pop("model_type"), **raw)


def random_model(name: str, dtype, device: str, attn: str | None = None):
    """A model of the config's shape, initialised randomly on the device in `dtype` (no weights read)."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device(device):
        return AutoModelForCausalLM.from_config(model_config(name), dtype=dtype, attn_implementation=attn or "sdpa")


def matmul_params(model) -> int:
    """Parameters that multiply an activation: all but the input embeddings, which are counted once
    as the output layer when tied."""
    emb = model.get_input_embeddings().weight
    tied = model.get_output_embeddings() is not None and model.get_output_embeddings().weight is emb
    return sum(p.numel() for p in model.parameters()) - (0 if tied else emb.numel())


def token_dataset(n: int, prompt: list[int], completion: list[int], vocab: int, seed: int = 0):
    from datasets import Dataset

    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        p, c = rng.randint(*prompt), rng.randint(*completion)
        rows.append({"input_ids": [rng.randrange(100, vocab) for _ in range(p + c)], "completion_mask": [0] * p + [1] * c})
    return Dataset.from_list(rows)


def run(plan: dict, name: str) -> dict:
    import torch
    from transformers import TrainerCallback, set_seed

    from orca2_kit.config import load_params
    from orca2_kit.models import ensure_tiny_random, load_tokenizer, resolve_device, training_dtype
    from orca2_kit.train.trainer import build_trainer, flash_attention

    t = plan["train"]
    spec = next(r for r in t["runs"] + t["extra_runs"] if r["name"] == name)
    warm, timed = t["warmup_steps"], t["timed_steps"]
    params = load_params(plan["profile"], list(spec["set"]) + [f"train.max_steps={warm + timed}", "train.report_to=[]",
                                                               "train.logging_steps=1"])
    device = resolve_device(params.device)
    cuda = device == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    tok = load_tokenizer(str(ensure_tiny_random()))
    set_seed(params.train_seed())
    t0 = time.perf_counter()
    dtype = training_dtype(params.student.dtype, params.train.method, device)
    model = random_model(plan["model"], dtype, device, params.train.attn_implementation)
    n_matmul = matmul_params(model)
    sync()
    build_s = time.perf_counter() - t0
    ds = token_dataset(t["examples"], t["prompt_tokens"], t["completion_tokens"], len(tok))
    overrides = {"save_strategy": "no", "disable_tqdm": True}
    if "activation_checkpointing" in spec:
        overrides["activation_checkpointing"] = spec["activation_checkpointing"]
    t0 = time.perf_counter()
    trainer, meter, cfg = build_trainer(params, model, ds, tok, Path(tempfile.mkdtemp()), device, **overrides)
    init_s = time.perf_counter() - t0
    ends: list[float] = []

    class Clock(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            sync()
            ends.append(time.perf_counter())

        def on_step_end(self, args, state, control, **kw):
            sync()
            ends.append(time.perf_counter())

    trainer.add_callback(Clock())
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    out = {"name": name, "device": device, "method": params.train.method, "set": spec["set"],
           "batch_size": params.train.per_device_batch_size, "max_length": params.train.max_length,
           "weights_dtype": str(dtype).removeprefix("torch."), "bf16_autocast": cfg.bf16,
           "activation_checkpointing": bool(cfg.activation_checkpointing),
           "attention": model.config._attn_implementation,
           "batches": "packed, padding-free (varlen)" if cfg.packing and flash_attention(params)
           else "packed rows (position ids, per-example masks)" if cfg.packing else "length buckets, padded",
           "model_build_s": round(build_s, 2), "trainer_init_s": round(init_s, 2), "matmul_params": n_matmul}
    try:
        trainer.train()
    except torch.OutOfMemoryError as e:
        out.update(status="oom", error=str(e).splitlines()[0][:300], steps_done=len(ends) - 1,
                   peak_memory_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None)
        return out
    steps = [b - a for a, b in zip(ends, ends[1:])]
    window = meter.batches[warm:warm + timed]
    seconds = ends[warm + timed] - ends[warm]
    tokens = sum(b["real"] for b in window)
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    per_token = 6 * n_matmul if params.train.method == "full" else 4 * n_matmul + 6 * trainable
    c = model.config
    attn_width = c.num_attention_heads * (getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads)
    attn_flops = 6 * c.num_hidden_layers * attn_width * sum(n * n for b in window for n in b["lengths"])
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h and "train_runtime" not in h]
    out.update(status="ok", steps=len(steps), step_s=[round(s, 3) for s in steps], timed_steps=timed,
               timed_s=round(seconds, 3), tokens_timed=tokens, tokens_per_s=round(tokens / seconds, 1),
               tokens_per_step=round(tokens / timed), padding_fraction=round(1 - tokens / sum(b["slots"] for b in window), 4),
               examples_per_row=round(sum(len(b["lengths"]) for b in window) / (len(window) * params.train.per_device_batch_size), 2),
               trainable_params=trainable, flop_per_token_rule="6N" if params.train.method == "full" else "4N + 6N_lora",
               model_tflops=round((per_token * tokens + attn_flops) / seconds / 1e12, 4),
               model_tflops_without_attention=round(per_token * tokens / seconds / 1e12, 4),
               losses=[round(x, 4) for x in losses], losses_finite=all(math.isfinite(x) for x in losses),
               peak_memory_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None)
    return out
