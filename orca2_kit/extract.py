"""Answer extraction and checking, shared by strategy selection (01), teacher verification (02)
and evaluation (05).

Two named filters, reported side by side as in lm-evaluation-harness:
- strict: the answer is read only from a line 'Answer: ...' (the format every prompt asks for);
  whether that line exists is the "format-OK" rate;
- flexible: strict, else a fallback per answer type (last number, last mentioned choice, last line).
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Optional, Sequence

_ANSWER_LINE = re.compile(r"^[\s>*_#-]*(?:final\s+)?answer\s*[:：]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class Extraction:
    strict: Optional[str]  # from the 'Answer:' line, or None
    flexible: Optional[str]  # strict, else the type's fallback, or None

    @property
    def format_ok(self) -> bool:
        return self.strict is not None


def _clean(ans: str) -> str:
    return ans.strip().strip("*_`").strip()


def _fallback(text: str, answer_type: str, choices: Sequence[str]) -> Optional[str]:
    if answer_type == "number":
        nums = _NUMBER.findall(text)
        return nums[-1] if nums else None
    if answer_type == "choice":
        best, pos = None, -1
        for c in choices:
            for m in re.finditer(rf"\b{re.escape(c)}\b", text, re.IGNORECASE):
                if m.start() > pos:
                    best, pos = c, m.start()
        return best
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else None


def extract_answer(text: str, answer_type: str = "text", choices: Sequence[str] = ()) -> Extraction:
    m = _ANSWER_LINE.search(text or "")  # the first answer line is the one the model committed to
    strict = _clean(m.group(1)) if m else None
    flexible = strict if strict else _fallback(text or "", answer_type, choices)
    return Extraction(strict=strict or None, flexible=flexible)


def normalize_text(s: str) -> str:
    s = s.lower().strip()
    s = s.translate(str.maketrans("", "", string.punctuation.replace(",", "")))
    s = re.sub(r"\b(the|a|an)\b", " ", s)
    return " ".join(s.split())


def _to_number(s: str) -> Optional[float]:
    m = _NUMBER.search(s.replace("$", ""))
    if not m:
        return None
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
        hits = [c for c in choices if re.search(rf"\b{re.escape(c)}\b", answer, re.IGNORECASE)]
        if hits:  # exactly one choice named, and it is the reference
            return len(hits) == 1 and normalize_text(hits[0]) == normalize_text(reference)
        return normalize_text(answer) == normalize_text(reference)
    return normalize_text(answer) == normalize_text(reference)


def score(text: str, reference: str, answer_type: str = "text", choices: Sequence[str] = ()) -> dict:
    """Everything the notebooks report for one generation."""
    ex = extract_answer(text, answer_type, choices)
    return {
        "answer_strict": ex.strict,
        "answer_flexible": ex.flexible,
        "format_ok": ex.format_ok,
        "correct_strict": check_answer(ex.strict, reference, answer_type, choices),
        "correct_flexible": check_answer(ex.flexible, reference, answer_type, choices),
    }
