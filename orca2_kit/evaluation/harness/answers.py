"""Reading a benchmark answer: the strict reading (the 'Answer:' line), the lenient one (the answer
committed to in any clear form, as orca2_kit/extract.py reads the built-in tasks), and scoring it
against a document's reference (accuracy; DROP's token F1).

The lenient reading first removes what the response copied from its prompt (the document's
question, options, passage and the format line: orca2_kit/echo.py), then reads per answer type:
the option a choice answer commits to (a hedge between options commits to none), the number a
worked answer ends on, for BBH's two-answer tasks the word ("True"/"False", "Yes"/"No",
"valid"/"invalid") it commits to, and for other open text the reference stated in the concluding
sentence — except LAMBADA, whose answer is the *next word* of the passage: the first word the
response adds to it.
"""
from __future__ import annotations

import re
from typing import Optional

from orca2_kit.echo import strip_echo
from orca2_kit.evaluation.harness.benchmarks import doc_to_text
from orca2_kit.extract import _CUE, _LIST_GAP, _NEGATION, _VALUE, _clause, check_answer, committed_candidate
from orca2_kit.extract import committed_number, normalize_text, sentences
from orca2_kit.extract import strict_answer as _strict

_LEAD_LETTER = re.compile(r"^\s*\(?([A-P])\)?(?=$|[\s.:,)\]])")
# BBH tasks whose answer is one of two words (boolean_expressions, causal_judgement, navigate,
# sports_understanding, web_of_lies, formal_fallacies): each word is the other's alternative.
_OPPOSITES = (("true", "false"), ("yes", "no"), ("valid", "invalid"))
_LETTERS = re.compile(r"^\s*\(?[A-P]\)?(?:\s*(?:,|/|&|\bor\b|\band\b)\s*\(?[A-P]\)?)+[\s.]*$")  # "C, D", "A or B"
_WORD = re.compile(r"[^\W_][\w'’-]*")
_WORD_CUE = re.compile(r"\bword\b[^.\n]{0,20}?\b(?:is|would be|:)\s*", re.IGNORECASE)


def _prompt(doc: dict) -> str:
    """The user turn the document was asked as ('' for a bare document without a question)."""
    return doc_to_text(doc) if doc.get("question") else ""


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


def _option_mentions(text: str, doc: dict, lead: bool = False) -> list[tuple[int, int, str]]:
    """(start, end, letter) of every mention of an option: its letter as '(B)', 'B)', 'option B' or
    'answer B' (a bare capital B is too often a word; with `lead`, a bare letter opening the text
    counts), or its text as a whole phrase."""
    found = []
    m = _LEAD_LETTER.match(text) if lead else None
    if m and m.group(1) in doc["labels"]:
        found.append((m.start(1), m.end(1), m.group(1)))
    for lab, choice in zip(doc["labels"], doc["choices"]):
        for m in re.finditer(rf"\({lab}\)|(?<![\w(]){lab}\)|\b(?:option|choice|answer)\s+(?:is\s+)?{lab}\b", text):
            found.append((m.start(), m.end(), lab))
        c = choice.strip()
        if len(normalize_text(c)) >= 2:
            for m in re.finditer(rf"(?<!\w){re.escape(c)}(?!\w)", text, re.IGNORECASE):
                found.append((m.start(), m.end(), lab))
    return sorted(set(found))


def _hedge(text: str, mentions: list[tuple[int, int, str]]) -> bool:
    """Is the first option named listed beside another with only 'or', 'and' or commas between?"""
    first = mentions[0][2]
    for (_, end, _), (start, _, lab) in zip(mentions, mentions[1:]):
        if lab != first:
            return bool(_LIST_GAP.match(text[end:start]))
    return False


def committed_option(text: str, doc: dict) -> str:
    """The option a response commits to: after an explicit cue ("the answer is (B)"), else the only
    option its concluding statement names (the last sentence naming any, not a question, not
    negated); '' when there is none or it hedges ("(A) or (B)")."""
    for cue in reversed(list(_CUE.finditer(text))):
        clause = _clause(text, cue.end())
        mentions = _option_mentions(clause, doc, lead=True)
        if mentions and mentions[0][0] <= 3:
            return "" if _hedge(clause, mentions) else mentions[0][2]
        if not mentions and _VALUE.match(clause) and not _option_mentions(text[cue.end() + len(clause):], doc):
            return ""  # the cue names no option: the response committed to something else
    for sent in reversed(sentences(text)):
        mentions = _option_mentions(sent, doc)
        if not mentions or sent.rstrip("\"')*_ ").endswith("?"):
            continue
        if len({lab for *_, lab in mentions}) > 1 or _NEGATION.search(sent[:mentions[0][0]]):
            return ""
        return mentions[0][2]
    return ""


def next_word(text: str, doc: dict) -> str:
    """LAMBADA: the word the response adds to the passage — after its last cue ("Answer:", "the next
    word is") when it has one, else from its start — skipping what it repeated of the passage (an
    echo of its sentences, or of its last words before continuing them)."""
    strict = _strict(text)
    scope = strip_echo(strict if strict is not None else (text or ""), _prompt(doc))
    cues = [m.end() for m in list(_CUE.finditer(scope)) + list(_WORD_CUE.finditer(scope)) if _WORD.search(scope[m.end():])]
    if cues:
        scope = scope[max(cues):]
    words = list(_WORD.finditer(scope))
    ctx = _WORD.findall(doc.get("context") or "")
    for k in range(min(len(ctx), len(words) - 1, 80), 0, -1):  # "...he looked at the" -> "the signs"
        if [w.group(0).lower() for w in words[:k]] == [w.lower() for w in ctx[-k:]]:
            words = words[k:]
            break
    return words[0].group(0) if words else ""


def lenient_answer(text: str, doc: dict) -> str:
    """The committed answer in any clear form (orca2_kit.extract's lenient reading), per answer type:
    the option a choice answer commits to (as its letter), the number a worked answer ends on, the
    reference alternative a text answer's concluding sentence states (LAMBADA: the next word); ''
    when there is none. What the response copied from the document's prompt is not read."""
    text = text or ""
    strict = _strict(text)
    scope = strip_echo(strict if strict is not None else text, _prompt(doc))
    if doc["answer_type"] == "choice":
        if strict is not None:
            named = _option_mentions(strict, doc, lead=True)
            if (named and _hedge(strict, named)) or _LETTERS.match(strict):
                return ""
            if read_choice(strict, doc):
                return strict
        found = committed_option(scope, doc)
        return found or (strict if strict and not _option_mentions(strict, doc, lead=True) else "")
    if doc["answer_type"] == "number":
        return committed_number(scope, answer_line=strict is not None) or ""
    if doc.get("benchmark") == "lambada":
        return next_word(text, doc)
    refs = [r.strip() for r in str(doc["reference"]).split("|") if r.strip()]
    pair = next((p for p in _OPPOSITES if len(refs) == 1 and refs[0].lower() in p), None)
    if pair:  # BBH's two-answer tasks: the other answer is the one alternative ("True" or "False")
        found = committed_candidate(scope, [w.capitalize() if refs[0][0].isupper() else w for w in pair])
        return found or (strict if strict and not any(w in strict.lower().split() for w in pair) else "")
    found = committed_candidate(scope, refs, alternatives=False)
    return found or (strict if strict and not any(normalize_text(r) in normalize_text(strict) for r in refs) else "")


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
