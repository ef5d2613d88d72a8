import pytest

from orca2_kit import erasure
from orca2_kit import tasks
from orca2_kit.strategies import STRATEGIES, student_system_message
from orca2_kit.teacher import run_teacher
from orca2_kit.config import TeacherConfig


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    items = tasks.build_suite(0, n_train=6, n_dev=1, n_test=1)["train"]
    smap = {f.name: f.expected_strategy for f in tasks.FAMILIES.values()}
    return run_teacher(TeacherConfig(), items, smap, tmp_path_factory.mktemp("teacher"))


def test_reference_answers_all_accepted(answers):
    assert answers.accepted.all() and (answers.teacher == "reference-teacher").all()


@pytest.mark.parametrize("kind", ["generic", "cautious", "empty"])
def test_erased_rows_carry_no_instruction_text(answers, kind):
    rows = erasure.build_sft_rows(answers, student_system_message(kind))
    instr = set(answers.instruction)
    for r in rows:
        text = r["prompt"][0]["content"] + r["prompt"][1]["content"] + r["completion"][0]["content"]
        assert not any(i in text for i in instr)
        for s in STRATEGIES.values():  # not even a sentence of any strategy's instruction
            assert s.instruction.split("{task}")[1][:50] not in text
    assert {r["strategy"] for r in rows} == set(answers.strategy)


def test_provenance_rebuilds_the_unerased_view(answers, tmp_path):
    rows = erasure.build_sft_rows(answers, student_system_message("generic"))
    ds = erasure.save_sft_dataset(rows, tmp_path / "ds", seed=0)
    by_id = dict(zip(answers.id, answers.instruction))
    assert all(erasure.unerased_instruction(r) == by_id[r["id"]] for r in ds)
    assert (tmp_path / "ds" / "README.md").read_text().count("prompt-completion") == 1


def test_not_erased_variant_keeps_the_instruction(answers):
    rows = erasure.build_sft_rows(answers, "ignored", variant="not_erased")
    assert all(r["prompt"][0]["content"] == i for r, i in zip(rows, answers.instruction))


def test_refuses_teacher_instruction_as_student_system(answers):
    with pytest.raises(erasure.ErasureError, match="teacher"):
        erasure.build_sft_rows(answers, answers.instruction.iloc[0])


def test_refuses_when_nothing_accepted(answers):
    with pytest.raises(erasure.ErasureError, match="no accepted"):
        erasure.build_sft_rows(answers.assign(accepted=False), "hi")


def test_direct_only_ablation(answers, tmp_path):
    items = tasks.build_suite(0, n_train=3, n_dev=1, n_test=1)["train"]
    direct = run_teacher(TeacherConfig(), items, erasure.direct_only_map(tasks.FAMILIES), tmp_path)
    rows = erasure.build_sft_rows(direct, student_system_message("generic"), variant="direct_only")
    assert {r["strategy"] for r in rows} == {"direct"} and all(r["completion"][0]["content"].startswith("Answer:") for r in rows)
    with pytest.raises(erasure.ErasureError, match="direct strategy only"):
        erasure.build_sft_rows(answers, "hi", variant="direct_only")


def test_saving_draws_no_progress_bar_and_keeps_the_callers_setting(answers, tmp_path, capfd):
    """Notebook 03 stored a 'Saving the dataset (1/1 shards): 100%|...' bar (issue 27): the save is
    silent, and the caller's progress-bar setting is what it was before."""
    import datasets

    rows = erasure.build_sft_rows(answers, student_system_message("generic"))
    datasets.enable_progress_bars()
    erasure.save_sft_dataset(rows, tmp_path / "ds", seed=0)
    err = capfd.readouterr().err
    assert "Saving the dataset" not in err and "examples/s" not in err, err
    assert not datasets.are_progress_bars_disabled()
