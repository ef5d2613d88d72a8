"""Batched greedy generation through the model's own chat template.

One function renders every prompt the kit sends to a local model, for strategy selection (01),
evaluation (05) and hallucination (06), and the same rendering is used at training time (04), so
what the student is trained on and what it is tested on cannot drift apart.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Optional, Sequence

from tqdm.auto import tqdm

from orca2_kit.strategies import student_system_message


def system_text(mode: str, file: Optional[str] = None) -> Optional[str]:
    """'none' -> no system turn; 'empty' -> an explicit empty one; 'generic'/'cautious' -> text."""
    if mode == "none":
        return None
    return student_system_message(mode, file if mode != "empty" else None)


def messages(system: Optional[str], user: str, assistant: Optional[str] = None) -> list[dict]:
    msgs = [] if system is None else [{"role": "system", "content": system}]
    msgs.append({"role": "user", "content": user})
    if assistant is not None:
        msgs.append({"role": "assistant", "content": assistant})
    return msgs


def render(tokenizer, system: Optional[str], user: str) -> str:
    return tokenizer.apply_chat_template(messages(system, user), tokenize=False, add_generation_prompt=True)


def template_hash(tokenizer) -> str:
    return hashlib.sha256((tokenizer.chat_template or "").encode()).hexdigest()[:16]


def system_slot_problem(tokenizer) -> Optional[str]:
    """None if the chat template renders a system turn; else what it does with one instead.

    Templates without a system slot either raise (Gemma's: "System role not supported") or drop
    the system turn silently; either way the strategy instructions and the erased system message
    of the recipe would never reach the model.
    """
    try:
        text = render(tokenizer, "PROBE-SYSTEM", "PROBE-USER")
    except Exception as e:  # noqa: BLE001 (jinja raises TemplateError, or whatever the template raises)
        return f"it rejects a system turn: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
    if "PROBE-SYSTEM" not in text:
        return "it drops the system turn silently"
    return None


def empty_system_check(tokenizer) -> dict:
    """Can this template give the model a truly empty system message?

    Some templates (SmolLM2's among them) inject a default system message when no system turn is
    given. An explicit empty system turn avoids that, if the template renders it as empty.
    Returns {"possible": bool, "injected_default": str|None, "reason": str}.
    """
    user, mark = "PROBE-USER", "PROBE-SYSTEM"

    def head(system):
        text = tokenizer.apply_chat_template(messages(system, user), tokenize=False, add_generation_prompt=True)
        return text.split(user)[0]

    try:
        marked, empty, absent = head(mark), head(""), head(None)
    except Exception as e:  # templates without a system slot raise here
        return {"possible": False, "injected_default": None, "reason": f"the template rejects a system turn: {e}"}
    if mark not in marked:
        return {"possible": False, "injected_default": None, "reason": "the template drops the system turn"}
    pre, post = marked.split(mark, 1)
    injected = None
    if absent != empty and absent.startswith(pre) and absent.endswith(post):
        injected = absent[len(pre):len(absent) - len(post)].strip() or None
    if empty != pre + post:
        return {"possible": False, "injected_default": injected,
                "reason": "the template does not render an explicit empty system turn as empty"}
    return {"possible": True, "injected_default": injected,
            "reason": "explicit empty system turn" + (" (bypasses the template's default)" if injected else "")}


def _answer_complete(text: str) -> bool:
    """Has the text written a whole 'Answer: ...' line (a non-empty answer, then a line break)?"""
    i = text.lower().find("answer:")
    return i >= 0 and "\n" in text[i:] and text[i + 7:].split("\n", 1)[0].strip() != ""


class _StopAfterAnswer:
    """Stop a sequence once it has written a complete 'Answer: ...' line.

    Small models often keep talking after the answer; everything after it is discarded by the
    extractor anyway, so generating it only costs time.
    """

    def __init__(self, tokenizer, prompt_len: int):
        self.tok, self.prompt_len = tokenizer, prompt_len

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        texts = self.tok.batch_decode(input_ids[:, self.prompt_len:], skip_special_tokens=True)
        return torch.tensor([_answer_complete(t) for t in texts], dtype=torch.bool, device=input_ids.device)


@dataclass(frozen=True)
class Generation:
    """One greedy completion: its text, how many tokens it took, and whether the token limit cut it
    (it neither wrote the end-of-turn token nor finished its 'Answer:' line before the limit)."""

    text: str
    new_tokens: int
    hit_limit: bool


def generate(model, tokenizer, conversations: Sequence[list[dict]], max_new_tokens: int | Sequence[int] = 128,
             batch_size: int = 32, max_prompt_tokens: int = 1024, stop_after_answer: bool = True,
             desc: str = "generating", engine: str = "auto") -> list[str]:
    """Greedy completions for chat conversations (texts only; see `generate_detailed`)."""
    return [g.text for g in generate_detailed(model, tokenizer, conversations, max_new_tokens, batch_size,
                                              max_prompt_tokens, stop_after_answer, desc, engine)]


ENGINES = ("auto", "continuous", "hf")


def generate_detailed(model, tokenizer, conversations: Sequence[list[dict]],
                      max_new_tokens: int | Sequence[int] = 128, batch_size: int = 32, max_prompt_tokens: int = 1024,
                      stop_after_answer: bool = True, desc: str = "generating", engine: str = "auto") -> list[Generation]:
    """Greedy completions for chat conversations; results in input order.

    `max_new_tokens` may differ per conversation (e.g. short for direct answers). `batch_size`:
    how many conversations are computed at once. `engine`: "continuous" (greedy.py: a finished
    row leaves the batch and the next prompt takes its slot), "hf" (`model.generate` on batches
    grouped by limit and length), "auto": continuous where the model's cache allows it.
    """
    from orca2_kit.generation import greedy

    if engine not in ENGINES:
        raise ValueError(f"engine: '{engine}' is not one of {', '.join(ENGINES)}")
    n = len(conversations)
    limits = [max_new_tokens] * n if isinstance(max_new_tokens, int) else list(max_new_tokens)
    if len(limits) != n:
        raise ValueError(f"max_new_tokens: {len(limits)} limits for {n} conversations; give one per conversation or an int")
    prompts = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations]
    if engine == "hf" or (engine == "auto" and not greedy.supported(model)):
        return _generate_hf(model, tokenizer, prompts, limits, batch_size, max_prompt_tokens, stop_after_answer, desc)
    ids = tokenizer(prompts, add_special_tokens=False, truncation=True, max_length=max_prompt_tokens)["input_ids"]
    newline = _NewlineTokens(tokenizer)

    def stop(i: int, toks: list[int]) -> bool:
        # An 'Answer:' line is finished only by a line break: decode the row only then.
        return newline(toks[-1]) and _answer_complete(tokenizer.decode(toks, skip_special_tokens=True))

    with tqdm(total=n, desc=desc, leave=False) as bar:
        res = greedy.greedy(model, ids, limits, batch_size, eos_token_ids(model, tokenizer), _pad_id(tokenizer),
                            stop if stop_after_answer else None, on_finish=lambda i: bar.update(1),
                            groups=[_system_of(c) for c in conversations])
    out = []
    for r in res:
        text = tokenizer.decode(r.tokens, skip_special_tokens=True)
        cut = r.reason == "limit" and not (stop_after_answer and _answer_complete(text))
        out.append(Generation(text.strip(), len(r.tokens), hit_limit=cut))
    return out


def _system_of(conversation: list[dict]) -> Optional[str]:
    """Prompts with the same system turn share a rendered prefix, computed once (greedy.py)."""
    return next((m["content"] for m in conversation if m["role"] == "system"), None)


def eos_token_ids(model, tokenizer) -> set[int]:
    """The tokens that end a completion: the model's generation config's, and the tokenizer's end of turn."""
    ids = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = set(ids if isinstance(ids, (list, tuple)) else [ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def _pad_id(tokenizer) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


class _NewlineTokens:
    """Does a token's text hold a line break? Decoded once per token id."""

    def __init__(self, tokenizer):
        self.tok, self.seen = tokenizer, {}

    def __call__(self, token_id: int) -> bool:
        if token_id not in self.seen:
            self.seen[token_id] = "\n" in self.tok.decode([token_id], skip_special_tokens=True)
        return self.seen[token_id]


def _generate_hf(model, tokenizer, prompts: list[str], limits: list[int], batch_size: int, max_prompt_tokens: int,
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
                stops = StoppingCriteriaList([_StopAfterAnswer(tokenizer, plen)]) if stop_after_answer else None
                with torch.inference_mode():
                    gen = model.generate(**enc, max_new_tokens=lim, do_sample=False, temperature=None, top_p=None,
                                         top_k=None, stopping_criteria=stops, pad_token_id=tokenizer.pad_token_id)
                new = gen[:, plen:]
                texts = tokenizer.batch_decode(new, skip_special_tokens=True)
                for i, ids, t in zip(batch, new.tolist(), texts):
                    used = ids.index(eos) + 1 if eos in ids else len(ids)  # finished rows are padded after EOS
                    done = eos in ids or (stop_after_answer and _answer_complete(t))
                    out[i] = Generation(t.strip(), used, hit_limit=used >= lim and not done)
                bar.update(len(batch))
    finally:
        tokenizer.padding_side = old_side
    return out  # type: ignore[return-value]
