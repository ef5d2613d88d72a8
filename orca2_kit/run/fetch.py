"""`python -m orca2_kit data fetch`: the paper's benchmarks and grounded sets, downloaded into a data
directory in the layout the loaders read.

What to fetch is data, in orca2_kit/data/data_sources.yaml: files of public GitHub repositories at
pinned commits, each pinned by size and sha256; and, for the sets on no GitHub repository, Hugging
Face datasets, fetched as the hub's Parquet conversion and written as JSONL of the hub's rows (the
loaders parse hub rows). Both go over plain HTTPS — the same download, progress bar and checks for
both, no second copy in a hub cache, and a mirror needs only two documented hub endpoints: the tree
listing (/api/datasets/<id>/tree/<revision>/<folder>, which gives each file's sha256) and
/datasets/<id>/resolve/<revision>/<file>. HF_ENDPOINT and HF_TOKEN are honoured; the token is sent
to the hub only (never across a redirect to another host) and is never printed.

Every file is written under a temporary name and renamed once complete and checked, so an
interrupted fetch leaves no half file; a mismatching file is refused with one line and not kept; a
file already present with its pinned (GitHub) or recorded (hub) sha256 is not fetched again.
DEST/FETCHED.json records each set's source and license, and each file's URL, commit and sha256.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import quote, urlsplit

import yaml
from tqdm.auto import tqdm

from orca2_kit.config import ConfigError
from orca2_kit.fingerprint import sha256_file
from orca2_kit.paths import PACKAGE_DATA

SOURCES = PACKAGE_DATA / "data_sources.yaml"
GITHUB_RAW = "https://raw.githubusercontent.com"
HUB = "https://huggingface.co"
RECORD = "FETCHED.json"
CHUNK = 1 << 20
RETRIES = 3  # transient network errors (5xx, 429, resets) are retried, with 1 s then 2 s between tries


class FetchError(RuntimeError):
    """One file or set could not be fetched; the message is one line naming the URL and the fix."""


@dataclass
class FetchResult:
    fetched: list[str] = field(default_factory=list)  # paths under DEST written by this call
    present: list[str] = field(default_factory=list)  # already there with the right sha256
    failed: dict[str, str] = field(default_factory=dict)  # path or set -> one-line reason
    bytes: int = 0


def load_sources(path: Path = SOURCES) -> dict[str, dict]:
    """The registry: set name -> {group, license, github+commit+files | hub+config+split+dest (+revision)}."""
    data = yaml.safe_load(Path(path).read_text())
    for spec in data["sets"].values():
        if "hub" in spec:
            spec.setdefault("revision", data["hub_revision"])
    return data["sets"]


def select(sets: dict, only: Optional[str | list[str]]) -> list[str]:
    if not only:
        return list(sets)
    names = [n.strip() for n in (only.split(",") if isinstance(only, str) else only) if n.strip()]
    for n in names:
        if n not in sets:
            close = difflib.get_close_matches(n, list(sets), n=1)
            raise ConfigError(f"--only: unknown set '{n}'" + (f"; did you mean '{close[0]}'?" if close else "")
                              + f" Known: {', '.join(sets)}")
    return names


# --------------------------------------------------------------------------- HTTP


class _NoAuthAcrossHosts(urllib.request.HTTPRedirectHandler):
    """urllib keeps every header on a redirect; the hub's token must not follow one to a CDN host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


_OPENER = urllib.request.build_opener(_NoAuthAcrossHosts)


def _open(url: str, token: Optional[str] = None, timeout: float = 60.0):
    req = urllib.request.Request(url, headers={"User-Agent": "orca2-kit data fetch"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    return _OPENER.open(req, timeout=timeout)


def _http_error(e: Exception, url: str, access_hint: str = "") -> FetchError:
    if isinstance(e, urllib.error.HTTPError):
        if e.code in (401, 403) and access_hint:
            return FetchError(f"HTTP {e.code} from {url}: {access_hint}")
        if e.code == 404:
            return FetchError(f"not found (HTTP 404): {url}")
        return FetchError(f"HTTP {e.code} {e.reason} from {url}")
    reason = getattr(e, "reason", None) or e
    return FetchError(f"cannot reach {url} ({reason}); check the network, or point --github-base / "
                      "--hub-base at a mirror")


def _transient(e: Exception) -> bool:
    if isinstance(e, urllib.error.HTTPError):
        return e.code >= 500 or e.code == 429
    return isinstance(e, (urllib.error.URLError, TimeoutError, ConnectionError))


def _get_json(url: str, token: Optional[str], access_hint: str = "") -> tuple[object, dict]:
    for attempt in range(RETRIES):
        try:
            with _open(url, token) as resp:
                return json.loads(resp.read()), dict(resp.headers)
        except json.JSONDecodeError:
            raise FetchError(f"{url} did not answer with JSON: is it a Hugging Face hub endpoint?") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            if attempt + 1 == RETRIES or not _transient(e):
                raise _http_error(e, url, access_hint) from None
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def download(url: str, target: Path, *, sha256: Optional[str] = None, size: Optional[int] = None,
             gunzip: bool = False, token: Optional[str] = None, bar=None, access_hint: str = "") -> dict:
    """Stream `url` to `target` (gunzipped if asked) via target.part; check size and sha256 of what is
    written; rename. Returns {sha256, bytes, headers}. Raises FetchError; never leaves a partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    for attempt in range(RETRIES):
        h, n, head, done = hashlib.sha256(), 0, b"", 0
        try:
            with _open(url, token) as resp, open(tmp, "wb") as f:
                headers = dict(resp.headers)
                z = zlib.decompressobj(16 + zlib.MAX_WBITS) if gunzip else None
                while chunk := resp.read(CHUNK):
                    data = z.decompress(chunk) if z else chunk
                    head = head or data[:64]
                    f.write(data)
                    h.update(data)
                    n += len(data)
                    if bar is not None:
                        bar.update(len(data))
                        done += len(data)
                if z:
                    tail = z.flush()
                    if not z.eof:
                        raise FetchError(f"{url} is not a complete gzip stream; not kept")
                    f.write(tail)
                    h.update(tail)
                    n += len(tail)
            break
        except (urllib.error.URLError, TimeoutError, ConnectionError, zlib.error) as e:
            tmp.unlink(missing_ok=True)
            if bar is not None:
                bar.update(-done)
            if isinstance(e, zlib.error):
                raise FetchError(f"{url} is not valid gzip ({e}); not kept") from None
            if attempt + 1 == RETRIES or not _transient(e):
                raise _http_error(e, url, access_hint) from None
            time.sleep(1 + attempt)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    got = h.hexdigest()
    if (sha256 and got != sha256) or (size is not None and n != size):
        tmp.unlink(missing_ok=True)
        lfs = "; the server sent a Git LFS pointer, not the file" if head.startswith(b"version https://git-lfs") else ""
        raise FetchError(f"checksum mismatch for {url}: got sha256 {got[:16]}... ({n} bytes), expected "
                         f"{(sha256 or '?')[:16]}... ({size if size is not None else '?'} bytes){lfs}; not kept")
    os.replace(tmp, target)
    return {"sha256": got, "bytes": n, "headers": headers}


# --------------------------------------------------------------------------- GitHub sets


def _fetch_github(name: str, spec: dict, dest: Path, base: str, record: dict, result: FetchResult, log) -> None:
    todo = []
    for src, rel, size, sha, *flags in spec["files"]:
        target = dest / rel
        if target.is_file() and target.stat().st_size == size and sha256_file(target) == sha:
            result.present.append(rel)
            record.setdefault(rel, _github_record(name, spec, base, src, sha, size))  # copied in by hand: same bytes
        else:
            if target.is_file():  # say so: a hand-edited file is about to be replaced by the pinned one
                log(f"{name}: {rel} differs from the pinned file (sha256 {sha[:12]}...); fetching it again")
            todo.append((src, rel, size, sha, "gunzip" in flags))
    if not todo:
        log(f"{name}: all {len(spec['files'])} files present (sha256 checked)")
        return
    log(f"{name}: {len(todo)} of {len(spec['files'])} files from github.com/{spec['github']} @ {spec['commit'][:10]}")
    with tqdm(total=sum(t[2] for t in todo), unit="B", unit_scale=True, desc=name, leave=False) as bar:
        for src, rel, size, sha, gunzip in todo:
            url = f"{base}/{spec['github']}/{spec['commit']}/{quote(src)}"
            try:
                got = download(url, dest / rel, sha256=sha, size=size, gunzip=gunzip, bar=bar)
            except FetchError as e:
                result.failed[rel] = str(e)
                log(f"error: {rel}: {e}")
                continue
            record[rel] = _github_record(name, spec, base, src, sha, size)
            result.fetched.append(rel)
            result.bytes += got["bytes"]


def _github_record(name, spec, base, src, sha, size) -> dict:
    return {"set": name, "url": f"{base}/{spec['github']}/{spec['commit']}/{quote(src)}", "repo": spec["github"],
            "commit": spec["commit"], "path": src, "sha256": sha, "bytes": size,
            **({"decompressed": True} if src.endswith(".gz") else {})}


# --------------------------------------------------------------------------- hub sets


def _hub_files(base: str, spec: dict, token: Optional[str], hint: str) -> list[dict]:
    """The Parquet files of (config, split) in the hub's conversion, with their sha256 (LFS oid)."""
    repo, rev, folder = spec["hub"], quote(spec["revision"], safe=""), f"{spec['config']}/{spec['split']}"
    url = f"{base}/api/datasets/{repo}/tree/{rev}/{quote(folder, safe='')}"
    entries: list = []
    try:
        while url:
            page, headers = _get_json(url, token, hint)
            entries += page
            m = re.search(r'<([^>]+)>;\s*rel="next"', headers.get("Link", ""))
            url = m.group(1) if m else None
    except FetchError as e:
        if "HTTP 404" not in str(e):
            raise
        try:  # say which configs the conversion does have
            root, _ = _get_json(f"{base}/api/datasets/{repo}/tree/{rev}", token, hint)
            have = ", ".join(sorted(x["path"] for x in root if x.get("type") == "directory")) or "none"
        except FetchError:
            have = "none (no such dataset, or no Parquet conversion, at this endpoint)"
        raise FetchError(f"no {folder}/ in the Parquet conversion ({spec['revision']}) of {repo} at {base}; "
                         f"configs there: {have}") from None
    files = [{"path": x["path"], "size": x.get("size"), "sha256": (x.get("lfs") or {}).get("oid")}
             for x in entries if x.get("type") == "file" and x["path"].endswith(".parquet")]
    if not files:
        raise FetchError(f"{base}/api/datasets/{repo}/tree/{rev}/{folder} lists no .parquet files")
    return sorted(files, key=lambda x: x["path"])


def _fetch_hub(name: str, spec: dict, dest: Path, base: str, token: Optional[str], record: dict,
               result: FetchResult, log) -> None:
    rel, target = spec["dest"], dest / spec["dest"]
    old = record.get(rel)
    if old and target.is_file() and sha256_file(target) == old.get("sha256"):
        result.present.append(rel)
        log(f"{name}: {rel} present (sha256 as recorded in {RECORD}, revision {old.get('commit') or old['revision']})")
        return
    hint = (f"the dataset may need you to accept its terms at {base}/datasets/{spec['hub']} and export HF_TOKEN"
            + (" (HF_TOKEN is set: does it have access?)" if token else ""))
    files = _hub_files(base, spec, token, hint)
    total = sum(f["size"] or 0 for f in files)
    log(f"{name}: {len(files)} Parquet file(s), {total / 1e6:.1f} MB, from {spec['hub']} "
        f"({spec['config']}/{spec['split']}, {spec['revision']})")
    shards, parquet, commit = dest / ".fetch" / name, [], None
    with tqdm(total=total or None, unit="B", unit_scale=True, desc=name, leave=False) as bar:
        for f in files:
            url = f"{base}/datasets/{spec['hub']}/resolve/{quote(spec['revision'], safe='')}/{quote(f['path'])}"
            shard = shards / f["path"].replace("/", "_")
            if f["sha256"] and shard.is_file() and sha256_file(shard) == f["sha256"]:  # an interrupted fetch's
                bar.update(f["size"] or 0)
            else:
                got = download(url, shard, sha256=f["sha256"], size=f["size"], token=token, bar=bar, access_hint=hint)
                commit = got["headers"].get("X-Repo-Commit") or commit
            parquet.append({"url": url, "sha256": f["sha256"] or sha256_file(shard), "bytes": shard.stat().st_size})
    rows = write_rows([shards / f["path"].replace("/", "_") for f in files], target)
    record[rel] = {"set": name, "dataset": spec["hub"], "config": spec["config"], "split": spec["split"],
                   "revision": spec["revision"], "commit": commit, "parquet": parquet, "rows": rows,
                   "sha256": sha256_file(target), "bytes": target.stat().st_size}
    shutil.rmtree(shards, ignore_errors=True)
    if not any(shards.parent.iterdir()):
        shards.parent.rmdir()
    result.fetched.append(rel)
    result.bytes += sum(p["bytes"] for p in parquet)


def write_rows(parquet_files: list[Path], target: Path) -> int:
    """The Parquet files' rows, in order, as JSONL (or one JSON list for a .json target); atomic."""
    import pyarrow.parquet as pq

    tmp, as_list, n = target.with_name(target.name + ".part"), target.suffix == ".json", 0
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as out:
            out.write("[\n" if as_list else "")
            for path in parquet_files:
                for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
                    for row in batch.to_pylist():
                        line = json.dumps(row, ensure_ascii=False, default=str)
                        out.write((",\n" if as_list and n else "") + line + ("" if as_list else "\n"))
                        n += 1
            out.write("\n]\n" if as_list else "")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    return n


# --------------------------------------------------------------------------- the command


def _read_record(dest: Path) -> dict:
    path = dest / RECORD
    record = json.loads(path.read_text()) if path.is_file() else {}
    return {"sets": record.get("sets", {}), "files": record.get("files", {})}


def _write_record(dest: Path, record: dict) -> None:
    tmp = dest / (RECORD + ".tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True))
    os.replace(tmp, dest / RECORD)


def fetch(dest: Path, only: Optional[str | list[str]] = None, github_base: Optional[str] = None,
          hub_base: Optional[str] = None, log=print) -> FetchResult:
    """Fetch the selected sets (default: all) into `dest`; a failed file or set is reported in one
    line and the others go on. Returns what was fetched, already present, and failed."""
    sets = load_sources()
    names = select(sets, only)
    github_base = (github_base or GITHUB_RAW).rstrip("/")
    hub_base = (hub_base or os.environ.get("HF_ENDPOINT") or HUB).rstrip("/")
    token = os.environ.get("HF_TOKEN") or None
    dest = Path(dest).expanduser()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"--dest: cannot create '{dest}' ({e.strerror}); choose another folder") from None
    record, result = _read_record(dest), FetchResult()
    log(f"data fetch: {len(names)} set(s) into {dest}")
    for name in names:
        spec = sets[name]
        try:
            if "github" in spec:
                _fetch_github(name, spec, dest, github_base, record["files"], result, log)
            else:
                _fetch_hub(name, spec, dest, hub_base, token, record["files"], result, log)
        except FetchError as e:
            result.failed[name] = str(e)
            log(f"error: {name}: {e}")
        finally:
            source = (f"github.com/{spec['github']} @ {spec['commit']}" if "github" in spec
                      else f"hub {spec['hub']} ({spec['config']}/{spec['split']}, {spec['revision']})")
            record["sets"][name] = {"source": source, "license": spec["license"]}
            _write_record(dest, record)  # after every set: an interrupted fetch keeps what it recorded
    log(f"data fetch: {len(result.fetched)} file(s) fetched ({result.bytes / 1e6:.1f} MB), "
        f"{len(result.present)} already present, {len(result.failed)} failed; record: {dest / RECORD}")
    log("licenses and terms (keep them with the data; these are evaluation sets: keep them out of training data):")
    width = max(len(n) for n in names)
    for name in names:
        log(f"  {name:{width}}  {sets[name]['license']}")
    return result
