"""Workshop bundles: everything the pipeline needs offline, in one .tar.gz.

`bundle(run_dir)` packs, from a finished run: the student model directory (the converted
SmolLM2, or whatever the run trained; a hub model's snapshot symlinks are packed as the files they
point to), the teacher's answers to this run's requests (a consistent copy of those rows of the
SQLite cache the run answered from, no other run's), the task suite the seed produced (to check a
laptop draws the same items) and the run's params, turned into a replay-only profile.
`bundle.json` inside holds a sha256 for every file; the archive's own sha256 is printed (and
written beside it): send it by another channel, so `unbundle --sha256` detects tampering, not
just damage.

`unbundle(archive, dest)` (run/unbundle.py) receives one on another machine and trusts nothing in it.
"""
from __future__ import annotations

import json
import shutil
import tarfile
import time
from pathlib import Path

import yaml
from tqdm.auto import tqdm

from orca2_kit.config import ConfigError, load_params
from orca2_kit.fingerprint import sha256_file
from orca2_kit.run.manifest import git_state, read_manifest
from orca2_kit.models import student_path
from orca2_kit.client.cache import normalise_endpoint
from orca2_kit.paths import REPO
from orca2_kit.run.unbundle import FORMAT, INDEX, check_name, check_suite, unbundle  # noqa: F401 (unbundle, check_suite: here too)



def _student_dir(params) -> Path:
    """The student's weights as a local directory (hub models: the local hub cache, no download)."""
    path = student_path(params.student)
    if params.student.source == "hub":
        from huggingface_hub import snapshot_download

        try:
            path = snapshot_download(path, revision=params.student.revision, local_files_only=True)
        except Exception:  # noqa: BLE001 — whatever the hub library raises, the fix is the same
            raise ConfigError(f"bundle: hub model '{path}' is not in the local hub cache; load it once, or "
                              "use student.source: local with its directory") from None
    return Path(path)


def teacher_cache_file(params, run_dir: Path) -> Path:
    """Where the run's teacher answered from (the default is shared by the profile's runs)."""
    return Path(params.teacher.cache_path).expanduser() if params.teacher.cache_path else run_dir.parent / "teacher_cache.sqlite"


def bundle(run_dir: str | Path, dest: str | Path | None = None, name: str = "workshop", log=print) -> Path:
    """Pack a finished run for offline replay; return the archive's path."""
    from orca2_kit.client.cache import ResponseCache

    t0 = time.time()
    check_name(name, "bundle")
    run_dir = Path(run_dir).resolve()
    if not (run_dir / "params.yaml").is_file():
        raise ConfigError(f"bundle: '{run_dir}' is not a run directory (no params.yaml)")
    suite = run_dir / "01_strategy_selection" / "suite"
    answers = run_dir / "02_teacher_prompting" / "answers.jsonl"
    if not answers.is_file() or not suite.is_dir():
        raise ConfigError(f"bundle: '{run_dir}' has no teacher answers yet; run stages 01 and 02 first "
                          f"(python -m orca2_kit run --resume {run_dir})")
    params = load_params(run_dir / "params.yaml")
    cache_src = teacher_cache_file(params, run_dir) if params.teacher.kind == "openai" else None
    if cache_src is not None and not cache_src.is_file():
        raise ConfigError(f"bundle: the run's teacher cache '{cache_src}' is missing")
    keys_file = run_dir / "02_teacher_prompting" / "cache_keys.json"
    if cache_src is not None and not keys_file.is_file():
        raise ConfigError(f"bundle: '{run_dir}' does not record which cached answers it used (it predates that record); "
                          f"rerun its stage 02, which answers from the cache and pays nothing: "
                          f"python -m orca2_kit run --resume {run_dir} --only 02")
    dest = Path(dest or run_dir.parent / f"{name}-{run_dir.name}.tar.gz").resolve()
    if not dest.name.endswith(".tar.gz"):
        raise ConfigError(f"bundle: the archive name must end in .tar.gz, got '{dest.name}'")
    model = _student_dir(params)

    stage = dest.parent / f".{dest.name}.tmp"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "suite").mkdir(parents=True)
    try:
        files = {}  # archive name -> path on this machine
        for p in sorted(model.iterdir()):
            if p.is_file():
                files[f"model/{p.name}"] = p
        if cache_src is not None:  # a consistent copy of this run's rows, even while another process writes
            cache = ResponseCache(cache_src)
            files["teacher_cache.sqlite"] = cache.export(stage / "teacher_cache.sqlite",
                                                         keys=json.loads(keys_file.read_text()))
            cache.close()
            exported = ResponseCache(files["teacher_cache.sqlite"])
            n_cached = len(exported)
            exported.close()
        for p in sorted(suite.glob("*.jsonl")):
            files[f"suite/{p.name}"] = p
        # only what differs from the schema's defaults: a laptop on another kit version still reads it
        replay = params.model_dump(mode="json", exclude_defaults=True)
        for section in ("student", "teacher", "tasks", "erasure"):
            replay.setdefault(section, {})
        replay.pop("data_dir", None)
        replay.update(profile=name, seed=params.seed,
                      description=f"workshop replay of run {run_dir.name} ({params.profile}): "
                                  f"{params.teacher.model or params.teacher.kind} teacher from its cache, no network")
        for k in ("cache_dir", "revision"):
            replay["student"].pop(k, None)
        replay["student"].update(source="local", name_or_path=None)
        if params.teacher.kind == "openai":
            for k in ("dry_run", "mode", "budget_usd", "base_url"):
                replay["teacher"].pop(k, None)
            replay["teacher"].update(replay_only=True, cache_path=None, api_key_env=None)
        h = replay.get("hallucination") or {}  # what needs the network or this machine's data stays behind
        dropped = [k for k in ("judge", "sources") if h.get(k)]
        if h.get("support_model") not in (None, "package"):
            dropped.append("support_model")
        for k in dropped:
            h.pop(k)
            log(f"bundle: hallucination.{k} left out (it needs the network or files of this machine)")
        for key, sub in (("tasks", "path"), ("erasure", "system_message_file")):
            if replay[key].get(sub):  # files the params point at travel too
                src = Path(replay[key][sub]).expanduser()
                for p in ([src] if src.is_file() else sorted(x for x in src.rglob("*") if x.is_file())):
                    files[f"inputs/{key}/{p.relative_to(src.parent)}"] = p
                replay[key][sub] = f"inputs/{key}/{src.name}"
        (stage / "params.yaml").write_text(yaml.safe_dump(replay, sort_keys=False))
        files["params.yaml"] = stage / "params.yaml"
        smap = run_dir / "01_strategy_selection" / "strategy_map.json"
        index = {
            "format": FORMAT, "name": name, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "source_run": {"run_id": run_dir.name, "profile": params.profile, "git": read_manifest(run_dir).get("git")},
            "kit_commit": git_state(REPO).get("commit"),
            "seed": params.seed, "student": {"source": params.student.source, "name": model.name},
            "teacher": {"kind": params.teacher.kind, "model": params.teacher.model,
                        "endpoint": normalise_endpoint(params.teacher.base_url) if cache_src is not None else None,
                        "cached_answers": n_cached if cache_src is not None else 0},
            "strategy_map": json.loads(smap.read_text()) if smap.is_file() else None,
            "files": {a: sha256_file(p) for a, p in tqdm(files.items(), desc="hashing")},
        }
        (stage / INDEX).write_text(json.dumps(index, indent=2))
        tmp = dest.with_name(dest.name + ".part")
        # compresslevel 1: model weights hardly compress; level 9 only costs minutes. dereference: a hub
        # snapshot's files are symlinks into its blob store; the bundle holds the files themselves
        with tarfile.open(tmp, "w:gz", compresslevel=1, dereference=True) as tar:
            tar.add(stage / INDEX, arcname=INDEX)
            for arc, p in tqdm(files.items(), desc="packing"):
                tar.add(p, arcname=arc)
        tmp.replace(dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    digest = sha256_file(dest)
    dest.with_name(dest.name + ".sha256").write_text(f"{digest}  {dest.name}\n")  # `sha256sum -c` reads it
    log(f"bundle: {dest} ({dest.stat().st_size / 2**20:.1f} MiB, {len(files)} files, "
        f"{index['teacher']['cached_answers']} cached teacher answers) in {time.time() - t0:.0f} s\n"
        f"bundle: sha256 {digest}\n  send it by another channel than the archive; unpack with:\n"
        f"  python -m orca2_kit unbundle {dest.name} <folder> --sha256 {digest}")
    return dest
