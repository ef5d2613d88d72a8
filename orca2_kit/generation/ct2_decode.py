"""Greedy decoding on CTranslate2, with the contract of greedy.greedy: the same prompts (token ids of
the model's chat template), per-prompt limits, end-of-turn tokens and the caller's stop rule, and
the same `Finished` records, in input order.

CTranslate2 takes a batch's limit and end tokens as one setting; the per-step callback does the rest
(`callback(step)` returning True ends that row): a row's own limit, and the caller's stop rule (the
kit's stop after a finished 'Answer:' line, the harness's stop sequences). The tokens are recorded
from the callback, so a row ends on exactly the token where greedy.greedy would end it.

Prompts run in chunks of `slots`, longest first (less padding in a chunk); CTranslate2 drops a
finished row from its batch, so a chunk costs what its rows need. fp32 on the CPU: each row's numbers
do not depend on the rows around it (tested: the same texts as the kit's decoder).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Optional, Sequence

from orca2_kit.generation.greedy import Finished


@lru_cache(maxsize=2)  # ~540 MB each for SmolLM2: the base and one student (a study loads many arms)
def generator(folder: str, threads: int):
    """One loaded CTranslate2 model per converted folder and thread count (kept for the process)."""
    import ctranslate2

    return ctranslate2.Generator(folder, device="cpu", compute_type="float32", intra_threads=threads,
                                 inter_threads=1)


def greedy_ct2(gen, tokenizer, prompts: Sequence[Sequence[int]], limits: Sequence[int], slots: int,
               eos_ids: set[int], stop: Optional[Callable[[int, list[int]], bool]] = None,
               on_finish: Optional[Callable[[int], None]] = None) -> list[Finished]:
    n = len(prompts)
    tokens: list[list[int]] = [[] for _ in range(n)]
    done: list[Optional[Finished]] = [None] * n
    order = sorted(range(n), key=lambda i: (-len(prompts[i]), i))
    slots = max(1, int(slots))
    for s in range(0, n, slots):
        chunk = order[s:s + slots]

        def step(r, chunk=chunk) -> bool:
            i = chunk[r.batch_id]
            if done[i] is not None:  # already ended by us: CTranslate2 may report the step once more
                return True
            t = int(r.token_id)
            tokens[i].append(t)
            reason = ("eos" if t in eos_ids else "stop" if stop is not None and stop(i, tokens[i])
                      else "limit" if len(tokens[i]) >= limits[i] else None)
            if reason:
                done[i] = Finished(tokens[i], reason)
                if on_finish:
                    on_finish(i)
            return reason is not None

        starts = [tokenizer.convert_ids_to_tokens(list(prompts[i])) for i in chunk]
        gen.generate_batch(starts, max_batch_size=0, beam_size=1, sampling_topk=1, max_length=max(limits[i] for i in chunk),
                           end_token=sorted(eos_ids), return_end_token=True, include_prompt_in_result=False,
                           callback=step)
        for i in chunk:  # a row CTranslate2 ended without telling the callback (it should not happen)
            if done[i] is None:
                raise RuntimeError(f"ctranslate2 ended prompt {i} after {len(tokens[i])} tokens without end of turn, "
                                   f"stop or its limit {limits[i]}; use generation.engine: continuous")
    return done  # type: ignore[return-value]
