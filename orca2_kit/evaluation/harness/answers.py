"""Reading a benchmark answer: the strict reading (the 'Answer:' line), the lenient one (the answer
committed to in any clear form, as orca2_kit/extract.py reads the built-in tasks), and scoring it
against a document's reference (accuracy; DROP's token F1)."""
from __future__ import annotations

import re
from typing import Optional

from orca2_kit.extract import _CUE, check_answer, committed_number, normalize_text, sentences
from orca2_kit.extract import lenient_answer as lenient_text
from orca2_kit.extract import strict_answer as _strict

_LEAD_LETTER = re.compile(r"^\s*\(?([A-P])\)?(?=$|[\s.:,)\]])")


def read_choice(answer: Optional[str], doc: dict) -> Optional[str]:
    """The option letter an extracted answer names: a leading letter, else the one option text it quotes."""
    if not answer:
        return None
    m = _LEAD_LETTER.match(answer)
    if m and m.group(1) in doc["labels"]:
        return m.group(1)
    norm = normalize_text(answer)
    hits = [lab for lab, c in zip(doc["labels"], doc["choices"]) if normalize_text(c) and normalize_text(c) in norm]
    return hits[0] if len(hits) == 1 else None


def strict_answer(text: str) -> str:
    """The 'Answer:' line (the first one: the answer the model committed to), or '' if there is none."""
    return _strict(text) or ""


def _option_mentions(text: str, doc: dict) -> list[tuple[int, str]]:
    """(position, letter) of every mention of an option: its letter as '(B)', 'B)', 'option B' or
    'answer B' (a bare capital B is too often a word), or its text as a whole phrase."""
    found = []
    for lab, choice in zip(doc["labels"], doc["choices"]):
        for m in re.finditer(rf"\({lab}\)|(?<![\w(]){lab}\)|\b(?:option|choice|answer)\s+(?:is\s+)?{lab}\b", text):
            found.append((m.start(), lab))
        c = choice.strip()
        if len(normalize_text(c)) >= 2:
            for m in re.finditer(rf"(?<!\w){re.escape(c)}(?!\w)", text, re.IGNORECASE):
                found.append((m.start(), lab))
    return sorted(found)


def committed_option(text: str, doc: dict) -> str:
    """The option a response commits to: after an explicit cue ("the answer is (B)"), else the only
    option its concluding statement names (the last sentence naming any); '' when there is none."""
    for cue in reversed(list(_CUE.finditer(text))):
        after = _option_mentions(text[cue.end():cue.end() + 200], doc)
        lead = _LEAD_LETTER.match(text[cue.end():cue.end() + 4])
        if lead and lead.group(1) in doc["labels"]:
            return lead.group(1)
        if after and after[0][0] <= 3:
            return after[0][1]
    for sent in reversed(sentences(text)):
        named = {lab for _, lab in _option_mentions(sent, doc)}
        if named:
            return named.pop() if len(named) == 1 else ""
    return ""


def lenient_answer(text: str, doc: dict) -> str:
    """The committed answer in any clear form (orca2_kit.extract's lenient reading), per answer type:
    the option a choice answer commits to (as its letter), the number a worked answer ends on, the
    reference alternative a text answer's concluding sentence states; '' when there is none."""
    text = text or ""
    strict = _strict(text)
    if doc["answer_type"] == "choice":
        if strict is not None and read_choice(strict, doc):
            return strict
        return committed_option(strict if strict is not None else text, doc) or (strict or "")
    scope = strict if strict is not None else text
    if doc["answer_type"] == "number":
        return committed_number(scope) or ""
    refs = [r.strip() for r in str(doc["reference"]).split("|") if r.strip()]
    return lenient_text(scope, answer_type="text", candidates=refs, reference=refs[0] if refs else "") or (strict or "")


def is_correct(answer: Optional[str], doc: dict) -> bool:
    if not answer:
        return False
    if doc["answer_type"] == "choice":
        return read_choice(answer, doc) == doc["reference"]
    refs = [r for r in str(doc["reference"]).split("|") if r.strip()]
    kind = "number" if doc["answer_type"] == "number" else "text"
    return any(check_answer(answer, r, kind) for r in refs)


def token_f1(answer: Optional[str], doc: dict) -> float:
    """DROP's bag-of-words F1 against the best reference (0 if no answer)."""
    if not answer:
        return 0.0
    a = normalize_text(answer).split()
    best = 0.0
    for ref in str(doc["reference"]).split("|"):
        r = normalize_text(ref).split()
        common = sum(min(a.count(w), r.count(w)) for w in set(a))
        if common:
            p, q = common / len(a), common / len(r)
            best = max(best, 2 * p * q / (p + q))
    return best
