"""Stage 02 and the study's arms answer through ONE response cache (the profile's) and ONE spend
ledger (the run's) (issue 29): an arm that asks what stage 02 asked pays nothing, no spend.json or
cache lives under 07_ablation/, and one `teacher.budget_usd` caps stage 02 and the study together.
Counted at the proxy in front of the real `transformers serve`."""
import json

import pytest

from orca2_kit import tasks
from orca2_kit.config import load_params
from orca2_kit.study.arms import plan
from orca2_kit.study.steps import teacher_answers
from orca2_kit.tasks import family_info
from orca2_kit.teacher import answer_train_items, teacher_requests
from orca2_kit.client.limits import max_input_tokens
from tests.faultproxy import FaultProxy

PRICE_IN, PRICE_OUT = 1e-6, 1e5  # USD per million tokens: the output is the cost


def _run_folder(root, p):
    """Stage 01's files as notebook 01 writes them: the suite and the (here: expected) strategy map."""
    run = root / p.profile / "r1"
    suite = tasks.load_suite(p.tasks, p.seed)
    for split, items in suite.items():
        tasks.save_items(items, run / "01_strategy_selection" / "suite" / f"{split}.jsonl")
    smap = {f: family_info(f)["expected_strategy"] for f in dict.fromkeys(it.family for it in suite["train"])}
    (run / "01_strategy_selection" / "strategy_map.json").write_text(json.dumps(smap))
    return run, suite["train"], smap


@pytest.mark.slow
def test_the_study_and_stage_02_share_one_cache_and_one_budget(server, tmp_path):
    with FaultProxy(server["url"], fault_rate=0.0) as proxy:
        teacher = {"kind": "openai", "base_url": proxy.url + "/v1", "model": server["model"], "api_key_env": None,
                   "max_tokens": 8, "max_concurrency": 1, "verify": "none", "price_input_per_mtok": PRICE_IN,
                   "price_output_per_mtok": PRICE_OUT, "budget_usd": 100.0}
        p = load_params("smoke", {"tasks.n_train": 2, "teacher": teacher})
        run, train, smap = _run_folder(tmp_path, p)
        answer_train_items(p, run)  # stage 02, as notebook 02 runs it
        n02 = sum(proxy.counts.values())
        assert n02 == len(train) == 4

        # the study's budget: what stage 02 spent and ONE more request's worst case (a user raising it)
        ledger = run / "02_teacher_prompting" / "spend.json"
        spent = json.loads(ledger.read_text())["spent_usd"]
        worst = max((max_input_tokens(r["messages"]) * PRICE_IN + 8 * PRICE_OUT) / 1e6
                    for s in ("direct", "step_by_step") for r in teacher_requests(train, {f: s for f in smap}))
        p2 = load_params("smoke", {"tasks.n_train": 2, "teacher": {**teacher, "budget_usd": spent + worst * 1.001}})
        arms = {a.name: a for a in plan(p2) if a.trained}
        teacher_answers(arms["recipe"], run, log=lambda *_: None)  # stage 02's map: every answer is cached
        assert sum(proxy.counts.values()) == n02, "the study paid again for answers stage 02 bought"
        for name in ("not_erased", "direct_only", "one_strategy", "expected_map"):
            teacher_answers(arms[name], run, log=lambda *_: None)
    # direct_only and one_strategy ask new questions (4); the one budget had room for one of them
    assert sum(proxy.counts.values()) == n02 + 1 and set(proxy.forwarded.values()) == {1}
    billed = sum((u["prompt_tokens"] * PRICE_IN + u["completion_tokens"] * PRICE_OUT) / 1e6 for u in proxy.usage)
    assert billed <= p2.teacher.budget_usd and json.loads(ledger.read_text())["spent_usd"] == pytest.approx(billed)
    assert list(run.rglob("spend.json")) == [ledger] and not list(run.rglob("*.sqlite"))
    assert (tmp_path / p.profile / "teacher_cache.sqlite").is_file()  # the profile's cache, beside its runs
    refused = [json.loads(x)["reason"] for f in (run / "07_ablation" / "teacher").glob("*/answers.jsonl") for x in open(f)]
    assert sum(r.startswith("budget exhausted") for r in refused) == 3
