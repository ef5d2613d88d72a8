"""When a greedy completion ends, and what it returns: end of turn, the token limit, or (optionally)
the line break after a finished 'Answer: ...' line."""
from __future__ import annotations

from dataclasses import dataclass


def answer_complete(text: str) -> bool:
    """Has the text written a whole 'Answer: ...' line (a non-empty answer, then a line break)?"""
    i = text.lower().find("answer:")
    return i >= 0 and "\n" in text[i:] and text[i + 7:].split("\n", 1)[0].strip() != ""


@dataclass(frozen=True)
class Generation:
    """One greedy completion: its text, how many tokens it took, and whether the token limit cut it
    (it neither wrote the end-of-turn token nor finished its 'Answer:' line before the limit)."""

    text: str
    new_tokens: int
    hit_limit: bool


def eos_token_ids(model, tokenizer) -> set[int]:
    """The tokens that end a completion: the model's generation config's, and the tokenizer's end of turn."""
    ids = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = set(ids if isinstance(ids, (list, tuple)) else [ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def pad_id(tokenizer) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


class NewlineTokens:
    """Does a token's text hold a line break? Decoded once per token id."""

    def __init__(self, tokenizer):
        self.tok, self.seen = tokenizer, {}

    def __call__(self, token_id: int) -> bool:
        if token_id not in self.seen:
            self.seen[token_id] = "\n" in self.tok.decode([token_id], skip_special_tokens=True)
        return self.seen[token_id]
