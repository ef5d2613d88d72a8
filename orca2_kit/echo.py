"""What a response copied from its prompt, and what the prompt asks for.

A model that repeats its prompt commits to nothing: an echoed format line ("...of the form
'Answer: <sodium or iron>'") names both options, an echoed question ("Who is older?") or passage
names the very words the reference is made of. The lenient reading (orca2_kit/extract.py) removes
what was copied before it reads an answer:

- wherever they appear: the prompt's questions (its sentences ending in '?'), its answer-format
  line and the line's placeholder ('<sodium or iron>');
- two or more consecutive sentences copied from the prompt (a passage, a list of options). One
  copied sentence alone stays: quoting the one sentence that holds the answer is a choice.

`question_direction` says which way a comparative question points ("Who is older?": +1, "Which
has fewer protons?": -1), so that "Ben is younger than Anna" is read against it.
"""
from __future__ import annotations

import re

# "1." / "2)" / "Step 3:" at the start of a line number a list or a step; they state no answer.
MARKER = re.compile(r"^\s*(?:[-*•]\s*)?(?:step\s*)?\d+\s*[.):](?:\s|$)|^\s*[-*•]\s", re.IGNORECASE | re.MULTILINE)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_FORMAT_LINE = re.compile(r"^.*(?:of the form|in the form|end your response).*['\"]answer\s*:.*$", re.I | re.M)
_PLACEHOLDER = re.compile(r"<[^<>\n]{1,80}>")
_LABEL = re.compile(r"^\s*(?:question|q)\s*:\s*", re.I)

UP = ("more", "greater", "greatest", "larger", "largest", "bigger", "biggest", "higher", "highest", "older",
      "oldest", "taller", "tallest", "heavier", "heaviest", "longer", "longest")
DOWN = ("less", "fewer", "fewest", "smaller", "smallest", "lower", "lowest", "younger", "youngest", "shorter",
        "shortest", "lighter", "lightest")
DIRECTION = re.compile(r"\b(" + "|".join(UP + DOWN) + r")\b", re.IGNORECASE)


def sign(word: str) -> int:
    return 1 if word.lower() in UP else -1


def spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: a line break always ends one, and a list or step marker at
    the start of a line ("1.", "- ", "Step 2:") is not part of the sentence."""
    out, pos = [], 0
    for line in (text or "").splitlines(keepends=True):
        body = line.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        m = MARKER.match(body)
        start = m.end() if m else 0
        for cut in list(SENTENCE_END.finditer(body, start)) + [None]:
            end = cut.start() if cut else len(body)
            piece = body[start:end]
            if piece.strip():
                lead = len(piece) - len(piece.lstrip())
                out.append((pos + start + lead, pos + start + len(piece.rstrip())))
            start = cut.end() if cut else len(body)
        pos += len(line)
    return out


def sentences(text: str) -> list[str]:
    """Sentences and lines of a response, in order (see `spans`)."""
    return [text[s:e] for s, e in spans(text)]


def _norm(s: str) -> str:
    s = re.sub(r"\s+", " ", s.lower()).strip().strip("*_`\"'").strip()
    return s.rstrip(".!?,;:").strip()


def _loose(piece: str) -> re.Pattern:
    return re.compile(r"\s+".join(re.escape(w) for w in piece.split()), re.IGNORECASE)


def questions(prompt: str) -> list[str]:
    """The prompt's questions (its sentences ending in '?', without a 'Question:' label)."""
    body = _FORMAT_LINE.sub("", prompt or "")
    return [_LABEL.sub("", s) for s in sentences(body) if s.rstrip("\"')*_ ").endswith("?")]


def strip_echo(text: str, prompt: str) -> str:
    """`text` without what it copied from `prompt` (see the module docstring); unchanged when
    nothing was copied or no prompt is known."""
    if not prompt or not text:
        return text
    chars = list(text)
    whole = _norm(prompt)
    lines = {_norm(x) for x in prompt.splitlines() if _norm(x)}
    sp = [(s, e) for s, e in spans(text) if re.search(r"\w", text[s:e])]
    copied = []
    for s, e in sp:
        n = _norm(text[s:e])
        copied.append(bool(n) and (n in lines or (len(n.split()) >= 3 and n in whole)))
    for i, (s, e) in enumerate(sp):  # runs of two or more copied sentences
        if copied[i] and ((i > 0 and copied[i - 1]) or (i + 1 < len(sp) and copied[i + 1])):
            chars[s:e] = " " * (e - s)
    pieces = [m.group(0).strip() for m in _FORMAT_LINE.finditer(prompt)]
    pieces += [m.group(0) for m in _PLACEHOLDER.finditer("\n".join(pieces))]
    pieces += [q for q in questions(prompt) if len(q.split()) >= 2]
    for piece in sorted(set(pieces), key=len, reverse=True):  # the questions and the format line, anywhere
        for m in _loose(piece).finditer(text):
            chars[m.start():m.end()] = " " * (m.end() - m.start())
    out = "".join(chars)
    return text if out == text else out


def question_direction(prompt: str) -> int:
    """+1 if the prompt's question asks for the larger/older/more one, -1 for the smaller/younger/
    fewer one, 0 if it asks neither way (or both)."""
    qs = questions(prompt)
    if not qs:
        body = [s for s in sentences(_FORMAT_LINE.sub("", prompt or ""))]
        qs = body[-1:]
    found = {sign(w) for q in qs for w in DIRECTION.findall(q)}
    return found.pop() if len(found) == 1 else 0


def direction_near(text: str, pos: int, end: int | None = None) -> int:
    """The direction of the comparative word nearest to `pos` (after it preferred, up to `end`), 0 if none."""
    best = None
    for m in DIRECTION.finditer(text):
        if end is not None and m.start() >= end:
            break
        dist = m.start() - pos if m.start() >= pos else (pos - m.end()) + 0.5
        if best is None or dist < best[0]:
            best = (dist, sign(m.group(1)))
    return best[1] if best else 0
