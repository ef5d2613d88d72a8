"""Greedy decoding with continuous batching: every slot of the batch works on an unfinished prompt.

`model.generate` runs a batch until its longest completion ends: a row that wrote its end-of-turn
token after 15 tokens keeps being computed (as padding) until the last row reaches its limit. On
the kit's workloads most rows stop early (end of turn, or the stop after a finished 'Answer:'
line), so most of a plain batch's decode work is spent on rows already done. Here a finished row
leaves the batch at once, and when a quarter of the slots are free the next prompts are prefilled
and join the running batch; leading columns that no row needs any more are cut from the cache.

Each row's tokens are the ones `model.generate` would pick for it (greedy argmax of the same
forward pass: same positions, same masking of padding, same KV cache contents); only the batch
around a row changes. Whether a row's numbers depend on its batch is the kernels' business: fp32
CPU kernels compute each row on its own (tested: the same text as `model.generate` at any batch
size), bf16 kernels may round differently at another batch shape.

Works for decoder-only models whose cache is plain (no sliding window, no recurrent state);
`supported(model)` says so, and callers fall back to `model.generate` elsewhere.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Optional, Sequence


@dataclass
class Finished:
    tokens: list[int]  # the new tokens, the end-of-turn token included when written
    reason: str        # "eos", "stop" (the caller's stop rule) or "limit"


def supported(model) -> bool:
    """Decoder-only, and its DynamicCache holds one plain growing layer per block."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    cfg = model.config
    if getattr(cfg, "is_encoder_decoder", False) or not hasattr(model, "get_output_embeddings"):
        return False
    try:
        cache = DynamicCache(config=cfg)
    except Exception:  # noqa: BLE001 (configs the cache cannot read: use model.generate)
        return False
    return bool(cache.layers) and all(type(layer) is DynamicLayer for layer in cache.layers)


def _pad_left(t, n: int, dim: int):
    """Prepend n zero columns along dim."""
    if n == 0:
        return t
    import torch

    shape = list(t.shape)
    shape[dim] = n
    return torch.cat([t.new_zeros(shape), t], dim=dim)


@functools.lru_cache(maxsize=None)
def _slab_layer_class():
    from transformers.cache_utils import DynamicLayer

    class SlabLayer(DynamicLayer):
        """A DynamicLayer that writes each step's keys and values into spare columns of a buffer,
        where DynamicLayer concatenates (copying the whole cache every step); attention reads a
        view of the filled columns. A cache changed from outside (rows dropped, batches merged,
        columns cut) is copied into a new buffer on the next write."""

        spare = 64

        def __init__(self):
            super().__init__()
            self.buf_k = self.buf_v = self.handed = None

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            n = key_states.shape[-2]
            filled = self.keys.shape[-2] if self.keys.numel() else 0
            if self.keys is not self.handed or self.buf_k.shape[-2] < filled + n:
                b, h, _, d = key_states.shape
                self.buf_k = key_states.new_empty((b, h, filled + n + self.spare, d))
                self.buf_v = value_states.new_empty((b, h, filled + n + self.spare, d))
                if filled:
                    self.buf_k[:, :, :filled], self.buf_v[:, :, :filled] = self.keys, self.values
            self.buf_k[:, :, filled:filled + n], self.buf_v[:, :, filled:filled + n] = key_states, value_states
            self.keys, self.values = self.buf_k[:, :, :filled + n], self.buf_v[:, :, :filled + n]
            self.handed = self.keys
            return self.keys, self.values

        def select_rows(self, idx) -> None:
            """Keep rows idx in one copy (the spare columns come along)."""
            filled = self.keys.shape[-2]
            if self.keys is self.handed:
                self.buf_k, self.buf_v = self.buf_k.index_select(0, idx), self.buf_v.index_select(0, idx)
                self.keys, self.values = self.buf_k[:, :, :filled], self.buf_v[:, :, :filled]
                self.handed = self.keys
            else:
                self.keys, self.values = self.keys[idx], self.values[idx]

    return SlabLayer


def _new_cache(model):
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    cls = _slab_layer_class()
    cache.layers = [cls() for _ in cache.layers]
    return cache


class _Batch:
    """The running rows: their KV cache, attention mask, last position and last token."""

    def __init__(self, cache, mask, pos, last, rows: list[int]):
        self.cache, self.mask, self.pos, self.last, self.rows = cache, mask, pos, last, rows

    def merge(self, other: "_Batch") -> "_Batch":
        import torch

        la, lb = self.mask.shape[1], other.mask.shape[1]
        width = max(la, lb)
        for a, b in zip(self.cache.layers, other.cache.layers):
            a.keys = torch.cat([_pad_left(a.keys, width - la, 2), _pad_left(b.keys, width - lb, 2)], dim=0)
            a.values = torch.cat([_pad_left(a.values, width - la, 2), _pad_left(b.values, width - lb, 2)], dim=0)
        self.mask = torch.cat([_pad_left(self.mask, width - la, 1), _pad_left(other.mask, width - lb, 1)], dim=0)
        self.pos = torch.cat([self.pos, other.pos])
        self.last = torch.cat([self.last, other.last])
        self.rows = self.rows + other.rows
        return self

    def keep(self, keep: list[int]) -> None:
        """Keep these rows (indices into the batch); cut columns that are padding in every row left."""
        import torch

        if len(keep) < len(self.rows):
            idx = torch.tensor(keep, dtype=torch.long, device=self.mask.device)
            for layer in self.cache.layers:
                layer.select_rows(idx)
            self.mask, self.pos, self.last = self.mask[idx], self.pos[idx], self.last[idx]
            self.rows = [self.rows[i] for i in keep]
        if not self.rows:
            return
        used = self.mask.any(dim=0).nonzero()
        start = int(used[0]) if len(used) else 0
        if start > 0:
            for layer in self.cache.layers:
                layer.keys, layer.values = layer.keys[:, :, start:], layer.values[:, :, start:]
            self.mask = self.mask[:, start:]


class _Prefixes:
    """KV of shared prompt prefixes (a system turn), computed once per prefix and reused.

    A group of prompts that share a prefix is prefilled as [prefix][padding][suffix]: the prefix's
    keys and values are copied into every row, only the suffixes go through the model, and their
    positions continue after the prefix, so each row sees what it would see alone.
    """

    def __init__(self, model, keep: int = 8):
        self.model, self.keep, self.kv = model, keep, {}

    def get(self, prefix: tuple[int, ...]) -> list[tuple]:
        import torch
        from transformers import DynamicCache

        if prefix not in self.kv:
            device = next(self.model.parameters()).device
            cache = DynamicCache(config=self.model.config)
            ids = torch.tensor([prefix], device=device)
            self.model(input_ids=ids, attention_mask=torch.ones_like(ids), position_ids=torch.arange(len(prefix), device=device)[None],
                       cache=cache, use_cache=True, logits_to_keep=1)
            if len(self.kv) >= self.keep:  # prompts arrive grouped by prefix: the oldest is done
                self.kv.pop(next(iter(self.kv)))
            self.kv[prefix] = [(layer.keys, layer.values) for layer in cache.layers]
        return self.kv[prefix]


def _prefill(model, prompts: list, rows: list[int], pad_id: int, prefix: int = 0,
             prefixes: Optional[_Prefixes] = None) -> tuple[_Batch, "object"]:
    """Left-padded prompts through the model, as `model.generate` does; logits of the last position.
    With `prefix` > 0 the first `prefix` tokens (the same in every prompt) come from `prefixes`."""
    import torch

    device = next(model.parameters()).device
    tails = [list(p[prefix:]) for p in prompts]
    width = max(len(t) for t in tails)
    ids = torch.tensor([[pad_id] * (width - len(t)) + t for t in tails], device=device)
    tail_mask = torch.tensor([[0] * (width - len(t)) + [1] * len(t) for t in tails], device=device)
    pos = (tail_mask.cumsum(-1) - 1).masked_fill(tail_mask == 0, 0) + prefix
    cache = _new_cache(model)
    mask = tail_mask
    if prefix:
        for i, (k, v) in enumerate(prefixes.get(tuple(prompts[0][:prefix]))):
            cache.update(k.expand(len(tails), -1, -1, -1), v.expand(len(tails), -1, -1, -1), i)
        mask = torch.cat([tail_mask.new_ones((len(tails), prefix)), tail_mask], dim=1)
    out = model(input_ids=ids, attention_mask=mask, position_ids=pos, cache=cache, use_cache=True, logits_to_keep=1)
    return _Batch(cache, mask, pos[:, -1], None, rows), out.logits[:, -1]


def _step(model, batch: _Batch):
    """One new token for every running row."""
    import torch

    batch.mask = torch.cat([batch.mask, batch.mask.new_ones((batch.mask.shape[0], 1))], dim=1)
    batch.pos = batch.pos + 1
    out = model(input_ids=batch.last[:, None], attention_mask=batch.mask, position_ids=batch.pos[:, None],
                cache=batch.cache, use_cache=True, logits_to_keep=1)
    return out.logits[:, -1]


def _similar_lengths(rows: list[int], lengths: list[int], slack: float = 1.25) -> list[list[int]]:
    """Split prompts (longest first) into runs prefilled apart, so that padding stays within `slack`
    of the real tokens: one prefill pads every prompt to the longest, and on benchmark documents
    (30 to 400 tokens) that was 2.6x the real positions and most of the prefill's time."""
    out, width, total = [], 0, 0
    for i, n in zip(rows, lengths):
        if out and max(width, n) * (len(out[-1]) + 1) <= slack * (total + n):
            out[-1].append(i)
            width, total = max(width, n), total + n
        else:
            out.append([i])
            width, total = n, n
    return out


def _common_prefix(seqs: list) -> int:
    lo, hi = min(seqs), max(seqs)  # lexicographic extremes: their common prefix is everyone's
    n = 0
    while n < min(len(lo), len(hi)) and lo[n] == hi[n]:
        n += 1
    return n


def shared_prefixes(prompts: Sequence[Sequence[int]], groups: Sequence, min_len: int = 16) -> list[int]:
    """Per prompt, how many leading tokens it shares with every prompt of its group (0 when fewer
    than `min_len`, or alone in its group: not worth a separate pass); at least one token is
    always left to prefill."""
    by: dict = {}
    for i, g in enumerate(groups):
        by.setdefault(g, []).append(i)
    out = [0] * len(prompts)
    for members in by.values():
        if len(members) < 2:  # nothing to share
            continue
        seqs = [list(prompts[i]) for i in members]
        n = min(_common_prefix(seqs), min(len(s) for s in seqs) - 1)
        for i in members:
            out[i] = n if n >= min_len else 0
    return out


def greedy(model, prompts: Sequence[Sequence[int]], limits: Sequence[int], slots: int, eos_ids: set[int],
           pad_id: int, stop: Optional[Callable[[int, list[int]], bool]] = None,
           on_finish: Optional[Callable[[int], None]] = None, groups: Optional[Sequence] = None) -> list[Finished]:
    """Greedy completions of tokenised prompts, at most `slots` rows computed at once.

    `limits[i]`: the most new tokens for prompt i. `stop(i, tokens)`: called after every new token
    of prompt i that is not end-of-turn; True ends it (reason "stop"). `groups[i]`: a key (e.g. the
    system message); the common token prefix of a group is computed once. Results in input order.
    """
    import torch

    n = len(prompts)
    if n == 0:
        return []
    slots = max(1, int(slots))
    groups = list(groups) if groups is not None else [0] * n
    prefix = shared_prefixes(prompts, groups)
    keys = {g: k for k, g in enumerate(dict.fromkeys(groups))}
    # By group (a prefix is computed once), then longest first: later, shorter prompts fit into
    # the running cache's width.
    pending = sorted(range(n), key=lambda i: (keys[groups[i]], -len(prompts[i]), i))
    prefixes = _Prefixes(model)
    tokens: list[list[int]] = [[] for _ in range(n)]
    done: list[Optional[Finished]] = [None] * n
    batch: Optional[_Batch] = None
    refill_at = max(1, slots // 4)

    def finish(i: int, reason: str) -> None:
        done[i] = Finished(tokens[i], reason)
        if on_finish:
            on_finish(i)

    with torch.inference_mode():
        while pending or (batch is not None and batch.rows):
            running = len(batch.rows) if batch is not None else 0
            if pending and (running == 0 or slots - running >= refill_at):
                # Admit the next prompts, one prefill per prefix group; their first token comes
                # from the prefill, and they join the running rows for the following steps.
                take, pending = pending[:slots - running], pending[slots - running:]
                rows, picked = [], []
                for g in dict.fromkeys(groups[i] for i in take):
                    group = [i for i in take if groups[i] == g]
                    for part in _similar_lengths(group, [len(prompts[i]) - prefix[i] for i in group]):
                        new, logits = _prefill(model, [prompts[i] for i in part], part, pad_id, prefix[part[0]], prefixes)
                        new.last = logits.argmax(-1)
                        rows, picked = rows + part, picked + new.last.tolist()
                        batch = new if batch is None or not batch.rows else batch.merge(new)
            else:
                batch.last = _step(model, batch).argmax(-1)
                rows, picked = batch.rows, batch.last.tolist()
            for i, t in zip(rows, picked):
                tokens[i].append(t)
                if t in eos_ids:
                    finish(i, "eos")
                elif stop is not None and stop(i, tokens[i]):
                    finish(i, "stop")
                elif len(tokens[i]) >= limits[i]:
                    finish(i, "limit")
            batch.keep([k for k, i in enumerate(batch.rows) if done[i] is None])
    return done  # type: ignore[return-value]
