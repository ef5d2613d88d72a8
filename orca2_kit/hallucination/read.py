"""Reading a text into checkable mentions: numbers with their kind, vocabulary terms, names.

`read_mentions` turns a summary (or a source) into `Mention`s, each stating one or more `Part`s
(kind, value): numbers compared by value ("3" == "three" == "3.0", "4.5 million" == "4,500,000")
whose kind comes from the words around them (`_NUMBER_CUES_AFTER` / `_BEFORE`: "aged 21", "400
mg", "for 5 days", "Wednesday 12 July", "38.5 °C", "140/90", "40%", "$4,000"; no cue: "number");
members of the closed vocabularies of `items.py` with their aliases and plurals; parts
written next to each other that name one thing (a person, a date, a blood pressure) as one
mention; and other capitalised, name-like spans, except units, abbreviations and headings.
`check.py` decides which of them the source supports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orca2_kit.hallucination.items import ALIASES, CLOSED_VOCABULARIES
from orca2_kit.hallucination.tokens import _CONTRACTION, _MD_HEADING, _TIMES, ABBREVIATIONS, STOPWORDS, TITLES, UNITS, _adjacent, _is_list_marker, _number_at, _Token, _tokens


# ---------------------------------------------------------------------------------------------
# The kind of a number, from the words around it.
# ---------------------------------------------------------------------------------------------
# Words right after a number (past "new", "more", ...), and the kind they give it.
_NUMBER_CUES_AFTER = {
    "age": ("years old", "year old", "year-old", "years of age", "yo"),
    "dose_mg": ("mg", "milligrams", "milligram"),
    "days": ("days", "day"),
    "months": ("months", "month"),
    "temperature": ("degrees", "degree", "c", "celsius", "f", "fahrenheit"),
    "percent": ("percent", "per cent", "pc"),
    "money": ("dollars", "dollar", "usd", "euros", "euro", "pounds"),
    "headcount": ("people", "jobs", "employees", "staff", "workers", "positions"),
    "visitors": ("visitors", "visitor", "tourists"),
    "clients": ("clients", "client", "customers", "customer"),
    "per_day": ("times a day", "times daily", "times per day", "a day", "daily", "per day"),
}
# Words right before a number (past "of", "was", ...), and the kind they give it.
_NUMBER_CUES_BEFORE = {
    "age": ("aged", "age"),
    "headcount": ("employ", "employs", "employing", "hire", "hiring", "create", "creating"),
    "temperature": ("temperature", "temp"),
    "bp": ("pressure", "bp"),
}
_SLASH_DATE = re.compile(r"\d{1,4}/\d{1,2}/\d{1,4}")
_SKIP_AFTER = {"new", "more", "additional", "extra", "full-time", "local", "of", "permanent"}
_SKIP_BEFORE = {"of", "was", "is", "at", "a", "about", "around", "approximately", "roughly", "nearly",
                "reading", "reached", "measured", "had", "to", "will", "would", "be", "an", "estimated"}


def _phrase_at(keys: list[str], i: int, phrases) -> str | None:
    for p in sorted(phrases, key=lambda s: -len(s.split())):
        words = p.split()
        if keys[i:i + len(words)] == words:
            return p
    return None


def _number_kind(text: str, toks: list[_Token], i: int, j: int, vocab_kind: dict[int, str]) -> str:
    """The kind of the number spanning tokens i..j-1 (see `_NUMBER_CUES_AFTER`/`_BEFORE`); "number"
    when nothing around it says."""
    keys = [t.key for t in toks]
    if j == i + 1 and "-" in keys[i] and not toks[i].is_number:  # "ten-day": the unit is inside the token
        unit = keys[i].partition("-")[2]
        for kind, cues in _NUMBER_CUES_AFTER.items():
            if unit in cues or unit.replace("-", " ") in cues:
                return kind
    after_raw, before_raw = text[toks[j - 1].end:toks[j - 1].end + 3], text[max(0, toks[i].start - 2):toks[i].start]
    if after_raw.lstrip().startswith("%"):
        return "percent"
    if after_raw.lstrip().startswith("°"):
        return "temperature"
    slash_date = any(m.start() <= toks[i].start < m.end() for m in _SLASH_DATE.finditer(
        text, max(0, toks[i].start - 12), min(len(text), toks[j - 1].end + 12)))
    if slash_date:  # "10/10/2020" is a date, not a blood pressure
        return "year" if re.fullmatch(r"(19|20)\d\d", toks[i].key) else "number"
    if re.match(r"\s*(?:/|over\s)\s*\d", text[toks[j - 1].end:toks[j - 1].end + 8]) or re.search(
            r"\d\s*(?:/|\sover)\s*$", text[max(0, toks[i].start - 10):toks[i].start]):
        return "bp"
    if before_raw.rstrip().endswith(("$", "€", "£")):
        return "money"
    k = j
    while k < len(toks) and k < j + 2 and keys[k] in _SKIP_AFTER and _adjacent(text, toks[k - 1], toks[k], " \t-"):
        k += 1
    if k < len(toks) and _adjacent(text, toks[k - 1], toks[k], " \t-"):
        for kind, cues in _NUMBER_CUES_AFTER.items():
            if _phrase_at(keys, k, cues) and (kind != "temperature" or len(keys[k]) > 1 or keys[k] in ("c", "f")):
                return kind
    value = toks[i].key
    if toks[i].is_number and re.fullmatch(r"(19|20)\d\d", value) and j == i + 1:
        return "year"
    near = [vocab_kind.get(x) for x in (i - 1, j)]
    if "month" in near or (i > 0 and vocab_kind.get(i - 1) == "weekday") or (
            i > 1 and keys[i - 1] == "the" and vocab_kind.get(i - 2) == "weekday") or (
            j + 1 < len(toks) and keys[j] == "of" and vocab_kind.get(j + 1) == "month"):
        return "day"
    k = i - 1
    while k >= 0 and k > i - 4 and keys[k] in _SKIP_BEFORE:
        k -= 1
    if k >= 0 and toks[k].sentence == toks[i].sentence:
        for kind, cues in _NUMBER_CUES_BEFORE.items():
            if keys[k] in cues:
                return kind
    # "Amara Okafor, 45, saw ...": a number set off by commas right after a name is an age.
    if (i > 0 and vocab_kind.get(i - 1) in ("first_name", "last_name")
            and text[toks[i - 1].end:toks[i].start].strip() in (",", "(")
            and text[toks[j - 1].end:toks[j - 1].end + 1] in (",", ")", ".")):
        return "age"
    return "number"


# ---------------------------------------------------------------------------------------------
# Mentions.
# ---------------------------------------------------------------------------------------------
def _canonical(kind: str, term: str) -> str:
    return ALIASES.get(term, term)


_VOCAB: dict[tuple[str, ...], tuple[str, str]] = {}  # token keys -> (kind, canonical term)
for _kind, _terms in CLOSED_VOCABULARIES.items():
    for _term in _terms:
        _VOCAB[tuple(t.key for t in _tokens(_term))] = (_kind, _term.lower())
for _alias, _term in ALIASES.items():
    _VOCAB[tuple(t.key for t in _tokens(_alias))] = (_VOCAB[tuple(t.key for t in _tokens(_term))][0], _term)
_VOCAB_MAX_LEN = max(len(k) for k in _VOCAB)
# These are also ordinary words ("may", "march", "august"): only a capitalised one is the month.
_CAPITALISED_ONLY = {"may", "march", "august"}
_PLURAL_KINDS = {"symptom", "job", "facility", "drug"}


@dataclass
class Part:
    """One (kind, value) a mention states; `status` and `slot` are set by the check."""
    kind: str  # a kind of items.py (age, dose_mg, weekday, symptom, ...), "number" or "name"
    value: tuple  # numbers: their values (the first is what the text means); words: (canonical term,)
    surface: str
    status: str = ""  # supported, wrong_slot or unsupported
    slots: tuple[str, ...] = ()  # the item's slots it was checked against (built-in items)
    reason: str = ""


@dataclass
class Mention:
    surface: str
    start: int
    token: int  # index of its first token, for cue distances
    end: int  # index after its last token
    sentence: int
    parts: list[Part]
    role: str | None = None  # from a title: "doctor" (Dr), "mayor"


def _vocab_at(text: str, toks: list[_Token], i: int) -> tuple[int, str, str] | None:
    for length in range(min(_VOCAB_MAX_LEN, len(toks) - i), 0, -1):
        span = toks[i:i + length]
        key = tuple(t.key for t in span)
        hit = _VOCAB.get(key)
        if hit is None and key[-1].endswith("s"):
            hit = _VOCAB.get(key[:-1] + (key[-1][:-1],))
            hit = hit if hit and hit[0] in _PLURAL_KINDS else None
        if (hit and all(_adjacent(text, a, b) for a, b in zip(span, span[1:]))
                and (key[0] not in _CAPITALISED_ONLY or span[0].capitalised)):
            return i + length, hit[0], hit[1]
    return None


def read_mentions(text: str, use_vocab: bool = True, common_words: frozenset | set = frozenset()) -> list[Mention]:
    """The checkable mentions of `text`, in order (see the module docstring)."""
    toks = _tokens(text)
    taken = [False] * len(toks)
    vocab: list[tuple[int, int, str, str]] = []  # (i, j, kind, term)
    i = 0
    while use_vocab and i < len(toks):
        hit = None if toks[i].is_number else _vocab_at(text, toks, i)
        if hit:
            vocab.append((i, hit[0], hit[1], hit[2]))
            taken[i:hit[0]] = [True] * (hit[0] - i)
            i = hit[0]
        else:
            i += 1
    vocab_kind = {k: kind for i, j, kind, _ in vocab for k in range(i, j)}
    singles: list[tuple[int, int, Part]] = [(i, j, Part(kind, (term,), _surface(text, toks[i:j])))
                                            for i, j, kind, term in vocab]
    i = 0
    while i < len(toks):
        number = None if taken[i] else _number_at(text, toks, i)
        if number is not None and _is_list_marker(text, toks[i]):
            number, taken[i] = None, True  # "1." / "Step 2:" numbers a list; it states nothing
        if number is not None:
            j, values = number
            kind = "per_day" if toks[i].key in _TIMES else _number_kind(text, toks, i, j, vocab_kind)
            singles.append((i, j, Part(kind, values, text[toks[i].start:toks[j - 1].end])))
            taken[i:j] = [True] * (j - i)
            i = j
        else:
            i += 1
    singles.sort(key=lambda s: s[0])
    mentions = _group(text, toks, singles)

    def heading(t: _Token) -> bool:
        """A section title ("CHIEF COMPLAINT", "**Patient's Story**", "## Plan") or the label of a
        labelled line ("- Medical Treatment: continue ...", "Summary: ...") names no entity."""
        start = text.rfind("\n", 0, t.start) + 1
        line = text[start:(text.find("\n", t.end) + 1 or len(text) + 1) - 1].strip()
        colon = text.find(":", start, start + len(line) + 1)
        if colon > t.start and len(re.findall(r"\w+", text[start:colon])) <= 5:
            return True
        return not any(c.islower() for c in line) or bool(_MD_HEADING.fullmatch(line))

    def unit(k: int) -> bool:  # "38 °C", "120 mg": a unit right after a number
        return toks[k].key in UNITS and k > 0 and (toks[k - 1].is_number or text[toks[k].start - 1:toks[k].start] == "°")

    def name_like(k: int) -> bool:
        t = toks[k]
        if (not t.capitalised or t.key in STOPWORDS or t.key in ABBREVIATIONS or _CONTRACTION.search(t.key)
                or unit(k) or heading(t) or len(t.key) == 1):  # a lone letter (an initial, "S1") states nothing
            return False
        # A capitalised first word of a sentence is an ordinary word if the source uses it.
        return not (t.initial and t.key in common_words)

    i = 0
    while i < len(toks):  # then runs of other capitalised words: name-like spans
        if taken[i] or toks[i].is_number or not name_like(i):
            i += 1
            continue
        j = i + 1
        while j < len(toks) and not taken[j] and name_like(j) and _adjacent(text, toks[j - 1], toks[j]):
            j += 1
        span = toks[i:j]
        mentions.append(Mention(_surface(text, span), span[0].start, i, j, span[0].sentence,
                                [Part("name", (" ".join(t.key for t in span),), _surface(text, span))]))
        i = j
    return sorted(mentions, key=lambda m: m.start)


# Parts that name one thing when written next to each other.
_GROUPS = {"date": {"weekday", "day", "month"}, "person": {"first_name", "last_name"}, "bp": {"bp"}}
_DATE_GAP = " \t,"


def _group(text: str, toks: list[_Token], singles: list[tuple[int, int, Part]]) -> list[Mention]:
    out: list[Mention] = []
    k = 0
    while k < len(singles):
        i, j, part = singles[k]
        group = next((g for g, kinds in _GROUPS.items() if part.kind in kinds), None)
        parts, end = [part], j
        while group and k + 1 < len(singles):
            ni, nj, nxt = singles[k + 1]
            gap = text[toks[end - 1].end:toks[ni].start]
            joined = (nxt.kind in _GROUPS[group] and nxt.kind not in {p.kind for p in parts}
                      and ni >= end and all(t.key in ("the", "of") for t in toks[end:ni]))
            gap_ok = (gap.strip(_DATE_GAP + "theof") == "" if group == "date" else
                      re.fullmatch(r"\s*(?:/|over)\s*", gap) is not None if group == "bp" else gap.strip() == "")
            if not (joined and gap_ok) and not (group == "bp" and nxt.kind == "bp" and len(parts) == 1 and gap_ok):
                break
            parts.append(nxt)
            end, k = nj, k + 1
        role = None
        if group == "person" and i > 0 and toks[i - 1].key in TITLES and _adjacent(text, toks[i - 1], toks[i], " \t."):
            role = TITLES[toks[i - 1].key]
        out.append(Mention(text[toks[i].start:toks[end - 1].end], toks[i].start, i, end, toks[i].sentence, parts, role))
        k += 1
    return out


def _surface(text: str, span: list[_Token]) -> str:
    s = text[span[0].start:span[-1].end]
    return s[:-2] if s.endswith(("'s", "’s")) else s
