"""Loud checks on the rendered SFT data, before any training step (stage 04)."""
from __future__ import annotations

from orca2_kit.generation import empty_system_check


class TrainDataError(ValueError):
    pass


def check_examples(tokenizer, dataset, max_length: int) -> dict:
    """Loud checks on the rendered data, before any step; returns token statistics.

    The silent failures of SFT on chat data: an example whose answer is truncated away (an
    all-zero assistant mask), an end-of-turn token never trained (the student never learns to
    stop), a template that renders the prompt differently once the answer is appended (the mask
    would cover the wrong tokens), and a default system message injected by the template.
    """
    eot = tokenizer.eos_token_id
    injected = empty_system_check(tokenizer).get("injected_default")
    n_prompt = n_completion = n_total = 0
    for i, ex in enumerate(dataset):
        name = f"example {i} ({ex.get('id', 'no id')})"
        if not ex["completion"] or not str(ex["completion"][0].get("content", "")).strip():
            raise TrainDataError(f"{name}: empty assistant answer")
        prompt = tokenizer.apply_chat_template(ex["prompt"], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(ex["prompt"] + ex["completion"], tokenize=False)
        if not full.startswith(prompt):
            raise TrainDataError(f"{name}: the chat template renders the prompt differently with and without the "
                                 "answer, so the loss mask would not cover the answer; fix the template")
        own = " ".join(m["content"] for m in ex["prompt"] if m["role"] == "system")
        if injected and injected in prompt and injected not in own:
            raise TrainDataError(f"{name}: the chat template injected its default system message {injected!r}; "
                                 "give every example an explicit system turn (empty, generic or cautious)")
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        f_ids = tokenizer(full, add_special_tokens=False)["input_ids"][:max_length]
        completion = f_ids[len(p_ids):]
        if not completion:
            raise TrainDataError(f"{name}: no assistant tokens left after truncation to max_length={max_length} "
                                 f"(the prompt alone is {len(p_ids)} tokens); raise train.max_length")
        if eot not in completion:
            raise TrainDataError(f"{name}: the end-of-turn token {tokenizer.eos_token!r} is not among the trained "
                                 "tokens (truncated, or the template does not close the assistant turn)")
        n_prompt += len(p_ids)
        n_completion += len(completion)
        n_total += len(f_ids)
    return {"examples": len(dataset), "prompt_tokens": n_prompt, "completion_tokens": n_completion,
            "total_tokens": n_total}
