import json

import pandas as pd
import pytest

from orca2_kit import tasks
from orca2_kit.config import TasksConfig
from orca2_kit.strategies import STRATEGIES
from orca2_kit.teacher import reference
from orca2_kit.teacher import verify


def test_suite_is_deterministic_and_splits_are_disjoint():
    a, b = tasks.build_suite(1, n_train=20, n_dev=5, n_test=5), tasks.build_suite(1, n_train=20, n_dev=5, n_test=5)
    assert [i.to_row() for s in a for i in a[s]] == [i.to_row() for s in b for i in b[s]]
    prompts = {s: {i.prompt for i in a[s]} for s in a}
    assert not (prompts["train"] & prompts["test"]) and not (prompts["dev"] & prompts["test"])
    assert len(tasks.FAMILIES) >= 8 and len(a["test"]) == 5 * len(tasks.FAMILIES)
    c = tasks.build_suite(2, n_train=20, n_dev=5, n_test=5)
    assert [i.prompt for i in c["test"]] != [i.prompt for i in a["test"]]


def test_test_split_does_not_move_when_train_grows():
    small, big = tasks.build_suite(3, n_train=5, n_dev=2, n_test=4), tasks.build_suite(3, n_train=50, n_dev=2, n_test=4)
    assert [i.prompt for i in small["test"]] == [i.prompt for i in big["test"]]


def test_families_declare_different_strategies():
    assert len({f.expected_strategy for f in tasks.FAMILIES.values()}) == len(STRATEGIES)


def test_every_strategy_has_two_families():
    """The ablation study holds families out: each strategy needs one family to train on and one to
    hold out, so no held-out family asks for a strategy the student never saw."""
    from collections import Counter

    counts = Counter(f.expected_strategy for f in tasks.FAMILIES.values())
    assert len(tasks.FAMILIES) >= 14 and all(counts[s] >= 2 for s in STRATEGIES), counts


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_reference_teacher_is_verified_in_every_strategy(strategy):
    for it in tasks.build_suite(5, n_train=10, n_dev=1, n_test=1)["train"]:
        ok, why = verify(it, reference.render(it, strategy))
        assert ok, (it.id, strategy, why)


def test_save_and_load_items(tmp_path):
    items = tasks.build_suite(1, n_train=2, n_dev=1, n_test=1)["dev"]
    assert tasks.load_items(tasks.save_items(items, tmp_path / "d.jsonl")) == items


def _rows():
    return [{"task": "qa", "prompt": f"What is {i}+1?", "reference": str(i + 1), "answer_type": "number",
             "split": "test" if i < 2 else "train"} for i in range(6)]


def test_real_collection_from_jsonl_and_parquet(tmp_path):
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r) for r in _rows()))
    suite = tasks.load_suite(TasksConfig(source="file", path=str(tmp_path / "t.jsonl")), seed=0)
    assert len(suite["test"]) == 2 and len(suite["train"]) == 4 and suite["test"][0].family == "qa"
    pq = tmp_path / "pq"
    pq.mkdir()
    pd.DataFrame(_rows()).to_parquet(pq / "t.parquet")
    assert len(tasks.load_suite(TasksConfig(source="file", path=str(pq)), seed=0)["train"]) == 4


def test_bad_collections_are_refused(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps({"task": "qa", "question": "x", "reference": "1"}))
    with pytest.raises(ValueError, match="lacks column"):
        tasks.load_task_files(f)
    f.write_text(json.dumps({"task": "qa", "prompt": "  ", "reference": "1"}))
    with pytest.raises(ValueError, match="empty prompt"):
        tasks.load_task_files(f)


def test_unknown_family():
    with pytest.raises(ValueError, match="unknown famil"):
        tasks.build_suite(0, ["arithmetic", "astrology"])
