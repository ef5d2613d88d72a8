"""Words and numbers of a text, for the hallucination checker (`read.py` builds on it).

`_tokens` splits a text into numbers and words, with sentence indices and whether a word is
capitalised; `number_value` / `_number_at` read a number written in digits or words ("3" ==
"three" == "3.0", "1,200", "twelve hundred", "4.5 million", "twice a day"), and not "one" used as
a pronoun ("no one", "one of them", "a positive one"). The word lists say which capitalised words
are never names: function words and summary openers (`STOPWORDS`), units after a number
(`UNITS`), abbreviations and titles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orca2_kit.hallucination.items import TEN_WORDS, UNIT_WORDS

# Words that are never a name, even capitalised: function words, pronouns, common sentence
# openers of summaries, and titles (a title is not a checkable fact, the name after it is).
STOPWORDS = frozenset("""
a an the this that these those there here it its it's they them their theirs he him his she her
hers we us our ours you your yours i me my mine who whom whose which what when where why how
and or but nor so yet if then than because while although though since unless until after before
as at by for from in into of off on onto out over per to up upon with within without about above
across against along among around below beneath beside between beyond during except inside near
through throughout toward towards under via
is are was were be been being am do does did done has have had having will would shall should
can could might must not no yes all any both each every few many more most much some such
other another own same several either neither none also only just even still already again
overall additionally furthermore moreover however finally firstly secondly lastly meanwhile next
later earlier today yesterday tomorrow tonight now currently recently initially subsequently
consequently therefore thus instead otherwise besides likewise similarly notably importantly
altogether briefly in summary key main note please
mr mrs ms dr prof professor mayor sir madam dear let let's step steps summary answer
relevant facts fact text reasoning explanation quote
""".split())
# Units right after a number, and abbreviations anywhere: shorthand, never an invented name.
UNITS = frozenset("c f k m g kg mg mcg ml l km cm mm mmhg bpm h hr hrs min mins am pm bn mn".split())
ABBREVIATIONS = frozenset("bp hr dr mr mrs ms mx prof st vs etc am pm ok okay usd eur gbp ie eg".split())
TITLES = {"dr": "doctor", "doctor": "doctor", "mayor": "mayor", "mr": None, "mrs": None, "ms": None,
          "prof": None, "professor": None}

# ---------------------------------------------------------------------------------------------
# Tokens and numbers.
# ---------------------------------------------------------------------------------------------
_SMALL_NUMBERS = {w: i for i, w in enumerate(UNIT_WORDS)} | {w: 10 * i for i, w in enumerate(TEN_WORDS) if w}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
# "one" is also a pronoun ("one of them", "no one"); in those uses it is not the number 1.
_ONE_PRONOUN_BEFORE = {"no", "the", "each", "every", "any", "this", "that", "which", "another"}
_TIMES = {"once": 1, "twice": 2, "thrice": 3}  # numbers only before "a day" / "daily" ("twice a day")

# A number (1,200 / 3.5 / 14th) or a word (Okafor's, twenty-five, follow-up, don't).
_TOKEN = re.compile(
    r"(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)(?:st|nd|rd|th)?"
    r"|(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+)*)"
)
_CONTRACTION = re.compile(r"(n't|'re|'ve|'ll|'d|'m)$")
_MD_HEADING = re.compile(r"#{1,6}\s.*|\*\*[^*]+\*\*:?")
_ABBREVIATION = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Prof|St|Mt|vs)\.$")


@dataclass
class _Token:
    text: str
    key: str  # lower case, possessive 's dropped, ’ as '
    start: int
    end: int
    is_number: bool
    capitalised: bool
    initial: bool  # first word of a sentence, line or bullet
    sentence: int = 0


def _tokens(text: str) -> list[_Token]:
    out, sentence = [], 0
    for m in _TOKEN.finditer(text):
        word = m.group("word")
        if word is not None:
            key = word.replace("’", "'").lower()
            key = key[:-2] if key.endswith("'s") else key
        else:
            key = m.group("num").replace(",", "")
        # Sentence-initial: what precedes (past spaces, quotes, brackets, bullets) is nothing,
        # a line break or sentence punctuation, and not an abbreviation such as "Dr.".
        k = m.start() - 1
        while k >= 0 and text[k] in " \t\"'“‘([*•-–#":
            k -= 1
        initial = k < 0 or (text[k] in ".!?:;\n" and not _ABBREVIATION.search(text[max(0, k - 4):k + 1]))
        if out and initial and (k < 0 or text[k] in ".!?\n"):
            sentence += 1
        out.append(_Token(text=m.group(0), key=key, start=m.start(), end=m.end(), is_number=word is None,
                          capitalised=word is not None and word[0].isupper(), initial=initial, sentence=sentence))
    return out


def _adjacent(text: str, a: _Token, b: _Token, allow: str = " \t") -> bool:
    """Only `allow` characters (spaces by default) between the two tokens."""
    gap = text[a.end:b.start]
    return gap != "" and gap.strip(allow) == ""


def _word_number(key: str) -> int | None:
    parts = key.split("-")
    if not all(p in _SMALL_NUMBERS or p in _SCALES for p in parts):
        return None
    return _combine(parts)


def _combine(words: list[str]) -> int:
    total, current = 0, 0
    for w in words:
        if w in _SMALL_NUMBERS:
            current += _SMALL_NUMBERS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        else:  # thousand, million, billion close a group
            total += max(current, 1) * _SCALES[w]
            current = 0
    return total + current


def _number_at(text: str, toks: list[_Token], i: int) -> tuple[int, tuple[float, ...]] | None:
    """A number starting at token i: (index after it, its values). The first value is what the
    text means ("4.5 million" -> 4500000); a later one is the bare figure (4.5)."""
    t = toks[i]
    if t.is_number:
        value = float(t.key)
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if nxt is not None and nxt.key in _SCALES and _adjacent(text, t, nxt):
            return i + 2, (value * _SCALES[nxt.key], value)
        return i + 1, (value,)
    if t.key in _TIMES:
        keys = [x.key for x in toks[i + 1:i + 3]]
        return (i + 1, (float(_TIMES[t.key]),)) if keys[:1] == ["daily"] or keys in (["a", "day"], ["per", "day"]) else None
    if _word_number(t.key) is None:
        head, _, unit = t.key.partition("-")  # "ten-day", "seven-month": a number word with its unit
        return (i + 1, (float(_word_number(head)),)) if unit and _word_number(head) is not None else None
    words, j = t.key.split("-"), i + 1
    while j < len(toks) and _adjacent(text, toks[j - 1], toks[j]):
        if _word_number(toks[j].key) is not None:
            words += toks[j].key.split("-")
            j += 1
        elif (toks[j].key == "and" and words[-1] in _SCALES and j + 1 < len(toks)
              and _word_number(toks[j + 1].key) is not None and _adjacent(text, toks[j], toks[j + 1])):
            j += 1  # "one hundred and five"
        else:
            break
    if words == ["one"]:
        before = toks[i - 1].key if i > 0 else ""
        after = toks[i + 1].key if i + 1 < len(toks) else ""
        if before in _ONE_PRONOUN_BEFORE or after in {"of", "another"}:
            return None
        if i >= 2 and toks[i - 2].key in {"a", "an"} and not toks[i - 1].is_number:
            return None  # "a positive one": an adjective's noun, not the number
    return j, (float(_combine(words)),)


def number_value(text: str) -> float | None:
    """The value of `text` if it is exactly one number: "3", "three", "3.0", "1,200",
    "twelve hundred", "4.5 million", "twice"; else None."""
    if text.strip().lower() in _TIMES:
        return float(_TIMES[text.strip().lower()])
    toks = _tokens(text)
    found = _number_at(text, toks, 0) if toks else None
    return found[1][0] if found and found[0] == len(toks) else None


def _is_list_marker(text: str, tok: _Token) -> bool:
    line_start = text.rfind("\n", 0, tok.start) + 1
    return (not text[line_start:tok.start].strip(" \t-*#") and text[tok.end:tok.end + 1] in (".", ")", ":")
            and text[tok.end + 1:tok.end + 2] in ("", " ", "\n", "\t")) or (
        tok.start >= 5 and text[max(0, tok.start - 5):tok.start].lower() == "step ")
