"""When a greedy completion ends, and what it returns: end of turn, the token limit, a runaway loop
(the same line LOOP_LINES times in a row), or (optionally) the line break after a finished
'Answer: ...' line."""
from __future__ import annotations

import re
from dataclasses import dataclass


def answer_complete(text: str) -> bool:
    """Has the text written a whole 'Answer: ...' line (a non-empty answer, then a line break)?"""
    i = text.lower().find("answer:")
    return i >= 0 and "\n" in text[i:] and text[i + 7:].split("\n", 1)[0].strip() != ""


# A runaway loop: the same line this many times in a row (runaway). Replayed on stored outputs made
# without the rule (benchmarks/loop_stop.py): a fresh offline run (1,044 generations of 01, 05, 06):
# 106 stopped, none of which wrote anything but that line again, no verdict changed, 11% of the
# generated text saved (most of it the student's answers in 05); the ablation study (7,838): 46
# stopped, 1 of which went on to write a wrong 'Answer:' line (its format-OK changed, right or
# wrong did not); its learning curve (960): 11, none. At 3 lines, 36 of the study's 86 went on.
LOOP_LINES = 6
_STEP = re.compile(r"^\s*(?:[-*•]\s*)?(?:step\s*)?\d+\s*[.):]\s*", re.I)


def step_free(line: str) -> str:
    """A line without its leading list or step number ("7. So the answer is 2." -> "So the answer is 2.")."""
    return _STEP.sub("", line).strip()


def runaway(text: str, lines: int = LOOP_LINES) -> bool:
    """Do the text's last `lines` complete lines say the same thing (a leading list or step number
    aside: "7. So the answer is 2." and "8. So the answer is 2." are one line; any other number must
    match), each at least 8 characters? A small model that has written the same line six times in a
    row keeps writing it until the token limit cuts it (LOOP_LINES), so the kit stops it there and
    counts it as cut, as the limit would have."""
    if lines <= 0:
        return False
    done = text.split("\n")[:-1]  # complete lines: the last piece has no line break yet
    if len(done) < lines:
        return False
    tail = {step_free(line) for line in done[-lines:]}
    return len(tail) == 1 and len(next(iter(tail))) >= 8


@dataclass(frozen=True)
class Generation:
    """One greedy completion: its text, how many tokens it took, and whether it was cut: the token
    limit ended it before the end-of-turn token or a finished 'Answer:' line, or it was stopped in
    a runaway loop (`in_loop`: LOOP_LINES identical lines, which only the limit would have ended)."""

    text: str
    new_tokens: int
    hit_limit: bool
    in_loop: bool = False


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
