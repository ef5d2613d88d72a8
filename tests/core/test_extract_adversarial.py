"""The lenient reading credits an answer only when the response commits to it (issue 25): each way
a response can name the reference without committing to it, next to its mirror that must still be
credited. Prompts are the built-in families' own (orca2_kit/tasks/families); the strict reading
(the 'Answer:' line) is unchanged by any of this."""
import pytest

from orca2_kit.extract import score, strict_answer
from orca2_kit.tasks.base import ANSWER_FORMAT
from orca2_kit.tasks.facts import WEEKDAYS


def prompt(body: str, hint: str) -> str:
    return body + "\n" + ANSWER_FORMAT.format(hint=hint)


ELEMENTS = prompt("Which element has the larger atomic number: sodium or iron?", "<sodium or iron>")
MONEY_MORE = prompt("David has 12 dollars and Tara has 40 dollars. Who has more money?", "<David or Tara>")
MONEY_LESS = prompt("David has 12 dollars and Tara has 40 dollars. Who has less money?", "<David or Tara>")
OLDER = prompt("Anna is 34 years old and Ben is 29 years old. Who is older?", "<Anna or Ben>")
WEEKDAY = prompt("Today is Monday. What day of the week will it be in 7 days?", "<weekday>")
PASSAGE = ("Read the passage and answer the question.\n\nPassage: Nettlebrook Makers is a small company that makes "
           "paper lanterns. It was founded in 1973 by Ivo Coramb. Its main workshop is in the town of Yarrgate. "
           "In 1978, it opened a second shop in Mirrholm. Today the company has 181 workers.")
FOUNDER = prompt(PASSAGE + "\n\nQuestion: Who founded Nettlebrook Makers?", "<full name>")
SECOND_SHOP = prompt(PASSAGE + "\n\nQuestion: In which town did Nettlebrook Makers open its second shop?", "<town>")
TOWNS = ("Yarrgate", "Mirrholm", "Harrmoor", "Tarnwick")
COUNT = prompt("How many fruits are in this list: apple, chair, pear?", "<number>")


def lenient(text, reference, kind, prompt_text, choices=(), candidates=()):
    return score(text, reference, kind, choices, candidates, prompt=prompt_text)


# ------------------------------------------------------------------------------ echoed prompt text


def test_an_echoed_format_line_commits_to_nothing():
    echo = "Sure. I will end my response with a final line of the form 'Answer: <sodium or iron>'."
    for ref in ("sodium", "iron"):
        s = lenient(echo, ref, "choice", ELEMENTS, ("sodium", "iron"))
        assert s["answer_lenient"] is None and not s["correct_lenient"]
    # the whole format line copied, then nothing: still nothing
    assert lenient(ELEMENTS.splitlines()[-1], "sodium", "choice", ELEMENTS, ("sodium", "iron"))["answer_lenient"] is None


def test_mirror_an_answer_after_an_echoed_format_line_is_credited():
    text = ("End your response with a final line of the form 'Answer: <sodium or iron>'.\n"
            "Sodium has atomic number 11 and iron 26.\nIron has the larger atomic number.")
    assert lenient(text, "iron", "choice", ELEMENTS, ("sodium", "iron"))["correct_lenient"]


def test_an_echoed_comparative_question_commits_to_nothing():
    s = lenient("Does David have more money than Tara?", "David", "choice", MONEY_MORE, ("David", "Tara"))
    assert s["answer_lenient"] is None
    # copied from the prompt, word for word, the question is removed even inside a sentence
    s = lenient("Who has more money? I think about it.", "Tara", "choice", MONEY_MORE, ("David", "Tara"))
    assert s["answer_lenient"] is None


def test_an_echoed_passage_commits_to_nothing():
    echo = ("It was founded in 1973 by Ivo Coramb. Its main workshop is in the town of Yarrgate. "
            "In 1978, it opened a second shop in Mirrholm.")
    assert not lenient(echo, "Ivo Coramb", "text", FOUNDER)["correct_lenient"]
    assert not lenient(echo, "Mirrholm", "text", SECOND_SHOP, candidates=TOWNS)["correct_lenient"]
    # the weekday prompt's own sentences: "Today is Monday." is the start day, not the answer
    assert not lenient("Today is Monday. What day of the week will it be in 7 days?", "Monday", "text", WEEKDAY,
                       candidates=WEEKDAYS)["correct_lenient"]


def test_mirror_one_quoted_sentence_that_holds_the_answer_is_credited():
    """Quoting the one sentence that answers (extract-generate) is a choice, not an echo."""
    assert lenient("It was founded in 1973 by Ivo Coramb.", "Ivo Coramb", "text", FOUNDER)["correct_lenient"]
    text = 'The passage says: "In 1978, it opened a second shop in Mirrholm." So the answer is Mirrholm.'
    assert lenient(text, "Mirrholm", "text", SECOND_SHOP, candidates=TOWNS)["correct_lenient"]
    assert lenient("Seven days later it is Monday again.", "Monday", "text", WEEKDAY, candidates=WEEKDAYS)["correct_lenient"]


# ------------------------------------------------------------------------------ hedges


@pytest.mark.parametrize("text", ["The answer is David or Tara.", "The answer is David and/or Tara.",
                                  "The answer is: David, Tara.", "Answer: David or Tara"])
def test_a_hedge_after_a_cue_commits_to_nothing(text):
    for ref in ("David", "Tara"):
        s = lenient(text, ref, "choice", MONEY_MORE, ("David", "Tara"))
        assert s["answer_lenient"] is None and not s["correct_lenient"], (text, ref)


def test_listing_every_weekday_commits_to_none_of_them():
    text = "The answer is " + ", ".join(WEEKDAYS) + "."
    for ref in WEEKDAYS:
        assert not lenient(text, ref, "text", WEEKDAY, candidates=WEEKDAYS)["correct_lenient"]


def test_mirror_a_cue_then_a_reason_naming_the_other_option_is_credited():
    choices = ("David", "Tara")
    assert lenient("The answer is Tara, because David has only 12 dollars.", "Tara", "choice", MONEY_MORE,
                   choices)["correct_lenient"]
    assert lenient("The answer is Tara, not David.", "Tara", "choice", MONEY_MORE, choices)["correct_lenient"]
    assert lenient("The answer is Monday.", "Monday", "text", WEEKDAY, candidates=WEEKDAYS)["correct_lenient"]


def test_two_numbers_offered_after_a_cue_are_no_answer_and_strict_is_unchanged():
    for ref in ("12", "15"):
        s = lenient("Answer: 12 or 15", ref, "number", COUNT)
        assert s["answer_lenient"] is None and not s["correct_lenient"]
        assert s["answer_strict"] == "12 or 15"  # the strict reading is what it was
    assert lenient("Answer: 12 or 15", "12", "number", COUNT)["correct_strict"]  # strict reads the first number, as before
    assert lenient("The answer is 12 or 15.", "15", "number", COUNT)["answer_lenient"] is None
    assert lenient("So there are either 2 or 3 fruits.", "3", "number", COUNT)["answer_lenient"] is None


def test_mirror_a_worked_number_is_credited():
    assert lenient("Answer: 15", "15", "number", COUNT)["correct_lenient"]
    assert lenient("Answer: 12 + 3 = 15", "15", "number", COUNT)["correct_lenient"]
    assert lenient("The answer is 2, since apple and pear are fruits.", "2", "number", COUNT)["correct_lenient"]


# ------------------------------------------------------------------------------ direction words


def test_a_comparison_is_read_against_the_question():
    """'David has less than Tara' answers 'who has more?' with Tara, and 'who has less?' with David."""
    choices = ("David", "Tara")
    text = "David has less money than Tara."
    assert lenient(text, "Tara", "choice", MONEY_MORE, choices)["answer_lenient"] == "Tara"
    assert not lenient(text, "David", "choice", MONEY_MORE, choices)["correct_lenient"]
    assert lenient(text, "David", "choice", MONEY_LESS, choices)["answer_lenient"] == "David"


def test_a_lone_name_pointing_the_other_way_commits_to_nothing():
    assert lenient("Ben is younger.", "Ben", "choice", OLDER, ("Anna", "Ben"))["answer_lenient"] is None
    assert lenient("So Anna is older.", "Anna", "choice", OLDER, ("Anna", "Ben"))["correct_lenient"]  # mirror
    # a comparison of the numbers before the verdict does not flip it
    assert lenient("Since 29 is less than 34, Anna is older.", "Anna", "choice", OLDER, ("Anna", "Ben"))["correct_lenient"]


# ------------------------------------------------------------------------------ no alternative known


def test_a_name_question_with_only_the_reference_known_needs_a_commitment():
    """Full-name questions know no alternative to their reference: a hedge beside another name, a
    negation or a copied passage is no answer; the statement that names it is."""
    assert lenient("It was Ivo Coramb or Lena Holt.", "Ivo Coramb", "text", FOUNDER)["answer_lenient"] is None
    assert lenient("The answer is Ivo Coramb or Lena Holt.", "Ivo Coramb", "text", FOUNDER)["answer_lenient"] is None
    assert lenient("It was not Ivo Coramb.", "Ivo Coramb", "text", FOUNDER)["answer_lenient"] is None
    assert lenient("Ivo Coramb founded it.", "Ivo Coramb", "text", FOUNDER)["correct_lenient"]
    assert lenient("Ivo Coramb, its founder and first owner.", "Ivo Coramb", "text", FOUNDER)["correct_lenient"]
    assert lenient("Answer: Ivo Coramb", "Ivo Coramb", "text", FOUNDER)["correct_lenient"]


# ------------------------------------------------------------------------------ a cue ends the search


def test_a_cue_followed_by_a_non_candidate_ends_the_search():
    """Seen in the offline run: '...in Mirrholm. Answer: 1956' committed to 1956, not to the town."""
    s = lenient("In 1956, Coramb opened a pottery studio in Mirrholm. Answer: 1956", "Mirrholm", "text", SECOND_SHOP,
                candidates=TOWNS)
    assert s["answer_lenient"] == "1956" and not s["correct_lenient"]
    s = lenient("David has less money than Tara. Answer: 111.", "Tara", "choice", MONEY_MORE, ("David", "Tara"))
    assert s["answer_lenient"] == "111" and not s["correct_lenient"]


def test_mirror_prose_after_a_cue_does_not_end_the_search():
    text = "To find the answer: read the passage again. The second shop opened in Mirrholm."
    assert lenient(text, "Mirrholm", "text", SECOND_SHOP, candidates=TOWNS)["correct_lenient"]
    assert lenient("Answer: Mirrholm", "Mirrholm", "text", SECOND_SHOP, candidates=TOWNS)["correct_lenient"]


# ------------------------------------------------------------------------------ the strict reading


@pytest.mark.parametrize("text", ["Answer: David or Tara", "Answer: 12 or 15", "Answer: <sodium or iron>",
                                  "In 1956 it opened in Mirrholm.\nAnswer: 1956", "no answer line at all"])
def test_the_strict_reading_is_the_answer_line_as_before(text):
    line = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("Answer:")), None)
    assert strict_answer(text) == line
