"""One runner per run folder: `RUN/.lock` holds the owner's pid under an exclusive flock.

A second runner on the same folder is refused, naming the owner. The OS releases a flock when its
process dies, however it dies, so a lock file left by a killed runner is taken over (and said so)
rather than blocking the folder forever; the pid in the file is only for the message.

Notebooks run by hand (Jupyter) take the same lock when they open their stage (`hold_for_notebook`,
from `open_stage`), *shared*: several notebooks of one run folder may be open at once (they take
turns at the teacher's cache and spend ledger, which have locks of their own), but never beside a
runner, which needs the lock alone. The notebooks a runner executes do not take it: the runner
puts its lock's token in their environment (`HOLDER_ENV`), so they never wait on their own runner.
A notebook's hold lasts as long as its kernel.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
import uuid
from pathlib import Path

from orca2_kit.config import ConfigError

LOCK_NAME = ".lock"
HOLDER_ENV = "ORCA2_RUN_LOCK_TOKEN"  # the token of the lock held by the runner that started this process
NOTEBOOK = "a notebook kernel run by hand"


class RunInUse(ConfigError):
    """Another live runner owns the run folder."""


class RunLock:
    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK_NAME
        self._file = None
        self.token = None
        self.shared = False

    def acquire(self, log=print) -> "RunLock":
        f = self._open(fcntl.LOCK_EX)
        before = _read(f)
        # (notebook kernels share the lock and leave the file when they end: not worth a word)
        if before.get("pid") and before.get("pid") != os.getpid() and before.get("holder") != NOTEBOOK:
            log(f"orca2-kit: took over the lock of {self.path.parent}: its runner (pid {before['pid']}, since "
                f"{before.get('started', '?')}) is no longer running")
        self._write(f, {})
        return self

    def share(self) -> "RunLock":
        """A notebook run by hand: shared with other notebooks of this folder, refused beside a runner."""
        try:
            f = self._open(fcntl.LOCK_EX)  # alone: say who holds it, then share it
            self._write(f, {"holder": NOTEBOOK})
            fcntl.flock(f, fcntl.LOCK_SH)
        except RunInUse:
            self._file = self._share_beside_notebooks()
        self.shared = True
        return self

    def _share_beside_notebooks(self, wait_s: float = 10.0):
        """A shared hold beside other notebooks (fine); beside a runner, RunInUse. A notebook that
        opens at the same moment holds the lock exclusively for as long as it takes to write its
        record and turn the lock into a shared one (not atomic: flock releases, then shares): that
        moment is waited out, a runner's hold is not."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                return self._open(fcntl.LOCK_SH)
            except RunInUse:
                with open(self.path, "a+") as g:
                    owner = _read(g)
                if (owner.get("pid") and owner.get("holder") != NOTEBOOK) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _open(self, mode: int):
        for _ in range(5):
            f = self._try(mode)
            try:  # the owner unlinks the file on release: make sure we locked the file at the path
                if os.fstat(f.fileno()).st_ino == os.stat(self.path).st_ino:
                    return f
            except FileNotFoundError:
                pass
            f.close()
        raise RunInUse(f"the run directory {self.path.parent} changes owner too often to lock; try again")

    def _write(self, f, extra: dict) -> None:
        self.token = uuid.uuid4().hex
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "token": self.token,
                            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "argv": sys.argv[:8], **extra}))
        f.flush()
        self._file = f

    def _try(self, mode: int):
        f = open(self.path, "a+")
        try:
            fcntl.flock(f, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read(f)
            f.close()
            pid = owner.get("pid", "?")
            if owner.get("holder") == NOTEBOOK:
                raise RunInUse(f"the run directory {self.path.parent} is open in {NOTEBOOK} (pid {pid} on "
                               f"{owner.get('host', '?')}, since {owner.get('started', '?')}); shut that kernel down "
                               "(Jupyter: Kernel > Shut Down), then run again") from None
            raise RunInUse(f"the run directory {self.path.parent} is in use by another runner (pid {pid}"
                           f" on {owner.get('host', '?')}, since {owner.get('started', '?')}); wait for it to finish, "
                           f"or stop it (kill {owner.get('pid', '<pid>')}) and resume") from None
        return f

    def release(self) -> None:
        if self._file is None:
            return
        if not self.shared:
            try:
                self.path.unlink()  # unlink first, while still holding the lock: no one can hold a stale inode
            except OSError:
                pass
        self._file.close()
        self._file = None

    @contextlib.contextmanager
    def lent_to_children(self):
        """This lock's token in the environment while the runner works: the notebook kernels it starts
        inherit it and share the folder through the runner's lock (instead of waiting for it)."""
        outer = os.environ.get(HOLDER_ENV)
        os.environ[HOLDER_ENV] = self.token
        try:
            yield self
        finally:
            if outer is None:
                os.environ.pop(HOLDER_ENV, None)
            else:
                os.environ[HOLDER_ENV] = outer

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


_HELD: dict[Path, RunLock] = {}  # this kernel's holds, by run folder (a cell run twice holds once)


def hold_for_notebook(run_dir: str | Path) -> None:
    """The run lock for a notebook opening its stage: nothing if the runner that started this kernel
    holds it (its token is in our environment), else a shared hold for the kernel's lifetime."""
    run_dir = Path(run_dir).resolve()
    token = os.environ.get(HOLDER_ENV)
    if token and (run_dir / LOCK_NAME).is_file():
        with open(run_dir / LOCK_NAME) as f:
            if _read(f).get("token") == token:
                return
    if run_dir not in _HELD:
        _HELD[run_dir] = RunLock(run_dir).share()


def _read(f) -> dict:
    f.seek(0)
    try:
        return json.loads(f.read() or "{}")
    except json.JSONDecodeError:
        return {}
