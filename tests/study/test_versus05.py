"""Issue 27: notebook 07's gain from training (recipe against the base) and notebook 05's (student
against the base) are two numbers for one question; 07 says, from the two profiles' params, why
they differ and that they are not the same measurement."""
from orca2_kit.config import load_params
from orca2_kit.study import versus05


def test_the_offline_study_names_05s_profile_and_every_difference_from_the_params():
    study = load_params("offline-study")
    name, run = versus05.run_profile(study)
    assert name == "offline" and run.tasks.n_train != study.tasks.n_train  # offline-study.yaml extends offline.yaml
    s = versus05.sentence(study)
    assert "not the same measurement" in s
    assert (f"05 (profile 'offline') scores one student ({run.tasks.n_train} training items per family" in s
            and f"on {run.tasks.n_test} test items of each of {len(run.tasks.families)} families" in s)
    assert (f"({study.tasks.n_train} training items per family, {len(study.study.seeds)} training seeds" in s
            and f"on {study.tasks.n_test} test items of each of {len(study.tasks.families)} families" in s)
    assert f"the first {run.tasks.n_test} of each of its {len(run.tasks.families)} families here" in s
    assert ("They differ in families, never-trained families, test items per family, training items per family, "
            "training seeds, system messages") in s


def test_a_study_on_its_runs_own_suite_says_only_what_differs():
    study = load_params("gpu-study")
    assert versus05.run_profile(study)[0] == "gpu"
    s = versus05.sentence(study)
    assert "05's test items are the same as here" in s and "the training items are the same" in s
    assert "They differ in training seeds, system messages" in s and "families," not in s.split("They differ in")[1]


def test_05s_test_items_are_a_prefix_of_the_studys_as_the_sentence_says():
    """The claim the sentence makes about the items holds for the suites themselves."""
    from orca2_kit import tasks

    study = load_params("offline-study")
    run = versus05.run_profile(study)[1]
    small = {(i.family, i.prompt) for i in tasks.build_suite(run.seed, run.tasks.families, run.tasks.n_train,
                                                             run.tasks.n_dev, run.tasks.n_test,
                                                             run.tasks.heldout_families)["test"]}
    big = {(i.family, i.prompt) for i in tasks.build_suite(study.seed, study.tasks.families, study.tasks.n_train,
                                                           study.tasks.n_dev, study.tasks.n_test,
                                                           study.tasks.heldout_families)["test"]}
    assert len(small) == len(run.tasks.families) * run.tasks.n_test and small <= big
