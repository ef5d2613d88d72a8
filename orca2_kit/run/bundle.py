"""Workshop bundles: everything the pipeline needs offline, in one .tar.gz.

`bundle(run_dir)` packs, from a finished run: the student model directory (the converted
SmolLM2, or whatever the run trained; a hub model's snapshot symlinks are packed as the files they
point to), the teacher's answers to this run's requests (a consistent copy of those rows of the
SQLite cache the run answered from, no other run's), the task suite the seed produced (to check a
laptop draws the same items) and the run's params, turned into a replay-only profile.
`bundle.json` inside holds a sha256 for every file; the archive's own sha256 is printed (and
written beside it): send it by another channel, so `unbundle --sha256` detects tampering, not
just damage.

`unbundle(archive, dest)` on another machine checks the archive's sha256 (when given) and every
file's, refuses links and paths outside `dest`, unpacks, and writes a profile (`workshop.yaml`)
whose student is the unpacked model and whose teacher answers from the unpacked cache only. The
archive's params are not trusted: every endpoint, key name and outside path in them is dropped and
the teacher is forced to replay-only, so a bundle cannot make a laptop send anything anywhere.
"""
from __future__ import annotations

import json
import shutil
import tarfile
import time
from pathlib import Path
from typing import Optional

import yaml
from tqdm.auto import tqdm

from orca2_kit.config import ACCELERATE_CONFIGS, ConfigError, load_params
from orca2_kit.fingerprint import sha256_file
from orca2_kit.run.manifest import git_state, read_manifest
from orca2_kit.models import student_path
from orca2_kit.client.cache import normalise_endpoint
from orca2_kit.paths import REPO

FORMAT = 1
INDEX = "bundle.json"


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


def unbundle(archive: str | Path, dest: str | Path, profile_out: str | Path | None = None, log=print,
             sha256: Optional[str] = None) -> Path:
    """Check, unpack and write a replay-only profile; return the profile's path."""
    archive, dest = Path(archive).resolve(), Path(dest).resolve()
    if not archive.is_file():
        raise FileNotFoundError(f"unbundle: no such bundle '{archive}'")
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"unbundle: '{dest}' is not empty; pick a new folder")
    digest = sha256_file(archive)
    if sha256 is not None and digest != sha256.strip().lower():
        raise ConfigError(f"unbundle: the sha256 of '{archive.name}' is {digest}, not the {sha256.strip()} you were given: "
                          "it is not the bundle that was made (tampered with, or damaged); nothing was unpacked")
    if sha256 is None:
        log(f"unbundle: sha256 {digest}; compare it with the one printed when the bundle was made "
            "(or pass --sha256 to check it)")
    tmp = dest.with_name(f".{dest.name}.unpacking")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != INDEX:
                raise ConfigError(f"unbundle: '{archive.name}' is not an orca2-kit bundle (no {INDEX} first)")
            index = json.load(tar.extractfile(first))
            if index.get("format") != FORMAT:
                raise ConfigError(f"unbundle: bundle format {index.get('format')} is not {FORMAT}; "
                                  "unbundle it with the orca2-kit version that made it")
            for m in tar.getmembers():  # plain files and folders inside dest, nothing else
                kind = "a symlink" if m.issym() else "a hard link" if m.islnk() else None if m.isfile() or m.isdir() \
                    else "a special file"
                if kind or Path(m.name).is_absolute() or ".." in Path(m.name).parts:
                    raise ConfigError(f"unbundle: '{m.name}' in '{archive.name}' is "
                                      f"{kind or 'a path outside the folder'}; a bundle holds only plain files "
                                      "inside it. Refused; nothing was unpacked")
            shutil.rmtree(tmp, ignore_errors=True)
            tar.extractall(tmp, filter="data")  # a second guard: absolute paths, '..', links out of tmp
    except (tarfile.TarError, EOFError, OSError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ConfigError(f"unbundle: '{archive.name}' is damaged or not a .tar.gz ({e})") from None
    found = {str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file()} - {INDEX}
    if found != set(index["files"]):
        shutil.rmtree(tmp, ignore_errors=True)
        raise ConfigError(f"unbundle: files differ from the bundle's index: {sorted(found ^ set(index['files']))}")
    for rel, want in tqdm(index["files"].items(), desc="checking"):
        if sha256_file(tmp / rel) != want:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ConfigError(f"unbundle: '{rel}' does not match its sha256 in the bundle; the bundle is damaged")
    try:
        params = replay_params(yaml.safe_load((tmp / "params.yaml").read_text()) or {}, dest, tmp)
    except ConfigError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        dest.rmdir()
    tmp.replace(dest)

    out = Path(profile_out).resolve() if profile_out else dest / f"{index['name']}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"# written by `python -m orca2_kit unbundle {archive.name}`: replay-only, no network\n"
                   + yaml.safe_dump(params, sort_keys=False))
    try:  # the profile must validate here and now, not in a notebook
        load_params(out)
    except ConfigError as e:
        raise ConfigError(f"{e}\n(the bundle was made by orca2-kit commit {index.get('kit_commit')}; "
                          "check out that commit, or a newer one, to run it)") from None
    log(f"unbundle: {len(index['files'])} files checked into {dest}; source run {index['source_run']['run_id']}, "
        f"{index['teacher']['cached_answers']} cached teacher answers\nrun it with:\n"
        f"  python -m orca2_kit run --profile {out}")
    return out


# Keys that reach the network or name a credential, wherever they sit in the params.
NETWORK_KEYS = ("base_url", "api_key_env", "cache_path", "hub_id", "sources")


def replay_params(params: dict, dest: Path, unpacked: Optional[Path] = None) -> dict:
    """The archive's params, made safe to run on this machine: replay-only teacher, no endpoint,
    no key name, no path outside `dest` (checked against `unpacked`, where the files are now)."""
    if not isinstance(params, dict):
        raise ConfigError("unbundle: the bundle's params.yaml is not a mapping")
    unpacked = unpacked or dest

    def scrub(node):
        if isinstance(node, dict):
            for k in list(node):
                if k in NETWORK_KEYS:
                    node.pop(k)
                else:
                    scrub(node[k])
        elif isinstance(node, list):
            for x in node:
                scrub(x)

    scrub(params)
    params.pop("data_dir", None)  # this machine's data, if any, comes from its own environment
    dtype = (params.get("student") or {}).get("dtype")
    params["student"] = {"source": "local", "name_or_path": str(dest / "model"), **({"dtype": dtype} if dtype else {})}
    t = params.setdefault("teacher", {})
    for k in ("mode", "dry_run", "budget_usd", "free"):
        t.pop(k, None)
    if t.get("kind") == "openai":
        t.update(replay_only=True, api_key_env=None, cache_path=str(dest / "teacher_cache.sqlite"))
    elif t.get("kind") not in (None, "reference"):
        raise ConfigError(f"unbundle: teacher.kind '{t.get('kind')}' in the bundle is not one a replay can run")
    tasks = params.get("tasks") or {}
    if tasks.get("source") == "hub":
        raise ConfigError("unbundle: the bundle's tasks come from the hub; a bundle carries its tasks as files")
    h = params.get("hallucination") or {}
    h.pop("judge", None)
    if h.get("support_model") not in (None, "package"):
        h.pop("support_model")
    harness = (params.get("eval") or {}).get("harness") or {}
    harness.pop("judge", None)
    harness.pop("endpoint", None)
    if harness.get("backend") == "chat":
        harness.pop("backend")
    train = params.get("train") or {}
    if train.get("accelerate_config") and not (ACCELERATE_CONFIGS / f"{train['accelerate_config']}.yaml").is_file():
        train.pop("accelerate_config")  # only a shipped config's name travels
    for key, sub in (("tasks", "path"), ("erasure", "system_message_file")):
        section = params.get(key) or {}
        if section.get(sub):
            rel = Path(str(section[sub]))
            inside = (unpacked / rel).resolve()
            if rel.is_absolute() or not inside.is_relative_to(unpacked.resolve()) or not inside.exists():
                raise ConfigError(f"unbundle: {key}.{sub} '{rel}' in the bundle's params is not a file inside the "
                                  "bundle; refused, nothing was unpacked")
            section[sub] = str(dest / rel)
    return params


def check_suite(bundle_dir: str | Path, run_dir: str | Path) -> list[str]:
    """Suite files of a run that differ from the bundle's (empty: the seed drew the same items)."""
    bundle_dir, run_dir = Path(bundle_dir), Path(run_dir)
    names = sorted(p.name for p in (bundle_dir / "suite").glob("*.jsonl"))
    return [n for n in names if sha256_file(bundle_dir / "suite" / n)
            != sha256_file(run_dir / "01_strategy_selection" / "suite" / n)]
