"""The benchmark suite on lm-evaluation-harness: loaders on real files and upstream-format fixtures,
filters and scoring, the empty-system guard, batch-size invariance, the chat backend against a
real `transformers serve`, MT-Bench with an LLM judge, and the analysis of the per-sample logs."""
import json
from pathlib import Path

import pytest

from orca2_kit.evaluation import harness
from orca2_kit.evaluation.harness import agreement, analysis, mt_bench
from orca2_kit.evaluation.harness import benchmarks as B
from orca2_kit.evaluation.harness import answers as A
from orca2_kit.strategies import STRATEGIES, classify_strategy

FIXTURES = Path(__file__).parent.parent / "fixtures" / "benchmarks"
FIXTURE_BENCHMARKS = ["arc_easy", "arc_challenge", "hellaswag", "race", "crass", "toxigen"]
REAL_COUNTS = {"gsm8k": 1319, "mmlu": 14042, "bbh": 6511, "lambada": 5153, "drop": 9536, "truthfulqa": 817,
               "agieval": 254 + 651 + 230 + 510 + 269 + 206 + 206 + 220}


# ------------------------------------------------------------------------------ loaders


@pytest.mark.parametrize("name", FIXTURE_BENCHMARKS)
def test_upstream_format_fixtures_load(name):
    docs = B.load_docs(name, FIXTURES)
    assert docs and all(d["benchmark"] == name and d["answer_type"] == "choice" for d in docs)
    for d in docs:
        assert d["reference"] == d["labels"][d["gold"]]
        assert f"({d['reference']}) {d['choices'][d['gold']].strip()}" in d["question"]
    assert len({d["id"] for d in docs}) == len(docs)


def test_fixture_answers_are_the_upstream_ones():
    by = {n: B.load_docs(n, FIXTURES) for n in FIXTURE_BENCHMARKS}
    assert [d["choices"][d["gold"]] for d in by["arc_easy"]] == ["elastic potential energy", "carbon dioxide", "a balance"]
    assert [d["reference"] for d in by["arc_challenge"]] == ["B", "C"]
    assert [d["gold"] for d in by["hellaswag"]] == [0, 1]  # int and string labels alike
    assert [d["reference"] for d in by["race"]] == ["D", "A"]
    assert [d["choices"][d["gold"]] for d in by["crass"]] == ["The treasure chest would have remained closed.",
                                                              "The floor would have got wet."]
    assert [d["choices"][d["gold"]] for d in by["toxigen"]] == ["No", "Yes"]


def test_official_race_files_expand_to_one_document_per_question(tmp_path):
    (tmp_path / "race").mkdir()
    (tmp_path / "race" / "high1.json").write_text(json.dumps(
        {"article": "It rained.", "questions": ["What happened?", "Was it dry?"],
         "options": [["It rained.", "It snowed."], ["Yes", "No"]], "answers": ["A", "B"], "id": "high1.txt"}))
    docs = B.load_docs("race", tmp_path)
    assert [d["reference"] for d in docs] == ["A", "B"] and all("It rained." in d["question"] for d in docs)


def test_missing_files_give_one_line_reasons(tmp_path):
    status = B.available(tmp_path)
    assert set(status) == set(B.BENCHMARKS) | {"mt_bench"}
    assert all(v != "ok" and "\n" not in v and str(tmp_path) in v for v in status.values())
    with pytest.raises(FileNotFoundError, match="gsm8k: no files matching"):
        B.load_docs("gsm8k", tmp_path)


@pytest.mark.data
def test_every_local_benchmark_loads_in_full(real_data):
    status = B.available(real_data)
    for name, n in REAL_COUNTS.items():
        assert status[name] == "ok"
        docs = B.load_docs(name, real_data)
        assert len(docs) == n, name
        assert all(d["reference"] for d in docs), name
        mc = [d for d in docs if d["answer_type"] == "choice"]
        assert all(d["labels"][d["gold"]] == d["reference"] for d in mc), name
    assert status["mt_bench"] == "ok"
    # interleaved: the first documents cover every subset
    assert len({d["subset"] for d in B.load_docs("bbh", real_data)[:27]}) == 27
    assert len({d["subset"] for d in B.load_docs("agieval", real_data)[:8]}) == 8
    # TruthfulQA's right answer is listed first upstream: shuffled, it is not always (A)
    refs = {d["reference"] for d in B.load_docs("truthfulqa", real_data)[:40]}
    assert len(refs) > 2


@pytest.mark.data
def test_real_references_match_upstream(real_data):
    g = B.load_docs("gsm8k", real_data)[0]
    assert g["reference"] == "18" and g["answer_type"] == "number"
    d = B.load_docs("drop", real_data)[0]
    assert "Question: Which age groups" in d["question"] and not d["question"].endswith("Answer:")
    m = B.load_docs("mmlu", real_data)[0]  # abstract_algebra row 0: answer index 1
    assert m["subset"] == "abstract_algebra" and m["reference"] == "B"
    lam = B.load_docs("lambada", real_data)[0]
    assert lam["reference"] == "signs" and lam["continuation"].strip() == "signs"


# ------------------------------------------------------------------------------ filters and scoring

MC = {"answer_type": "choice", "labels": ["A", "B", "C", "D"], "choices": ["Paris", "Rome", "a cat", "Oslo"], "reference": "B"}


@pytest.mark.parametrize("text,strict,lenient,correct", [
    ("Rome is the capital.\nAnswer: B", "B", "B", True),
    ("Answer: (B) Rome\nAnswer: A", "(B) Rome", "(B) Rome", True),  # the first Answer line counts
    ("Answer: Rome", "Rome", "Rome", True),  # the option's text, not its letter
    ("Answer: a cat", "a cat", "a cat", False),  # 'a' is not option A
    ("I think the answer is (B).", "", "B", True),  # lenient only: an explicit cue
    ("Paris is in France, but the capital of Italy is Rome.", "", "", False),  # two options named: no commitment
    ("Paris is in France. The capital of Italy is Rome.", "", "B", True),  # the concluding sentence commits
    ("The answer is (B), not (A). (A) is Paris.", "", "B", True),  # the cue wins over a later mention
    ("no idea", "", "", False),
])
def test_choice_filters(text, strict, lenient, correct):
    assert A.strict_answer(text) == strict
    assert A.lenient_answer(text, MC) == lenient
    assert A.is_correct(lenient, MC) is correct


def test_number_text_and_drop_scoring():
    num = {"answer_type": "number", "reference": "1200"}
    assert A.is_correct(A.lenient_answer("so 1,200 dollars in all", num), num)
    assert not A.is_correct(A.strict_answer("so 1,200 dollars in all"), num)
    assert A.lenient_answer("1. Add: 500 + 700 = 1200\n2. That is all.", num) == "1200"  # step numbers are no answer
    drop = {"answer_type": "text", "reference": "under the age of 18|25 to 44"}
    assert A.is_correct("25 to 44", drop) and not A.is_correct("45 to 64", drop)
    assert A.is_correct(A.lenient_answer("The largest group was 25 to 44.", drop), drop)
    assert A.token_f1("the 25 to 44 group", drop) == pytest.approx(2 * (3 / 4) * 1 / (3 / 4 + 1))
    assert A.token_f1("", drop) == 0.0


def test_strategy_classifier_reads_back_every_strategy():
    from orca2_kit.tasks import build_suite
    from orca2_kit.teacher.reference import render

    items = build_suite(seed=3, n_train=2, n_dev=1, n_test=1)["train"]
    for key in STRATEGIES:
        got = {classify_strategy(render(it, key)) for it in items}
        if key == "explain_then_answer":  # a one-word explanation reads as a direct answer
            got -= {"direct"}
        assert got == {key}, key
    assert classify_strategy("blah without an answer") == "no_answer"


# ------------------------------------------------------------------------------ the harness, real model


@pytest.fixture(scope="module")
def smollm2(smollm2_dir):
    from orca2_kit.models import load_model, load_tokenizer

    return load_model(str(smollm2_dir), "cpu", "float32"), load_tokenizer(str(smollm2_dir))


def _run(model, tok, names, mode, out, data_dir, limit, batch_size=8, variant="generative", max_gen_toks=48):
    lm = harness.make_lm("hf", model=model, tokenizer=tok, system_mode=mode if variant == "generative" else "none",
                         batch_size=batch_size)
    return harness.run(lm, names, mode, out, data_dir=data_dir, limit=limit, variant=variant, max_gen_toks=max_gen_toks)


@pytest.mark.slow
@pytest.mark.data
def test_scores_do_not_change_with_batch_size(smollm2, real_data, tmp_path):
    model, tok = smollm2
    names = ["gsm8k", "mmlu"]
    a = _run(model, tok, names, "empty", tmp_path / "b1", real_data, 3, batch_size=1, max_gen_toks=32)
    b = _run(model, tok, names, "empty", tmp_path / "b5", real_data, 3, batch_size=5, max_gen_toks=32)
    assert a["results"] == b["results"]
    ra = agreement.harness_responses(tmp_path / "b1", names)
    rb = agreement.harness_responses(tmp_path / "b5", names)
    assert ra == rb and len(ra) == 6


@pytest.mark.slow
@pytest.mark.data
def test_empty_means_empty_and_system_variants_reach_the_prompt(smollm2, real_data, tmp_path):
    model, tok = smollm2
    for mode in ("empty", "generic", "cautious", "none"):
        _run(model, tok, ["gsm8k"], mode, tmp_path / mode, real_data, 1, max_gen_toks=4)
        s = json.loads((tmp_path / mode / "samples_orca2_gsm8k.jsonl").read_text().splitlines()[0])
        prompt = s["arguments"][0][0]
        if mode == "empty":
            assert prompt.startswith("<|im_start|>system\n<|im_end|>") and "SmolLM" not in prompt
        elif mode == "none":  # what the harness does alone: the template's default slips in
            assert "named SmolLM" in prompt
        else:
            from orca2_kit.strategies import STUDENT_SYSTEM_MESSAGES

            assert STUDENT_SYSTEM_MESSAGES[mode] in prompt and "SmolLM" not in prompt


def test_empty_system_refused_for_a_template_that_cannot_render_it(tiny_dir):
    from orca2_kit.evaluation.harness.backends import EmptySystemNotPossible
    from orca2_kit.models import load_model, load_tokenizer

    tok = load_tokenizer(str(tiny_dir))
    tok.chat_template = ("{% for m in messages %}{% if m['role'] != 'system' %}<|{{ m['role'] }}|>{{ m['content'] }}\n"
                         "{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
    model = load_model(str(tiny_dir), "cpu", "float32")
    with pytest.raises(EmptySystemNotPossible, match="drops the system turn"):
        harness.make_lm("hf", model=model, tokenizer=tok, system_mode="empty")
    harness.make_lm("hf", model=model, tokenizer=tok, system_mode="generic")  # other variants still run


@pytest.mark.slow
def test_fixture_benchmarks_run_through_the_harness_both_variants(tiny_dir, tmp_path):
    from orca2_kit.models import load_model, load_tokenizer

    model, tok = load_model(str(tiny_dir), "cpu", "float32"), load_tokenizer(str(tiny_dir))
    gen = _run(model, tok, FIXTURE_BENCHMARKS, "empty", tmp_path / "m" / "empty" / "generative", FIXTURES, None,
               max_gen_toks=6)
    assert {f"orca2_{b}" for b in FIXTURE_BENCHMARKS} <= set(gen["results"])
    ll = _run(model, tok, FIXTURE_BENCHMARKS, "none", tmp_path / "m" / "raw" / "loglikelihood", FIXTURES, None,
              variant="loglikelihood")
    assert {f"orca2_{b}_ll" for b in FIXTURE_BENCHMARKS} <= set(ll["results"])
    samples = analysis.load_samples(tmp_path)
    summary = analysis.summarize(samples)
    n = {b: len(B.load_docs(b, FIXTURES)) for b in FIXTURE_BENCHMARKS}
    gen_rows = summary[summary.variant == "generative"].set_index("benchmark")
    assert {b: int(gen_rows.loc[b, "n"]) for b in FIXTURE_BENCHMARKS} == n
    assert summary.lenient.between(0, 1).all() and summary[summary.variant == "generative"].strict.between(0, 1).all()
    assert (summary.lenient_lo <= summary.lenient + 1e-9).all() and (summary.lenient <= summary.lenient_hi + 1e-9).all()

@pytest.mark.slow
@pytest.mark.data
def test_every_real_benchmark_runs_through_the_harness(tiny_dir, real_data, tmp_path):
    from orca2_kit.models import load_model, load_tokenizer

    model, tok = load_model(str(tiny_dir), "cpu", "float32"), load_tokenizer(str(tiny_dir))
    names = list(REAL_COUNTS)
    gen = _run(model, tok, names, "empty", tmp_path / "gen", real_data, 2, max_gen_toks=4)
    assert set(gen["results"]) == {f"orca2_{n}" for n in names}
    assert all(gen["n-samples"][f"orca2_{n}"]["effective"] == 2 for n in names)
    ll_names = [n for n in names if B.BENCHMARKS[n].loglikelihood]
    ll = _run(model, tok, ll_names, "none", tmp_path / "ll", real_data, 2, variant="loglikelihood")
    assert set(ll["results"]) == {f"orca2_{n}_ll" for n in ll_names}


def test_a_finished_run_is_reused_only_when_made_from_the_same_arguments(tiny_dir, tmp_path, monkeypatch):
    """Reused after a crash and rerun with the same arguments; recomputed when they (or the model's
    fingerprint) changed. (It used to be reused whatever the params said.)"""
    import lm_eval

    from orca2_kit.models import load_model, load_tokenizer

    calls = []  # a spy: the real harness still runs
    real = lm_eval.simple_evaluate
    monkeypatch.setattr(lm_eval, "simple_evaluate", lambda *a, **k: calls.append(k["limit"]) or real(*a, **k))
    model, tok = load_model(str(tiny_dir), "cpu", "float32"), load_tokenizer(str(tiny_dir))
    lm = harness.make_lm("hf", model=model, tokenizer=tok, system_mode="empty", batch_size=2)

    def go(limit, fingerprint="model-a"):
        return harness.run(lm, ["arc_easy"], "empty", tmp_path / "h", data_dir=FIXTURES, limit=limit, max_gen_toks=2,
                           fingerprint=fingerprint)

    first = go(1)
    assert go(1)["results"] == first["results"] and calls == [1]  # the same arguments: read back, not recomputed
    assert go(2)["n-samples"]["orca2_arc_easy"]["effective"] == 2 and calls == [1, 2]  # another limit: recomputed
    go(2, fingerprint="model-b")  # another model (the stage's fingerprint changed): recomputed
    assert calls == [1, 2, 2]
    (tmp_path / "h" / "results.json.fingerprint").unlink()  # unstamped results (an older kit's) are never reused
    go(2, fingerprint="model-b")
    assert calls == [1, 2, 2, 2]


def test_vllm_backend_explains_what_it_needs():
    pytest.importorskip("lm_eval")
    try:
        import vllm  # noqa: F401
        pytest.skip("vLLM is installed here")
    except ImportError:
        pass
    with pytest.raises(ImportError, match="needs vLLM on a CUDA machine"):
        harness.make_lm("vllm", pretrained="x", adapter="y")


def test_unknown_benchmark_and_backend_are_named():
    with pytest.raises(KeyError, match="unknown benchmark 'gsm9k'"):
        harness.task_name("gsm9k")
    with pytest.raises(KeyError, match="no log-likelihood variant"):
        harness.task_name("gsm8k", "loglikelihood")
    with pytest.raises(ValueError, match="backend: 'tgi'"):
        harness.make_lm("tgi")


# ------------------------------------------------------------------------------ OpenAI-compatible endpoint


@pytest.mark.slow
@pytest.mark.data
def test_chat_backend_against_transformers_serve(server, real_data, tmp_path):
    lm = harness.make_lm("chat", system_mode="empty", base_url=server["base_url"], api_model=server["model"],
                         api_key_env="ORCA2_TEST_UNSET_KEY", num_concurrent=2)
    r = harness.run(lm, ["gsm8k", "mmlu"], "empty", tmp_path, data_dir=real_data, limit=2, max_gen_toks=32)
    assert set(r["results"]) == {"orca2_gsm8k", "orca2_mmlu"}
    rows = [json.loads(x) for x in (tmp_path / "samples_orca2_mmlu.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(row["resps"][0][0].strip() for row in rows)  # two docs x two filters
    sent = rows[0]["arguments"][0][0]  # the messages sent (the harness logs its JsonChatStr as [json])
    while not (isinstance(sent, list) and sent and isinstance(sent[0], dict)):
        sent = json.loads(sent) if isinstance(sent, str) else sent[0]
    assert sent[0] == {"role": "system", "content": ""}


@pytest.mark.slow
@pytest.mark.data
def test_mt_bench_two_turns_and_llm_judge(server, smollm2, real_data):
    model, tok = smollm2
    assert [q["category"] for q in mt_bench.load_questions(real_data, limit=3)] == ["writing", "roleplay", "reasoning"]
    qs = mt_bench.load_questions(real_data, limit=1)  # round-robin over categories: writing first
    lm = harness.make_lm("hf", model=model, tokenizer=tok, system_mode="empty", batch_size=2)
    rows = mt_bench.answer(lm, qs, max_gen_toks=16)
    assert all(len(r["answers"]) == 2 and all(a for a in r["answers"]) for r in rows)
    grades = mt_bench.judge(rows, server["base_url"], server["model"], real_data, max_tokens=16)
    assert len(grades) == 2 and {g["turn"] for g in grades} == {1, 2}
    for g in grades:  # a 135M judge rarely writes "[[X]]": such replies are malformed, never a score
        assert g["malformed"] == (g["rating"] is None) == (mt_bench.read_rating(g["judgment"]) is None)


def test_judge_rating_parsing():
    assert mt_bench.read_rating("Clear and correct. Rating: [[8]]") == 8
    assert mt_bench.read_rating("[[3]] at first, then [[7.5]]") == 7.5
    assert mt_bench.read_rating("I would give it an 8") is None
    assert mt_bench.read_rating("[[11]]") is None


def test_judge_prompts_for_reference_categories(real_data):
    prompts = mt_bench.load_judge_prompts(real_data)
    q = {"question_id": 1, "category": "math", "turns": ["1+1?", "and 2+2?"], "answers": ["2", "4"],
         "reference": ["2", "4"]}
    msgs = mt_bench.judge_messages(q, 2, prompts)
    assert "Reference answer" in msgs[1]["content"] and "and 2+2?" in msgs[1]["content"]


# ------------------------------------------------------------------------------ paper numbers


def test_paper_numbers_name_their_source():
    paper = analysis.paper_results()
    assert len(paper) and paper.value.between(0, 100).all() and paper.source.str.len().gt(5).all()
    assert set(paper.benchmark) <= set(B.BENCHMARKS) | {"mt_bench"}


def test_reasoning_average_uses_the_benchmarks_every_column_reports():
    import pandas as pd

    rows = [("base", "agieval", .2), ("student", "agieval", .3), ("base", "bbh", .1), ("student", "bbh", .2),
            ("base", "drop", .0), ("student", "drop", .1), ("base", "gsm8k", .0), ("student", "gsm8k", .06)]
    summary = pd.DataFrame([{"model": m, "system": "empty", "benchmark": b, "variant": "generative", "lenient": a}
                            for m, b, a in rows])
    paper = pd.DataFrame([{"model": "Big", "system": "empty", "benchmark": b, "value": v}
                          for b, v in [("agieval", 50.0), ("bbh", 40.0), ("race", 80.0)]])
    t = analysis.with_reasoning_average(analysis.with_paper(summary, paper))
    avg = t.loc["reasoning avg (agieval, bbh)"]
    assert avg["base"] == pytest.approx(15.0) and avg["student"] == pytest.approx(25.0) and avg["Big"] == 45.0
    assert t.loc["race", "Big"] == 80.0 and pd.isna(t.loc["race", "base"])


def test_analysis_of_a_run_where_no_benchmark_ran(tmp_path):
    """No data directory: notebook 05's harness cells get empty frames, not errors."""
    samples = analysis.load_samples(tmp_path)
    assert samples.empty and list(samples.columns) == analysis.SAMPLE_COLUMNS
    assert analysis.summarize(samples).empty and analysis.strategy_mix(samples).empty
    assert analysis.paired(samples, "gsm8k", "empty") == {}


def test_without_data_no_model_is_loaded_and_the_reason_names_the_fetch_command(tmp_path, monkeypatch):
    """Issue 27: without a data directory notebook 05 loaded both models for the harness and scored
    nothing; the reason claimed 'the hub is not reachable offline' (a run never reads the hub)."""
    import orca2_kit.models
    from orca2_kit.config import load_params
    from orca2_kit.evaluation.harness import suite

    loads = []
    monkeypatch.setattr(orca2_kit.models, "load_model", lambda *a, **k: loads.append(a) or (_ for _ in ()).throw(
        AssertionError("a model was loaded with nothing to score")))
    p = suite.with_budget(load_params("smoke"), 12)
    out = suite.evaluate(p, [("base", None), ("student", str(tmp_path / "adapter"))], tmp_path / "harness", None,
                         log=lambda *_: None)
    assert loads == [] and out["mt_bench"] == []
    assert {r["benchmark"] for r in out["skipped"]} == {"gsm8k", "mmlu", "truthfulqa"}
    assert analysis.load_samples(tmp_path / "harness", None, 12).empty
    reason = B.available(None)["gsm8k"]
    assert "hub" not in reason and ".venv/bin/python -m orca2_kit data fetch" in reason


def test_a_paired_benchmark_row_carries_each_models_cut_share():
    """Issue 27: the cut share per model beside each of 05's paired comparisons, the harness's too."""
    import pandas as pd

    rows = [{"model": m, "system": "empty", "variant": "generative", "benchmark": "gsm8k", "subset": "gsm8k",
             "id": f"gsm8k/{i}", "filter": analysis.LENIENT, "acc": float(m == "student" and i < 2),
             "hit_limit": float(m == "student" or i == 0)} for m in ("base", "student") for i in range(4)]
    r = analysis.paired(pd.DataFrame(rows), "gsm8k", "empty")
    assert r["difference"] == 0.5 and r["student_cut_by_limit"] == 1.0 and r["base_cut_by_limit"] == 0.25
    unmeasured = analysis.paired(pd.DataFrame(rows).assign(hit_limit=float("nan")), "gsm8k", "empty")
    assert pd.isna(unmeasured["student_cut_by_limit"]) and unmeasured["difference"] == 0.5


def test_a_paired_benchmark_row_under_100_documents_is_a_demonstration_not_a_comparison():
    """Issue 26: a real-benchmark comparison on fewer than 100 documents carries no verdict, whatever its
    interval; at 100 or more the interval's verdict."""
    import pandas as pd

    def rows(n, better):
        return pd.DataFrame([{"model": m, "system": "empty", "variant": "generative", "benchmark": "gsm8k",
                              "subset": "gsm8k", "id": f"gsm8k/{i}", "filter": analysis.LENIENT,
                              "acc": float(m == "student" and (i < better)), "hit_limit": 0.0}
                             for m in ("base", "student") for i in range(n)])

    small = analysis.paired(rows(8, 8), "gsm8k", "empty")  # +100 points on 8 documents: still no verdict
    assert small["ci_low"] > 0 and small["reading"].startswith("demonstration only (8 < 100 documents")
    assert analysis.paired(rows(120, 60), "gsm8k", "empty")["reading"] == "ahead"
    assert analysis.paired(rows(120, 0), "gsm8k", "empty")["reading"] == "not distinguishable"


def test_harness_reading_speaks_the_builtin_verdicts_words():
    """Issue 27: 05's harness rows and its built-in comparisons (and the report) name the same idea
    with the same words: a row with a verdict reads exactly as builtin.verdict reads its interval."""
    from orca2_kit.evaluation import builtin

    for lo, hi in ((0.02, 0.2), (-0.3, -0.01), (-0.1, 0.1)):
        assert analysis.reading(120, lo, hi) == builtin.verdict({"ci_low": lo, "ci_high": hi})
    assert {analysis.reading(120, 0.1, 0.2), analysis.reading(120, -0.2, -0.1)} == {"ahead", "behind"}
