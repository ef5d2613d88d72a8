"""The offline hallucination checker: which facts a summary states, and whether each is the source's.

The summary is read into mentions (`read.read_mentions`: numbers with their kind,
vocabulary terms, persons, dates, blood pressures, other names). For a built-in item
(`check_summary`) every part of a mention is bound to a slot of the item's genre
(`items.GENRE_SLOTS`) by its kind; where a kind has several slots (the visit date
and the follow-up date, the symptom's and the prescription's duration) the nearest cue word in
the sentence picks one (`_SLOT_CUES`; no cue: any of them), and the parts of one person or one
date must belong to one group. A part is *supported* when its slot holds that value in the item,
*wrong_slot* when the value is one the item states in another slot ("5 mg for 400 days" when the
source says 400 mg for 5 days; "Elena reported 85%" when Greta did, `_ACTORS`), and *unsupported*
when the item does not state it at all ("nausea", "Zorblax", a sex). A wrong part is a
hallucinated fact.

What it does not see (measured on hand-labelled summaries, `agreement.py`): claims in
open words ("diagnosed as a rare kidney stone", "the neighbours were left out", "the cough was
cured"), relations not named by a cue ("a review of the plan by Wednesday" reads as the plan's
deadline; a year or date put on another event; the recipient of a plan), negations, facts spread
over two sentences, lower-case names. Its rates are lower bounds.

On real data (`check_real`) there are no slots: a number must occur in the source, with the same
kind where the source gives it one ("400 days" against a source that says 400 mg is wrong_slot);
a name-like span must occur in the source; vocabulary words are not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from orca2_kit.hallucination.items import CLOSED_VOCABULARIES, GENRE_SLOTS, GroundedItem
from orca2_kit.hallucination.read import Mention, Part, _canonical, read_mentions
from orca2_kit.hallucination.tokens import _Token, _tokens, number_value


# ---------------------------------------------------------------------------------------------
# Checking.
# ---------------------------------------------------------------------------------------------
@dataclass
class Verdict:
    mentions: list[Mention] = field(default_factory=list)

    @property
    def parts(self) -> list[Part]:
        return [p for m in self.mentions for p in m.parts]

    @property
    def wrong(self) -> list[Part]:
        return [p for p in self.parts if p.status != "supported"]

    @property
    def unsupported(self) -> list[str]:
        """Surfaces of the wrong parts (unsupported or in the wrong slot), each once, in order."""
        return list(dict.fromkeys(p.surface for p in self.wrong))

    @property
    def supported(self) -> list[str]:
        return list(dict.fromkeys(p.surface for p in self.parts if p.status == "supported"))

    @property
    def hallucinated(self) -> bool:
        return bool(self.wrong)

    @staticmethod
    def _distinct(parts: list[Part]) -> set:
        """A fact once, however often it is repeated: its kind, value, verdict and slots."""
        return {(p.kind, p.value, p.status, p.slots) for p in parts}

    @property
    def n_facts(self) -> int:
        """Distinct facts stated: a summary that repeats "5 mg" six times in a loop states it once."""
        return len(self._distinct(self.parts))

    @property
    def n_wrong(self) -> int:
        """Distinct hallucinated facts (a wrong fact repeated in a loop counts once)."""
        return len(self._distinct(self.wrong))

    @property
    def precision(self) -> float | None:
        """Per mention: the share of the stated fact mentions (mention parts, repeats included) that are
        supported; None when it states none."""
        return (len(self.parts) - len(self.wrong)) / len(self.parts) if self.parts else None

    @property
    def slots_kept(self) -> set[str]:
        return {s for p in self.parts if p.status == "supported" for s in p.slots}

    def reasons(self) -> list[str]:
        return [f"{p.surface}: {p.reason}" for p in self.wrong]


def _values(kind: str, written: str) -> tuple:
    if kind in CLOSED_VOCABULARIES:
        return (_canonical(kind, written.lower()),)
    v = number_value(written)
    if v is None:
        return ()
    bare = number_value(written.split()[0]) if len(written.split()) > 1 else None
    return (v,) if bare is None or bare == v else (v, bare)


def _same(a: tuple, b: tuple) -> bool:
    """The part's meaning (its first value) equals the fact's."""
    if not (a and b) or isinstance(a[0], float) != isinstance(b[0], float):
        return False
    return round(a[0], 6) == round(b[0], 6) if isinstance(a[0], float) else a[0] == b[0]


# Cue words for a slot (or all slots of a group, `group.*`), and kinds whose mention is a cue: where
# one kind has several slots in a genre, the slot whose cue is nearest in the sentence is meant.
_SLOT_CUES = {
    "symptom_days": ("lasted", "lasting", "last", "had", "past", "since", "ago", "suffering", "history",
                     "reported", "complained", "@symptom"),
    "course_days": ("prescribed", "prescription", "course", "take", "taking", "treatment", "twice", "daily",
                    "times", "@drug", "@dose_mg", "@per_day"),
    "visit.*": ("visited", "visit", "saw", "seen", "see", "attended", "appointment", "consulted"),
    "follow_up.*": ("follow-up", "follow", "followup", "booked", "book", "return", "next", "back", "scheduled",
                    "again", "review"),
    "meeting.*": ("met", "meeting", "meet", "held", "gathered", "convened", "attended"),
    "review.weekday": ("review", "next"),
    "send_by.weekday": ("send", "sent", "sending", "plan", "by", "deliver", "share", "due"),
    "clients_month": ("clients", "customers", "signed", "joined", "@clients"),
}


def _cues(slot: str) -> tuple:
    return _SLOT_CUES.get(slot) or _SLOT_CUES.get(slot.split(".")[0] + ".*") or ()


def _cue_distance(slot: str, m: Mention, toks: list[_Token], kinds_at: dict[int, str],
                  rivals: tuple = ()) -> int | None:
    """Tokens from the mention to the nearest cue of `slot` in its sentence (None: no cue). A cue
    right after a cue of a rival slot is that rival's compound, not a cue of its own: in "a follow-up
    visit on Wednesday 25 July" the visit is the follow-up, so the date is the follow-up date."""
    cues = _cues(slot)
    if not cues:
        return None
    other = {c for r in rivals if r != slot for c in _cues(r)} - set(cues)
    best = None
    for k, t in enumerate(toks):
        if t.sentence != m.sentence or m.token <= k < m.end:
            continue
        if k and toks[k - 1].sentence == t.sentence and toks[k - 1].key in other:
            continue
        if t.key in cues or ("@" + kinds_at.get(k, "")) in cues:
            d = abs(k - m.token)
            best = d if best is None else min(best, d)
    return best


def _candidates(kind: str, slots: dict[str, str], m: Mention, toks, kinds_at) -> list[str]:
    cands = [s for s, k in slots.items() if k == kind] if kind != "number" else [
        s for s, k in slots.items() if k not in CLOSED_VOCABULARIES]
    if m.role:  # a title names the role: "Dr Novak" is the doctor
        cands = [s for s in cands if s.startswith(m.role + ".")] or cands
    if len(cands) > 1 and kind != "number":  # a bare number has no cue of its own: any slot may be meant
        dist = {s: _cue_distance(s, m, toks, kinds_at, tuple(cands)) for s in cands}
        cued = [d for d in dist.values() if d is not None]
        if cued:
            cands = [s for s in cands if dist[s] == min(cued)]
    return cands


# Who states or does a fact: the person whose group a slot belongs to (who reported the figure, who
# prescribed, whose age). A summary naming someone else as the one who did it puts a right person
# in the wrong slot. The actor of a fact is the nearest person before it in the same clause with a
# verb of saying or doing in between ("Elena Mensah reported that ... 85 percent"), or, for an age,
# the person it is set off after ("Dr Achebe, 57,").
_ACTORS = {"percent_complete": "attendee_b", "new_clients": "attendee_c", "clients_month": "attendee_c",
           "send_by.weekday": "attendee_c", "visitors": "mayor", "drug": "doctor", "dose": "doctor",
           "course_days": "doctor", "age": "patient"}
_ACTOR_VERBS = frozenset("""reported reports report said says say stated states announced announces noted notes
mentioned mentions told tells send sends sent sending prescribed prescribes prescribing gave gives expects
expected predicts predicted estimated estimates added confirmed shared explained presented updated""".split())


_PASSIVE = frozenset("was were is are be been being get got gets".split())


def _check_actors(text: str, toks: list[_Token], mentions: list[Mention]) -> None:
    people = [m for m in mentions if m.parts[0].kind in ("first_name", "last_name")
              and all(p.status == "supported" for p in m.parts)]
    for m in mentions:
        for p in m.parts:
            actor = next((_ACTORS[s] for s in p.slots if s in _ACTORS), None) if p.status == "supported" else None
            if actor is None:
                continue
            before = [q for q in people if q.sentence == m.sentence and q.end <= m.token
                      and not re.search(r";|,\s*(?:and|but|while)\b", text[toks[q.end - 1].end:toks[m.token].start])]
            who = None
            for q in reversed(before):
                between = {t.key for t in toks[q.end:m.token]}
                if p.kind == "age" and q.end == m.token and text[toks[q.end - 1].end:toks[m.token].start].strip() in (",", "("):
                    who = q
                    break
                if p.kind != "age" and between & _ACTOR_VERBS:
                    verbs = [k for k in range(q.end, m.token) if toks[k].key in _ACTOR_VERBS]
                    if toks[verbs[0] - 1].key in _PASSIVE:
                        continue  # "Elena was prescribed paracetamol": she received it, she is not the actor
                    who = q
                    break
            if who is None:
                continue
            groups = {s.split(".")[0] for x in who.parts for s in x.slots}
            if actor not in groups:
                named = " ".join(x.surface for x in who.parts)
                _mark(p, "wrong_slot", p.slots, f"{p.surface} is the {actor}'s {p.kind if p.kind == 'age' else 'fact'}"
                                                f", not {named}'s")


def _mark(part: Part, status: str, slots: tuple = (), reason: str = "") -> None:
    part.status, part.slots, part.reason = status, tuple(slots), reason


def check_summary(item: GroundedItem, summary: str) -> Verdict:
    """Every fact `summary` states, checked against `item`'s (slot, value) facts (module docstring)."""
    slots = GENRE_SLOTS[item.genre]
    facts = {s: _values(slots[s], v) for s, v in item.facts}
    doc_keys = " " + " ".join(t.key for t in _tokens(item.document)) + " "
    common = {t.key for t in _tokens(item.document)} | {t.key for t in _tokens(item.instruction)}
    mentions = read_mentions(summary, True, common)
    toks = _tokens(summary)
    kinds_at = {}
    for m in mentions:
        for k in range(m.token, m.end):
            kinds_at[k] = m.parts[0].kind

    def where(value: tuple) -> list[str]:  # the item's slots that state this value
        return [s for s, v in facts.items() if _same(value, v) or (isinstance(value[0], float) and any(
            isinstance(x, float) and round(value[0], 6) == round(x, 6) for x in v))]

    for m in mentions:
        if m.parts[0].kind == "name":
            p = m.parts[0]
            ok = f" {p.value[0]} " in doc_keys
            _mark(p, "supported" if ok else "unsupported", (), "" if ok else "not in the document")
            continue
        # The group (a person, a date, a blood pressure) whose slots match most parts is meant.
        per_part = [_candidates(p.kind, slots, m, toks, kinds_at) for p in m.parts]
        if [p.kind for p in m.parts] == ["bp", "bp"]:  # "140/90": systolic first
            per_part = [[s for s in c if s.endswith(end)] for c, end in zip(per_part, (".systolic", ".diastolic"))]
        groups = {s.split(".")[0] for c in per_part for s in c if "." in s} if len(m.parts) > 1 else set()
        if groups:
            def score(g):  # parts it states right, then parts it has a slot for
                inside = [[s for s in c if s.startswith(g + ".")] for c in per_part]
                return (sum(any(s in facts and _same(p.value, facts[s]) for s in c) for p, c in zip(m.parts, inside)),
                        sum(bool(c) for c in inside))
            best = max(sorted(groups), key=score)
            # The parts must belong together: one the group lacks is not that person's (date's).
            per_part = [[s for s in c if s.startswith(best + ".")] for c in per_part]
        for p, cands in zip(m.parts, per_part):
            hits = [s for s in cands if s in facts and (_same(p.value, facts[s]) or (
                p.kind == "number" and any(isinstance(x, float) and round(p.value[0], 6) == round(x, 6)
                                           for x in facts[s])))]
            if hits:
                _mark(p, "supported", hits)
                continue
            told = [f"{s} is {dict(item.facts)[s]}" for s in cands if s in facts] or [
                f"the document states no {' or '.join(cands) if cands else p.kind}"]
            elsewhere = where(p.value) if p.value else []
            if elsewhere:
                _mark(p, "wrong_slot", cands, f"{'; '.join(told)}; {p.surface} is the {', '.join(elsewhere)}")
            else:
                _mark(p, "unsupported", cands, "; ".join(told))
    _check_actors(summary, toks, mentions)
    return Verdict(mentions)


def check_real(document: str, summary: str, context: str = "") -> Verdict:
    """The same reading against any source text (QMSum, ACI-Bench), where there are no slots: a
    number must occur in the source, with the same kind where the source gives it one ("400 days"
    against a source that says 400 mg and never 400 days is wrong_slot); a name-like span must
    occur in the source. Without vocabularies a lower-case wrong entity ("paris"), a made-up
    word at a sentence start that the source also uses, and section titles (lines in capitals or
    markdown headings) go unseen: an approximation. `context` (the instruction) supplies
    ordinary words."""
    src_keys = " " + " ".join(t.key for t in _tokens(document)) + " "
    kinds_of: dict[float, set[str]] = {}
    for m in read_mentions(document, use_vocab=False):
        for p in m.parts:
            if p.kind != "name":
                for v in p.value:
                    kinds_of.setdefault(round(v, 6), set()).add(p.kind)
    common = {t.key for t in _tokens(document)} | {t.key for t in _tokens(context)}
    mentions = read_mentions(summary, use_vocab=False, common_words=common)
    for m in mentions:
        for p in m.parts:
            if p.kind == "name":
                ok = f" {p.value[0]} " in src_keys
                _mark(p, "supported" if ok else "unsupported", (), "" if ok else "not in the source")
                continue
            kinds = kinds_of.get(round(p.value[0], 6), set())
            if not kinds:
                _mark(p, "unsupported", (), "the source never states this number")
            elif p.kind == "number" or p.kind in kinds or "number" in kinds:
                _mark(p, "supported")
            else:
                _mark(p, "wrong_slot", (), f"the source states {p.surface} only as {', '.join(sorted(kinds))}, "
                                           f"not as {p.kind}")
    return Verdict(mentions)
