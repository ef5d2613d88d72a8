"""Greedy decoding on OpenVINO GenAI's continuous-batching pipeline, with the contract of
greedy.greedy: the same prompts (token ids of the model's chat template), per-prompt limits,
end-of-turn tokens and the caller's stop rule, and the same `Finished` records, in input order.

Every prompt is a request with its own limit and end tokens; after each pipeline step the new
tokens of each request are read one by one and the caller's stop rule (the kit's stop after a
finished 'Answer:' line, the harness's stop sequences) is applied to each, so a row ends on exactly
the token where greedy.greedy would end it (and is then stopped, its slot going to the next prompt).

Precision: OpenVINO's CPU defaults are bf16 compute on CPUs that have it and a u8-compressed KV
cache; both change texts, so both are set to f32 here (measured: the kit's decoder's texts on 108
of 05's prompts, 108/108). The KV cache is sized from the prompts and limits of the call.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional, Sequence

from orca2_kit.generation.greedy import Finished

PREFILL_TOKENS = 8192  # prompt tokens computed per pipeline step (prompts are split across steps beyond it)


def _kv_bytes_per_token(folder: str) -> int:
    cfg = json.loads((Path(folder) / "config.json").read_text())
    heads = cfg.get("num_key_value_heads") or cfg["num_attention_heads"]
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    return 2 * cfg["num_hidden_layers"] * heads * head_dim * 4  # keys and values, f32


class AdapterNotFused(RuntimeError):
    """OpenVINO GenAI could not fuse a LoRA adapter into the base model's IR (the caller exports the student)."""


@lru_cache(maxsize=2)  # the base and one student (a study loads many arms); each holds its KV cache
def pipeline(folder: str, threads: int, slots: int, cache_gb: int, adapter: Optional[tuple] = None):
    """The pipeline and its adapter config (None without one). `adapter`: (safetensors file, scale,
    digest of the weights it was loaded as), fused into the weights at compile time (ov_adapter.py)."""
    import openvino_genai as ov_genai

    sc = ov_genai.SchedulerConfig()
    sc.max_num_seqs = slots
    sc.cache_size = cache_gb
    sc.max_num_batched_tokens = PREFILL_TOKENS
    sc.dynamic_split_fuse = True
    props = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32", "KV_CACHE_PRECISION": "f32",
             "DYNAMIC_QUANTIZATION_GROUP_SIZE": 0}
    fused = None
    if adapter:
        try:
            fused = ov_genai.AdapterConfig(ov_genai.Adapter(adapter[0]), float(adapter[1]),
                                           ov_genai.AdapterConfig.Mode.MODE_FUSE)
            return ov_genai.ContinuousBatchingPipeline(folder, sc, "CPU", {**props, "adapters": fused}), fused
        except RuntimeError as e:
            raise AdapterNotFused(str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__) from None
    return ov_genai.ContinuousBatchingPipeline(folder, sc, "CPU", props), fused


def cache_gb(folder: str, prompts: Sequence[Sequence[int]], limits: Sequence[int], slots: int) -> int:
    """GB of KV cache for `slots` of the longest rows at once (rounded up to a power of two, so
    calls of similar size share one pipeline)."""
    longest = sorted((len(p) + lim for p, lim in zip(prompts, limits)), reverse=True)[:slots]
    need = 1.25 * sum(longest) * _kv_bytes_per_token(folder) / 2**30
    return 2 ** max(0, math.ceil(math.log2(max(need, 1.0))))


def greedy_ov(folder: str, threads: int, prompts: Sequence[Sequence[int]], limits: Sequence[int], slots: int,
              eos_ids: set[int], stop: Optional[Callable[[int, list[int]], bool]] = None,
              on_finish: Optional[Callable[[int], None]] = None, adapter: Optional[tuple] = None) -> list[Finished]:
    import numpy as np
    import openvino as ov
    import openvino_genai as ov_genai

    slots = max(1, int(slots))
    pipe, fused = pipeline(folder, threads, slots, cache_gb(folder, prompts, limits, slots), adapter)
    n = len(prompts)
    tokens: list[list[int]] = [[] for _ in range(n)]
    done: list[Optional[Finished]] = [None] * n
    handles = []
    for i, (ids, lim) in enumerate(zip(prompts, limits)):
        cfg = ov_genai.GenerationConfig()
        cfg.max_new_tokens = int(lim)
        cfg.do_sample = False
        if fused is not None:
            cfg.adapters = fused
        if eos_ids:
            cfg.eos_token_id = min(eos_ids)
            cfg.stop_token_ids = set(eos_ids)
        handles.append(pipe.add_request(i, ov.Tensor(np.array([list(ids)], dtype=np.int64)), cfg))

    def finish(i: int, reason: str) -> None:
        done[i] = Finished(tokens[i], reason)
        if on_finish:
            on_finish(i)

    while pipe.has_non_finished_requests():
        pipe.step()
        for i, h in enumerate(handles):
            if done[i] is not None or not h.can_read():
                continue
            for out in h.read().values():  # {sequence id: GenerationOutput}; greedy has one sequence
                for t in out.generated_ids:
                    tokens[i].append(int(t))
                    reason = ("eos" if t in eos_ids else "stop" if stop is not None and stop(i, tokens[i])
                              else "limit" if len(tokens[i]) >= limits[i] else None)
                    if reason:
                        finish(i, reason)
                        break
            if done[i] is not None and done[i].reason == "stop":
                h.stop()  # ends this row now; its slot goes to the next prompt
    for i in range(n):  # every row ends by its end token, the stop rule or its limit, all seen above
        if done[i] is None:
            raise RuntimeError(f"openvino ended prompt {i} after {len(tokens[i])} tokens without end of turn, "
                               f"stop or its limit {limits[i]}; use generation.engine: continuous")
    return done  # type: ignore[return-value]
