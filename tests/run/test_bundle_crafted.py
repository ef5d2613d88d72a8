"""Crafted workshop bundles (issue 29): archives written by hand to make a laptop send its key
somewhere or write outside the folder it unpacks into, one per route: a profile the bundle's
params `extends:` (inside the archive, or outside it), an index whose name is a path, judges,
endpoints and study arms, absolute paths. Each unbundles into a folder inside tmp_path; a counting
proxy stands where every endpoint points, and the teacher of every profile (and study arm) that
comes out is run with the key's variable set. Each test ends with 0 requests at the proxy and 0
files written outside the destination."""
import os
import tempfile
from pathlib import Path

import pytest
import yaml

from orca2_kit import tasks
from orca2_kit.config import ConfigError, load_params
from orca2_kit.run.bundle import unbundle
from orca2_kit.study.arms import plan
from orca2_kit.teacher import run_teacher
from tests.faultproxy import FaultProxy
from tests.run.test_bundle_safety import CANARY_ENV, crafted

SMAP = {"arithmetic": "step_by_step", "sentiment": "direct"}


@pytest.fixture
def proxy(monkeypatch):
    """Where every crafted endpoint points; the key's variable is set, as on a researcher's laptop."""
    monkeypatch.setenv(CANARY_ENV, "canary-key-value-123456")
    with FaultProxy("http://127.0.0.1:9", fault_rate=0.0) as p:
        yield p
    assert sum(p.counts.values()) == 0 and not p.auth, (p.counts, p.auth)  # nothing reached it


def _teacher(url) -> dict:
    return {"kind": "openai", "base_url": url, "model": "m", "api_key_env": CANARY_ENV, "replay_only": False,
            "price_input_per_mtok": 1.0, "price_output_per_mtok": 1.0}


def _judges(url) -> dict:
    endpoint = {"base_url": url, "model": "j", "api_key_env": CANARY_ENV}
    return {"hallucination": {"judge": {"model": "j", "base_url": url, "api_key_env": CANARY_ENV}},
            "eval": {"harness": {"backend": "chat", "endpoint": endpoint, "judge": endpoint}}}


def _files(tiny_dir, params: dict, **more: dict) -> dict[str, bytes]:
    """A bundle's files: the tiny model, an empty teacher cache, params.yaml and `more` YAML files."""
    from orca2_kit.client.cache import ResponseCache

    files = {f"model/{f.name}": f.read_bytes() for f in Path(tiny_dir).iterdir() if f.is_file()}
    with tempfile.TemporaryDirectory() as tmp:
        ResponseCache(Path(tmp) / "empty.sqlite").close()
        files["teacher_cache.sqlite"] = (Path(tmp) / "empty.sqlite").read_bytes()
    files["params.yaml"] = yaml.safe_dump(params).encode()
    files.update({k: yaml.safe_dump(v).encode() for k, v in more.items()})
    return files


def _smoke() -> dict:
    return load_params("smoke").model_dump(mode="json", exclude_defaults=True)


def _everything(root: Path) -> set:
    return {p for p in root.rglob("*")}


def _outside(root: Path, dest: Path) -> set:
    return {p for p in _everything(root) if not p.is_relative_to(dest)}


def _run_every_teacher(profile: Path, out: Path) -> None:
    """Stage 02's teacher, for the profile and every study arm, with the key's variable set."""
    items = tasks.build_suite(1, list(SMAP), n_train=1, n_dev=1, n_test=1)["train"]
    for arm in plan(load_params(profile)):
        run_teacher(arm.params.teacher, items, SMAP, out / arm.name)


def _assert_safe(profile: Path, dest: Path) -> None:
    text = profile.read_text()
    assert "extends" not in text and CANARY_ENV not in text and "127.0.0.1" not in text
    for arm in plan(load_params(profile)):
        t, p = arm.params.teacher, arm.params
        assert t.kind == "reference" or (t.replay_only and t.base_url is None and t.cache_path == str(dest / "teacher_cache.sqlite"))
        assert t.api_key_env is None and p.hallucination.judge is None and p.eval.harness.backend == "hf"
        assert p.eval.harness.endpoint.base_url is None and p.eval.harness.judge.base_url is None
        assert p.eval.harness.judge.api_key_env is None and p.profile == "workshop"


def _unbundle_inside(archive, dest, root):
    """Unbundle `archive` into `dest`: nothing written outside it under `root`, the result safe."""
    before = _outside(root, dest)
    profile = unbundle(archive, dest, log=lambda *_: None)
    assert _outside(root, dest) == before
    _assert_safe(profile, dest)
    return profile


def test_a_profile_the_bundle_extends_is_flattened_and_scrubbed(tiny_dir, tmp_path, proxy):
    """params.yaml extends inputs/mid.yaml, which extends inputs/evil.yaml: the teacher (openai at
    the proxy, the key's variable, replay-only off, and no `kind` in the child, so nothing forced
    replay-only before) and both judges come from the chain. Flattened inside the archive, scrubbed."""
    url = proxy.url + "/v1"
    evil = {**_smoke(), **_judges(url), "teacher": _teacher(url)}
    mid = {"extends": "evil.yaml", "teacher": {"max_tokens": 16}}
    archive = crafted(tmp_path / "evil.tar.gz", _files(tiny_dir, {"extends": "inputs/mid.yaml", "teacher": {"model": "m"}},
                                                         **{"inputs/mid.yaml": mid, "inputs/evil.yaml": evil}))
    dest = tmp_path / "ws"
    profile = _unbundle_inside(archive, dest, tmp_path)
    p = load_params(profile)
    assert p.teacher.kind == "openai" and p.teacher.model == "m" and p.teacher.max_tokens == 16  # the chain, merged
    _run_every_teacher(profile, dest / "out")


@pytest.mark.parametrize("target", ["../../evil.yaml", "absolute", "~/evil.yaml", "gpu"])
def test_an_extends_outside_the_bundle_is_refused(tiny_dir, tmp_path, proxy, target):
    """A parent outside the archive (beside the folder, an absolute path, the home folder, a kit
    profile by name) is not the bundle's: refused before anything is unpacked."""
    (tmp_path / "evil.yaml").write_text(yaml.safe_dump({**_smoke(), "teacher": _teacher(proxy.url + "/v1")}))
    parent = str(tmp_path / "evil.yaml") if target == "absolute" else target
    archive = crafted(tmp_path / "evil.tar.gz", _files(tiny_dir, {"extends": parent}))
    dest = tmp_path / "x" / "ws"
    before = _everything(tmp_path)
    with pytest.raises(ConfigError, match="which is not a file inside the bundle"):
        unbundle(archive, dest, log=lambda *_: None)
    assert _everything(tmp_path) == before  # nothing written anywhere


@pytest.mark.parametrize("name", ["../../outside_dest", "absolute", "a/b", "..", ".hidden", "x" * 65, ""])
def test_an_index_name_that_is_a_path_is_refused_and_writes_nothing_outside(tiny_dir, tmp_path, proxy, name):
    """The index's name names the profile file (dest/<name>.yaml): a path there wrote outside dest."""
    name = str(tmp_path / "abs-evil") if name == "absolute" else name
    archive = crafted(tmp_path / "evil.tar.gz", _files(tiny_dir, _smoke()), index_extra={"name": name})
    dest = tmp_path / "a" / "b" / "ws"
    before = _everything(tmp_path)
    with pytest.raises(ConfigError, match="is not a plain name"):
        unbundle(archive, dest, log=lambda *_: None)
    assert _everything(tmp_path) == before


def test_judges_endpoints_and_study_arms_of_a_crafted_profile_reach_nothing(tiny_dir, tmp_path, proxy):
    """Both judges, the harness's chat endpoint, and a study arm whose overrides (dotted keys, which
    a key-by-key scrub never saw) make its teacher openai at the proxy with the key's variable."""
    url = proxy.url + "/v1"
    arm = {f"teacher.{k}": v for k, v in _teacher(url).items()}
    params = {**_smoke(), **_judges(url), "study": {"arms": {"recipe": {}, "evil": arm}}}
    archive = crafted(tmp_path / "evil.tar.gz", _files(tiny_dir, params))
    dest = tmp_path / "ws"
    profile = _unbundle_inside(archive, dest, tmp_path)
    assert "evil" in load_params(profile).study.arms  # the arm stays, made safe
    _run_every_teacher(profile, dest / "out")


@pytest.mark.parametrize("where", ["tasks.path", "erasure.system_message_file", "a study arm's system_message_file"])
def test_an_absolute_path_in_a_crafted_profile_is_refused(tiny_dir, tmp_path, proxy, where):
    params = _smoke()
    if where == "tasks.path":
        params["tasks"] = {**params["tasks"], "source": "file", "path": "/etc"}
    elif where == "erasure.system_message_file":
        params["erasure"] = {"system_message_file": "/etc/hostname"}
    else:
        params["study"] = {"arms": {"recipe": {}, "x": {"erasure.system_message_file": "/etc/hostname"}}}
    archive = crafted(tmp_path / "evil.tar.gz", _files(tiny_dir, params))
    dest = tmp_path / "ws"
    before = _everything(tmp_path)
    with pytest.raises(ConfigError, match="not a file inside the bundle|refused"):
        unbundle(archive, dest, log=lambda *_: None)
    assert _everything(tmp_path) == before and not dest.exists()


def test_outside_folders_in_a_crafted_profile_name_nothing_outside(tiny_dir, tmp_path, proxy):
    """A profile name that is a path (the run folder is outputs/<profile>/), a data folder, a
    model cache folder and an accelerate config file of the sender's machine: all dropped."""
    params = {**_smoke(), "profile": "../../escape", "data_dir": "/etc"}
    params["student"] = {"source": "embedded", "cache_dir": str(tmp_path / "elsewhere")}
    params["train"] = {**params.get("train", {}), "accelerate_config": "/etc/hostname"}
    archive = crafted(tmp_path / "evil.tar.gz", _files(tiny_dir, params))
    dest = tmp_path / "ws"
    profile = _unbundle_inside(archive, dest, tmp_path)
    p = load_params(profile)
    assert p.data_dir is None and p.student.cache_dir is None and p.train.accelerate_config is None
    assert p.student.name_or_path == str(dest / "model") and os.path.basename(profile) == "workshop.yaml"


@pytest.mark.parametrize("section", ["tasks", "hallucination", "eval", "train", "study"])
def test_a_section_that_is_not_a_mapping_is_refused_in_one_line(tiny_dir, tmp_path, section):
    """`eval: 3` and the like: the scrub reads every section as a mapping; a crafted one that is not
    is refused with one ConfigError line naming the bundle (not a traceback), and nothing stays."""
    archive = crafted(tmp_path / "evil.tar.gz", _files(tiny_dir, {**_smoke(), section: 3}))
    dest = tmp_path / "ws"
    before = _everything(tmp_path)
    with pytest.raises(ConfigError, match="not a mapping|evil.tar.gz") as e:
        unbundle(archive, dest, log=lambda *_: None)
    assert "\n" not in str(e.value) and _everything(tmp_path) == before


def test_params_that_do_not_load_leave_nothing_unpacked(tiny_dir, tmp_path):
    """A key this kit does not know: the written profile fails to load, so the bundle is refused in
    one line and what was unpacked is removed (a half-made workshop folder is not left behind)."""
    archive = crafted(tmp_path / "evil.tar.gz", _files(tiny_dir, {**_smoke(), "teacher": {"no_such_key": 1}}))
    before = _everything(tmp_path)
    with pytest.raises(ConfigError, match="do not load here") as e:
        unbundle(archive, tmp_path / "ws", log=lambda *_: None)
    assert "\n" not in str(e.value) and "no_such_key" in str(e.value) and _everything(tmp_path) == before
