"""A catalogue of bad inputs, each run through the real command line (`python -m orca2_kit run`):
each must end in ONE line, `error: ...`, naming the key or the problem, before any run folder is
made, any kernel started or any model loaded."""
import json
import shutil
import time

import pytest
import yaml

from orca2_kit.run.cli import main
from orca2_kit.config import PARAMS_DIR
from tests.conftest import run_cli

SMOKE = str(PARAMS_DIR / "smoke.yaml")
GEMMA_LIKE = ("{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
              "{% endif %}{{ '<start_of_turn>' + m['role'] + '\n' + m['content'] + '<end_of_turn>\n' }}{% endfor %}"
              "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}")
DROPS_SYSTEM = ("{% for m in messages %}{% if m['role'] != 'system' %}{{ '<|im_start|>' + m['role'] + '\n' + m['content']"
                " + '<|im_end|>\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
                "{% endif %}")
# an LLM teacher at api.openai.com (paid: its prices are required)
OPENAI = ["teacher.kind=openai", "teacher.model=m", "teacher.price_input_per_mtok=0.15", "teacher.price_output_per_mtok=0.6"]
ROW = {"task": "qa", "prompt": "What is 2+2?", "reference": "4", "split": "train"}


def _tasks(tmp, rows):
    path = tmp / "tasks.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return ["tasks.source=file", f"tasks.path={path}"]


def _template(tmp, tiny_dir, template):
    model = tmp / "model"
    shutil.copytree(tiny_dir, model)
    (model / "chat_template.jinja").write_text(template)
    return ["student.source=local", f"student.name_or_path={model}"]


def _latin1_profile(tmp):
    path = tmp / "mine.yaml"
    path.write_bytes(f"extends: {SMOKE}\nprofile: mine\ndescription: caf\xe9 run\n".encode("latin-1"))
    return path


def _latin1_tasks(tmp):
    path = tmp / "tasks.jsonl"
    path.write_bytes((json.dumps(ROW) + "\n").encode() + '{"task": "qa", "prompt": "caf\xe9?", "reference": "x", '
                     '"split": "dev"}\n'.encode("latin-1"))
    return ["tasks.source=file", f"tasks.path={path}"]


def _broken_tasks(tmp):
    path = tmp / "tasks.jsonl"
    path.write_text(json.dumps(ROW) + "\n" + '{"task": "qa", "prompt": "x?", "reference": \n')
    return ["tasks.source=file", f"tasks.path={path}"]


def _profile(tmp, text):
    path = tmp / "mine.yaml"
    path.write_text(f"extends: {SMOKE}\nprofile: mine\n{text}")
    return path


# id -> (setup(tmp, tiny_dir) -> (profile, overrides, extra args, env), words the one-line error must contain)
CASES = {
    "misspelled key": (lambda t, m: ("smoke", ["train.epoch=1"], [], {}),
                       ["train.epoch: unknown key", "Did you mean 'train.epochs'?"]),
    "misspelled section in a profile file": (lambda t, m: (_profile(t, "trian: {epochs: 1}\n"), [], [], {}),
                                             ["trian: unknown key", "'train'"]),
    "unknown profile": (lambda t, m: ("smok", [], [], {}), ["unknown profile 'smok'", "Did you mean 'smoke'?"]),
    "profile not YAML": (lambda t, m: (_profile(t, "train: [1, 2\nseed: 3\n"), [], [], {}),
                         ["is not valid YAML at line 4"]),
    "override without =": (lambda t, m: ("smoke", ["train.epochs"], [], {}), ["'train.epochs' must look like key.path=value"]),
    "unknown stage": (lambda t, m: ("smoke", [], ["--only", "9"], {}), ["--only: unknown stage '9'"]),
    "wrong type: int": (lambda t, m: ("smoke", ["train.per_device_batch_size=many"], [], {}),
                        ["train.per_device_batch_size", "valid integer", "'many'"]),
    "wrong type: list": (lambda t, m: ("smoke", ["tasks.families=arithmetic"], [], {}), ["tasks.families", "valid list"]),
    "wrong type: bool": (lambda t, m: ("smoke", ["teacher.replay_only=maybe"], [], {}), ["teacher.replay_only", "boolean"]),
    "wrong choice": (lambda t, m: ("smoke", ["train.method=qlora"], [], {}), ["train.method", "'lora' or 'full'"]),
    "negative size": (lambda t, m: ("smoke", ["tasks.n_test=-2"], [], {}), ["tasks.n_test: Input should be greater than or equal to 1 (got -2)"]),
    "zero batch size": (lambda t, m: ("smoke", ["generation.batch_size=0"], [], {}), ["generation.batch_size: Input should be greater than or equal to 1 (got 0)"]),
    "negative learning rate": (lambda t, m: ("smoke", ["train.learning_rate=-0.1"], [], {}), ["train.learning_rate: Input should be greater than 0 (got -0.1)"]),
    "unknown built-in family": (lambda t, m: ("smoke", ["tasks.families=[arithmetc]"], [], {}),
                                ["tasks.families", "'arithmetc'", "did you mean 'arithmetic'"]),
    "no strategy candidates": (lambda t, m: ("smoke", ["strategy_selection.candidates=[]"], [], {}),
                               ["strategy_selection.candidates", "at least one"]),
    "missing model directory": (lambda t, m: ("smoke", ["student.source=local", "student.name_or_path=/no/such/model"],
                                              [], {}), ["student.name_or_path", "'/no/such/model' does not exist"]),
    "model directory without a tokenizer": (lambda t, m: ("smoke", ["student.source=local", f"student.name_or_path={t}"],
                                                          [], {}), ["student: cannot load the tokenizer of", "has no tokenizer files"]),
    "missing data directory": (lambda t, m: ("smoke", ["data_dir=/no/such/data"], [], {}),
                               ["data_dir", "'/no/such/data' does not exist"]),
    "missing task file": (lambda t, m: ("smoke", ["tasks.source=file", "tasks.path=/no/tasks.jsonl"], [], {}),
                          ["tasks.path", "'/no/tasks.jsonl' does not exist"]),
    "missing system message file": (lambda t, m: ("smoke", ["erasure.system_message_file=/no/system.txt"], [], {}),
                                    ["erasure.system_message_file", "'/no/system.txt' does not exist"]),
    "unknown accelerate config": (lambda t, m: ("smoke", ["train.accelerate_config=deepspeed_zero9"], [], {}),
                                  ["train.accelerate_config", "neither a shipped config"]),
    "task file without a column": (lambda t, m: ("smoke", _tasks(t, [{"task": "qa", "prompt": "x?", "split": "dev"}]), [], {}),
                                   ["tasks.path", "row 0 lacks column(s) ['reference']"]),
    "task file with a column missing in one row": (
        lambda t, m: ("smoke", _tasks(t, [ROW, {"task": "qa", "prompt": "y?", "split": "dev"}]), [], {}),
        ["row 1 lacks column(s) ['reference']"]),
    "task file with an empty prompt": (lambda t, m: ("smoke", _tasks(t, [ROW, dict(ROW, prompt="  ")]), [], {}),
                                       ["row 1 has an empty prompt"]),
    "task file with an empty reference": (lambda t, m: ("smoke", _tasks(t, [dict(ROW, reference="")]), [], {}),
                                          ["row 0 has an empty reference"]),
    "task file without dev rows": (lambda t, m: ("smoke", _tasks(t, [ROW]) + ["tasks.families=null"], [], {}),
                                   ["tasks.path", "1 train and 0 dev rows"]),
    "task file without the families asked for": (
        lambda t, m: ("smoke", _tasks(t, [ROW, dict(ROW, split="dev")]) + ["tasks.families=[arithmetic]"], [], {}),
        ["tasks.families", "['arithmetic'] not among the collection's tasks ['qa']"]),
    "chat template that rejects a system turn": (lambda t, m: ("smoke", _template(t, m, GEMMA_LIKE), [], {}),
                                                 ["no system slot", "System role not supported"]),
    "chat template that drops the system turn": (lambda t, m: ("smoke", _template(t, m, DROPS_SYSTEM), [], {}),
                                                 ["no system slot", "drops the system turn"]),
    "endpoint refuses connections": (lambda t, m: ("smoke", OPENAI + ["teacher.base_url=http://127.0.0.1:9/v1",
                                                                       "teacher.api_key_env=null"], [], {}),
                                     ["teacher.base_url: cannot connect to http://127.0.0.1:9/v1 (connection refused)"]),
    "endpoint not a URL": (lambda t, m: ("smoke", OPENAI + ["teacher.base_url=localhost:8000", "teacher.api_key_env=null"],
                                         [], {}), ["teacher.base_url", "is not an http(s) URL"]),
    "API key variable unset": (lambda t, m: ("smoke", OPENAI + ["teacher.api_key_env=ORCA2_TEST_UNSET_KEY"], [], {}),
                               ["teacher.api_key_env: environment variable ORCA2_TEST_UNSET_KEY is not set"]),
    "replay-only without its cache file": (
        lambda t, m: ("smoke", OPENAI + ["teacher.replay_only=true", "teacher.cache_path=/no/cache.sqlite"], [], {}),
        ["teacher.cache_path", "needs an existing cache file"]),
    "sample_k with greedy decoding": (lambda t, m: ("smoke", ["teacher.workflow=sample_k", "teacher.samples=4"], [], {}),
                                      ["teacher.workflow", "temperature > 0"]),
    "a key where its variable's name goes": (lambda t, m: ("smoke", ["teacher.api_key_env=sk-proj-Abc123def456ghi789jkl"],
                                                           [], {}), ["teacher.api_key_env", "NAME of an environment variable"]),
    "a key-shaped value in params": (lambda t, m: ("smoke", ["description=sk-proj-Abc123def456ghi789jkl"], [], {}),
                                     ["description holds what looks like a secret"]),
    "a password in a URL": (lambda t, m: ("smoke", OPENAI + ["teacher.base_url=http://me:hunter2@127.0.0.1:9/v1",
                                                               "teacher.api_key_env=null"], [], {}),
                            ["teacher.base_url holds what looks like a secret"]),
    "a credential variable's value in an override": (
        lambda t, m: ("smoke", ["description=plain-words-but-secret-0042"], [],
                      {"MY_SERVICE_TOKEN": "plain-words-but-secret-0042"}),
        ["an override contains the value of a credential environment variable"]),
    "the api_key_env variable's value, whatever its name": (
        lambda t, m: ("smoke", OPENAI + ["teacher.api_key_env=TEACHER_CRED", "teacher.base_url=http://127.0.0.1:9/v1",
                                         "teacher.model=opaque-value-0042xyz"], [], {"TEACHER_CRED": "opaque-value-0042xyz"}),
        ["teacher.model holds what looks like a secret"]),
    "a secret as a papermill parameter (run id)": (lambda t, m: ("smoke", [], ["--run-id", "sk-Abc123def456ghi789jkl0"], {}),
                                                   ["papermill parameter 'run_dir' holds what looks like a secret"]),
    "resume of a folder that is no run": (lambda t, m: ("smoke", [], ["--resume", str(t)], {}),
                                          ["--resume", "is not a run directory (no params.yaml)"]),
    "cuda on a machine without a GPU": (lambda t, m: ("smoke", ["device=cuda"], [], {}),
                                        ["device: 'cuda' was asked for but no CUDA GPU is visible"]),
    # issue 17
    "a paid endpoint without prices": (lambda t, m: ("smoke", ["teacher.kind=openai", "teacher.model=gpt-4o-mini"], [], {}),
                                       ["teacher.price_input_per_mtok", "api.openai.com", "teacher.free: true"]),
    "a remote endpoint without prices": (
        lambda t, m: ("smoke", ["teacher.kind=openai", "teacher.model=m", "teacher.base_url=https://llm.example.org/v1"],
                      [], {}), ["teacher.price_input_per_mtok", "llm.example.org", "may be paid"]),
    "a key pasted into the judge's api_key_env": (
        lambda t, m: ("smoke", ["hallucination.judge={model: gpt-4o, api_key_env: sk-proj-Abc123def456ghi789jkl}"], [], {}),
        ["hallucination.judge.api_key_env", "NAME of an environment variable", "(value not shown)"]),
    "the hallucination judge's key unset": (
        lambda t, m: ("smoke", ["hallucination.judge={model: gpt-4o, api_key_env: ORCA2_TEST_UNSET_KEY}"], [], {}),
        ["hallucination.judge.api_key_env: environment variable ORCA2_TEST_UNSET_KEY is not set"]),
    "the MT-Bench judge's key unset": (
        lambda t, m: ("smoke", ["eval.harness.judge={base_url: 'https://api.openai.com/v1', model: gpt-4o, "
                                "api_key_env: ORCA2_TEST_UNSET_KEY}", "eval.harness.benchmarks=[mt_bench]"], [], {}),
        ["eval.harness.judge.api_key_env: environment variable ORCA2_TEST_UNSET_KEY is not set"]),
    "the harness endpoint's key unset": (
        lambda t, m: ("smoke", ["eval.harness.backend=chat", "eval.harness.endpoint={base_url: 'https://llm.example.org/v1', "
                                "model: m, api_key_env: ORCA2_TEST_UNSET_KEY}"], [], {}),
        ["eval.harness.endpoint.api_key_env: environment variable ORCA2_TEST_UNSET_KEY is not set"]),
    # issue 29
    "a budget that zero prices cannot count": (
        lambda t, m: ("smoke", ["teacher.kind=openai", "teacher.model=m", "teacher.base_url=http://127.0.0.1:9/v1",
                                "teacher.api_key_env=null", "teacher.budget_usd=5"], [], {}),
        ["teacher.budget_usd", "price of 0 it caps nothing"]),
    "a budget on a free endpoint": (
        lambda t, m: ("smoke", ["teacher.kind=openai", "teacher.model=m", "teacher.free=true", "teacher.budget_usd=5"],
                      [], {}), ["teacher.budget_usd", "price of 0 it caps nothing"]),
    "a key over plain http to another machine": (
        lambda t, m: ("smoke", OPENAI + ["teacher.base_url=http://llm.example.org/v1"], [], {}),
        ["teacher.base_url", "plain http to another machine", "OPENAI_API_KEY", "use https://"]),
    "a judge's key over plain http to another machine": (
        lambda t, m: ("smoke", ["hallucination.judge={model: j, base_url: 'http://10.1.2.3:8000/v1'}"], [], {}),
        ["hallucination.judge", "plain http to another machine", "api_key_env: null"]),
    "a profile that is not UTF-8": (lambda t, m: (_latin1_profile(t), [], [], {}),
                                    ["mine.yaml' is not UTF-8 text (byte 0xe9", "save it as UTF-8"]),
    "a task file that is not UTF-8": (lambda t, m: ("smoke", _latin1_tasks(t), [], {}),
                                      ["tasks.path", "tasks.jsonl", "not UTF-8 text"]),
    "a task file with a broken JSON line": (lambda t, m: ("smoke", _broken_tasks(t), [], {}),
                                            ["tasks.path", "tasks.jsonl", "line 2 is not valid JSON"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_clear_line_before_any_work(case, tmp_path, tiny_dir, capsys, monkeypatch):
    setup, words = CASES[case]
    if case.startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has a GPU")
    work = tmp_path / "in"
    work.mkdir()
    profile, overrides, extra, env = setup(work, tiny_dir)
    monkeypatch.delenv("ORCA2_TEST_UNSET_KEY", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    import transformers

    loaded = []  # a spy, not a stand-in: the real loader still runs if called
    real = transformers.AutoModelForCausalLM.from_pretrained
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained",
                        lambda *a, **k: loaded.append(a) or real(*a, **k))
    out = tmp_path / "out"
    argv = ["run", "--profile", str(profile), "--out", str(out)] + [x for o in overrides for x in ("--set", o)] + extra
    t0 = time.time()
    rc = main(argv)
    took = time.time() - t0
    err = capsys.readouterr()
    assert rc == 2, err
    lines = err.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err.err
    for w in words:
        assert w in lines[0], lines[0]
    assert not out.exists(), "a run folder was made"
    assert not loaded and err.out == "", "work started before the error"
    assert took < 30, f"{took:.1f} s before the error"


def test_run_id_already_used(tmp_path, capsys):
    (tmp_path / "smoke" / "x").mkdir(parents=True)
    assert main(["run", "--profile", "smoke", "--out", str(tmp_path), "--run-id", "x"]) == 2
    assert capsys.readouterr().err.strip() == (f"error: --run-id: the run directory {tmp_path / 'smoke' / 'x'} already "
                                               f"exists; choose another run id, or continue it with --resume "
                                               f"{tmp_path / 'smoke' / 'x'}")


def test_from_a_real_shell_one_line_and_exit_code_2(tmp_path):
    """The same refusals through a real subprocess: exit code 2, one line on stderr, seconds."""
    t0 = time.time()
    r = run_cli("run", "--profile", "smoke", "--out", str(tmp_path), *[x for o in OPENAI for x in ("--set", o)],
                "--set", "teacher.api_key_env=ORCA2_TEST_UNSET_KEY")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "ORCA2_TEST_UNSET_KEY is not set" in r.stderr
    assert time.time() - t0 < 60 and not any(tmp_path.iterdir())


@pytest.mark.parametrize("profile", sorted(p.stem for p in PARAMS_DIR.glob("*.yaml")))
def test_shipped_profiles_hold_no_secret(profile):
    from orca2_kit.config import load_params
    from orca2_kit.run.runner import refuse_secrets

    refuse_secrets(load_params(profile), {})  # raises if a shipped profile carried a key


def test_validate_reports_every_bad_key_at_once(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"extends": SMOKE, "profile": "bad", "seed": "x", "train": {"epoch": 1}}))
    r = run_cli("validate", str(bad))
    assert r.returncode == 2 and "seed:" in r.stderr and "train.epoch: unknown key" in r.stderr
