"""The reference path: `model.generate` on left-padded batches grouped by limit and length. Used where
the continuous decoder does not support a model's cache, and in tests and benchmarks to check it."""
from __future__ import annotations

from typing import Optional

from tqdm.auto import tqdm

from orca2_kit.generation.stops import Generation, answer_complete, runaway


class _Stops:
    """Stop a sequence once it has written a complete 'Answer: ...' line (with `after_answer`) or
    the same line LOOP_LINES times in a row (stops.runaway), as the other engines do.

    Small models often keep talking after the answer; everything after it is discarded by the
    extractor anyway, so generating it only costs time.
    """

    def __init__(self, tokenizer, prompt_len: int, after_answer: bool):
        self.tok, self.prompt_len, self.after_answer = tokenizer, prompt_len, after_answer

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        texts = self.tok.batch_decode(input_ids[:, self.prompt_len:], skip_special_tokens=True)
        return torch.tensor([(self.after_answer and answer_complete(t)) or runaway(t) for t in texts],
                            dtype=torch.bool, device=input_ids.device)


def generate_hf(model, tokenizer, prompts: list[str], limits: list[int], batch_size: int, max_prompt_tokens: int,
                 stop_after_answer: bool, desc: str) -> list[Generation]:
    """`model.generate` on left-padded batches grouped by limit, then by length (the reference path)."""
    import torch
    from transformers import StoppingCriteriaList

    n = len(prompts)
    lengths = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    # Group by limit, then by length: less padding, and no batch waits on one long prompt.
    order = sorted(range(n), key=lambda i: (limits[i], lengths[i]))
    out: list[Optional[Generation]] = [None] * n
    eos = tokenizer.eos_token_id
    device = next(model.parameters()).device
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        with tqdm(total=n, desc=desc, leave=False) as bar:
            start = 0
            while start < n:
                lim = limits[order[start]]
                batch = [i for i in order[start:start + batch_size] if limits[i] == lim]
                start += len(batch)
                enc = tokenizer([prompts[i] for i in batch], return_tensors="pt", padding=True,
                                truncation=True, max_length=max_prompt_tokens, add_special_tokens=False).to(device)
                plen = enc["input_ids"].shape[1]
                stops = StoppingCriteriaList([_Stops(tokenizer, plen, stop_after_answer)])
                with torch.inference_mode():
                    gen = model.generate(**enc, max_new_tokens=lim, do_sample=False, temperature=None, top_p=None,
                                         top_k=None, stopping_criteria=stops, pad_token_id=tokenizer.pad_token_id)
                new = gen[:, plen:]
                texts = tokenizer.batch_decode(new, skip_special_tokens=True)
                for i, ids, t in zip(batch, new.tolist(), texts):
                    used = ids.index(eos) + 1 if eos in ids else len(ids)  # finished rows are padded after EOS
                    done = eos in ids or (stop_after_answer and answer_complete(t))
                    in_loop = not done and runaway(t)
                    out[i] = Generation(t.strip(), used, hit_limit=(used >= lim and not done) or in_loop, in_loop=in_loop)
                bar.update(len(batch))
    finally:
        tokenizer.padding_side = old_side
    return out  # type: ignore[return-value]
