"""One runner per run folder: `RUN/.lock` holds the owner's pid under an exclusive flock.

A second runner on the same folder is refused, naming the owner. The OS releases a flock when its
process dies, however it dies, so a lock file left by a killed runner is taken over (and said so)
rather than blocking the folder forever; the pid in the file is only for the message.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from orca2_kit.config import ConfigError

LOCK_NAME = ".lock"


class RunInUse(ConfigError):
    """Another live runner owns the run folder."""


class RunLock:
    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK_NAME
        self._file = None

    def acquire(self, log=print) -> "RunLock":
        for _ in range(5):
            f = self._try()
            try:  # the owner unlinks the file on release: make sure we locked the file at the path
                if os.fstat(f.fileno()).st_ino == os.stat(self.path).st_ino:
                    break
            except FileNotFoundError:
                pass
            f.close()
        else:
            raise RunInUse(f"the run directory {self.path.parent} changes owner too often to lock; try again")
        before = _read(f)
        if before.get("pid") and before.get("pid") != os.getpid():
            log(f"orca2-kit: took over the lock of {self.path.parent}: its runner (pid {before['pid']}, since "
                f"{before.get('started', '?')}) is no longer running")
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "argv": sys.argv[:8]}))
        f.flush()
        self._file = f
        return self

    def _try(self):
        f = open(self.path, "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read(f)
            f.close()
            raise RunInUse(f"the run directory {self.path.parent} is in use by another runner (pid {owner.get('pid', '?')}"
                           f" on {owner.get('host', '?')}, since {owner.get('started', '?')}); wait for it to finish, "
                           f"or stop it (kill {owner.get('pid', '<pid>')}) and resume") from None
        return f

    def release(self) -> None:
        if self._file is None:
            return
        try:
            self.path.unlink()  # unlink first, while still holding the lock: no one can hold a stale inode
        except OSError:
            pass
        self._file.close()
        self._file = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _read(f) -> dict:
    f.seek(0)
    try:
        return json.loads(f.read() or "{}")
    except json.JSONDecodeError:
        return {}
