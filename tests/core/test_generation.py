"""The continuous-batching greedy decoder (greedy.py) behind generation.generate_detailed and the
harness's orca2-hf backend: the same text as `model.generate` in fp32, finished rows really leave
the batch, and the same scores at two batch sizes in the scoring dtype."""
import pytest
import torch

from orca2_kit.generation import greedy
from orca2_kit.config import StudentConfig
from orca2_kit.generation import generate_detailed, messages, system_text
from orca2_kit.models import load_student


@pytest.fixture(scope="module")
def tiny():
    return load_student(StudentConfig(source="tiny-random", dtype="float32"), "cpu")


@pytest.fixture(scope="module")
def smollm2(smollm2_dir):
    return load_student(StudentConfig(source="local", name_or_path=str(smollm2_dir), dtype="float32"), "cpu")


def _convs(n: int) -> list[list[dict]]:
    """Real built-in task prompts under two system messages (two shared prefixes) and none."""
    from orca2_kit import tasks

    items = tasks.build_suite(1234, n_train=1, n_dev=1, n_test=2)["test"]
    modes = ["generic", "empty", "none"]
    return [messages(system_text(modes[i % 3]), it.prompt) for i, it in enumerate(items[:n])]


def test_shared_prefixes_are_per_group_and_leave_a_token():
    a, b = list(range(40)), list(range(30)) + [99] * 5
    assert greedy.shared_prefixes([a, b, a[:20]], ["x", "x", "y"], min_len=16) == [30, 30, 0]
    assert greedy.shared_prefixes([a, a], [0, 0], min_len=4) == [39, 39]  # one token left to prefill
    assert greedy.shared_prefixes([a[:5], b[:5]], [0, 0], min_len=16) == [0, 0]  # too short to pay


def test_tiny_model_continuous_equals_model_generate(tiny):
    """Refills (batch 3 < 9 prompts), per-row limits and three prefix groups: token for token
    what `model.generate` writes."""
    model, tok = tiny
    convs = _convs(9)
    limits = [3, 17, 9, 17, 3, 12, 17, 5, 17]
    fast = generate_detailed(model, tok, convs, limits, batch_size=3, stop_after_answer=False, engine="continuous")
    ref = generate_detailed(model, tok, convs, limits, batch_size=9, stop_after_answer=False, engine="hf")
    assert [g.text for g in fast] == [g.text for g in ref]
    assert [g.hit_limit for g in fast] == [g.hit_limit for g in ref]
    assert all(g.new_tokens <= lim for g, lim in zip(fast, limits))


def test_finished_rows_leave_the_batch(tiny):
    """Count the rows each forward computes: a row that is done costs nothing afterwards."""
    model, tok = tiny
    ids = tok([tok.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in _convs(4)],
              add_special_tokens=False)["input_ids"]
    ids = [x[:min(map(len, ids))] for x in ids]  # one length: one prefill
    rows = []
    hook = model.register_forward_pre_hook(lambda m, a, kw: rows.append(kw["input_ids"].shape[0]), with_kwargs=True)
    try:
        out = greedy.greedy(model, ids, [1, 1, 1, 12], slots=4, eos_ids=set(), pad_id=tok.pad_token_id)
    finally:
        hook.remove()
    assert [len(r.tokens) for r in out] == [1, 1, 1, 12] and [r.reason for r in out] == ["limit"] * 4
    # one prefill of 4 rows (a shared-prefix pass may come first), then 11 steps of the one unfinished row
    assert rows[-11:] == [1] * 11 and rows[-12] == 4, rows


def test_prompts_of_different_lengths_are_prefilled_without_much_padding(tiny):
    """Prompts of 6 to 300 tokens: prefilled in runs of similar length, so the padded positions
    stay within 1.25x the real ones (one prefill of all would pad 2.9x here); text unchanged."""
    model, tok = tiny
    lengths = [300, 280, 150, 140, 60, 50, 12, 6]
    ids = [[(7 * i + k) % 500 + 3 for k in range(n)] for i, n in enumerate(lengths)]
    shapes = []
    hook = model.register_forward_pre_hook(lambda m, a, kw: shapes.append(tuple(kw["input_ids"].shape)), with_kwargs=True)
    try:
        out = greedy.greedy(model, ids, [4] * len(ids), slots=8, eos_ids=set(), pad_id=tok.pad_token_id)
    finally:
        hook.remove()
    prefills = [s for s in shapes if s[1] > 1]
    assert sum(r for r, _ in prefills) == len(ids)
    assert sum(r * w for r, w in prefills) <= 1.25 * sum(lengths), prefills
    alone = [greedy.greedy(model, [x], [4], slots=1, eos_ids=set(), pad_id=tok.pad_token_id)[0].tokens for x in ids]
    assert [o.tokens for o in out] == alone
    assert greedy._similar_lengths([0, 1, 2, 3], [100, 90, 20, 19]) == [[0, 1], [2, 3]]


def test_stop_rule_ends_a_row(tiny):
    model, tok = tiny
    ids = [[1, 2, 3, 4], [5, 6, 7]]
    out = greedy.greedy(model, ids, [10, 10], slots=2, eos_ids=set(), pad_id=0,
                        stop=lambda i, toks: i == 0 and len(toks) == 3)
    assert (len(out[0].tokens), out[0].reason) == (3, "stop") and (len(out[1].tokens), out[1].reason) == (10, "limit")


@pytest.mark.slow
def test_real_prompts_give_model_generate_text_in_fp32(smollm2, real_data):
    """SmolLM2 fp32 on real prompts: built-in tasks under three system messages and documents of
    real benchmarks (GSM8K, MMLU), with the stop after 'Answer:' and mixed limits."""
    from orca2_kit.evaluation.harness import benchmarks as B

    model, tok = smollm2
    docs = [d for n in ("gsm8k", "mmlu") for d in B.load_docs(n, real_data)[:3]]
    convs = _convs(9) + [messages("", B.doc_to_text(d)) for d in docs]
    limits = [40 if i % 2 else 12 for i in range(len(convs))]
    fast = generate_detailed(model, tok, convs, limits, batch_size=4, engine="continuous")
    ref = generate_detailed(model, tok, convs, limits, batch_size=8, engine="hf")
    assert [g.text for g in fast] == [g.text for g in ref]
    assert [g.hit_limit for g in fast] == [g.hit_limit for g in ref]


@pytest.mark.slow
def test_same_builtin_scores_at_two_batch_sizes_in_the_scoring_dtype(smollm2_dir):
    """Issue 13: one student, one set of numbers, whatever the batch size (scoring dtype: fp32 on CPUs)."""
    from orca2_kit import scoring
    from orca2_kit import tasks
    from orca2_kit.config import load_params
    from orca2_kit.models import scoring_dtype

    p = load_params("offline")
    assert scoring_dtype(p.generation.dtype, "cpu") == torch.float32
    model, tok = load_student(StudentConfig(source="local", name_or_path=str(smollm2_dir)), "cpu",
                              scoring=p.generation.dtype)
    assert model.dtype == torch.float32
    items = tasks.build_suite(p.seed, n_train=1, n_dev=1, n_test=1)["test"]
    big, _ = scoring.evaluate_model(model, tok, items, ["generic"], "base", 48, batch_size=len(items))
    small, _ = scoring.evaluate_model(model, tok, items, ["generic"], "base", 48, batch_size=2)
    assert big.output.tolist() == small.output.tolist()
    assert big.correct_lenient.tolist() == small.correct_lenient.tolist()


@pytest.mark.slow
def test_harness_backend_continuous_equals_hflm(smollm2, real_data, tmp_path):
    """orca2-hf's generate_until on the continuous decoder and on the engine (CTranslate2): the same
    logged responses as HFLM's own loop."""
    import json

    from orca2_kit.evaluation import harness
    from orca2_kit.evaluation.harness.backends import Orca2HFLM

    model, tok = smollm2
    resp = {}
    for engine in ("hf", "continuous", "ctranslate2"):
        lm = Orca2HFLM(pretrained=model, tokenizer=tok, system_mode="empty", batch_size=3, max_length=1024,
                       engine=engine)
        out = tmp_path / engine
        harness.run(lm, ["gsm8k", "mmlu"], "empty", out, data_dir=real_data, limit=3, max_gen_toks=24)
        resp[engine] = [json.loads(x)["resps"] for f in sorted(out.glob("samples_*.jsonl")) for x in open(f)]
    assert len(resp["hf"]) == 12  # 6 documents, logged once per filter (strict-match, flexible-extract)
    assert resp["continuous"] == resp["hf"]
    assert resp["ctranslate2"] == resp["hf"]  # the engine behind orca2-hf's generate_until
