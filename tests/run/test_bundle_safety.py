"""Workshop bundles are safe to receive (issue 17): `unbundle` trusts nothing in the archive's
params (replay-only, no endpoint, no key name, no outside path), refuses links and paths outside
its folder, checks the archive's sha256 when given; a bundle carries only its own run's cached
answers, and a hub student's files themselves (not the hub cache's symlinks). These bundles are
made from small hand-built run folders; tests/run/test_bundle.py makes one from a real run."""
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from orca2_kit import tasks
from orca2_kit.run.bundle import bundle, unbundle
from orca2_kit.config import ConfigError, dump_params, load_params
from orca2_kit.client.cache import ResponseCache
from tests.conftest import ROOT
from tests.faultproxy import FaultProxy

CANARY_ENV = "ORCA2_TEST_BUNDLE_KEY"


def make_run(root: Path, overrides=(), answers=()) -> Path:
    """A run folder with stages 01-02 as bundle() reads them (suite, strategy map, answers)."""
    run = root / "smoke" / "r1"
    p = load_params("smoke", list(overrides))
    suite = tasks.build_suite(p.seed, p.tasks.families, p.tasks.n_train, p.tasks.n_dev, p.tasks.n_test)
    for split, items in suite.items():
        tasks.save_items(items, run / "01_strategy_selection" / "suite" / f"{split}.jsonl")
    (run / "01_strategy_selection" / "strategy_map.json").write_text(json.dumps({f: "direct" for f in p.tasks.families}))
    (run / "02_teacher_prompting").mkdir()
    (run / "02_teacher_prompting" / "answers.jsonl").write_text("".join(json.dumps(a) + "\n" for a in answers))
    dump_params(p, run / "params.yaml")
    return run


def add_file(tar, name, data: bytes, **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items():
        setattr(info, k, v)
    tar.addfile(info, io.BytesIO(data))


def crafted(path: Path, files: dict[str, bytes], links=(), index_extra=None) -> Path:
    """A bundle written by hand, with a correct index: what someone could send a workshop."""
    index = {"format": 1, "name": "workshop", "source_run": {"run_id": "x"}, "teacher": {"cached_answers": 0},
             "files": {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}, **(index_extra or {})}
    with tarfile.open(path, "w:gz") as tar:
        add_file(tar, "bundle.json", json.dumps(index).encode())
        for name, data in files.items():
            add_file(tar, name, data)
        for name, target in links:
            add_file(tar, name, b"", type=tarfile.SYMTYPE, linkname=target)
    return path


def test_bundle_prints_its_sha256_and_unbundle_checks_it(tiny_dir, tmp_path):
    run = make_run(tmp_path)
    log = []
    archive = bundle(run, tmp_path / "ws.tar.gz", log=log.append)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert f"sha256 {digest}" in "\n".join(log) and f"--sha256 {digest}" in "\n".join(log)
    assert (tmp_path / "ws.tar.gz.sha256").read_text().split()[0] == digest
    with pytest.raises(ConfigError, match="is not the bundle that was made"):
        unbundle(archive, tmp_path / "bad", sha256="0" * 64, log=lambda *_: None)
    assert not (tmp_path / "bad").exists() and not list(tmp_path.glob(".bad*"))
    profile = unbundle(archive, tmp_path / "ok", sha256=digest.upper(), log=lambda *_: None)
    assert load_params(profile).student.name_or_path == str(tmp_path / "ok" / "model")


def test_a_bundle_holds_only_its_own_runs_cached_answers(tiny_dir, tmp_path):
    run = make_run(tmp_path, ["teacher.kind=openai", "teacher.model=m", "teacher.base_url=http://127.0.0.1:9/v1",
                              "teacher.api_key_env=null"])
    cache = ResponseCache(tmp_path / "smoke" / "teacher_cache.sqlite")  # the profile's shared cache
    for i in range(3):
        cache.put(f"k{i}", "m", {"messages": [{"role": "user", "content": f"another run's prompt {i}"}]}, f"a{i}")
    cache.close()
    (run / "02_teacher_prompting" / "cache_keys.json").write_text(json.dumps(["k0", "k2"]))
    archive = bundle(run, tmp_path / "ws.tar.gz", log=lambda *_: None)
    with tarfile.open(archive) as tar:
        tar.extract("teacher_cache.sqlite", tmp_path / "x", filter="data")
    shipped = ResponseCache(tmp_path / "x" / "teacher_cache.sqlite")
    assert len(shipped) == 2 and shipped.get("k1") is None and shipped.get("k2") == "a2"
    assert b"another run's prompt 1" not in (tmp_path / "x" / "teacher_cache.sqlite").read_bytes()


def test_unbundle_refuses_links_and_paths_outside_its_folder(tmp_path):
    for name, bad in {"symlink": crafted(tmp_path / "l.tar.gz", {"params.yaml": b"{}"},
                                         links=[("model/config.json", "/etc/passwd")]),
                      "outside": crafted(tmp_path / "o.tar.gz", {"params.yaml": b"{}", "../escape.txt": b"x"}),
                      "params path": crafted(tmp_path / "p.tar.gz", {"params.yaml": yaml.safe_dump(
                          {"tasks": {"source": "file", "path": "../../../etc"}}).encode()})}.items():
        with pytest.raises(ConfigError, match="refused|outside|symlink"):
            unbundle(bad, tmp_path / name, log=lambda *_: None)
        assert not (tmp_path / name).exists() and not (tmp_path / "escape.txt").exists(), name


def test_a_hub_students_snapshot_is_bundled_as_real_files(tiny_dir, tmp_path):
    """The hub cache's snapshot folder holds symlinks into its blob store; the bundle must hold the
    files (a symlink pointing outside the folder is refused by unbundle)."""
    hub = tmp_path / "hub"
    repo = hub / "models--org--tiny"
    snap = repo / "snapshots" / ("a" * 40)
    (repo / "blobs").mkdir(parents=True)
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    for f in Path(tiny_dir).iterdir():
        if f.is_file():
            blob = repo / "blobs" / hashlib.sha256(f.read_bytes()).hexdigest()
            blob.write_bytes(f.read_bytes())
            (snap / f.name).symlink_to(os.path.relpath(blob, snap))
    run = make_run(tmp_path, ["student.source=hub", "student.name_or_path=org/tiny"])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-m", "orca2_kit", "bundle", str(run), "--out", str(tmp_path / "ws.tar.gz")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    with tarfile.open(tmp_path / "ws.tar.gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert "model/config.json" in members and all(m.isfile() for m in members.values())
    profile = unbundle(tmp_path / "ws.tar.gz", tmp_path / "ws", log=lambda *_: None)
    assert (tmp_path / "ws" / "model" / "config.json").read_bytes() == (Path(tiny_dir) / "config.json").read_bytes()
    assert load_params(profile).student.source == "local"


@pytest.mark.slow
@pytest.mark.parametrize("route", ["params", "extends chain"])
def test_a_crafted_bundle_sends_nothing_anywhere(tiny_dir, tmp_path, route):
    """A bundle whose params point the teacher, both judges and the harness at an outside server
    with a real key's variable, and turn replay-only off: unbundled and run (01, then 02 with an
    empty cache), not one request reaches that server. "extends chain": all of that sits in a
    profile inside the archive that params.yaml extends (issue 29: the scrub never saw it)."""
    os.environ.pop(CANARY_ENV, None)
    with FaultProxy("http://127.0.0.1:9", fault_rate=0.0) as proxy:
        evil = proxy.url + "/v1"
        params = load_params("smoke").model_dump(mode="json", exclude_defaults=True)
        params.update(profile="workshop", data_dir="/etc", erasure={"system_message": "generic"})
        params["teacher"] = {"kind": "openai", "base_url": evil, "model": "m", "api_key_env": CANARY_ENV,
                             "replay_only": False, "mode": "batch", "cache_path": "/tmp/elsewhere.sqlite"}
        params["hallucination"] = {**params.get("hallucination", {}), "judge": {"model": "j", "base_url": evil,
                                                                              "api_key_env": CANARY_ENV}}
        params["eval"] = {**params.get("eval", {}), "harness": {**params.get("eval", {}).get("harness", {}),
                          "backend": "chat", "endpoint": {"base_url": evil, "model": "m", "api_key_env": CANARY_ENV},
                          "judge": {"base_url": evil, "model": "j", "api_key_env": CANARY_ENV}}}
        files = {"params.yaml": yaml.safe_dump(params).encode()}
        if route == "extends chain":
            files = {"params.yaml": yaml.safe_dump({"extends": "inputs/evil.yaml", "teacher": {"model": "m"}}).encode(),
                     "inputs/evil.yaml": files["params.yaml"]}
        files.update({f"model/{f.name}": f.read_bytes() for f in Path(tiny_dir).iterdir() if f.is_file()})
        empty = ResponseCache(tmp_path / "empty.sqlite")
        empty.close()
        files["teacher_cache.sqlite"] = (tmp_path / "empty.sqlite").read_bytes()
        archive = crafted(tmp_path / "evil.tar.gz", files)

        profile = unbundle(archive, tmp_path / "ws", log=lambda *_: None)
        env = {**os.environ, "PYTHONPATH": str(ROOT), CANARY_ENV: "canary-key-value-123456"}

        def cli(*args):
            return subprocess.run([sys.executable, "-m", "orca2_kit", "run", *args], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=900)

        r1 = cli("--profile", str(profile), "--out", str(tmp_path / "out"), "--run-id", "w", "--only", "01")
        r2 = cli("--resume", str(tmp_path / "out" / "workshop" / "w"), "--only", "02") if r1.returncode == 0 else None
        assert sum(proxy.counts.values()) == 0 and not proxy.auth, (proxy.counts, proxy.auth)  # nothing reached it
        assert r1.returncode == 0, r1.stdout[-2000:] + r1.stderr[-2000:]
        assert r2.returncode == 0, r2.stdout[-2000:] + r2.stderr[-2000:]
        stats = json.loads((tmp_path / "out" / "workshop" / "w" / "02_teacher_prompting" / "teacher_stats.json").read_text())
        assert stats["requests_sent"] == 0 and stats["failed"] == stats["n"] > 0  # every answer a cache miss
        text = profile.read_text()  # and the profile the laptop runs names no endpoint, key or outside path
        assert str(proxy.server.server_address[1]) not in text and CANARY_ENV not in text and "/etc" not in text
        p = load_params(profile)
        assert p.teacher.replay_only and p.teacher.base_url is None and p.teacher.api_key_env is None
        assert p.teacher.mode == "online" and p.hallucination.judge is None and p.eval.harness.backend == "hf"
        assert p.eval.harness.judge.base_url is None and p.teacher.cache_path == str(tmp_path / "ws" / "teacher_cache.sqlite")
    assert sum(proxy.counts.values()) == 0 and not proxy.auth
