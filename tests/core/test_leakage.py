"""Held out means held out: no test or dev fact in any training text, held-out families with test items only."""
import pytest

from orca2_kit import tasks
from orca2_kit.config import ConfigError, load_params
from orca2_kit.strategies import STRATEGIES
from orca2_kit.tasks import facts
from orca2_kit.tasks.facts import split_of
from orca2_kit.teacher import reference

ALL = list(STRATEGIES)


def _training_texts(suite):
    """Every text a student could train on: the training prompts and the teacher's answers in every strategy."""
    return [it.prompt for it in suite["train"]] + [reference.render(it, s) for it in suite["train"] for s in ALL]


def test_no_test_or_dev_fact_appears_in_any_training_text():
    suite = tasks.build_suite(seed=11, n_train=40, n_dev=10, n_test=30)
    report = tasks.check_leakage(suite["test"] + suite["dev"], _training_texts(suite))
    assert report["keys"] > 50 and report["checked_texts"] > 1000
    capitals = {it.reference for it in suite["test"] if it.family == "capital_recall"}
    train_capitals = {it.reference for it in suite["train"] if it.family == "capital_recall"}
    assert capitals and train_capitals and not capitals & train_capitals


def test_the_leakage_check_fails_when_the_splits_share_facts(monkeypatch):
    """Without the partition (every split draws from the whole tables) the check stops the run."""
    monkeypatch.setattr(facts, "split_pool", lambda table, split: table)
    from orca2_kit.tasks.families import common

    monkeypatch.setattr(common, "split_pool", lambda table, split: table)
    suite = tasks.build_suite(seed=11, n_train=40, n_dev=10, n_test=30)
    with pytest.raises(tasks.LeakageError, match="held-out item .* rests on"):
        tasks.check_leakage(suite["test"], _training_texts(suite))


def test_a_planted_capital_is_caught():
    suite = tasks.build_suite(seed=3, families=["capital_recall"], n_train=5, n_dev=2, n_test=5)
    test_capital = suite["test"][0].reference
    with pytest.raises(tasks.LeakageError, match=test_capital):
        tasks.check_leakage(suite["test"], ["Relevant facts:\n- The capital is " + test_capital + ".\nAnswer: x"])


def test_no_other_family_names_a_verb_of_the_past_tense_family():
    """A test verb is a held-out fact matched as a whole word in every training text, so no other
    family's prompts or reference answers may use any verb of the table (they would stop the run as a
    leak, or carry the fact into training)."""
    import random
    import re

    from orca2_kit.tasks.families import FAMILIES

    verbs = {v for v, _ in facts.VERBS}
    for name, fam in FAMILIES.items():
        if name == "past_tense":
            continue
        words = set()
        for split in ("test", "dev", "train"):
            rng = random.Random(f"{name}:{split}")
            rng.split = split
            for _ in range(300):
                it = fam.make(rng)
                for text in [it.prompt] + [reference.render(it, s) for s in ALL]:
                    words |= {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
        assert not words & verbs, (name, sorted(words & verbs))


def test_no_fact_name_hides_another_from_a_different_split():
    """The check matches names as whole words: a name inside another (Guinea in Papua New Guinea)
    from a different split would be a held-out fact found in every training text naming the other."""
    import re

    from orca2_kit.tasks.families import TOWNS

    names = [(n, split_of(c[0])) for c in facts.COUNTRIES for n in c[:2]] + [(c, split_of(c)) for c, _ in facts.OTHER_COUNTRIES]
    names += [(e[0], split_of(e[0])) for e in facts.ELEMENTS] + [(p[0], split_of(p[0])) for p in facts.PEOPLE]
    names += [(n, split_of(n)) for n in facts.FIRST_NAMES + facts.SURNAMES + TOWNS]
    names += [(v, split_of(v)) for v, _ in facts.VERBS]
    clashes = [(a, b) for a, sa in names for b, sb in names if a != b and sa != sb
               and re.search(rf"(?<!\w){re.escape(a)}(?!\w)", b, re.IGNORECASE)]
    assert clashes == []
    lowered = {}
    for n, split in names:  # the same name in two tables must fall in one split (it does: split_of(name))
        assert lowered.setdefault(n.lower(), split) == split, n


def test_heldout_families_get_test_items_only():
    suite = tasks.build_suite(seed=5, n_train=6, n_dev=3, n_test=4, heldout=["weekday", "counting"])
    for split, n in (("train", 0), ("dev", 0), ("test", 4)):
        assert sum(it.family == "weekday" for it in suite[split]) == n
    assert sum(it.family == "arithmetic" for it in suite["train"]) == 6
    with pytest.raises(ConfigError, match="heldout_families: 'wekday'.*did you mean 'weekday'"):
        load_params("offline", ["tasks.heldout_families=[wekday]"])
    with pytest.raises(ConfigError, match="every family is held out"):
        load_params("smoke", ["tasks.heldout_families=[arithmetic,sentiment,capital_recall]"])


