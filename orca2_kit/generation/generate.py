"""Greedy completions for chat conversations, in input order, through the engine the caller names."""
from __future__ import annotations

from typing import Optional, Sequence

from tqdm.auto import tqdm

from orca2_kit.generation import engine as engines
from orca2_kit.generation.hf import generate_hf
from orca2_kit.generation.stops import Generation, NewlineTokens, answer_complete, eos_token_ids, pad_id, runaway


def generate(model, tokenizer, conversations: Sequence[list[dict]], max_new_tokens: int | Sequence[int] = 128,
             batch_size: int = 32, max_prompt_tokens: int = 1024, stop_after_answer: bool = True,
             desc: str = "generating", engine: str = "auto") -> list[str]:
    """Greedy completions for chat conversations (texts only; see `generate_detailed`)."""
    return [g.text for g in generate_detailed(model, tokenizer, conversations, max_new_tokens, batch_size,
                                              max_prompt_tokens, stop_after_answer, desc, engine)]


ENGINES = engines.ENGINES


def generate_detailed(model, tokenizer, conversations: Sequence[list[dict]],
                      max_new_tokens: int | Sequence[int] = 128, batch_size: int = 32, max_prompt_tokens: int = 1024,
                      stop_after_answer: bool = True, desc: str = "generating", engine: str = "auto") -> list[Generation]:
    """Greedy completions for chat conversations; results in input order.

    `max_new_tokens` may differ per conversation (e.g. short for direct answers). `batch_size`:
    how many conversations are computed at once. `engine` (engine.py): "openvino" / "ctranslate2" (the
    student converted once, decoded by OpenVINO GenAI / CTranslate2), "continuous" (greedy.py: a finished row leaves the batch
    and the next prompt takes its slot; the reference), "hf" (`model.generate` on batches grouped by
    limit and length), "auto": the model's `generation.engine` from its load, else the fastest that
    supports it.

    Every engine stops a row at its end-of-turn token, its limit, a runaway loop (stops.runaway: the
    same line LOOP_LINES times in a row; `in_loop`, counted as cut) and, with `stop_after_answer`,
    the line break after a finished 'Answer:' line.
    """
    engine = engines.resolve(model, engine)
    n = len(conversations)
    limits = [max_new_tokens] * n if isinstance(max_new_tokens, int) else list(max_new_tokens)
    if len(limits) != n:
        raise ValueError(f"max_new_tokens: {len(limits)} limits for {n} conversations; give one per conversation or an int")
    prompts = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations]
    if engine == "hf":
        return generate_hf(model, tokenizer, prompts, limits, batch_size, max_prompt_tokens, stop_after_answer, desc)
    ids = tokenizer(prompts, add_special_tokens=False, truncation=True, max_length=max_prompt_tokens)["input_ids"]
    newline = NewlineTokens(tokenizer)

    def stop(i: int, toks: list[int]) -> bool:
        # An 'Answer:' line and a loop's line are finished only by a line break: decode the row only then.
        if not newline(toks[-1]):
            return False
        text = tokenizer.decode(toks, skip_special_tokens=True)
        return (stop_after_answer and answer_complete(text)) or runaway(text)

    with tqdm(total=n, desc=desc, leave=False) as bar:
        res = engines.decode(model, tokenizer, ids, limits, batch_size, eos_token_ids(model, tokenizer), pad_id(tokenizer),
                             stop, on_finish=lambda i: bar.update(1),
                             groups=[_system_of(c) for c in conversations], engine=engine)
    out = []
    for r in res:
        text = tokenizer.decode(r.tokens, skip_special_tokens=True)
        answered = stop_after_answer and answer_complete(text)
        in_loop = r.reason == "stop" and not answered
        out.append(Generation(text.strip(), len(r.tokens), hit_limit=(r.reason == "limit" and not answered) or in_loop,
                              in_loop=in_loop))
    return out


def _system_of(conversation: list[dict]) -> Optional[str]:
    """Prompts with the same system turn share a rendered prefix, computed once (greedy.py)."""
    return next((m["content"] for m in conversation if m["role"] == "system"), None)
