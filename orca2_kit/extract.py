"""Answer extraction and checking: one module for strategy selection (01), teacher verification
(02), evaluation (05) and the harness's filters, so every stage reads an answer the same way.

Two readings, reported side by side (as lm-evaluation-harness reports named filters):

- **strict**: the answer is read only from a line 'Answer: ...', the format every prompt asks for.
  Whether that line exists is the *format-OK* rate. Teacher answers are verified on this reading.
- **lenient** (format-free): the answer the response *commits to*, in any clear form. The
  'Answer:' line if there is one; else an explicit cue ("the answer is X"); else the response's
  concluding statement — the last sentence that names any candidate answer — if it names exactly
  one (or, in a contrast — "X is older than Y", "X, compared to Y", "X, not Y" — the one before it). Candidates are what the task admits (a choice task's options, a text task's alternatives of
  the same kind, e.g. the seven weekdays); a sentence naming two candidates is no commitment, so an
  explanation that names both options is judged by the option it concludes with, not by the last
  one mentioned. Numbers: the number after a cue or '=' in the concluding sentence, else its last
  number (step numbers like "1." or "Step 2:" are not answers). Lists: the last listing of all the
  expected items, in its order.

The lenient reading is what says whether a model *knows* the answer; strict minus lenient is
what it has (not) learned about the format. Both are exact string rules, tested on real outputs.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Optional, Sequence

_ANSWER_LINE = re.compile(r"^[\s>*_#-]*(?:final\s+)?answer\s*[:：]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?![\w])")
# "1." / "2)" / "Step 3:" at the start of a line number a list or a step; they state no answer.
_MARKER = re.compile(r"^\s*(?:[-*•]\s*)?(?:step\s*)?\d+\s*[.):](?:\s|$)|^\s*[-*•]\s", re.IGNORECASE | re.MULTILINE)
# Explicit commitments in running text: "the answer is X", "answer: X" mid-line, "so the answer would be X".
_CUE = re.compile(r"\b(?:(?:final|correct|right)\s+)?(?:answer|option|choice)\s*(?:is|would be|:|=)\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_CONTRAST = re.compile(r"\b(?:than|compared (?:to|with)|rather than|unlike|instead of)\b|,\s*(?:and\s+)?not\b", re.IGNORECASE)
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}


@dataclass(frozen=True)
class Extraction:
    strict: Optional[str]  # from the 'Answer:' line, or None
    lenient: Optional[str]  # the committed answer in any clear form, or None

    @property
    def format_ok(self) -> bool:
        return self.strict is not None


def _clean(ans: str) -> str:
    return ans.strip().strip("*_`").strip()


def strict_answer(text: str) -> Optional[str]:
    """The first 'Answer:' line's content (the answer the model committed to), or None."""
    m = _ANSWER_LINE.search(text or "")
    return (_clean(m.group(1)) or None) if m else None


def sentences(text: str) -> list[str]:
    """Sentences and lines of a response, in order (a line break always ends one); a list or step
    marker at the start of a line ("1.", "- ", "Step 2:") is not part of the sentence."""
    out = []
    for line in (text or "").splitlines():
        line = _MARKER.sub("", line, count=1)
        out += [s.strip() for s in _SENTENCE_END.split(line) if s and s.strip()]
    return out


def _mentions(text: str, candidates: Sequence[str]) -> list[tuple[int, str]]:
    """(position, candidate) of every whole-word mention; a longer candidate hides a shorter one
    inside it ("New Delhi" is not also a mention of "Delhi")."""
    found: list[tuple[int, int, str]] = []
    for c in sorted({c for c in candidates if c.strip()}, key=len, reverse=True):
        for m in re.finditer(rf"(?<!\w){re.escape(c)}(?!\w)", text, re.IGNORECASE):
            if not any(s <= m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), c))
    return sorted((s, c) for s, _, c in found)


def committed_candidate(text: str, candidates: Sequence[str]) -> Optional[str]:
    """The candidate a response commits to: after the last explicit cue ("the answer is X"), else
    the only one named in its concluding statement (the last sentence naming any); None if none is
    named, or the concluding statement names several."""
    text = text or ""
    cues = list(_CUE.finditer(text))
    for cue in reversed(cues):
        after = _mentions(text[cue.end():cue.end() + 80], candidates)
        if after and after[0][0] <= 3:  # the cue is followed by the candidate itself
            return after[0][1]
    for sent in reversed(sentences(text)):
        mentions = _mentions(sent, candidates)
        named = {c.lower(): c for _, c in mentions}
        if len(named) == 1:
            return next(iter(named.values()))
        if named:  # "Anna is older than Ben", "sulfur, compared to zinc", "positive, not negative":
            # a contrast commits to the one candidate before it
            for contrast in _CONTRAST.finditer(sent):
                before = {c.lower(): c for p, c in mentions if p < contrast.start()}
                after = {c.lower() for p, c in mentions if p > contrast.start()}
                if len(before) == 1 and set(before).isdisjoint(after) and after:
                    return next(iter(before.values()))
            return None
    return None


def _numbers(text: str, skip_markers: bool = True) -> list[tuple[int, str]]:
    markers = {m.end() - 1 for m in _MARKER.finditer(text)} if skip_markers else set()
    out = []
    for m in _NUMBER.finditer(text):
        if any(m.start() <= k < m.end() + 2 for k in markers):
            continue
        out.append((m.start(), m.group(0)))
    for m in re.finditer(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", text, re.IGNORECASE):
        out.append((m.start(), str(_NUMBER_WORDS[m.group(1).lower()])))
    return sorted(out)


def committed_number(text: str, answer_line: bool = False) -> Optional[str]:
    """The number after the last explicit cue; else, in the last sentence with a number, the
    result after its last '=' or its last number (a worked step ends on its result). In an
    'Answer:' line (`answer_line`) "62." is the answer, not the marker of a numbered step."""
    text = text or ""
    if answer_line:
        nums = _numbers(text, skip_markers=False)
        eq = [n for p, n in nums if p > text.rfind("=") >= 0]
        if nums:
            return eq[0] if eq else nums[-1][1]
    for cue in reversed(list(_CUE.finditer(text))):
        after = text[cue.end():].split("\n", 1)[0]
        nums = _numbers(after[:40])
        if nums and nums[0][0] <= 3:
            if "=" in after:  # "answer: 12 + 9 = 21": the result
                res = _numbers(after[after.rfind("="):])
                return res[0][1] if res else nums[0][1]
            return nums[0][1]
    for sent in reversed(sentences(text)):
        nums = _numbers(sent)
        if nums:
            eq = [n for p, n in nums if "=" in sent[:p] and p > sent.rfind("=")]
            return eq[0] if eq else nums[-1][1]
    return None


def committed_list(text: str, reference: str) -> Optional[str]:
    """The last line or sentence that lists every expected item, read in its order."""
    items = [x.strip() for x in re.split(r",|;|\n", reference) if x.strip()]
    if not items:
        return None
    for sent in list(reversed(sentences(text))) + [text]:  # a listing may span lines: the whole text last
        named = _mentions(sent, items)
        order = list(dict.fromkeys(c.lower() for _, c in named))
        if len(order) == len({i.lower() for i in items}):
            return ", ".join(order)
    return None


def lenient_answer(text: str, answer_type: str = "text", choices: Sequence[str] = (),
                   candidates: Sequence[str] = (), reference: str = "") -> Optional[str]:
    """The committed answer, in any clear form (see the module docstring). Inside an 'Answer:' line
    the same reading applies ("Answer: The capital is Bangkok" commits to Bangkok)."""
    strict = strict_answer(text)
    scope = strict if strict is not None else (text or "")
    if answer_type == "number":
        return committed_number(scope, answer_line=strict is not None)
    if answer_type == "list":
        return committed_list(scope, reference) or strict
    pool = list(choices) or list(candidates)
    if reference and answer_type != "choice":
        pool = pool + [reference]  # a text task's alternatives of the same kind, and the answer itself
    if pool:
        return committed_candidate(scope, pool) or strict
    # No candidates known (a task file without them): the concluding sentence, credited when it
    # states the reference as a whole phrase.
    last = sentences(scope)
    if not last:
        return None
    hit = reference and re.search(rf"(?<!\w){re.escape(reference)}(?!\w)", last[-1], re.IGNORECASE)
    return reference if hit else last[-1]


def extract_answer(text: str, answer_type: str = "text", choices: Sequence[str] = (),
                   candidates: Sequence[str] = (), reference: str = "") -> Extraction:
    return Extraction(strict=strict_answer(text),
                      lenient=lenient_answer(text, answer_type, choices, candidates, reference))


def normalize_text(s: str) -> str:
    s = s.lower().strip()
    s = s.translate(str.maketrans("", "", string.punctuation.replace(",", "")))
    s = re.sub(r"\b(the|a|an)\b", " ", s)
    return " ".join(s.split())


def _to_number(s: str) -> Optional[float]:
    s = s.replace("$", "")
    m = _NUMBER.search(s)
    if not m:
        w = re.search(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", s, re.IGNORECASE)
        return float(_NUMBER_WORDS[w.group(1).lower()]) if w else None
    try:
        return float(m.group(0).replace(",", ""))
    except ValueError:
        return None


def check_answer(answer: Optional[str], reference: str, answer_type: str = "text",
                 choices: Sequence[str] = ()) -> bool:
    """Is an extracted answer right? Exact per type, after light normalisation."""
    if answer is None:
        return False
    if answer_type == "number":
        a, r = _to_number(answer), _to_number(reference)
        return a is not None and r is not None and abs(a - r) < 1e-6
    if answer_type == "list":
        split = lambda s: [normalize_text(x) for x in re.split(r",|;|\n", s) if normalize_text(x)]  # noqa: E731
        return split(answer) == split(reference)
    if answer_type == "choice":
        hits = {c.lower() for _, c in _mentions(answer, choices)}
        if hits:  # exactly one choice named, and it is the reference
            return len(hits) == 1 and normalize_text(hits.pop()) == normalize_text(reference)
        return normalize_text(answer) == normalize_text(reference)
    return normalize_text(answer) == normalize_text(reference)


def score(text: str, reference: str, answer_type: str = "text", choices: Sequence[str] = (),
          candidates: Sequence[str] = ()) -> dict:
    """Everything the notebooks report for one generation."""
    ex = extract_answer(text, answer_type, choices, candidates, reference)
    correct_strict = check_answer(ex.strict, reference, answer_type, choices)
    return {
        "answer_strict": ex.strict,
        "answer_lenient": ex.lenient,
        "format_ok": ex.format_ok,
        "correct_strict": correct_strict,
        "correct_lenient": check_answer(ex.lenient, reference, answer_type, choices),
    }
