import pytest

from orca2_kit.extract import check_answer, extract_answer, score


def test_strict_reads_the_answer_line():
    ex = extract_answer("Step 1: 3+4=7\nAnswer: 7\nmore chatter 9", "number")
    assert ex.strict == "7" and ex.format_ok


def test_first_answer_line_wins():
    assert extract_answer("Answer: 3\nAnswer: 5", "number").strict == "3"


def test_flexible_fallbacks():
    assert extract_answer("so the total is 12 apples.", "number").flexible == "12"
    assert extract_answer("I think it is positive, not negative... negative!", "choice", ("positive", "negative")).flexible == "negative"
    assert extract_answer("no answer line", "number").strict is None


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


def test_score_reports_both_filters():
    s = score("the answer is 7", "7", "number")
    assert s["correct_flexible"] and not s["correct_strict"] and not s["format_ok"]
