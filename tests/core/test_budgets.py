"""Token budgets sized from the answers they must hold, and runaway loops told from answers still going (orca2_kit/generation/budgets.py)."""
import numpy as np
from orca2_kit.generation import budgets
from orca2_kit import tasks
from orca2_kit.strategies import STRATEGIES
from orca2_kit.teacher import reference

ALL = list(STRATEGIES)


def test_budgets_cover_the_answers_they_are_sized_from(smollm2_dir):
    from orca2_kit.models import load_tokenizer

    tok = load_tokenizer(str(smollm2_dir))
    items = tasks.build_suite(seed=2, n_train=20, n_dev=1, n_test=1)["train"]
    got = budgets.strategy_budgets(tok, items, ALL)
    for s in ALL:
        lengths = budgets.token_lengths(tok, [reference.render(it, s) for it in items])
        assert np.mean(np.array(lengths) <= got[s]) >= 0.95, s  # p95 + margin covers at least 95%
    assert got["step_by_step"] > got["direct"]
    assert budgets.resolve(40, got, ALL) == {s: 40 for s in ALL}
    assert any("step_by_step: 40 new tokens" in line for line in budgets.shortfalls(budgets.resolve(40, got, ALL), got))
    # a task file without worked solutions: nothing to measure, a generous fallback
    plain = [it.__class__(**{**it.__dict__, "solution": tasks.Solution()}) for it in items]
    assert budgets.strategy_budgets(tok, plain, ALL) is None
    assert budgets.resolve("auto", None, ["direct"]) == {"direct": budgets.FALLBACK}


def test_a_runaway_loop_is_told_from_an_answer_still_going():
    """Issue 13: a cut generation is a budget problem only when it was still making progress; the
    runaways below are real outputs of the offline run (cut at the budget), the others are not."""
    from orca2_kit.generation.budgets import repeating

    runaways = [
        "Let's solve this step by step.\n1. The first animal is a truck.\n2. The next animal is a window.\n"
        "6. So the count is 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22",
        "1. 51 is 51 + 1.\n2. 49 is 49 + 1.\n3. So 51 is 51 + 1, which is 52.\n4. So 52 is 52 + 1, which is 53.\n"
        "5. So 52 is 53 + 1, which is 54.\n6. So 54 is 54 + 1, which is 55.",
        "Relevant facts:\n- In 1978, the company opened a second shop in Mirritzerland.\n- In 1979, the company opened"
        " a fifth shop in Mirritzerland.\n- In 1980, the company opened a sixth shop in Mirritzerland.",
    ]
    progressing = [
        "Let's solve this step by step.\n1. Leo earns 11 + 25 = 36 dollars.\n2. He spends 35 dollars on a book.\n"
        "3. So 36 - 35 = 1 dollar is left.\nAnswer: 1",
        "Relevant facts:\n- Ghana is a country in Africa.\n- The capital of Ghana is Accra.\nAnswer: Accra",
        "The review praises the acting, the music and the story, and the ending made the writer cry in a good way. "
        "So the overall tone of the review is clearly positive, although one scene is called slow",
    ]
    assert all(repeating(t) for t in runaways) and not any(repeating(t) for t in progressing)
