"""Grounded summarisation and an exact hallucination checker (Orca 2, Figure 6).

Orca 2 reports how often a model's summary states something the source text does not. The paper
uses GPT-4 as the judge; here the judge is a deterministic checker, so the rate can be trusted
without a judge model:

* `make_grounded_items` generates short documents (meeting notes, a doctor-patient visit note, a
  news-like report) from closed vocabularies defined below, with the facts and entities they
  state and a correct reference summary.
* `check_summary` flags every checkable token of a summary the document does not state: numbers
  (compared by value, so "3" == "three" == "3.0"), members of the closed vocabularies (names,
  places, organisations, weekdays, months, medications, ...), and any other capitalised,
  name-like word sequence. For generated items this is exact: every entity a summary could get
  wrong is a number or a vocabulary member.
* `check_real` runs the number and capitalised-span checks against any source text (QMSum,
  ACI-Bench), where there is no closed vocabulary, so it is a strict approximation there.
* `rouge_l` and `rate_with_ci` are the quality and rate numbers reported next to it.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# ---------------------------------------------------------------------------------------------
# Closed vocabularies. Chosen so that no word is also an everyday English word (no "Grace",
# "Baker" or "Reading") and no token is shared between two lists: a vocabulary hit in a summary
# then always means that entity, in any letter case.
# ---------------------------------------------------------------------------------------------
FIRST_NAMES = (
    "Amara", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hiroshi", "Ingrid", "Jonas",
    "Kavya", "Luca", "Mei", "Nadia", "Omar", "Priya", "Rafael", "Sofia", "Tomas", "Yusuf",
)
LAST_NAMES = (
    "Okafor", "Lindqvist", "Moreau", "Tanaka", "Novak", "Haddad", "Castillo", "Brennan",
    "Kowalski", "Achebe", "Ferreira", "Nakamura", "Rasmussen", "Delgado", "Ivanova", "Mensah",
    "Petrov", "Quinlan", "Sorensen", "Varga",
)
PLACES = (
    "Lisbon", "Toronto", "Nairobi", "Oslo", "Melbourne", "Santiago", "Osaka", "Denver", "Krakow",
    "Dublin", "Valencia", "Cairo", "Seattle", "Hanoi", "Porto", "Zurich",
)
ORGS = (
    "Kestrel Energy", "Bluefin Analytics", "Maplestone Bank", "Orion Foods", "Silverline Transit",
    "Tidewater Council", "Larkspur Media", "Ironwood Logistics", "Cobalt Robotics",
    "Sunpath Telecom", "Greyhaven Insurance", "Willowmere Press",
)
CLINICS = (
    "Cedar Valley Clinic", "Riverside Health Centre", "Elmwood Medical Practice",
    "Northgate Family Clinic", "Bayview Surgery",
)
PROJECTS = ("Juniper", "Meridian", "Nimbus", "Quartz", "Sequoia", "Tundra", "Vortex", "Zephyr")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
MEDICATIONS = (
    "amoxicillin", "ibuprofen", "metformin", "lisinopril", "omeprazole", "cetirizine",
    "prednisone", "atorvastatin", "salbutamol", "paracetamol",
)
CLOSED_VOCABULARIES = {
    "first_name": FIRST_NAMES, "last_name": LAST_NAMES, "place": PLACES, "org": ORGS,
    "clinic": CLINICS, "project": PROJECTS, "weekday": WEEKDAYS, "month": MONTHS,
    "medication": MEDICATIONS,
}
# These are also ordinary words ("may", "march", "august"): only a capitalised one is the month.
_CAPITALISED_ONLY = {"may", "march", "august"}

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
mr mrs ms dr prof professor mayor sir madam let let's step steps summary answer
relevant facts fact text reasoning explanation quote
""".split())

GENRES = ("meeting", "visit", "news")

_INSTRUCTIONS = {
    "meeting": "Summarise the meeting notes below in two or three sentences.",
    "visit": "Summarise the doctor-patient visit note below in two or three sentences.",
    "news": "Summarise the news report below in two or three sentences.",
}

# Filler sentences: make the documents read naturally, and contain nothing checkable.
_FILLERS = {
    "meeting": (
        "The discussion was short and focused.", "Several questions about hiring were left open.",
        "Everyone agreed that the timeline is tight but realistic.",
        "Minutes were circulated after the call.", "No other business was raised.",
        "The room was booked for the whole morning.", "Coffee and pastries were provided.",
        "Some slides still need a final check.",
    ),
    "visit": (
        "The examination was otherwise unremarkable.", "No allergies were recorded.",
        "The patient was advised to rest and drink plenty of fluids.",
        "Questions about side effects were answered.", "The patient is a non-smoker.",
        "The patient left the practice in good spirits.", "Sleep has been poor this week.",
        "Appetite is normal.",
    ),
    "news": (
        "Residents had campaigned for the project for years.",
        "Construction caused some traffic delays.", "Local schools attended the opening ceremony.",
        "Critics questioned the choice of location.", "Parking near the site is limited.",
        "The design won praise from local architects.", "Tickets for guided tours sold out quickly.",
        "Neighbours welcomed the news.",
    ),
}
_SYMPTOMS = ("dry cough", "headache", "sore throat", "skin rash", "stiff neck", "pain in the left knee")
_JOBS = ("teacher", "nurse", "bus driver", "chef", "accountant", "carpenter")
_FACILITIES = ("library", "bus depot", "research centre", "sports hall", "warehouse", "hospital wing")

# ---------------------------------------------------------------------------------------------
# Numbers as words.
# ---------------------------------------------------------------------------------------------
_UNIT_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
_TEN_WORDS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SMALL_NUMBERS = {w: i for i, w in enumerate(_UNIT_WORDS)} | {
    w: 10 * i for i, w in enumerate(_TEN_WORDS) if w
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
# "one" is also a pronoun ("one of them", "no one"); in those uses it is not the number 1.
_ONE_PRONOUN_BEFORE = {"no", "the", "each", "every", "any", "this", "that", "which", "another"}


def number_words(n: int) -> str:
    """0..999 in words: 47 -> "forty-seven", 120 -> "one hundred and twenty"."""
    if n < 20:
        return _UNIT_WORDS[n]
    if n < 100:
        tens, units = divmod(n, 10)
        return _TEN_WORDS[tens] + (f"-{_UNIT_WORDS[units]}" if units else "")
    hundreds, rest = divmod(n, 100)
    return f"{_UNIT_WORDS[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")


# ---------------------------------------------------------------------------------------------
# The data.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroundedItem:
    id: str
    document: str
    query: str  # the user turn: instruction, blank line, document
    facts: tuple[str, ...]  # the entity-bearing sentences of the document
    entities: tuple[str, ...]  # every checkable token the document states, as written there
    reference_summary: str  # uses only document facts (real data: the dataset's reference)
    genre: str = ""  # one of GENRES (built-in items)
    dataset: str = "builtin"  # builtin, qmsum, aci_bench or ms_marco
    truncated: bool = False  # the source was cut to the token budget (grounded_data.fit_sources)

    def to_row(self) -> dict:
        return {
            "id": self.id, "document": self.document, "query": self.query,
            "facts": list(self.facts), "entities": list(self.entities),
            "reference_summary": self.reference_summary, "genre": self.genre, "dataset": self.dataset,
            "truncated": self.truncated,
        }

    @classmethod
    def from_row(cls, row: dict) -> "GroundedItem":
        return cls(
            id=row["id"], document=row["document"], query=row["query"],
            facts=tuple(row.get("facts") or ()), entities=tuple(row.get("entities") or ()),
            reference_summary=row["reference_summary"], genre=row.get("genre", ""),
            dataset=row.get("dataset", "builtin"), truncated=bool(row.get("truncated", False)),
        )


# A generator returns (opening facts, optional facts, lead summary sentence). Each fact is
# (sentence, entities it states, the summary sentence that restates it).
def _meeting(rng: random.Random):
    org, city, project = rng.choice(ORGS), rng.choice(PLACES), rng.choice(PROJECTS)
    (a1, b1, c1), (a2, b2, c2) = rng.sample(FIRST_NAMES, 3), rng.sample(LAST_NAMES, 3)
    wd1, wd2, wd3 = rng.sample(WEEKDAYS[:5], 3)
    m1, m2 = rng.sample(MONTHS, 2)
    day, pct = rng.randint(1, 28), rng.randrange(10, 95, 5)
    amount, count = f"{rng.randint(12, 95) * 1000:,}", rng.randint(3, 19)
    opening = [
        (f"The {org} team met on {wd1} {day} {m1} at the {city} office.",
         (org, wd1, str(day), m1, city)),
        (f"Attendees were {a1} {a2}, {b1} {b2} and {c1} {c2}.", (a1, a2, b1, b2, c1, c2)),
    ]
    lead = f"{a1} {a2}, {b1} {b2} and {c1} {c2} of {org} met in {city} on {wd1} {day} {m1}."
    optional = [
        (f"{b1} {b2} reported that the {project} project is {pct} percent complete.",
         (b1, b2, project, str(pct)), f"{b2} said the {project} project is {pct}% complete."),
        (f"The budget for {project} was raised to {amount} dollars.", (project, amount),
         f"The {project} budget rose to {amount} dollars."),
        # Stated in words, restated in digits: summaries must be judged by value.
        (f"{c1} {c2} said that {number_words(count)} new clients signed up in {m2}.",
         (c1, c2, number_words(count), m2), f"{c1} reported {count} new clients in {m2}."),
        (f"The group agreed to hold the next review on {wd2}.", (wd2,),
         f"The next review is on {wd2}."),
        (f"{c1} {c2} will send the revised plan to {a1} {a2} by {wd3}.", (c1, c2, a1, a2, wd3),
         f"{c1} will send {a1} the revised plan by {wd3}."),
    ]
    return opening, optional, lead


def _visit(rng: random.Random):
    p1, (p2, doc) = rng.choice(FIRST_NAMES), rng.sample(LAST_NAMES, 2)
    clinic, city, med = rng.choice(CLINICS), rng.choice(PLACES), rng.choice(MEDICATIONS)
    wd1, wd2 = rng.sample(WEEKDAYS[:5], 2)
    m1, m2 = rng.sample(MONTHS, 2)
    day1, day2 = rng.sample(range(1, 29), 2)
    age, dur, symptom = rng.randint(19, 84), rng.randint(2, 14), rng.choice(_SYMPTOMS)
    temp = f"{rng.randint(365, 394) / 10:.1f}"
    sys_bp, dia_bp = rng.randint(110, 160), rng.randint(65, 95)
    dose, course = rng.choice((5, 10, 20, 250, 400, 500)), rng.choice((5, 7, 10, 14))
    opening = [
        (f"{p1} {p2}, aged {age}, visited Dr {doc} at {clinic} on {wd1} {day1} {m1}.",
         (p1, p2, str(age), doc, clinic, wd1, str(day1), m1)),
        (f"The patient reported a {symptom} that had lasted {number_words(dur)} days.",
         (number_words(dur),)),
    ]
    lead = (f"{p1} {p2}, {age}, saw Dr {doc} at {clinic} on {wd1} {day1} {m1} about a {symptom} "
            f"lasting {dur} days.")
    optional = [
        (f"The patient's temperature was {temp} degrees and blood pressure was {sys_bp} over "
         f"{dia_bp}.", (temp, str(sys_bp), str(dia_bp)),
         f"Temperature was {temp} degrees and blood pressure {sys_bp}/{dia_bp}."),
        (f"Dr {doc} prescribed {med} {dose} mg twice a day for {course} days.",
         (doc, med, str(dose), str(course)), f"Dr {doc} prescribed {med} {dose} mg for {course} days."),
        (f"A follow-up visit was booked for {wd2} {day2} {m2}.", (wd2, str(day2), m2),
         f"A follow-up is booked for {wd2} {day2} {m2}."),
        (f"The patient works as a {rng.choice(_JOBS)} in {city}.", (city,),
         f"The patient works in {city}."),
    ]
    return opening, optional, lead


def _news(rng: random.Random):
    org, city, facility = rng.choice(ORGS), rng.choice(PLACES), rng.choice(_FACILITIES)
    mayor1, mayor2 = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    wd, month = rng.choice(WEEKDAYS), rng.choice(MONTHS)
    cost, build = f"{rng.randint(3, 19) / 2:g}", rng.randint(6, 18)
    jobs, visitors, year = rng.randint(40, 400), f"{rng.randint(5, 90) * 1000:,}", rng.randint(2025, 2030)
    opening = [
        (f"On {wd}, {org} opened a new {facility} in {city}.", (wd, org, city)),
        (f"The {facility} cost {cost} million dollars and took {number_words(build)} months to "
         f"build.", (f"{cost} million", number_words(build))),
    ]
    lead = f"{org} opened a {cost} million dollar {facility} in {city} on {wd}."
    optional = [
        (f"It will employ {jobs} people.", (str(jobs),), f"It will employ {jobs} people."),
        (f"Mayor {mayor1} {mayor2} said the project would bring about {visitors} visitors a year.",
         (mayor1, mayor2, visitors), f"Mayor {mayor2} expects about {visitors} visitors a year."),
        (f"The site opens to the public in {month}.", (month,), f"It opens to the public in {month}."),
        (f"A second phase is planned for {year}.", (str(year),), f"A second phase is planned for {year}."),
    ]
    return opening, optional, lead


_GENERATORS = {"meeting": _meeting, "visit": _visit, "news": _news}


def _word_count(text: str) -> int:
    return sum(1 for w in text.split() if any(c.isalnum() for c in w))


def make_grounded_items(n: int, seed: int) -> list[GroundedItem]:
    """`n` generated items, genres in turn; the same (n, seed) always gives the same items."""
    rng = random.Random(f"grounded-{seed}")
    items = []
    for i in range(n):
        genre = GENRES[i % len(GENRES)]
        opening, optional, lead = _GENERATORS[genre](rng)
        # 4-6 facts: the two opening facts plus 2-4 optional ones, in template order.
        picked = sorted(rng.sample(range(len(optional)), rng.randint(2, 4)))
        chosen = [optional[j] for j in picked]
        facts = [*opening, *((s, ents) for s, ents, _ in chosen)]
        # The summary restates the opening and at most two more facts.
        extra = [summary for _, _, summary in chosen][:2]
        reference = " ".join([lead, *extra])

        # Fillers (nothing checkable in them) until the document is 60-120 words long.
        sentences = [s for s, _ in facts]
        target = rng.randint(62, 90)
        for filler in rng.sample(_FILLERS[genre], len(_FILLERS[genre])):
            if _word_count(" ".join(sentences)) >= target:
                break
            sentences.insert(rng.randint(1, len(sentences)), filler)
        if genre == "meeting":
            document = "Meeting notes\n" + "\n".join(f"- {s}" for s in sentences)
        elif genre == "visit":
            document = "Visit note\n" + " ".join(sentences)
        else:
            document = " ".join(sentences)

        entities = list(dict.fromkeys(e for _, ents in facts for e in ents))
        items.append(GroundedItem(
            id=f"grounded-{seed}-{i:04d}", document=document,
            query=f"{_INSTRUCTIONS[genre]}\n\n{document}", facts=tuple(s for s, _ in facts),
            entities=tuple(entities), reference_summary=reference, genre=genre,
        ))
    return items


# ---------------------------------------------------------------------------------------------
# The checker.
# ---------------------------------------------------------------------------------------------
@dataclass
class Verdict:
    unsupported: list[str] = field(default_factory=list)  # summary spans the source does not state
    supported: list[str] = field(default_factory=list)  # checkable summary spans it does state

    @property
    def hallucinated(self) -> bool:
        return bool(self.unsupported)


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


def _tokens(text: str) -> list[_Token]:
    out = []
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
        while k >= 0 and text[k] in " \t\"'“‘([*•-–":
            k -= 1
        initial = k < 0 or (text[k] in ".!?:;\n" and not _ABBREVIATION.search(text[max(0, k - 4):k + 1]))
        out.append(_Token(
            text=m.group(0), key=key, start=m.start(), end=m.end(), is_number=word is None,
            capitalised=word is not None and word[0].isupper(), initial=initial,
        ))
    return out


def _adjacent(text: str, a: _Token, b: _Token) -> bool:
    """Only spaces between the two tokens (no punctuation, no line break)."""
    gap = text[a.end:b.start]
    return gap != "" and gap.strip(" \t") == ""


def _word_number(key: str) -> int | None:
    """Value of a number-word token ("twelve", "forty-seven", "hundred"), else None."""
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
    text means ("4.5 million" -> 4500000); a later one is the bare figure (4.5), which a source
    also supports."""
    t = toks[i]
    if t.is_number:
        value = float(t.key)
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if nxt is not None and nxt.key in _SCALES and _adjacent(text, t, nxt):
            return i + 2, (value * _SCALES[nxt.key], value)
        return i + 1, (value,)
    if _word_number(t.key) is None:
        return None
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
    return j, (float(_combine(words)),)


_VOCAB = {
    tuple(t.key for t in _tokens(term)): kind
    for kind, terms in CLOSED_VOCABULARIES.items() for term in terms
}
_VOCAB_MAX_LEN = max(len(k) for k in _VOCAB)


def number_value(text: str) -> float | None:
    """The value of `text` if it is exactly one number: "3", "three", "3.0", "1,200",
    "twelve hundred", "4.5 million"; else None."""
    toks = _tokens(text)
    found = _number_at(text, toks, 0) if toks else None
    return found[1][0] if found and found[0] == len(toks) else None


def _mentions(text: str, use_vocab: bool, common_words: set[str]) -> list[tuple[str, str, object]]:
    """Checkable mentions of `text`, in order: (kind, surface, key). kind is "number" (key: its
    values), "vocab" or "span" (key: lower-case token tuple, looked up as a phrase)."""
    toks = _tokens(text)
    found: list[tuple[int, str, str, object]] = []
    taken = [False] * len(toks)
    i = 0
    while i < len(toks):  # numbers first, then closed-vocabulary terms (longest match)
        number = _number_at(text, toks, i)
        if number is not None and _is_list_marker(text, toks[i]):
            number = None  # "1." / "2)" at the start of a line numbers a list; it states nothing
            taken[i] = True
        if number is not None:
            j, values = number
            found.append((toks[i].start, "number", text[toks[i].start:toks[j - 1].end], values))
            taken[i:j] = [True] * (j - i)
            i = j
            continue
        for length in range(_VOCAB_MAX_LEN, 0, -1) if use_vocab else ():
            span = toks[i:i + length]
            key = tuple(t.key for t in span)
            if (len(span) == length and key in _VOCAB
                    and all(_adjacent(text, a, b) for a, b in zip(span, span[1:]))
                    and (key[0] not in _CAPITALISED_ONLY or span[0].capitalised)):
                found.append((span[0].start, "vocab", _surface(text, span), key))
                taken[i:i + length] = [True] * length
                i += length - 1
                break
        i += 1

    def heading(t: _Token) -> bool:  # "CHIEF COMPLAINT", "**Patient's Story**", "## Plan": a section title
        line = text[text.rfind("\n", 0, t.start) + 1:(text.find("\n", t.end) + 1 or len(text) + 1) - 1].strip()
        return not any(c.islower() for c in line) or bool(_MD_HEADING.fullmatch(line))

    def name_like(t: _Token) -> bool:
        if not t.capitalised or t.key in STOPWORDS or _CONTRACTION.search(t.key):
            return False
        if not use_vocab and heading(t):  # real data only: a generated item has no headings
            return False
        # A capitalised first word of a sentence is an ordinary word if the source uses it.
        return not (t.initial and t.key in common_words)

    i = 0
    while i < len(toks):  # then runs of other capitalised words: name-like spans
        if taken[i] or not name_like(toks[i]):
            i += 1
            continue
        j = i + 1
        while (j < len(toks) and not taken[j] and name_like(toks[j])
               and _adjacent(text, toks[j - 1], toks[j])):
            j += 1
        found.append((toks[i].start, "span", _surface(text, toks[i:j]), tuple(t.key for t in toks[i:j])))
        i = j
    return [(kind, surface, key) for _, kind, surface, key in sorted(found, key=lambda f: f[0])]


def _is_list_marker(text: str, tok: _Token) -> bool:
    line_start = text.rfind("\n", 0, tok.start) + 1
    return (not text[line_start:tok.start].strip(" \t-*") and text[tok.end:tok.end + 1] in (".", ")")
            and text[tok.end + 1:tok.end + 2] in ("", " ", "\n", "\t"))


def _surface(text: str, span: list[_Token]) -> str:
    s = text[span[0].start:span[-1].end]
    return s[:-2] if s.endswith(("'s", "’s")) else s


def _check(source: str, summary: str, use_vocab: bool, context: str = "") -> Verdict:
    src = _tokens(source)
    phrases = " " + " ".join(t.key for t in src) + " "  # phrase lookup by token keys
    numbers = {round(v, 6) for kind, _, values in _mentions(source, False, set())
               if kind == "number" for v in values}
    common = {t.key for t in src} | {t.key for t in _tokens(context)}
    verdict = Verdict()
    for kind, surface, key in _mentions(summary, use_vocab, common):
        if kind == "number":
            ok = round(key[0], 6) in numbers
        else:
            ok = f" {' '.join(key)} " in phrases
        bucket = verdict.supported if ok else verdict.unsupported
        if surface not in bucket:
            bucket.append(surface)
    return verdict


def check_summary(item: GroundedItem, summary: str) -> Verdict:
    """Exact for generated items: every number, closed-vocabulary term and other capitalised
    name-like span of `summary` that `item.document` does not state is unsupported."""
    return _check(item.document, summary, use_vocab=True, context=item.query)


def check_real(document: str, summary: str, context: str = "") -> Verdict:
    """The same number and capitalised-span checks against any source text. Without a closed
    vocabulary, a lower-case wrong entity ("paris") or a made-up name at the very start of a
    sentence that the stoplist covers goes unseen, and section titles (lines in capitals or
    markdown headings) are not read as names, so this is an approximation. `context` (the
    instruction) supplies ordinary words, as for generated items."""
    return _check(document, summary, use_vocab=False, context=context)


# ---------------------------------------------------------------------------------------------
# Summary quality and rates.
# ---------------------------------------------------------------------------------------------
try:
    from rouge_score import rouge_scorer as _rouge_scorer

    _SCORER = _rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
except ImportError:  # pragma: no cover - rouge_score ships with lm-eval in this project
    _SCORER = None


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 (rouge_score with stemming when installed, else plain-token LCS)."""
    if _SCORER is not None:
        return _SCORER.score(reference, prediction)["rougeL"].fmeasure
    a = re.findall(r"[a-z0-9]+", prediction.lower())
    b = re.findall(r"[a-z0-9]+", reference.lower())
    if not a or not b:
        return 0.0
    row = [0] * (len(b) + 1)  # one-row LCS table
    for x in a:
        diag = 0
        for j, y in enumerate(b, 1):
            diag, row[j] = row[j], diag + 1 if x == y else max(row[j], row[j - 1])
    lcs = row[-1]
    if lcs == 0:
        return 0.0
    p, r = lcs / len(a), lcs / len(b)
    return 2 * p * r / (p + r)


def rate_with_ci(flags: list[bool], n_boot: int = 1000, seed: int = 0) -> dict:
    """Share of True flags with a percentile-bootstrap 95% interval, deterministic for a seed."""
    from .evaluate import bootstrap_ci

    n = len(flags)
    if n == 0:
        return {"rate": None, "lo": None, "hi": None, "n": 0}
    rate = float(np.mean(flags))
    lo, hi = bootstrap_ci(flags, n_boot=n_boot, seed=seed)
    # Percentiles can miss the point estimate by a hair on tiny samples; keep lo <= rate <= hi.
    return {"rate": rate, "lo": min(float(lo), rate), "hi": max(float(hi), rate), "n": n}


# --------------------------------------------------------------------------- stage 06


def offline_check(item: GroundedItem, summary: str, support=None, threshold: float = 0.3) -> dict:
    """The checker that needs no API: exact for built-in items (`check_summary`); for real data the
    number/name/date check (`check_real`) plus, with a `support.SupportModel`, the summary sentences
    whose support score is below `threshold`."""
    summary = complete_words(summary)
    if item.dataset == "builtin":
        v = check_summary(item, summary)
        return {"offline_hallucinated": v.hallucinated, "offline_unsupported": v.unsupported,
                "n_supported": len(v.supported), "support_unsupported": [], "offline_method": "exact"}
    v = check_real(item.document, summary, context=item.query[:len(item.query) - len(item.document)])
    low = support.unsupported(item.document, summary, threshold) if support is not None else []
    return {"offline_hallucinated": v.hallucinated or bool(low), "offline_unsupported": v.unsupported,
            "n_supported": len(v.supported), "support_unsupported": low,
            "offline_method": "entities" + (f"+{support.kind}" if support is not None else "")}


def summarise_items(model, tokenizer, items: list[GroundedItem], system_modes: list[str], model_name: str,
                    max_new_tokens: int, batch_size: int, max_prompt_tokens: int = 1024, support=None,
                    threshold: float = 0.3) -> list[dict]:
    """Greedy summaries of every item under each system message, judged by the offline checker."""
    from .generation import empty_system_check, generate, messages, system_text

    rows = []
    empty_ok = empty_system_check(tokenizer)["possible"]
    # Built-in and real items are generated apart: short built-in prompts are never padded to a long
    # transcript, and the real ones (all near the source budget) share one decoding loop.
    groups = [g for g in ([it for it in items if it.dataset == "builtin"],
                          [it for it in items if it.dataset != "builtin"]) if g]
    for mode in system_modes:
        if mode == "empty" and not empty_ok:
            continue
        for group in groups:
            kind = "built-in" if group[0].dataset == "builtin" else "real-data"
            outs = generate(model, tokenizer, [messages(system_text(mode), it.query) for it in group], max_new_tokens,
                            batch_size, max_prompt_tokens, stop_after_answer=False,
                            desc=f"{model_name} / {mode} / {kind} summaries")
            rows += _summary_rows(group, outs, model_name, mode, support, threshold)
    return rows


def _summary_rows(items, outs, model_name, mode, support, threshold) -> list[dict]:
    rows = []
    for it, out in zip(items, outs):
        rows.append({"dataset": it.dataset, "model": model_name, "system": mode, "id": it.id, "genre": it.genre,
                     "summary": out, **offline_check(it, out, support, threshold), "empty": not out.strip(),
                     "truncated": it.truncated, "rouge_l": rouge_l(out, it.reference_summary)})
    return rows


def reference_baseline(items: list[GroundedItem], support=None, threshold: float = 0.3) -> list[dict]:
    """The offline checker run on each dataset's own reference summaries: for real data (written by
    people, not always from the source alone) this is the checker's flag rate on text taken as
    correct, the floor to read the models' rates against."""
    rows = []
    for it in items:
        rows.append({"dataset": it.dataset, "model": "reference", "system": "-", "id": it.id, "genre": it.genre,
                     "summary": it.reference_summary, **offline_check(it, it.reference_summary, support, threshold),
                     "empty": False, "truncated": it.truncated, "rouge_l": 1.0})
    return rows


def complete_words(text: str) -> str:
    """Drop a final word cut off by the token limit ("Mens" of "Mensah"): half a word is no claim."""
    text = text.rstrip()
    if not text or text[-1] in ".!?\"')]:;" or " " not in text:
        return text
    return text.rsplit(None, 1)[0]


def rates_table(rows: list[dict], seed: int = 0, judge: str = "offline") -> list[dict]:
    """Hallucination rate (95% CI) per dataset, model and system message, with ROUGE-L beside it.

    judge="offline": the offline checker's flag; judge="llm": the LLM judge's verdict, where only
    valid verdicts count and malformed / failed ones are reported apart (never as not hallucinated)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r.get("dataset", "builtin"), r["model"], r["system"]), []).append(r)
    out = []
    for (t, m, s), rs in groups.items():
        if judge == "offline":
            flags, n_malformed, n_error = [bool(r["offline_hallucinated"]) for r in rs], 0, 0
        elif judge == "llm":
            verdicts = [r.get("judge_verdict") for r in rs]
            flags = [v == "hallucinated" for v in verdicts if v in ("hallucinated", "supported")]
            n_malformed, n_error = verdicts.count("malformed"), verdicts.count("error")
        else:
            raise ValueError(f"judge must be 'offline' or 'llm', not {judge!r}")
        ci = rate_with_ci(flags, seed=seed)
        out.append({"dataset": t, "model": m, "system": s, "judge": judge, **ci, "n_malformed": n_malformed,
                    "n_error": n_error, "rouge_l": sum(r["rouge_l"] for r in rs) / len(rs),
                    "empty_summaries": sum(bool(r["empty"]) for r in rs),
                    "truncated_sources": sum(bool(r.get("truncated")) for r in rs)})
    return out


def highlight(summary: str, unsupported: list[str]) -> str:
    """Mark unsupported spans as **[span]** for the worst-examples table."""
    for span in sorted({u for u in unsupported if u}, key=len, reverse=True):
        summary = re.sub(rf"(?<!\[){re.escape(span)}", f"**[{span}]**", summary)
    return summary


PAPER_FIG6 = Path(__file__).resolve().parent / "data" / "paper_fig6.yaml"


def paper_fig6(path: Path = PAPER_FIG6) -> dict:
    """The paper's values ({"source", "values": [{model, system, dataset, rate, where}]}), checked."""
    import yaml

    data = yaml.safe_load(Path(path).read_text()) or {}
    values = data.get("values") or []
    for i, v in enumerate(values):
        missing = {"model", "system", "dataset", "rate", "where"} - set(v)
        if missing:
            raise ValueError(f"{path}: values[{i}] lacks {sorted(missing)}")
        if not 0 <= float(v["rate"]) <= 1:
            raise ValueError(f"{path}: values[{i}].rate must be a fraction in [0, 1], got {v['rate']}")
        if not str(v["where"]).strip():
            raise ValueError(f"{path}: values[{i}].where must say where in the paper the number is printed")
    return {"source": data.get("source", ""), "values": values}
