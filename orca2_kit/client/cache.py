"""A content-addressed response cache in SQLite: a rerun makes no call for anything answered.

Key: sha256 of (endpoint, model, messages, sampling parameters, sample index). The endpoint is
part of the key, so the same model name served elsewhere (a vLLM server, another provider) never
replays answers that server never gave. `base_key` is the same hash without the endpoint: a
replay-only run (a workshop bundle, which carries no endpoint) finds answers by it, and caches
written before endpoints were keyed (whose keys are exactly base keys) stay readable there. A live
run never replays such an unattributed answer; `adopt(endpoint)` attributes them when you know
which server gave them.

Every answer is committed as soon as it arrives, so a crash loses at most the requests in flight.
`sending()` is an exclusive file lock on the cache: two runs that share it take turns at sending,
and the second finds the first one's answers instead of paying for them again.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Iterable, Optional
from urllib.parse import urlsplit

OPENAI_URL = "https://api.openai.com/v1"
COLUMNS = ("key", "model", "request", "response", "usage", "created", "endpoint", "base_key")


def normalise_endpoint(base_url: Optional[str]) -> str:
    """One spelling per server: None is api.openai.com; scheme and host in lower case, default
    ports and trailing slashes dropped."""
    parts = urlsplit((base_url or OPENAI_URL).strip())
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return f"{parts.scheme.lower()}://{host}{port}{parts.path.rstrip('/')}"


def request_key(model: str, messages: list[dict], sampling: dict, sample_index: int = 0,
                endpoint: Optional[str] = None) -> str:
    """endpoint=None gives the base key (no endpoint), the key format of caches before endpoints."""
    body = {"model": model, "messages": messages, "sampling": sampling, "sample": sample_index}
    if endpoint is not None:
        body["endpoint"] = endpoint
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, check_same_thread=False, timeout=60)
        # Two processes opening a new cache at once: switching to WAL takes an exclusive lock that
        # SQLite does not always wait for (busy timeout or not), so the loser retries.
        for attempt in range(200):
            try:
                self._init_schema()
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or attempt == 199:
                    raise
                self.db.rollback()
                time.sleep(0.05 + 0.01 * attempt)
        self.hits = self.misses = 0
        self._lock_file = None

    def _init_schema(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        self.db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT, "
                        "request TEXT, response TEXT, usage TEXT, created REAL, endpoint TEXT, base_key TEXT)")
        have = {r[1] for r in self.db.execute("PRAGMA table_info(responses)")}
        if "endpoint" not in have:  # a cache from before endpoint keys: its keys are base keys
            self.db.execute("ALTER TABLE responses ADD COLUMN endpoint TEXT")
            self.db.execute("ALTER TABLE responses ADD COLUMN base_key TEXT")
            self.db.execute("UPDATE responses SET base_key = key")
        self.db.execute("CREATE INDEX IF NOT EXISTS responses_base_key ON responses(base_key)")
        # Batches submitted through this cache and not collected yet (token -> the batch's state file):
        # a run on this cache collects them before it submits anything, so a run that stopped while
        # its batch was out is never submitted again by another run folder (client/batch.py)
        self.db.execute("CREATE TABLE IF NOT EXISTS batches (token TEXT PRIMARY KEY, state TEXT, created REAL)")
        self.db.commit()

    def get(self, key: str) -> Optional[str]:
        row = self.lookup(key)
        return None if row is None else row[1]

    def lookup(self, key: str, base_key: Optional[str] = None) -> Optional[tuple[str, str]]:
        """(row key, response) for `key`; with `base_key` (replay-only), else the one answer stored
        under that base key by any endpoint (None if endpoints disagree: which one is meant?)."""
        row = self.db.execute("SELECT key, response FROM responses WHERE key=?", (key,)).fetchone()
        if row is None and base_key is not None:
            rows = self.db.execute("SELECT key, response FROM responses WHERE base_key=?", (base_key,)).fetchall()
            row = rows[0] if len({r[1] for r in rows}) == 1 else None
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return row[0], row[1]

    def put(self, key: str, model: str, request: dict, response: str, usage: Optional[dict] = None,
            endpoint: Optional[str] = None, base_key: Optional[str] = None) -> None:
        self.db.execute("INSERT OR IGNORE INTO responses VALUES (?,?,?,?,?,?,?,?)",
                        (key, model, json.dumps(request, ensure_ascii=False), response, json.dumps(usage or {}),
                         time.time(), endpoint, base_key or key))
        self.db.commit()

    def pending_batches(self) -> dict[str, str]:
        """{token: state file} of the batches submitted through this cache and not yet collected."""
        return dict(self.db.execute("SELECT token, state FROM batches ORDER BY created").fetchall())

    def batch_pending(self, token: str, state: str | Path) -> None:
        self.db.execute("INSERT OR REPLACE INTO batches VALUES (?,?,?)", (token, str(state), time.time()))
        self.db.commit()

    def batch_collected(self, token: str) -> None:
        self.db.execute("DELETE FROM batches WHERE token=?", (token,))
        self.db.commit()

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def adopt(self, endpoint: str) -> int:
        """Attribute the unattributed answers (from a cache made before endpoint keys) to `endpoint`,
        so live runs against it replay them. Only do this if that server gave them."""
        ep = normalise_endpoint(endpoint)
        rows = self.db.execute("SELECT key, request, model FROM responses WHERE endpoint IS NULL").fetchall()
        n = 0
        for key, request, model in rows:
            req = json.loads(request)  # online rows: {messages, sampling..., sample}; batch rows: the request body
            messages = req.pop("messages", None)
            req.pop("model", None)
            sample = req.pop("sample", None)
            sample = req.pop("seed", 0) if sample is None else sample
            if messages is None or request_key(model, messages, req, sample) != key:
                continue  # cannot rebuild its key: leave it unattributed
            self.db.execute("UPDATE OR IGNORE responses SET key=?, endpoint=? WHERE key=?",
                            (request_key(model, messages, req, sample, ep), ep, key))
            n += 1
        self.db.commit()
        return n

    def export(self, dest: str | Path, keys: Optional[Iterable[str]] = None) -> Path:
        """A consistent single-file copy (e.g. to hand a real teacher's answers to a workshop);
        with `keys`, only those rows (a bundle carries its own run's answers, no other run's)."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        out = sqlite3.connect(dest)
        self.db.backup(out)
        out.execute("DROP TABLE IF EXISTS batches")  # this machine's batches and folders stay here
        if keys is not None:
            out.execute("CREATE TEMP TABLE keep (key TEXT PRIMARY KEY)")
            out.executemany("INSERT OR IGNORE INTO keep VALUES (?)", [(k,) for k in keys])
            out.execute("DELETE FROM responses WHERE key NOT IN (SELECT key FROM keep)")
        out.commit()
        out.execute("VACUUM")  # what was deleted must not linger in free pages
        out.close()
        return dest

    def import_from(self, src: str | Path) -> int:
        """Merge another cache file in (either key format); existing keys are kept. Returns the
        number of new rows."""
        before = len(self)
        self.db.execute("ATTACH DATABASE ? AS other", (str(src),))
        try:
            have = {r[1] for r in self.db.execute("PRAGMA other.table_info(responses)")}
            endpoint, base = ("endpoint", "base_key") if "endpoint" in have else ("NULL", "key")
            self.db.execute(f"INSERT OR IGNORE INTO responses ({', '.join(COLUMNS)}) SELECT key, model, request, "
                            f"response, usage, created, {endpoint}, {base} FROM other.responses")
            self.db.commit()
        finally:
            self.db.execute("DETACH DATABASE other")
        return len(self) - before

    @contextlib.contextmanager
    def sending(self, log=print):
        """Hold the cache's send lock (`<cache>.lock`): another run on this cache waits here, then
        finds in the cache what this one paid for. Released on exit, and by the OS if we die."""
        lock = open(self.path.with_name(self.path.name + ".lock"), "a+")
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.seek(0)
                holder = lock.read().strip() or "another process"
                log(f"teacher: waiting for {holder}, which is sending requests through this cache "
                    f"({self.path}); its answers will be reused, not paid for again")
                fcntl.flock(lock, fcntl.LOCK_EX)
            lock.seek(0)
            lock.truncate()
            lock.write(f"pid {os.getpid()}")
            lock.flush()
            yield
        finally:
            lock.close()  # closing the file releases the lock

    def close(self) -> None:
        self.db.close()
