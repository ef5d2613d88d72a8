import pytest
import yaml

from orca2_kit.config import PARAMS_DIR, ConfigError, load_params
from tests.conftest import run_cli


@pytest.mark.parametrize("profile", sorted(p.stem for p in PARAMS_DIR.glob("*.yaml")))
def test_every_shipped_profile_validates(profile):
    p = load_params(profile)
    assert p.profile == profile


def test_extends_and_overrides(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(yaml.safe_dump({"extends": str(PARAMS_DIR / "smoke.yaml"), "profile": "child", "seed": 7}))
    p = load_params(child, ["train.epochs=3", "tasks.families=[weekday]", "tasks.heldout_families=[]"])
    assert (p.seed, p.train.epochs, p.tasks.families) == (7, 3.0, ["weekday"])
    assert p.student.source == "tiny-random"  # from smoke
    assert p.generation.batch_size == 16 and p.teacher.kind == "reference"  # smoke, then offline
    assert load_params(child, {"train.epochs": 5}).train.epochs == 5


def _error(*overrides, profile="offline"):
    with pytest.raises(ConfigError) as e:
        load_params(profile, list(overrides))
    return str(e.value)


def test_unknown_key_is_named_with_a_suggestion():
    msg = _error("train.learning_rte=0.1")
    assert "train.learning_rte: unknown key" in msg and "train.learning_rate" in msg


def test_unknown_top_level_key():
    assert "sead: unknown key" in _error("sead=3") and "'seed'" in _error("sead=3")


def test_wrong_type_and_negative_size():
    assert "train.per_device_batch_size" in _error("train.per_device_batch_size=many")
    assert "tasks.n_test" in _error("tasks.n_test=-2")


def test_missing_model_path_is_named():
    msg = _error("student.source=local", "student.name_or_path=/no/such/model")
    assert "student.name_or_path" in msg and "/no/such/model" in msg


def test_unknown_family_and_strategy():
    assert "strategy_selection.candidates" in _error("strategy_selection.candidates=[telepathy]")


def test_key_value_not_key_in_teacher():
    assert "teacher.api_key_env" in _error("teacher.api_key_env=sk-123-secret-value")


def test_extends_cycle(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("extends: b.yaml\nprofile: a\n")
    b.write_text("extends: a.yaml\nprofile: b\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_params(a)


def test_unknown_profile_suggests():
    with pytest.raises(ConfigError, match="offline"):
        load_params("ofline")


def test_cli_validate_exit_codes(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: " + str(PARAMS_DIR / "offline.yaml") + "\nprofile: bad\ntrian: {epochs: 1}\n")
    r = run_cli("validate", str(bad))
    assert r.returncode != 0 and "trian: unknown key" in r.stderr and "'train'" in r.stderr
    assert run_cli("validate", "smoke").returncode == 0
