"""The field's standard multiple-choice form (tasks/orca2_*_mc.yaml) against lm-evaluation-harness's
OWN task configs: on the same items with the same model, both make the same requests (prompt and
continuation, character for character), get the same log-likelihoods, and so the same acc and acc_norm.

lm-eval's configs come from the installed package unchanged: a temporary config `include`s the
upstream file by its path and only points its dataset at the same items, written locally in the
hub schema that config reads (the hub is not reachable here). The items are built from the raw
upstream files, not from the kit's documents, so a parser that loses or alters text shows up."""
import csv
import json
from pathlib import Path

import lm_eval
import pytest
import yaml

from orca2_kit.evaluation import harness
from orca2_kit.evaluation.harness import analysis
from orca2_kit.evaluation.harness import benchmarks as B

FIXTURES = Path(__file__).parent.parent / "fixtures" / "benchmarks"
LM_EVAL_TASKS = Path(lm_eval.__file__).resolve().parent / "tasks"
MMLU_DOCS = 57  # the kit's first 57 MMLU documents: one per subject (loaders interleave the subjects)


# ------------------------------------------------------------------------------ the two runs


def upstream_task(tmp: Path, config: Path, rows: list[dict]) -> str:
    """A task config that includes lm-eval's own `config` unchanged and points its dataset at `rows`."""
    from lm_eval.tasks._yaml_loader import load_yaml

    cfg = load_yaml(config, resolve_func=False)
    data = tmp / f"{cfg['task']}.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    splits = {cfg[k]: str(data) for k in ("training_split", "validation_split", "test_split", "fewshot_split")
              if cfg.get(k)}
    (tmp / f"{cfg['task']}.yaml").write_text(yaml.safe_dump(
        {"include": str(config), "dataset_path": "json", "dataset_name": None, "dataset_kwargs": {"data_files": splits}}))
    return cfg["task"]


def run_upstream(model, tok, tmp: Path, tasks: list[str]) -> list[dict]:
    """lm-eval alone: its HFLM, its configs (their own num_fewshot, description, metrics)."""
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    out = lm_eval.simple_evaluate(model=HFLM(pretrained=model, tokenizer=tok, batch_size=16), tasks=tasks,
                                  task_manager=TaskManager(include_path=str(tmp), include_defaults=False),
                                  log_samples=True, bootstrap_iters=0)
    return [s for t in tasks for s in out["samples"][t]]


def run_kit(model, tok, names: list[str], data_dir: Path, out: Path, limit=None, variant="multiple_choice"):
    """The kit's path: its model wrapper, its configs and loaders, its run directory layout."""
    lm = harness.make_lm("hf", model=model, tokenizer=tok, system_mode="none", batch_size=16)
    harness.run(lm, names, "none", out, data_dir=data_dir, limit=limit, variant=variant)
    return [json.loads(x) for n in names
            for x in (out / f"samples_{harness.task_name(n, variant)}.jsonl").read_text().splitlines()]


def _requests(sample: dict) -> dict[tuple[str, str], float]:
    return {tuple(a): r[0] for a, r in zip(sample["arguments"], sample["filtered_resps"])}


def compare(kit: list[dict], upstream: list[dict]) -> dict:
    """Pair documents by the kit's id; assert identical requests and log-likelihoods; the scores."""
    up = {s["doc"]["kit_id"]: s for s in upstream}
    assert sorted(up) == sorted(s["doc"]["id"] for s in kit)
    worst, same = 0.0, 0
    for s in kit:
        u = up[s["doc"]["id"]]
        a, b = _requests(s), _requests(u)
        assert a.keys() == b.keys(), (f"{s['doc']['id']}: the requests differ\nkit only: {sorted(a.keys() - b.keys())[:1]}"
                                      f"\nlm-eval only: {sorted(b.keys() - a.keys())[:1]}")
        worst = max([worst] + [abs(a[k] - b[k]) for k in a])
        same += (s["acc"], s["acc_norm"]) == (u["acc"], u.get("acc_norm", s["acc_norm"]))
    mean = lambda rows, m: sum(r[m] for r in rows) / len(rows)  # noqa: E731
    assert worst < 1e-4, f"same requests, log-likelihoods differ by up to {worst}"
    return {"n": len(kit), "docs_scored_alike": same, "max_abs_ll_diff": worst,
            **{f"{m}_{who}": mean(rows, m) for m in ("acc", "acc_norm") for who, rows in (("kit", kit), ("lm_eval", upstream))
               if all(m in r for r in rows)}}


def assert_agree(c: dict) -> None:
    for m in ("acc", "acc_norm"):
        if f"{m}_lm_eval" in c:
            assert abs(c[f"{m}_kit"] - c[f"{m}_lm_eval"]) <= 0.01, c


# ------------------------------------------------------------------------------ items in the hub schemas


def arc_rows(path: Path, kit_docs: list[dict]) -> list[dict]:
    """allenai/ai2_arc rows (AI2's own jsonl converted: the question stem, choices {text, label})."""
    rows = []
    for r, d in zip([json.loads(x) for x in path.read_text().splitlines() if x.strip()], kit_docs, strict=True):
        q = r["question"]
        if isinstance(q, dict):
            r = {"id": r["id"], "question": q["stem"], "answerKey": r["answerKey"],
                 "choices": {"text": [c["text"] for c in q["choices"]], "label": [c["label"] for c in q["choices"]]}}
        rows.append({**r, "kit_id": d["id"]})
    return rows


def mmlu_rows(data_dir: Path, kit_docs: list[dict]) -> dict[str, list[dict]]:
    """cais/mmlu rows per subject (question, subject, choices, answer) read from the CSV files."""
    csv_rows: dict[str, list[dict]] = {}
    per: dict[str, list[dict]] = {}
    for d in kit_docs:
        _, subject, i = d["id"].split("/")
        if subject not in csv_rows:
            with open(data_dir / "mmlu" / "test" / f"{subject}_test.csv", newline="", encoding="utf-8") as f:
                csv_rows[subject] = list(csv.DictReader(f))
        r = csv_rows[subject][int(i)]
        per.setdefault(subject, []).append({"question": r["question"], "subject": subject, "answer": int(r["answer"]),
                                            "choices": [r[f"choice{k}"] for k in range(4)], "kit_id": d["id"]})
    return per


# ------------------------------------------------------------------------------ fast checks


def test_every_standard_form_has_its_config_and_no_other():
    configs = {p.stem.removeprefix("orca2_").removesuffix("_mc") for p in harness.TASKS_DIR.glob("orca2_*_mc.yaml")}
    assert configs == set(B.STANDARD_MC)
    assert harness.task_name("mmlu", "multiple_choice") == "orca2_mmlu_mc"
    with pytest.raises(KeyError, match="crass has no standard multiple-choice form"):
        harness.task_name("crass", "multiple_choice")
    with pytest.raises(ValueError, match="variant: 'cloze'"):
        harness.task_name("mmlu", "cloze")


def test_documents_carry_the_standard_forms_text():
    hs = B.load_docs("hellaswag", FIXTURES)[0]  # ctx_b capitalised, activity label first, as lm-eval
    assert hs["stem"] == "Making coffee: A man pours water into a kettle. He"
    assert B.hellaswag_preprocess("A [title] How to  bake [step] x") == "A. How to bake x"
    arc = B.load_docs("arc_challenge", FIXTURES)[0]
    assert arc["stem"].startswith("A student heats water") and arc["mc_choices"] == arc["choices"]
    tox = B.load_docs("toxigen", FIXTURES)[0]
    assert tox["mc_choices"] == ["No", "Yes"] and "Statement" not in tox["stem"]


def test_notebook_05_runs_both_forms_where_the_backend_can_score_them():
    from orca2_kit.config import load_params
    from orca2_kit.evaluation.harness import suite

    bench = ["gsm8k", "mmlu", "hellaswag", "crass"]
    ll, mc, skipped = suite.loglikelihood_plan(load_params("offline"), bench)
    assert ll == ["mmlu", "hellaswag", "crass"] and mc == ["mmlu", "hellaswag"] and skipped == []
    assert suite.loglikelihood_plan(load_params("offline", {"eval.harness.standard_mc": False}), bench)[1] == []
    chat = load_params("offline", {"eval.harness.backend": "chat", "eval.harness.endpoint.base_url": "http://x/v1",
                                   "eval.harness.endpoint.model": "m", "eval.harness.endpoint.api_key_env": None})
    ll, mc, skipped = suite.loglikelihood_plan(chat, bench)
    assert ll == mc == [] and len(skipped) == 5 and "cannot score log-likelihoods" in skipped[0]["reason"]


def test_no_run_gives_empty_frames_with_their_columns(tmp_path):
    """No data directory: notebook 05's cell gets an empty table, not an error."""
    mc = analysis.load_mc_samples(tmp_path)
    assert mc.empty and list(mc.columns) == analysis.MC_COLUMNS
    assert list(analysis.summarize_mc(mc).columns) == analysis.MC_SUMMARY_COLUMNS


@pytest.mark.data
def test_agieval_query_is_agievals_own_zero_shot_prompt(real_data):
    d = [d for d in B.load_docs("agieval", real_data) if d["id"] == "agieval/sat-math/0"][0]
    assert d["stem"] == ("Q: If $\\frac{x-1}{3}=k$ and $k=3$, what is the value of $x ?$ Answer Choices: "
                         "(A)2 (B)4 (C)9 (D)10\nA: Among A through D, the answer is")
    assert d["mc_choices"] == ["(A)2", "(B)4", "(C)9", "(D)10"] and d["choices"] == ["2", "4", "9", "10"]


# ------------------------------------------------------------------------------ agreement with lm-eval


@pytest.fixture(scope="module")
def smollm2(smollm2_dir):
    from orca2_kit.models import load_model, load_tokenizer

    return load_model(str(smollm2_dir), "cpu", "float32"), load_tokenizer(str(smollm2_dir))


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    from orca2_kit.models import load_model, load_tokenizer

    return load_model(str(tiny_dir), "cpu", "float32"), load_tokenizer(str(tiny_dir))


@pytest.mark.slow
def test_arc_fixture_agrees_with_lm_evals_arc(smollm2, tmp_path):
    """SmolLM2 fp32 on the ARC fixture (hub rows and AI2's own jsonl): lm-eval's arc_easy / arc_challenge."""
    (tmp_path / "up").mkdir()
    kit_docs = {b: B.load_docs(b, FIXTURES) for b in ("arc_easy", "arc_challenge")}
    tasks = [upstream_task(tmp_path / "up", LM_EVAL_TASKS / "arc" / f"{b}.yaml", arc_rows(path, kit_docs[b]))
             for b, path in (("arc_easy", FIXTURES / "arc_easy" / "test.jsonl"),
                             ("arc_challenge", FIXTURES / "ARC-Challenge" / "ARC-Challenge-Test.jsonl"))]
    upstream = run_upstream(*smollm2, tmp_path / "up", tasks)
    kit = run_kit(*smollm2, ["arc_easy", "arc_challenge"], FIXTURES, tmp_path / "kit")
    c = compare(kit, upstream)
    print("ARC fixture, SmolLM2 fp32:", c)
    assert c["n"] == 5 and c["docs_scored_alike"] == 5
    assert_agree(c)


@pytest.fixture(scope="module")
def mmlu_runs(smollm2, real_data, tmp_path_factory):
    """SmolLM2 fp32 on the kit's first MMLU_DOCS MMLU documents: lm-eval's mmlu_<subject>_continuation,
    the kit's standard form, and the kit's letter form (the `_ll` variant)."""
    tmp = tmp_path_factory.mktemp("mmlu")
    (tmp / "up").mkdir()
    docs = B.load_docs("mmlu", real_data)[:MMLU_DOCS]
    tasks = [upstream_task(tmp / "up", LM_EVAL_TASKS / "mmlu" / "continuation" / f"mmlu_{s}.yaml", rows)
             for s, rows in mmlu_rows(real_data, docs).items()]
    upstream = run_upstream(*smollm2, tmp / "up", tasks)
    root = tmp / "runs"
    kit = run_kit(*smollm2, ["mmlu"], real_data, root / "smollm2" / "raw" / "multiple_choice", MMLU_DOCS)
    run_kit(*smollm2, ["mmlu"], real_data, root / "smollm2" / "raw" / "loglikelihood", MMLU_DOCS, "loglikelihood")
    return {"kit": kit, "upstream": upstream, "tasks": tasks, "root": root}


@pytest.mark.slow
@pytest.mark.data
def test_mmlu_agrees_with_lm_evals_mmlu_continuation(mmlu_runs):
    assert len(mmlu_runs["tasks"]) == 57  # every subject, each with lm-eval's own description
    c = compare(mmlu_runs["kit"], mmlu_runs["upstream"])
    print(f"MMLU ({MMLU_DOCS} documents), SmolLM2 fp32:", c)
    assert c["n"] == MMLU_DOCS and c["docs_scored_alike"] == MMLU_DOCS
    assert_agree(c)


@pytest.mark.slow
@pytest.mark.data
def test_mmlu_letter_and_standard_form_side_by_side(mmlu_runs):
    """Both forms on the same documents, with n, 95% intervals and chance, printed for the record.
    No gap between the forms and no distance from chance is asserted: on one document per subject,
    SmolLM2-135M is not distinguishable from chance in either form (README, measured figures)."""
    mc = analysis.load_mc_samples(mmlu_runs["root"])
    s = analysis.summarize_mc(mc).set_index("form")
    print(s[["n", "acc", "acc_ci_low", "acc_ci_high", "acc_norm", "acc_norm_ci_low", "acc_norm_ci_high",
             "chance"]].round(3).to_string())
    assert set(s.index) == {"letter", "continuation"} and (s.n == MMLU_DOCS).all() and (s.chance == 0.25).all()
    ids = mc.groupby("form")["id"].apply(sorted)
    assert ids["letter"] == ids["continuation"]  # the same documents in both forms
    assert ((s.acc_ci_low <= s.acc) & (s.acc <= s.acc_ci_high)).all()
    assert s.loc["letter", "acc_norm"] != s.loc["letter", "acc_norm"]  # NaN: one-letter options have no acc_norm


@pytest.mark.slow
def test_fixture_standard_forms_make_lm_evals_requests(tiny, tmp_path):
    """HellaSwag, ToxiGen and RACE (an article with three questions, one of them fill-in, beside a
    one-question article): the requests are lm-eval's own (a random tiny model: only prompts matter)."""
    up = tmp_path / "up"
    up.mkdir()
    hs = [{**json.loads(x), "kit_id": d["id"]} for x, d in zip(
        (FIXTURES / "hellaswag" / "hellaswag_val.jsonl").read_text().splitlines(), B.load_docs("hellaswag", FIXTURES))]
    hs = [{**r, "label": str(r["label"])} for r in hs]  # the hub's labels are strings
    tox = [{**json.loads(x), "kit_id": d["id"]} for x, d in zip(
        (FIXTURES / "toxigen" / "annotated_test.jsonl").read_text().splitlines(), B.load_docs("toxigen", FIXTURES))]
    race_dir = tmp_path / "data"
    (race_dir / "race").mkdir(parents=True)
    articles = [{"article": "Sam planted beans in May. By July they were taller than him.",
                 "questions": ["When did Sam plant the beans?", "By July the beans were  _  .", "Who planted beans?"],
                 "options": [["In May.", "In July.", "In June.", "Never."], ["small", "taller than Sam", "gone", "red"],
                             ["Sam", "Tom", "Ann", "Nobody"]], "answers": ["A", "B", "A"], "id": "high1.txt"},
                {"article": "The shop sells bread.", "questions": ["What does the shop sell?"],
                 "options": [["Bread.", "Shoes.", "Cars.", "Books."]], "answers": ["A"], "id": "high2.txt"}]
    for a in articles:
        (race_dir / "race" / a["id"].replace(".txt", ".json")).write_text(json.dumps(a))
    race_docs = B.load_docs("race", race_dir)
    race = [{"example_id": a["id"], "article": a["article"], "kit_id": next(
        d["id"] for d in race_docs if d["subset"] == a["id"][:-4] and d["stem"] == a["questions"][-1]),
             "problems": repr([{"question": q, "options": o, "answer": x}
                               for q, o, x in zip(a["questions"], a["options"], a["answers"])])} for a in articles]
    tasks = [upstream_task(up, LM_EVAL_TASKS / "hellaswag" / "hellaswag.yaml", hs),
             upstream_task(up, LM_EVAL_TASKS / "toxigen" / "toxigen.yaml", tox),
             upstream_task(up, LM_EVAL_TASKS / "race" / "race.yaml", race)]
    upstream = run_upstream(*tiny, up, tasks)
    kit = run_kit(*tiny, ["hellaswag", "toxigen"], FIXTURES, tmp_path / "kit")
    kit_race = run_kit(*tiny, ["race"], race_dir, tmp_path / "kit_race")
    assert "By July the beans were taller than Sam\n" in kit_race[[s["doc"]["subset"] for s in kit_race].index("high1")][
        "arguments"][0][0]
    c = compare(kit + kit_race, upstream)
    assert c["n"] == 2 + 2 + 2 and c["docs_scored_alike"] == c["n"]
    assert_agree(c)


@pytest.mark.slow
@pytest.mark.data
def test_real_data_standard_forms_make_lm_evals_requests(tiny, real_data, tmp_path):
    """TruthfulQA MC1 (its six-question primer; the kit's options are shuffled, so requests are compared
    as sets) and AGIEval's eight English sets (hails/agieval-* rows built with AGIEval's own prompt)."""
    up = tmp_path / "up"
    up.mkdir()
    tqa_docs = B.load_docs("truthfulqa", real_data)[:20]
    raw = json.loads((real_data / "truthfulqa" / "v1" / "mc_task.json").read_text())[:20]
    tqa = [{"question": r["question"], "mc1_targets": {"choices": list(r["mc1_targets"]),
                                                         "labels": list(r["mc1_targets"].values())}, "kit_id": d["id"]}
           for r, d in zip(raw, tqa_docs, strict=True)]
    tasks = [upstream_task(up, LM_EVAL_TASKS / "truthfulqa" / "truthfulqa_mc1.yaml", tqa)]
    ag_docs = B.load_docs("agieval", real_data)[:24]
    for subset in B.AGIEVAL_EN:
        lines = (real_data / "agieval" / f"{subset}.jsonl").read_text(encoding="utf-8").splitlines()
        rows = [{"query": B.agieval_zero_shot_query(r), "choices": r["options"],
                 "gold": [B.LETTERS.index(r["label"].strip()[0])], "kit_id": d["id"]}
                for d in ag_docs if d["subset"] == subset for r in [json.loads(lines[int(d["id"].split("/")[-1])])]]
        tasks.append(upstream_task(up, LM_EVAL_TASKS / "agieval" / f"{subset}.yaml", rows))
    upstream = run_upstream(*tiny, up, tasks)
    for name, n in (("truthfulqa", 20), ("agieval", 24)):
        kit = run_kit(*tiny, [name], real_data, tmp_path / name, n)
        c = compare(kit, [s for s in upstream if s["doc"]["kit_id"].startswith(name + "/")])
        assert c["n"] == n and c["docs_scored_alike"] >= n - 1  # TruthfulQA: an exact tie may break by order
        assert_agree(c)
