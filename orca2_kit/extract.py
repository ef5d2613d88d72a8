"""Answer extraction and checking: one module for strategy selection (01), teacher verification
(02), evaluation (05) and the harness's filters, so every stage reads an answer the same way.

Two readings, reported side by side (as lm-evaluation-harness reports named filters):

- **strict**: the answer is read only from a line 'Answer: ...', the format every prompt asks for.
  Whether that line exists is the *format-OK* rate. Teacher answers are verified on this reading.
- **lenient** (format-free): the answer the response *commits to*, in any clear form. What the
  response copied from its prompt is removed first (orca2_kit/echo.py: its questions, its format
  line, a copied passage or option list). Then: the 'Answer:' line if there is one; else the last
  explicit cue ("the answer is X"); else the response's concluding statement — the last sentence
  that names any candidate answer — if it names exactly one (or, in a contrast — "X is older than
  Y", "X, compared to Y", "X, not Y" — the one its comparative word, read against the question's,
  picks). Candidates are what the task admits (a choice task's options, a text task's alternatives
  of the same kind, e.g. the seven weekdays). Nothing is a commitment that:
  - hedges: two or more candidates listed after a cue ("the answer is Anna or Ben", all seven
    weekdays, "Answer: 12 or 15"), or named in the concluding sentence without a contrast;
  - points the other way: "Anna is younger." to "Who is older?";
  - is a question ("Does Anna have more money than Ben?") or negated ("It is not Monday.").
  A cue followed by a value that is no candidate ("Answer: 1956" to a town question) ends the
  search: the response committed to that value. When the task knows no alternative to its
  reference (a full name, a DROP span), the reference listed beside a name or number of its shape
  ("Ivo Coramb or Lena Holt") is a hedge. Numbers: the number after a cue or '=' in the concluding sentence, else its last number
  (step numbers like "1." or "Step 2:" are not answers). Lists: the last listing of all the
  expected items, in its order.

The lenient reading is what says whether a model *knows* the answer; strict minus lenient is
what it has (not) learned about the format. Both are exact string rules, tested on real outputs
and on adversarial ones (tests/core/test_extract_adversarial.py).
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Optional, Sequence

from orca2_kit.echo import MARKER as _MARKER
from orca2_kit.echo import direction_near, question_direction, sentences, strip_echo

_ANSWER_LINE = re.compile(r"^[\s>*_#-]*(?:final\s+)?answer\s*[:：]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?![\w])")
# Explicit commitments in running text: "the answer is X", "answer: X" mid-line, "so the answer would be X".
_CUE = re.compile(r"\b(?:(?:final|correct|right)\s+)?(?:answer|option|choice)\s*(?:is|would be|:|=)\s*", re.IGNORECASE)
_CONTRAST = re.compile(r"\b(?:than|compared (?:to|with)|rather than|unlike|instead of)\b|,\s*(?:and\s+)?not\b", re.IGNORECASE)
# What may stand between two listed answers ("Anna or Ben", "12, 15", "Monday Tuesday"): a hedge.
_LIST_GAP = re.compile(r"^[\s,;/()&*_\"'-]*(?:(?:and/or|and|or|nor|vs\.?|versus|maybe|perhaps|possibly|either)[\s,;/()*_\"'-]*)*$",
                       re.IGNORECASE)
# "not Monday", "isn't the Monday", "never Anna" (right before the mention: "no doubt Anna" is no negation)
_NEGATION = re.compile(r"(?:\bnot|n't|\bnever)\s+(?:the\s+|a\s+|an\s+)?$", re.IGNORECASE)
# With no alternative known: the reference offered beside a capitalised name or a number is a hedge.
# (Not a comma: "Lena Vellick, Founder and CEO" is an apposition.)
_BESIDE_AFTER = re.compile(r"^\s*(?:/|\bor\b|\band/or\b)\s*[\"'*]*(?:[A-Z]|\d)")
_BESIDE_BEFORE = re.compile(r"(?:[A-Z]\w*|\d)[\"'*]*\s*(?:/|\bor|\band/or)\s*[\"'*]*$")
# A cue followed by a value (a number, a capitalised word, a quote, an option): an answer, not prose.
_VALUE = re.compile(r"^[\s\"'*_(<\[]*(?:-?\d|[A-Z])")
_CLAUSE_END = re.compile(r"[.!?](?=\s|$)|\n")
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}


# The format-OK rule in the words the notebooks use (notebooks 01 and 05 quote it; a test checks
# both the quote and the behaviour): what strict_answer accepts, neither more nor less.
FORMAT_OK_WORDS = ("a line that begins with `Answer:` and has the answer after it (in any case; `Final answer:` "
                   "counts too, and markdown marks such as `**` or `-` may come before it); it need not be the last "
                   "line, but an `Answer: 8` inside a sentence does not count")


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


def _mentions(text: str, candidates: Sequence[str]) -> list[tuple[int, str]]:
    """(position, candidate) of every whole-word mention; a longer candidate hides a shorter one
    inside it ("New Delhi" is not also a mention of "Delhi")."""
    found: list[tuple[int, int, str]] = []
    for c in sorted({c for c in candidates if c.strip()}, key=len, reverse=True):
        for m in re.finditer(rf"(?<!\w){re.escape(c)}(?!\w)", text, re.IGNORECASE):
            if not any(s <= m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), c))
    return sorted((s, c) for s, _, c in found)


def _listed(text: str, mentions: list[tuple[int, str]]) -> bool:
    """Is the first mention followed, with nothing but 'or', 'and' or commas between, by another candidate?"""
    first = mentions[0][1].lower()
    for (p, c), (q, d) in zip(mentions, mentions[1:]):
        if d.lower() != first:
            return bool(_LIST_GAP.match(text[p + len(c):q]))
    return False


def _clause(text: str, start: int) -> str:
    m = _CLAUSE_END.search(text, start)
    return text[start:m.start() if m else len(text)]


def _beside_another(text: str, start: int, end: int) -> bool:
    """With no alternative known, is the mention at text[start:end] listed beside something of its
    shape ("Ivo Coramb or Lena Holt", "42 or 44")?"""
    return bool(_BESIDE_AFTER.match(text[end:]) or _BESIDE_BEFORE.search(text[:start]))


def _read_sentence(sent: str, candidates: Sequence[str], asked: int, alternatives: bool = True) -> Optional[str]:
    """The candidate one sentence commits to, or None (none named, a hedge, a negation, a question,
    or a comparison pointing the other way than the question, `asked`)."""
    mentions = _mentions(sent, candidates)
    named = {c.lower(): c for _, c in mentions}
    if not named or sent.rstrip("\"')*_ ").endswith("?"):
        return None
    if len(named) == 1:
        pos, c = mentions[-1]
        if _NEGATION.search(sent[:pos]) or (asked and direction_near(sent, pos) == -asked):
            return None
        if not alternatives and _beside_another(sent, pos, pos + len(c)):
            return None
        return c
    # "Anna is older than Ben", "sulfur, compared to zinc", "positive, not negative": a contrast
    # commits to the one before it, or to the one after it when its comparative points the other
    # way than the question ("David has less than Tara" to "Who has more?" is Tara)
    for contrast in _CONTRAST.finditer(sent):
        before = {c.lower(): c for p, c in mentions if p < contrast.start()}
        after = {c.lower(): c for p, c in mentions if p > contrast.start()}
        if len(before) == 1 and set(before).isdisjoint(after) and after:
            flip = asked and direction_near(sent, contrast.start()) == -asked
            if flip and len(after) > 1:
                return None
            return next(iter((after if flip else before).values()))
    return None


def committed_candidate(text: str, candidates: Sequence[str], asked: int = 0,
                        alternatives: bool = True) -> Optional[str]:
    """The candidate a response commits to: after the last explicit cue, else in its concluding
    statement; None if there is none or it hedges. A cue followed by a value that is no candidate
    returns that value (the response committed to something else). `asked`: the question's
    direction (echo.question_direction). `alternatives`: False when the candidates are only the
    reference(s): then the reference offered beside anything of its shape is a hedge too."""
    text = text or ""
    for cue in reversed(list(_CUE.finditer(text))):
        clause = _clause(text, cue.end())
        mentions = _mentions(clause, candidates)
        if mentions and mentions[0][0] <= 3:  # the cue is followed by the candidate itself
            (p, c) = mentions[0]
            hedge = _listed(clause, mentions) or (not alternatives and _beside_another(clause, p, p + len(c)))
            return None if hedge else c
        if not mentions and _VALUE.match(clause) and not _mentions(text[cue.end() + len(clause):], candidates):
            return _clean(clause).rstrip(".,;:") or None  # "...in Mirrholm. Answer: 1956": 1956, not Mirrholm
    sents = [s for s in sentences(text) if not s.rstrip("\"')*_ ").endswith("?")]
    for sent in reversed(sents):
        if _mentions(sent, candidates):
            return _read_sentence(sent, candidates, asked, alternatives)
    return None


def _numbers(text: str, skip_markers: bool = True) -> list[tuple[int, int, str]]:
    """(start, end, value) of every number, digits or words ("twelve" is 12)."""
    markers = {m.end() - 1 for m in _MARKER.finditer(text)} if skip_markers else set()
    out = []
    for m in _NUMBER.finditer(text):
        if any(m.start() <= k < m.end() + 2 for k in markers):
            continue
        out.append((m.start(), m.end(), m.group(0)))
    for m in re.finditer(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", text, re.IGNORECASE):
        out.append((m.start(), m.end(), str(_NUMBER_WORDS[m.group(1).lower()])))
    return sorted(out)


def _hedged(text: str, nums: list[tuple[int, int, str]], k: int) -> bool:
    """Is number k offered beside a different one, with only 'or', 'and' or a comma between ("12 or 15")?"""
    for j in (k - 1, k + 1):
        if 0 <= j < len(nums) and nums[j][2].replace(",", "") != nums[k][2].replace(",", ""):
            a, b = sorted((j, k))
            if _LIST_GAP.match(text[nums[a][1]:nums[b][0]]):
                return True
    return False


def _result(text: str, nums: list[tuple[int, int, str]]) -> Optional[str]:
    """The number a worked line ends on: the one after its last '=', else its last; None if it is
    offered beside another ("12 or 15")."""
    eq = [k for k, n in enumerate(nums) if n[0] > text.rfind("=") >= 0]
    k = eq[0] if eq else len(nums) - 1
    return None if _hedged(text, nums, k) else nums[k][2]


def committed_number(text: str, answer_line: bool = False) -> Optional[str]:
    """The number after the last explicit cue; else, in the last sentence with a number, the
    result after its last '=' or its last number (a worked step ends on its result). In an
    'Answer:' line (`answer_line`) "62." is the answer, not the marker of a numbered step. Two
    numbers offered side by side ("12 or 15") are no answer."""
    text = text or ""
    if answer_line:
        nums = _numbers(text, skip_markers=False)
        if nums:
            return _result(text, nums)
    for cue in reversed(list(_CUE.finditer(text))):
        after = text[cue.end():].split("\n", 1)[0]
        nums = _numbers(after[:40], skip_markers=False)  # "the answer is 7.": 7, not a step marker
        if nums and nums[0][0] <= 3:
            if "=" in after:  # "answer: 12 + 9 = 21": the result
                res = _numbers(after[after.rfind("="):])
                return res[0][2] if res else nums[0][2]
            return None if _hedged(after, nums, 0) else nums[0][2]
        if not nums and _VALUE.match(after) and not _numbers(text[cue.end() + len(after):]):
            return None  # the cue names something that is no number: that is the answer, and it is no number
    for sent in reversed(sentences(text)):
        nums = _numbers(sent)
        if nums and not sent.rstrip("\"')*_ ").endswith("?"):
            return _result(sent, nums)
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
                   candidates: Sequence[str] = (), reference: str = "", prompt: str = "") -> Optional[str]:
    """The committed answer, in any clear form (see the module docstring), after what the response
    copied from `prompt` is removed. Inside an 'Answer:' line the same reading applies ("Answer:
    The capital is Bangkok" commits to Bangkok)."""
    strict = strict_answer(text)
    scope = strip_echo(strict if strict is not None else (text or ""), prompt)
    if answer_type == "number":
        return committed_number(scope, answer_line=strict is not None)
    if answer_type == "list":
        return committed_list(scope, reference) or strict
    pool = list(choices) or list(candidates)
    if reference and answer_type != "choice":
        pool = pool + [reference]  # a text task's alternatives of the same kind, and the answer itself
    if pool:
        alternatives = len({c.lower() for c in pool}) > 1
        found = committed_candidate(scope, pool, question_direction(prompt), alternatives)
        # an Answer line naming no candidate is still the answer ("Answer: Mirrholm" to a full-name question)
        return found or (strict if strict and not _mentions(strict, pool) else None)
    # No candidates known (a task file without a reference): the concluding sentence.
    last = sentences(scope)
    return last[-1] if last else None


def extract_answer(text: str, answer_type: str = "text", choices: Sequence[str] = (),
                   candidates: Sequence[str] = (), reference: str = "", prompt: str = "") -> Extraction:
    return Extraction(strict=strict_answer(text),
                      lenient=lenient_answer(text, answer_type, choices, candidates, reference, prompt))


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
          candidates: Sequence[str] = (), prompt: str = "") -> dict:
    """Everything the notebooks report for one generation (`prompt`: the user turn it answered, so
    that what the response copied from it is not read as an answer)."""
    ex = extract_answer(text, answer_type, choices, candidates, reference, prompt)
    correct_strict = check_answer(ex.strict, reference, answer_type, choices)
    return {
        "answer_strict": ex.strict,
        "answer_lenient": ex.lenient,
        "format_ok": ex.format_ok,
        "correct_strict": correct_strict,
        "correct_lenient": check_answer(ex.lenient, reference, answer_type, choices),
    }
