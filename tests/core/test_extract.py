"""One answer extractor for every stage: strict (the 'Answer:' line) and lenient (the committed answer
in any clear form), on the cases that misled the old flexible reading and on real model outputs."""
import json
from pathlib import Path

import pytest

from orca2_kit.extract import check_answer, extract_answer, score, sentences
from orca2_kit.tasks.facts import WEEKDAYS

REAL = Path(__file__).parent.parent / "fixtures" / "extract" / "real_outputs.jsonl"
CAPITALS = ("Bangkok", "Hanoi", "Paris", "Tokyo", "New Delhi", "Delhi")


def test_strict_reads_the_answer_line():
    ex = extract_answer("Step 1: 3+4=7\nAnswer: 7\nmore chatter 9", "number")
    assert ex.strict == "7" and ex.format_ok


def test_first_answer_line_wins():
    assert extract_answer("Answer: 3\nAnswer: 5", "number").strict == "3"


def test_a_sentence_answer_counts_leniently_not_strictly():
    """The base model names the capital in a sentence: lenient credits it, strict does not."""
    s = score("The capital of Thailand is Bangkok.", "Bangkok", "text", candidates=CAPITALS)
    assert s["correct_lenient"] and not s["correct_strict"] and not s["format_ok"]
    # inside an Answer line the same reading applies
    assert score("Answer: The capital is Bangkok.", "Bangkok", "text", candidates=CAPITALS)["correct_lenient"]


def test_a_competing_candidate_is_no_commitment():
    s = score("It could be Bangkok or Hanoi.", "Bangkok", "text", candidates=CAPITALS)
    assert not s["correct_lenient"] and s["answer_lenient"] is None
    # a longer candidate hides the shorter one inside it
    assert score("The capital of India is New Delhi.", "New Delhi", "text", candidates=CAPITALS)["correct_lenient"]


def test_two_option_explanations_are_judged_by_the_option_they_commit_to():
    """The old flexible reading took the last option named, so naming both lost."""
    choices = ("Anna", "Ben")
    text = "Anna is 34 and Ben is 29. Since 34 is more than 29, the older one is Anna, not Ben."
    assert score(text, "Anna", "choice", choices)["correct_lenient"]  # a contrast commits to the first one
    assert score("Anna is 34 and Ben is 29. Anna or Ben, hard to say.", "Anna", "choice", choices)["answer_lenient"] is None
    assert score("Ben is 29 and Anna is 34. So Anna is older.", "Anna", "choice", choices)["correct_lenient"]
    assert score("Anna is 34 and Ben is 29. Anna is older than Ben.", "Anna", "choice", choices)["correct_lenient"]
    assert score("The answer is Anna, because Ben is younger.", "Anna", "choice", choices)["correct_lenient"]
    # one sentence that names both options commits to neither (no guessing which one it meant)
    both = score("The word 'terrible' is negative... but overall the review is positive.", "positive", "choice",
                 ("positive", "negative"))
    assert both["answer_lenient"] is None and not both["correct_lenient"]
    assert score("'Terrible' is a negative word. The review is negative.", "negative", "choice",
                 ("positive", "negative"))["correct_lenient"]


def test_a_number_ending_its_answer_line_is_the_answer_not_a_step_marker():
    """Found in a student's real output: 'Answer: 62.' was read as the marker of a step '62.', so the
    lenient reading had no answer while the strict one had 62."""
    s = score("Let's solve this step by step.\n1. 33 + 29 = 62.\nAnswer: 62.", "62", "number")
    assert s["answer_lenient"] == "62" and s["correct_lenient"] and s["correct_strict"]
    assert score("Answer: 12 + 9 = 21", "21", "number")["correct_lenient"]


def test_worked_numbers_and_step_markers():
    steps = "1. Sam has 5 apples.\n2. He buys 3 more: 5 + 3 = 8.\n3. He gives 2 away: 8 - 2 = 6."
    assert score(steps, "6", "number")["correct_lenient"]
    assert score("So the total is twelve apples.", "12", "number")["correct_lenient"]
    assert score("The answer is 12, since 5 + 7 = 12 and nothing else is added.", "12", "number")["correct_lenient"]
    # a response cut by the token limit mid-way is scored on where it stopped: not the answer
    assert not score("1. Sam has 5 apples.\n2. He buys 3 more: 5 + 3 =", "6", "number")["correct_lenient"]


def test_lists_and_weekdays():
    ref = "apple, banana, cherry"
    assert score("Sorted: apple, banana, cherry.", ref, "list")["correct_lenient"]
    assert not score("banana, apple, cherry", ref, "list")["correct_lenient"]
    assert score("First try: banana, apple, cherry. Correct order: apple, banana, cherry.", ref, "list")["correct_lenient"]
    text = "Counting 3 days from Monday: Tuesday, Wednesday, Thursday.\nSo it will be Thursday."
    assert score(text, "Thursday", "text", candidates=WEEKDAYS)["correct_lenient"]
    assert not score("Counting 3 days from Monday: Tuesday, Wednesday, Thursday", "Thursday", "text",
                     candidates=WEEKDAYS)["correct_lenient"]  # cut off mid-count: no commitment


def test_sentences_split_on_lines_and_ends_but_not_on_markers():
    assert sentences("1. First.\n2. Second one. Third!") == ["First.", "Second one.", "Third!"]


@pytest.mark.parametrize("ans,ref,typ,choices,ok", [
    ("42", "42", "number", (), True),
    ("$1,200.0", "1200", "number", (), True),
    ("41", "42", "number", (), False),
    ("tuesday.", "Tuesday", "text", (), True),
    ("The Paris", "Paris", "text", (), True),
    ("apple, pear, plum", "apple, pear, plum", "list", (), True),
    ("pear, apple, plum", "apple, pear, plum", "list", (), False),
    ("Anna", "Anna", "choice", ("Anna", "Ben"), True),
    ("Anna or Ben", "Anna", "choice", ("Anna", "Ben"), False),
    (None, "x", "text", (), False),
])
def test_check_answer(ans, ref, typ, choices, ok):
    assert check_answer(ans, ref, typ, choices) is ok


def test_real_outputs_of_both_models():
    """Outputs the embedded SmolLM2 base model and a trained student wrote for built-in items, each
    labelled by hand (`lenient`: does the output commit to the reference?; `why`: the reason), read
    with the prompt they answered (what they copied from it is no answer)."""
    rows = [json.loads(x) for x in REAL.read_text().splitlines() if x.strip()]
    assert len(rows) >= 30 and {r["model"] for r in rows} == {"base", "student"}
    wrong = []
    for r in rows:
        s = score(r["output"], r["reference"], r["answer_type"], r["choices"], r["candidates"], prompt=r["prompt"])
        if s["correct_lenient"] != r["lenient"] or s["format_ok"] != r["format_ok"]:
            wrong.append((r["model"], r["family"], r["why"], s["answer_lenient"], r["output"][:200]))
    assert not wrong, wrong
