"""A content-addressed response cache in SQLite: a rerun makes no call for anything answered.

Key: sha256 of (model, messages, sampling parameters, sample index). Every answer is committed as
soon as it arrives, so a crash loses at most the requests in flight.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Optional


def request_key(model: str, messages: list[dict], sampling: dict, sample_index: int = 0) -> str:
    blob = json.dumps({"model": model, "messages": messages, "sampling": sampling, "sample": sample_index},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        self.db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT, "
                        "request TEXT, response TEXT, usage TEXT, created REAL)")
        self.db.commit()
        self.hits = self.misses = 0

    def get(self, key: str) -> Optional[str]:
        row = self.db.execute("SELECT response FROM responses WHERE key=?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return row[0]

    def put(self, key: str, model: str, request: dict, response: str, usage: Optional[dict] = None) -> None:
        self.db.execute("INSERT OR IGNORE INTO responses VALUES (?,?,?,?,?,?)",
                        (key, model, json.dumps(request, ensure_ascii=False), response,
                         json.dumps(usage or {}), time.time()))
        self.db.commit()

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def export(self, dest: str | Path) -> Path:
        """A consistent single-file copy (e.g. to hand a real teacher's answers to a workshop)."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        out = sqlite3.connect(dest)
        self.db.backup(out)
        out.close()
        return dest

    def import_from(self, src: str | Path) -> int:
        """Merge another cache file in; existing keys are kept. Returns the number of new rows."""
        before = len(self)
        self.db.execute("ATTACH DATABASE ? AS other", (str(src),))
        self.db.execute("INSERT OR IGNORE INTO responses SELECT * FROM other.responses")
        self.db.commit()
        self.db.execute("DETACH DATABASE other")
        return len(self) - before

    def close(self) -> None:
        self.db.close()
