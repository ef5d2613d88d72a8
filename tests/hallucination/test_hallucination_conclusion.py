"""06's conclusion in words (issue 27): a student whose summaries mostly loop shows a lower rate of
summaries with a wrong fact without being more faithful; the conclusion must say so, with numbers."""
from orca2_kit.hallucination import metrics as hm
from orca2_kit.hallucination.conclusion import conclusion


def _rows(student_loops: int, student_facts: int, student_wrong: int = 1, n: int = 12) -> list[dict]:
    rows = []
    for i in range(n):
        for model, wrong, facts, loop in (("base", i < 4, 12, False), ("student", i < student_wrong, student_facts,
                                                                        i < student_loops)):
            rows.append({"dataset": "builtin", "model": model, "system": "generic", "id": f"d{i}",
                         "offline_hallucinated": wrong, "n_wrong": int(wrong), "n_facts": facts, "precision": 1.0,
                         "recall": 0.8, "n_words": 90, "rouge_l": 0.3, "hit_limit": loop, "cut_in_loop": loop})
    return rows


def test_a_lower_rate_from_looping_summaries_is_not_called_less_hallucination():
    rows = _rows(student_loops=10, student_facts=8)
    text = conclusion(rows, hm.paired_differences(rows, seed=1), 200, seed=1)
    assert "generic -0.25 (95% CI" in text and "n=12" in text  # the paired difference, with its interval and n
    assert ("The student's summaries were cut in 83% of cases (by the 200-token limit, or stopped" in text
            and "row), 83% in a runaway loop" in text)
    assert "Distinct facts stated per summary: student 8.0, base 12.0" in text
    assert "wrong facts per fact stated (length-matched): student 0.010" in text
    assert "not evidence of less hallucination: 83% of its summaries never ended and it states fewer" in text
    assert "lower hallucination" not in text and "The base's summaries were cut" not in text


def test_no_caveat_when_the_student_ends_its_summaries_and_says_as_much():
    rows = _rows(student_loops=0, student_facts=12, student_wrong=0)
    text = conclusion(rows, hm.paired_differences(rows, seed=1), 200, seed=1)
    assert "the student's summaries less often state a wrong fact" in text, text
    assert "were cut by" not in text and "not evidence" not in text


def test_few_pairs_get_no_verdict():
    rows = _rows(student_loops=0, student_facts=12, n=3)
    assert "too few pairs for a verdict (n=3)" in conclusion(rows, hm.paired_differences(rows, seed=1), 200)
