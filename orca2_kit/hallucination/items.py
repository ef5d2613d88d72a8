"""Built-in grounded items: short documents whose facts are known, as (slot, value) pairs.

Orca 2 (section 6.5, Figure 6) measures how often a summary states something its source does not.
To measure that without a judge model, `make_grounded_items` writes documents of three genres
(meeting notes, a doctor-patient visit note, a news report) from the closed vocabularies below and
records every fact a document states as a (slot, value) pair: ("age", "47"), ("dose", "400"),
("course_days", "5"), ("symptom", "dry cough"), ("visit.weekday", "Wednesday"), ... A slot's
*kind* (`SLOT_KINDS`) says what sort of value it holds, so the checker
(`check.check_summary`) can tell "400 mg for 5 days" from "5 mg for 400 days".
Slots named `group.part` belong together: a person (first, last), a date (weekday, day, month),
a blood pressure (systolic, diastolic).

Every kind of fact the generator writes has a closed vocabulary (`CLOSED_VOCABULARIES`) or is a
number. The vocabularies also hold members the generator never writes (`_EXTRA_*`), so a summary
that swaps in another symptom, job or facility is caught too. Names are chosen so that no member
is an everyday English word ("Grace", "Baker" and "Reading" are not used).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------
# Closed vocabularies.
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
_EXTRA_MEDICATIONS = ("aspirin", "insulin", "penicillin", "codeine", "morphine", "antibiotics", "antibiotic")
SYMPTOMS = ("dry cough", "headache", "sore throat", "skin rash", "stiff neck", "pain in the left knee")
# Never written by the generator: a summary that names one of these names a symptom the note lacks.
_EXTRA_SYMPTOMS = (
    "nausea", "vomiting", "diarrhoea", "diarrhea", "dizziness", "fatigue", "back pain", "chest pain",
    "stomach ache", "abdominal pain", "earache", "toothache", "runny nose", "shortness of breath",
    "sneezing", "insomnia", "migraine", "flu",
)
JOBS = ("teacher", "nurse", "bus driver", "chef", "accountant", "carpenter")
_EXTRA_JOBS = (
    "engineer", "lawyer", "farmer", "electrician", "plumber", "pilot", "police officer",
    "firefighter", "cashier", "pharmacist", "mechanic", "waiter", "waitress", "programmer",
    "software developer", "journalist", "dentist",
)
FACILITIES = ("library", "bus depot", "research centre", "sports hall", "warehouse", "hospital wing")
_EXTRA_FACILITIES = (
    "stadium", "museum", "airport", "shopping centre", "shopping mall", "swimming pool", "concert hall",
    "factory", "theatre", "theater", "train station", "community centre", "community center", "office block",
    "data centre", "data center", "hotel", "hospital",
)
# No document states anyone's sex: a summary that does ("a 68-year-old male") adds a fact. Pronouns
# are not read (a summary needs them).
SEX_WORDS = ("male", "female", "man", "woman", "men", "women", "boy", "girl", "gentleman", "lady")
# Another way to write a vocabulary member: a summary saying "a cough" keeps the fact "dry cough".
ALIASES = {
    "cough": "dry cough", "headaches": "headache", "throat": "sore throat", "rash": "skin rash",
    "neck pain": "stiff neck", "knee pain": "pain in the left knee", "left knee pain": "pain in the left knee",
    "pain in his left knee": "pain in the left knee", "pain in her left knee": "pain in the left knee",
    "pain in the knee": "pain in the left knee", "knee": "pain in the left knee",
    "depot": "bus depot", "research center": "research centre", "sports centre": "sports hall",
    "gym": "sports hall", "driver": "bus driver",
}
CLOSED_VOCABULARIES = {
    "first_name": FIRST_NAMES, "last_name": LAST_NAMES, "place": PLACES, "org": ORGS,
    "clinic": CLINICS, "project": PROJECTS, "weekday": WEEKDAYS, "month": MONTHS,
    "drug": MEDICATIONS + _EXTRA_MEDICATIONS, "symptom": SYMPTOMS + _EXTRA_SYMPTOMS,
    "job": JOBS + _EXTRA_JOBS, "facility": FACILITIES + _EXTRA_FACILITIES, "sex": SEX_WORDS,
}
# Numbers: every kind of number the generator writes, read from the words around it
# (check.NUMBER_CUES).
NUMBER_KINDS = (
    "age", "day", "days", "months", "dose_mg", "temperature", "bp", "percent", "money", "clients",
    "headcount", "visitors", "year", "per_day",
)

# ---------------------------------------------------------------------------------------------
# Slots: what each genre's documents state, and the kind of value each slot holds.
# ---------------------------------------------------------------------------------------------
def _person(role: str) -> dict:
    return {f"{role}.first": "first_name", f"{role}.last": "last_name"}


def _date(event: str) -> dict:
    return {f"{event}.weekday": "weekday", f"{event}.day": "day", f"{event}.month": "month"}


GENRE_SLOTS: dict[str, dict[str, str]] = {
    "meeting": {
        **_person("attendee_a"), **_person("attendee_b"), **_person("attendee_c"), "org": "org", "city": "place",
        **_date("meeting"), "project": "project", "percent_complete": "percent", "budget": "money",
        "new_clients": "clients", "clients_month": "month", "review.weekday": "weekday",
        "send_by.weekday": "weekday",
    },
    "visit": {
        **_person("patient"), "doctor.last": "last_name", "age": "age", "clinic": "clinic", **_date("visit"),
        "symptom": "symptom", "symptom_days": "days", "temperature": "temperature",
        "blood_pressure.systolic": "bp", "blood_pressure.diastolic": "bp", "drug": "drug", "dose": "dose_mg",
        "doses_per_day": "per_day", "course_days": "days", **_date("follow_up"), "job": "job", "city": "place",
    },
    "news": {
        "opening.weekday": "weekday", "org": "org", "facility": "facility", "city": "place", "cost": "money",
        "build_months": "months", **_person("mayor"), "headcount": "headcount", "visitors": "visitors",
        "opening_month": "month", "phase_two_year": "year",
    },
}
SLOT_KINDS = {slot: kind for slots in GENRE_SLOTS.values() for slot, kind in slots.items()}
GENRES = tuple(GENRE_SLOTS)

_INSTRUCTIONS = {
    "meeting": "Summarise the meeting notes below in two or three sentences.",
    "visit": "Summarise the doctor-patient visit note below in two or three sentences.",
    "news": "Summarise the news report below in two or three sentences.",
}

# Filler sentences: make the documents read naturally, and state no fact of any slot.
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

# ---------------------------------------------------------------------------------------------
# Numbers as words.
# ---------------------------------------------------------------------------------------------
UNIT_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
TEN_WORDS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def number_words(n: int) -> str:
    """0..999 in words: 47 -> "forty-seven", 120 -> "one hundred and twenty"."""
    if n < 20:
        return UNIT_WORDS[n]
    if n < 100:
        tens, units = divmod(n, 10)
        return TEN_WORDS[tens] + (f"-{UNIT_WORDS[units]}" if units else "")
    hundreds, rest = divmod(n, 100)
    return f"{UNIT_WORDS[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")


# ---------------------------------------------------------------------------------------------
# The data.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroundedItem:
    id: str
    document: str
    query: str  # the user turn: instruction, blank line, document
    reference_summary: str  # uses only document facts (real data: the dataset's reference)
    facts: tuple[tuple[str, str], ...] = ()  # (slot, value as written in the document); built-in items only
    reference_slots: tuple[str, ...] = ()  # the slots the reference summary restates (for fact recall)
    sentences: tuple[str, ...] = ()  # the fact-bearing sentences of the document (no fillers)
    genre: str = ""  # one of GENRES (built-in items)
    dataset: str = "builtin"  # builtin, qmsum, aci_bench or ms_marco
    truncated: bool = False  # the source was cut to the token budget (grounded.fit_sources)

    @property
    def instruction(self) -> str:
        """The query without the document: the task the summary was written for."""
        return self.query[:len(self.query) - len(self.document)]

    def fact(self, slot: str) -> str | None:
        return dict(self.facts).get(slot)

    def to_row(self) -> dict:
        return {
            "id": self.id, "document": self.document, "query": self.query,
            "reference_summary": self.reference_summary, "facts": [list(f) for f in self.facts],
            "reference_slots": list(self.reference_slots), "sentences": list(self.sentences),
            "genre": self.genre, "dataset": self.dataset, "truncated": self.truncated,
        }

    @classmethod
    def from_row(cls, row: dict) -> "GroundedItem":
        return cls(
            id=row["id"], document=row["document"], query=row["query"],
            reference_summary=row["reference_summary"],
            facts=tuple((str(s), str(v)) for s, v in row.get("facts") or ()),
            reference_slots=tuple(row.get("reference_slots") or ()), sentences=tuple(row.get("sentences") or ()),
            genre=row.get("genre", ""), dataset=row.get("dataset", "builtin"),
            truncated=bool(row.get("truncated", False)),
        )


# A generator returns (opening facts, optional facts, lead). An opening fact is (sentence,
# {slot: value}); an optional fact adds the summary sentence that restates it and the slots that
# sentence states; the lead is (summary sentence, slots it states).
def _names(role: str, first: str, last: str) -> dict:
    return {f"{role}.first": first, f"{role}.last": last}


def _meeting(rng: random.Random):
    org, city, project = rng.choice(ORGS), rng.choice(PLACES), rng.choice(PROJECTS)
    (a1, b1, c1), (a2, b2, c2) = rng.sample(FIRST_NAMES, 3), rng.sample(LAST_NAMES, 3)
    wd1, wd2, wd3 = rng.sample(WEEKDAYS[:5], 3)
    m1, m2 = rng.sample(MONTHS, 2)
    day, pct = rng.randint(1, 28), rng.randrange(10, 95, 5)
    amount, count = f"{rng.randint(12, 95) * 1000:,}", rng.randint(3, 19)
    a, b, c = _names("attendee_a", a1, a2), _names("attendee_b", b1, b2), _names("attendee_c", c1, c2)
    meeting = {"meeting.weekday": wd1, "meeting.day": str(day), "meeting.month": m1}
    opening = [
        (f"The {org} team met on {wd1} {day} {m1} at the {city} office.", {"org": org, "city": city, **meeting}),
        (f"Attendees were {a1} {a2}, {b1} {b2} and {c1} {c2}.", {**a, **b, **c}),
    ]
    lead = (f"{a1} {a2}, {b1} {b2} and {c1} {c2} of {org} met in {city} on {wd1} {day} {m1}.",
            [*a, *b, *c, "org", "city", *meeting])
    optional = [
        (f"{b1} {b2} reported that the {project} project is {pct} percent complete.",
         {**b, "project": project, "percent_complete": str(pct)},
         f"{b2} said the {project} project is {pct}% complete.", ["attendee_b.last", "project", "percent_complete"]),
        (f"The budget for {project} was raised to {amount} dollars.", {"project": project, "budget": amount},
         f"The {project} budget rose to {amount} dollars.", ["project", "budget"]),
        # Stated in words, restated in digits: summaries must be judged by value.
        (f"{c1} {c2} said that {number_words(count)} new clients signed up in {m2}.",
         {**c, "new_clients": number_words(count), "clients_month": m2},
         f"{c1} reported {count} new clients in {m2}.", ["attendee_c.first", "new_clients", "clients_month"]),
        (f"The group agreed to hold the next review on {wd2}.", {"review.weekday": wd2},
         f"The next review is on {wd2}.", ["review.weekday"]),
        (f"{c1} {c2} will send the revised plan to {a1} {a2} by {wd3}.", {**c, **a, "send_by.weekday": wd3},
         f"{c1} will send {a1} the revised plan by {wd3}.", ["attendee_c.first", "attendee_a.first", "send_by.weekday"]),
    ]
    return opening, optional, lead


def _visit(rng: random.Random):
    p1, (p2, doc) = rng.choice(FIRST_NAMES), rng.sample(LAST_NAMES, 2)
    clinic, city, med = rng.choice(CLINICS), rng.choice(PLACES), rng.choice(MEDICATIONS)
    wd1, wd2 = rng.sample(WEEKDAYS[:5], 2)
    m1, m2 = rng.sample(MONTHS, 2)
    day1, day2 = rng.sample(range(1, 29), 2)
    age, dur, symptom = rng.randint(19, 84), rng.randint(2, 14), rng.choice(SYMPTOMS)
    temp = f"{rng.randint(365, 394) / 10:.1f}"
    sys_bp, dia_bp = rng.randint(110, 160), rng.randint(65, 95)
    dose, course = rng.choice((5, 10, 20, 250, 400, 500)), rng.choice((5, 7, 10, 14))
    job = rng.choice(JOBS)
    patient, visit = _names("patient", p1, p2), {"visit.weekday": wd1, "visit.day": str(day1), "visit.month": m1}
    opening = [
        (f"{p1} {p2}, aged {age}, visited Dr {doc} at {clinic} on {wd1} {day1} {m1}.",
         {**patient, "age": str(age), "doctor.last": doc, "clinic": clinic, **visit}),
        (f"The patient reported a {symptom} that had lasted {number_words(dur)} days.",
         {"symptom": symptom, "symptom_days": number_words(dur)}),
    ]
    lead = (f"{p1} {p2}, {age}, saw Dr {doc} at {clinic} on {wd1} {day1} {m1} about a {symptom} "
            f"lasting {dur} days.", [*patient, "age", "doctor.last", "clinic", *visit, "symptom", "symptom_days"])
    follow_up = {"follow_up.weekday": wd2, "follow_up.day": str(day2), "follow_up.month": m2}
    optional = [
        (f"The patient's temperature was {temp} degrees and blood pressure was {sys_bp} over {dia_bp}.",
         {"temperature": temp, "blood_pressure.systolic": str(sys_bp), "blood_pressure.diastolic": str(dia_bp)},
         f"Temperature was {temp} degrees and blood pressure {sys_bp}/{dia_bp}.",
         ["temperature", "blood_pressure.systolic", "blood_pressure.diastolic"]),
        (f"Dr {doc} prescribed {med} {dose} mg twice a day for {course} days.",
         {"doctor.last": doc, "drug": med, "dose": str(dose), "doses_per_day": "twice", "course_days": str(course)},
         f"Dr {doc} prescribed {med} {dose} mg for {course} days.", ["doctor.last", "drug", "dose", "course_days"]),
        (f"A follow-up visit was booked for {wd2} {day2} {m2}.", follow_up,
         f"A follow-up is booked for {wd2} {day2} {m2}.", list(follow_up)),
        (f"The patient works as a {job} in {city}.", {"job": job, "city": city},
         f"The patient works in {city}.", ["city"]),
    ]
    return opening, optional, lead


def _news(rng: random.Random):
    org, city, facility = rng.choice(ORGS), rng.choice(PLACES), rng.choice(FACILITIES)
    mayor1, mayor2 = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    wd, month = rng.choice(WEEKDAYS), rng.choice(MONTHS)
    cost, build = f"{rng.randint(3, 19) / 2:g}", rng.randint(6, 18)
    jobs, visitors, year = rng.randint(40, 400), f"{rng.randint(5, 90) * 1000:,}", rng.randint(2025, 2030)
    opening = [
        (f"On {wd}, {org} opened a new {facility} in {city}.",
         {"opening.weekday": wd, "org": org, "facility": facility, "city": city}),
        (f"The {facility} cost {cost} million dollars and took {number_words(build)} months to build.",
         {"facility": facility, "cost": f"{cost} million", "build_months": number_words(build)}),
    ]
    lead = (f"{org} opened a {cost} million dollar {facility} in {city} on {wd}.",
            ["org", "cost", "facility", "city", "opening.weekday"])
    optional = [
        (f"It will employ {jobs} people.", {"headcount": str(jobs)}, f"It will employ {jobs} people.", ["headcount"]),
        (f"Mayor {mayor1} {mayor2} said the project would bring about {visitors} visitors a year.",
         {**_names("mayor", mayor1, mayor2), "visitors": visitors},
         f"Mayor {mayor2} expects about {visitors} visitors a year.", ["mayor.last", "visitors"]),
        (f"The site opens to the public in {month}.", {"opening_month": month},
         f"It opens to the public in {month}.", ["opening_month"]),
        (f"A second phase is planned for {year}.", {"phase_two_year": str(year)},
         f"A second phase is planned for {year}.", ["phase_two_year"]),
    ]
    return opening, optional, lead


_GENERATORS = {"meeting": _meeting, "visit": _visit, "news": _news}


def _word_count(text: str) -> int:
    return sum(1 for w in text.split() if any(c.isalnum() for c in w))


# The offline checker was developed on built-in items of the offline profile's seed (1234): items 0-7
# are its `dev` labelled set (it was changed after reading its misses there), items 0-11 were notebook
# 06's own items while it was built (its date-slot reading came from 06's summary of item 1), and
# items 12-19 are the `heldout` labelled set its agreement is quoted on. Notebook 06 scores items from
# SCORED_FROM on: documents no step of the checker's development read, whatever hallucination.n_items.
SCORED_FROM = 20


def scored_items(n: int, seed: int) -> list[GroundedItem]:
    """The `n` built-in items notebook 06 scores: items SCORED_FROM .. SCORED_FROM + n - 1."""
    return make_grounded_items(n, seed, start=SCORED_FROM)


def make_grounded_items(n: int, seed: int, start: int = 0) -> list[GroundedItem]:
    """`n` generated items from index `start` on, genres in turn; the same (n, seed, start) always
    gives the same items, and item i (its id ends in i) is the same document whatever n and start."""
    rng = random.Random(f"grounded-{seed}")
    items = []
    for i in range(start + n):
        genre = GENRES[i % len(GENRES)]
        opening, optional, (lead, lead_slots) = _GENERATORS[genre](rng)
        # 4-6 facts: the two opening facts plus 2-4 optional ones, in template order.
        picked = sorted(rng.sample(range(len(optional)), rng.randint(2, 4)))
        chosen = [optional[j] for j in picked]
        stated = [*opening, *((s, slots) for s, slots, _, _ in chosen)]
        # The summary restates the opening and at most two more facts.
        extra = chosen[:2]
        reference = " ".join([lead, *(summary for _, _, summary, _ in extra)])
        reference_slots = list(dict.fromkeys([*lead_slots, *(s for *_, slots in extra for s in slots)]))

        # Fillers (nothing checkable in them) until the document is 60-120 words long.
        sentences = [s for s, _ in stated]
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

        facts: dict[str, str] = {}
        for _, slots in stated:
            facts.update(slots)
        items.append(GroundedItem(
            id=f"grounded-{seed}-{i:04d}", document=document, query=f"{_INSTRUCTIONS[genre]}\n\n{document}",
            reference_summary=reference, facts=tuple(facts.items()), reference_slots=tuple(reference_slots),
            sentences=tuple(s for s, _ in stated), genre=genre,
        ))
    return items[start:]
