"""`python -m orca2_kit data fetch / status / use` and where runs find the data (orca2_kit.data_fetch,
orca2_kit.datadir).

No GitHub and no hub are reachable here, so a real HTTP server on loopback serves a mirror laid out
like both: raw.githubusercontent.com (<owner>/<repo>/<commit>/<path>, filled with the real files
of ../shared/data, DROP gzipped as upstream stores it) and the hub's Parquet conversion (the tree
listing and resolve endpoints, Parquet files made here from the fixtures' rows in each hub's row
shape). The server counts its GETs, so "a rerun fetches nothing" is measured, not assumed."""
import gzip
import hashlib
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from orca2_kit import datadir
from orca2_kit.run import data as run_data
from orca2_kit.run.cli import main
from orca2_kit.config import Params, load_params
from orca2_kit.run.fetch import load_sources
from orca2_kit.hallucination.grounded import HUB_SPLITS, LOCAL_SPLITS, REAL_DATASETS, load_grounded
from orca2_kit.evaluation.harness.benchmarks import BENCHMARKS, available, load_docs, local_files
from orca2_kit.pipeline import STAGES

FIXTURES = Path(__file__).parent.parent / "fixtures"
SOURCES = load_sources()
GITHUB_FAST = ("gsm8k", "bbh", "mt_bench", "truthfulqa", "drop")  # small sets, and the gunzip path
HUB_SETS = tuple(n for n, s in SOURCES.items() if "hub" in s)
COMMIT = "c0ffee" * 6 + "abcd"  # what the mirror's resolve answers send as X-Repo-Commit


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- the mirror


class Mirror:
    """A static mirror behind a real ThreadingHTTPServer. `override[path] = bytes` serves other bytes
    (a corrupted file), `= None` answers 404; `redirect_files` sends hub file GETs to another host
    name (as the hub does to its CDN); every GET is logged with its Authorization header."""

    def __init__(self, root: Path):
        self.root, self.gets, self.override, self.redirect_files = root, [], {}, False
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                path = unquote(parts.path)
                mirror.gets.append((self.headers["Host"], self.path, self.headers.get("Authorization")))
                host = self.headers["Host"]
                if mirror.redirect_files and path.startswith("/hub/datasets/") and host.startswith("127.0.0.1"):
                    self.send_response(302)
                    self.send_header("Location", f"http://localhost:{host.split(':')[1]}{self.path}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                f = mirror.root / path.lstrip("/")
                if "/api/" in path:
                    f = f / ("page2.json" if "cursor=2" in parts.query else "index.json")
                body = mirror.override.get(path, f.read_bytes() if f.is_file() else None)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                if path.startswith("/hub/datasets/"):
                    self.send_header("X-Repo-Commit", COMMIT)
                if "/api/" in path and "cursor" not in parts.query and (f.parent / "page2.json").is_file():
                    self.send_header("Link", f'<http://{host}{parts.path}?cursor=2>; rel="next"')
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def data_gets(self) -> list[str]:
        return [p for _, p, _ in self.gets]


def add_github(root: Path, real: Path, names) -> None:
    for name in names:
        spec = SOURCES[name]
        for src, rel, _size, _sha, *flags in spec["files"]:
            out = root / "github" / spec["github"] / spec["commit"] / src
            out.parent.mkdir(parents=True, exist_ok=True)
            if "gunzip" in flags:
                out.write_bytes(gzip.compress((real / rel).read_bytes(), compresslevel=1))
            else:
                shutil.copyfile(real / rel, out)


def add_hub(root: Path, repo: str, config: str, split: str, shards: list[list[dict]], pages: int = 1) -> None:
    """<config>/<split>/NNNN.parquet under resolve/refs/convert/parquet, and the tree listings."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = root / "hub" / "datasets" / repo / "resolve" / "refs" / "convert" / "parquet" / config / split
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, rows in enumerate(shards):
        p = folder / f"{i:04d}.parquet"
        pq.write_table(pa.Table.from_pylist(rows), p)
        data = p.read_bytes()
        entries.append({"type": "file", "oid": hashlib.sha1(data).hexdigest(), "size": len(data),
                        "lfs": {"oid": sha256(data), "size": len(data), "pointerSize": 134},
                        "path": f"{config}/{split}/{p.name}"})
    tree = root / "hub" / "api" / "datasets" / repo / "tree" / "refs" / "convert" / "parquet"
    (tree / config / split).mkdir(parents=True, exist_ok=True)
    if pages == 2:  # the hub paginates with a Link: rel="next" header
        (tree / config / split / "index.json").write_text(json.dumps(entries[:1]))
        (tree / config / split / "page2.json").write_text(json.dumps(entries[1:]))
    else:
        (tree / config / split / "index.json").write_text(json.dumps(entries))
    top = json.loads((tree / "index.json").read_text()) if (tree / "index.json").is_file() else []
    top.append({"type": "directory", "oid": "0" * 40, "size": 0, "path": config})
    (tree / "index.json").write_text(json.dumps(top))


def jsonl(path: Path) -> list[dict]:
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]


def hub_rows() -> dict[str, list[list[dict]]]:
    """Each hub set's rows in that dataset's own row shape, from the fixtures (one list per shard)."""
    b = FIXTURES / "benchmarks"
    arc_c = [{"id": r["id"], "question": r["question"]["stem"], "answerKey": r["answerKey"],
              "choices": {"text": [c["text"] for c in r["question"]["choices"]],
                          "label": [c["label"] for c in r["question"]["choices"]]}}
             for r in jsonl(b / "ARC-Challenge" / "ARC-Challenge-Test.jsonl")]
    crass = [{"idx": i, "inputs": ex["input"], "targets": [k for k, v in ex["target_scores"].items() if v],
              "multiple_choice_targets": list(ex["target_scores"]),
              "multiple_choice_scores": list(ex["target_scores"].values())}
             for i, ex in enumerate(json.loads((b / "crass" / "task.json").read_text())["examples"])]
    hellaswag = [{**r, "label": str(r["label"])} for r in jsonl(b / "hellaswag" / "hellaswag_val.jsonl")]  # hub: str
    marco = jsonl(FIXTURES / "ms_marco" / "dev.jsonl")
    return {"arc_easy": [jsonl(b / "arc_easy" / "test.jsonl")], "arc_challenge": [arc_c], "hellaswag": [hellaswag],
            "race": [jsonl(b / "race" / "test.jsonl")], "crass": [crass],
            "toxigen": [jsonl(b / "toxigen" / "annotated_test.jsonl")], "ms_marco": [marco[:1], marco[1:]]}


@pytest.fixture(scope="module")
def mirror(real_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    add_github(root, real_data, GITHUB_FAST)
    for name, shards in hub_rows().items():
        s = SOURCES[name]
        add_hub(root, s["hub"], s["config"], s["split"], shards, pages=len(shards))
    m = Mirror(root)
    yield m
    m.httpd.shutdown()


def fetch_cli(mirror, dest, only, capsys) -> tuple[int, str]:
    rc = main(["data", "fetch", "--dest", str(dest), "--only", ",".join(only),
               "--github-base", mirror.url + "/github", "--hub-base", mirror.url + "/hub"])
    return rc, capsys.readouterr().out


def doc_view(docs: list[dict]) -> list[tuple]:
    return [(d["question"], d["choices"], d["gold"], d["reference"]) for d in docs]


@pytest.fixture
def no_user_setting(monkeypatch, tmp_path):
    """No $ORCA2_DATA_DIR, an empty user config home, and a repository root without data/."""
    monkeypatch.delenv("ORCA2_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(datadir, "REPO_ROOT", tmp_path / "repo")
    (tmp_path / "repo").mkdir()
    return tmp_path


# --------------------------------------------------------------------------- the registry


def test_registry_covers_every_loader_and_names_the_loaders_hub_datasets():
    assert set(available(None)) | set(REAL_DATASETS) == set(SOURCES)
    # without a data directory every benchmark, MT-Bench too, gives the same reason: never "under None"
    assert len(set(available(None).values())) == 1 and "None" not in available(None)["mt_bench"]
    for name in HUB_SETS:
        s = SOURCES[name]
        if name in BENCHMARKS:
            hub_id, config, split = BENCHMARKS[name].hub
            assert (s["hub"], s["config"], s["split"]) == (hub_id, config or "default", split), name
        else:  # ms_marco: the hub id the gpu profile names, and the loader's hub split
            assert (s["hub"], s["config"], s["split"]) == ("microsoft/ms_marco", "v2.1", HUB_SPLITS[name])
            assert s["dest"] == f"{name}/{LOCAL_SPLITS[name]}.jsonl"  # the loader's default local split


def test_hub_destinations_match_the_loaders_globs(tmp_path):
    for name in HUB_SETS:
        (tmp_path / SOURCES[name]["dest"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / SOURCES[name]["dest"]).write_text("")
        if name in BENCHMARKS:
            assert local_files(BENCHMARKS[name], tmp_path) == [tmp_path / SOURCES[name]["dest"]], name


def test_pinned_files_are_exactly_shared_data(real_data):
    """Every pinned size and sha256 is that of the file in ../shared/data, and every data file there
    is pinned (MANIFEST.md aside): the fetch reproduces that folder byte for byte."""
    pinned = {}
    for name, s in SOURCES.items():
        for _src, rel, size, sha, *_ in s.get("files", []):
            data = (real_data / rel).read_bytes()
            assert (len(data), sha256(data)) == (size, sha), rel
            pinned[rel] = name
    on_disk = {str(p.relative_to(real_data)) for p in real_data.rglob("*") if p.is_file()} - {"MANIFEST.md"}
    assert on_disk == set(pinned)


# --------------------------------------------------------------------------- fetching


def test_fetch_from_a_mirror_layout_hashes_loaders_and_rerun(mirror, real_data, tmp_path, capsys):
    dest = tmp_path / "data"
    n0 = len(mirror.gets)
    rc, out = fetch_cli(mirror, dest, GITHUB_FAST + HUB_SETS, capsys)
    assert rc == 0, out
    # GitHub sets: the pinned layout, byte for byte as shared/data (DROP decompressed)
    for name in GITHUB_FAST:
        for _src, rel, size, sha, *_ in SOURCES[name]["files"]:
            assert sha256((dest / rel).read_bytes()) == sha == sha256((real_data / rel).read_bytes()), rel
    status = available(dest)
    fetched_benchmarks = [n for n in GITHUB_FAST + HUB_SETS if n in status]
    assert all(status[n] == "ok" for n in fetched_benchmarks), status
    assert doc_view(load_docs("gsm8k", dest)) == doc_view(load_docs("gsm8k", real_data))
    assert len(load_docs("drop", dest)) == 9536
    # hub sets: JSONL (CRASS: a JSON list) of the hub rows, which parse to the fixtures' documents
    for name in HUB_SETS:
        if name in BENCHMARKS:
            assert doc_view(load_docs(name, dest)) == doc_view(load_docs(name, FIXTURES / "benchmarks")), name
    got = load_grounded("ms_marco", str(dest / "ms_marco"))  # two shards, listed over two pages
    want = load_grounded("ms_marco", str(FIXTURES / "ms_marco"))
    assert [(i.query, i.document, i.reference_summary) for i in got] == \
        [(i.query, i.document, i.reference_summary) for i in want] and len(got) == 2
    # the record: source URL, commit, sha256 per file; the licenses per set
    record = json.loads((dest / "FETCHED.json").read_text())
    g = record["files"]["gsm8k/test.jsonl"]
    assert g["url"] == f"{mirror.url}/github/openai/grade-school-math/{g['commit']}/grade_school_math/data/test.jsonl"
    assert g["sha256"] == SOURCES["gsm8k"]["files"][0][3]
    m = record["files"]["ms_marco/dev.jsonl"]
    assert m["commit"] == COMMIT and m["rows"] == 3 and len(m["parquet"]) == 2
    assert m["sha256"] == sha256((dest / "ms_marco/dev.jsonl").read_bytes())
    assert "non-commercial" in record["sets"]["ms_marco"]["license"] and "CC BY-SA" in out
    assert not list(dest.rglob("*.part")) and not (dest / ".fetch").exists()
    assert len(mirror.gets) - n0 == sum(len(SOURCES[n]["files"]) for n in GITHUB_FAST) + 7 * 2 + 2  # + 2nd page, shard
    # a rerun checks hashes and fetches nothing
    n1 = len(mirror.gets)
    rc, out = fetch_cli(mirror, dest, GITHUB_FAST + HUB_SETS, capsys)
    assert rc == 0 and len(mirror.gets) == n1, mirror.gets[n1:]
    assert "0 file(s) fetched" in out and "present" in out
    # a file edited in place is noticed and fetched again, alone
    (dest / "gsm8k/test.jsonl").write_text("edited\n")
    rc, out = fetch_cli(mirror, dest, ["gsm8k"], capsys)
    assert rc == 0 and len(mirror.gets) == n1 + 1 and "gsm8k/test.jsonl differs from the pinned file" in out
    assert sha256((dest / "gsm8k/test.jsonl").read_bytes()) == SOURCES["gsm8k"]["files"][0][3]


def test_a_corrupt_file_is_refused_in_one_line_and_not_kept(mirror, real_data, tmp_path, capsys):
    dest = tmp_path / "data"
    spec = SOURCES["gsm8k"]
    bad = f"/github/{spec['github']}/{spec['commit']}/grade_school_math/data/test.jsonl"
    arc = SOURCES["arc_easy"]
    bad_parquet = f"/hub/datasets/{arc['hub']}/resolve/refs/convert/parquet/ARC-Easy/test/0000.parquet"
    original = (mirror.root / bad_parquet.lstrip("/")).read_bytes()
    mirror.override = {bad: (real_data / "gsm8k/test.jsonl").read_bytes() + b"\n",
                       bad_parquet: original[:-9] + b"corrupted"}
    try:
        rc, out = fetch_cli(mirror, dest, ["gsm8k", "arc_easy"], capsys)
    finally:
        mirror.override = {}
    assert rc == 1
    errors = [ln for ln in out.splitlines() if ln.startswith("error:")]
    assert len(errors) == 2, out
    assert errors[0].startswith("error: gsm8k/test.jsonl: checksum mismatch for http") and "not kept" in errors[0]
    assert errors[1].startswith("error: arc_easy: checksum mismatch") and "0000.parquet" in errors[1]
    assert not (dest / "gsm8k/test.jsonl").exists() and (dest / "gsm8k/train.jsonl").is_file()
    assert not (dest / "arc_easy").exists() and not list(dest.rglob("*.part"))
    assert "gsm8k/test.jsonl" not in json.loads((dest / "FETCHED.json").read_text())["files"]
    # fixed mirror: only what is missing is fetched (one file; the tree listing and one shard)
    n = len(mirror.gets)
    rc, out = fetch_cli(mirror, dest, ["gsm8k", "arc_easy"], capsys)
    assert rc == 0 and len(mirror.gets) - n == 3, mirror.gets[n:]


def test_missing_config_names_the_ones_there(mirror, tmp_path, capsys):
    tox = SOURCES["toxigen"]
    mirror.override = {f"/hub/api/datasets/{tox['hub']}/tree/refs/convert/parquet/annotated/test": None}
    try:
        rc, out = fetch_cli(mirror, tmp_path / "data", ["toxigen"], capsys)
    finally:
        mirror.override = {}
    assert rc == 1
    assert "error: toxigen: no annotated/test/ in the Parquet conversion (refs/convert/parquet) of " \
           "skg/toxigen-data" in out and "configs there: annotated" in out


def test_hf_token_goes_to_the_hub_only_never_across_a_redirect(mirror, tmp_path, capsys, monkeypatch):
    token = "hf_" + "x" * 30
    monkeypatch.setenv("HF_TOKEN", token)
    mirror.redirect_files, n = True, len(mirror.gets)
    try:
        rc, out = fetch_cli(mirror, tmp_path / "data", ["race"], capsys)
    finally:
        mirror.redirect_files = False
    gets = mirror.gets[n:]
    assert rc == 0, out
    assert [(h.split(":")[0], auth) for h, _, auth in gets] == [
        ("127.0.0.1", f"Bearer {token}"),  # the tree listing
        ("127.0.0.1", f"Bearer {token}"),  # the file, answered with a redirect to another host
        ("localhost", None)]  # the redirected GET: no token
    assert token not in out and token not in (tmp_path / "data" / "FETCHED.json").read_text()


def test_unknown_set_is_one_line_before_any_download(mirror, tmp_path, capsys):
    n = len(mirror.gets)
    assert main(["data", "fetch", "--dest", str(tmp_path), "--only", "gsm8", "--github-base", mirror.url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown set 'gsm8'; did you mean 'gsm8k'?" in err
    assert len(mirror.gets) == n


@pytest.mark.slow
def test_every_github_set_fetched_runs_through_the_loaders(real_data, tmp_path, capsys):
    """All ten GitHub sets (58 MB) from a full mirror: every benchmark and grounded set from GitHub
    is then available and loads."""
    names = [n for n, s in SOURCES.items() if "github" in s]
    root = tmp_path / "mirror"
    add_github(root, real_data, names)
    m = Mirror(root)
    try:
        rc, out = fetch_cli(m, tmp_path / "data", names, capsys)
    finally:
        m.httpd.shutdown()
    assert rc == 0, out
    dest = tmp_path / "data"
    status = available(dest)
    for name in names:
        if name in BENCHMARKS:
            assert status[name] == "ok" and load_docs(name, dest), name
    assert status["mt_bench"] == "ok"
    for name in ("qmsum", "aci_bench"):
        assert len(load_grounded(name, str(dest / name))) == len(load_grounded(name, str(real_data / name)))


# --------------------------------------------------------------------------- finding the directory


def test_runs_find_the_data_without_an_environment_variable(no_user_setting, tmp_path, monkeypatch, capsys):
    p = Params(profile="t")
    assert p.locate_data_dir()[0] is None and "none found" in p.locate_data_dir()[1]
    repo_data = tmp_path / "repo" / "data"
    repo_data.mkdir()
    assert p.locate_data_dir() == (repo_data, "data/ beside the repository") and p.resolved_data_dir() == repo_data
    mine = tmp_path / "mine"
    mine.mkdir()
    assert main(["data", "use", str(mine)]) == 0  # writes the user config, then prints the status
    cfg = tmp_path / "config" / "orca2-kit" / "config.yaml"
    assert f"recorded in {cfg}" in capsys.readouterr().out
    assert p.locate_data_dir() == (mine, f"data_dir in {cfg}")
    monkeypatch.setenv("ORCA2_DATA_DIR", str(repo_data))
    assert p.locate_data_dir() == (repo_data, "$ORCA2_DATA_DIR")
    assert Params(profile="t", data_dir=str(mine)).locate_data_dir() == (mine, "params data_dir")
    monkeypatch.setenv("ORCA2_DATA_DIR", str(tmp_path / "gone"))  # an explicit setting is not silently passed over
    assert p.locate_data_dir()[0] is None and "is not a directory" in p.locate_data_dir()[1]


def test_user_config_defaults_to_home_and_bad_input_is_one_line(no_user_setting, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datadir.user_config_path() == tmp_path / "home" / ".config" / "orca2-kit" / "config.yaml"
    assert main(["data", "use", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'" + str(tmp_path / "nope") + "' is not a directory" in err
    datadir.user_config_path().parent.mkdir(parents=True)
    datadir.user_config_path().write_text("data_dir: [unclosed")
    found, why = Params(profile="t").locate_data_dir()
    assert found is None and why.startswith(f"cannot read the user config {datadir.user_config_path()}")


def test_announce_says_what_runs_and_how_to_get_the_rest(no_user_setting, real_data, monkeypatch):
    lines: list[str] = []
    plan = run_data.announce(load_params("smoke"), STAGES, log=lines.append)
    assert plan["data_dir"] is None and plan["05_benchmark_eval"]["run"] == []
    assert lines[-2] == "  get them: .venv/bin/python -m orca2_kit data fetch --only gsm8k,mmlu,truthfulqa,qmsum"
    assert "skips 3: gsm8k, mmlu, truthfulqa" in lines[1] and "data use DIR" in lines[-1]
    monkeypatch.setenv("ORCA2_DATA_DIR", str(real_data))
    lines.clear()
    plan = run_data.announce(load_params("smoke", ["eval.harness.benchmarks=[gsm8k,hellaswag]"]), STAGES, lines.append)
    assert plan["05_benchmark_eval"] == {"run": ["gsm8k"], "skip": {"hellaswag": available(real_data)["hellaswag"]}}
    assert plan["06_hallucination"] == {"run": ["qmsum"], "skip": {}}
    assert lines[0] == f"orca2-kit: real data: {real_data} ($ORCA2_DATA_DIR)"
    assert lines[-1] == f"  get them: .venv/bin/python -m orca2_kit data fetch --dest {real_data} --only hellaswag"
    assert run_data.announce(load_params("smoke"), ["03_prompt_erasure"], lines.append).keys() == {"data_dir", "found"}


def test_status_lists_every_set_with_its_reason(no_user_setting, real_data, capsys):
    assert main(["data", "status", "--dir", str(real_data)]) == 0
    out = capsys.readouterr().out
    assert "  benchmark gsm8k          ok" in out and "  grounded  qmsum          ok" in out
    assert "  benchmark hellaswag      no hellaswag/*.jsonl under" in out
    assert "  grounded  ms_marco       no ms_marco/ under" in out
    assert f"get the missing ones: .venv/bin/python -m orca2_kit data fetch --dest {real_data} --only " in out
    assert "LogiQA CC BY-NC-SA 4.0" in out and "CC BY 4.0 (attribution required" in out
