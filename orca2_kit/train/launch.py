"""Starting a training run as a subprocess (notebook 04, the study, the probe), and finding the
checkpoint a killed run resumes from."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from orca2_kit import fingerprint

STAGE_DIR = "04_sft_training"


def last_checkpoint(ckpt_dir: Path, made_from: str | None = None):
    """The newest *complete* checkpoint. A process killed while saving leaves a checkpoint folder
    without trainer_state.json (the Trainer writes it last): set it aside and take the one before.
    With `made_from` (the stage's fingerprint), checkpoints of a run with other params (or
    unstamped ones) are set aside, never resumed from; the folder is stamped for this run."""
    if made_from is not None:
        if any(ckpt_dir.glob("checkpoint-*")) and not fingerprint.matches(ckpt_dir, made_from):
            aside = ckpt_dir.with_name(f"{ckpt_dir.name}.superseded-{time.time_ns()}")
            ckpt_dir.rename(aside)
            print(f"orca2-kit: the checkpoints in {ckpt_dir} were made with other params; set aside as {aside.name}, "
                  "training from the start")
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        fingerprint.stamp(ckpt_dir, made_from)
    if not ckpt_dir.is_dir():
        return None
    found = sorted((p for p in ckpt_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()),
                   key=lambda p: int(p.name.split("-")[-1]))
    for p in reversed(found):
        if (p / "trainer_state.json").is_file():
            return str(p)
        p.rename(p.with_name(f"incomplete-{p.name}-{int(time.time())}"))
        print(f"orca2-kit: {p.name} was cut off while saving; set aside, resuming from the one before")
    return None


_BAR = re.compile(r"^(?P<desc>.*?)\s*\d+%\|.*\|\s*(?P<n>\d+)/(?P<total>\d+)\b")
_COUNTER = re.compile(r"^(?P<desc>.*?)\s*(?P<n>\d+)it \[[\d:]+")  # a bar without a total ("4it [00:10, ...]")


_LOG_DICT = re.compile(r"^\{'[^']+': .*\}$")  # the trainer's log line, "{'loss': '0.541', ...}"


class LogLines:
    """What of the training process's output a reader sees, as text to write: every line but blank
    ones and the trainer's log dicts (notebook 04 shows their values as a rounded table after
    training, train_log_table); of a progress bar (tqdm redraws with \\r, read here as line breaks)
    its state every 5 s, redrawn in place (\\r, no line break, so the stored notebook keeps its last
    state: orca2_kit/run/tidy.py), and its finished line once, not each redraw nor the 0% line."""

    def __init__(self, every_s: float = 5.0):
        self.every_s, self.last, self.done, self.said = every_s, time.time(), set(), set()
        self.open = False  # a bar's state was written without its line break

    def _out(self, line: str, end: str = "\n") -> str:
        """A bar's state in place ('\\r' + line, no break); a line after one overwrites it."""
        text = ("\r" if self.open or end == "" else "") + line + end
        self.open = end == ""
        return text

    def close(self) -> str:
        """The line break an unfinished bar still needs when the process ends ('' if none)."""
        return "\n" if self.open else ""

    def __call__(self, line: str):
        line = line.rstrip()
        if not line.strip() or _LOG_DICT.match(line.strip()):
            return None
        bar = _BAR.match(line)
        counter = None if bar else _COUNTER.match(line)
        if counter is not None:  # no end to wait for: every 5 s, never the same line twice
            if line in self.said or time.time() - self.last <= self.every_s:
                return None
            self.last = time.time()
            self.said.add(line)
            return self._out(line, "")
        if bar is None:
            return self._out(line)
        key = (bar["desc"], bar["total"])
        if bar["n"] == "0":
            return None
        if bar["n"] == bar["total"]:
            if key in self.done:
                return None
            self.done.add(key)
            return self._out(line)
        if time.time() - self.last > self.every_s:
            self.last = time.time()
            return self._out(line, "")
        return None


def launch(params_path: str | Path, run_dir: str | Path, launcher: str = "python", num_processes: int = 1,
           accelerate_config: str | None = None, log_file: str | Path | None = None) -> Path:
    """Start training as a subprocess (from notebook 04), streaming its output; raise on failure.
    With `log_file` the output goes there instead (the study trains many students), and only a
    failure's last lines are shown."""
    module = ["-m", "orca2_kit.train", "--params", str(params_path), "--run-dir", str(run_dir)]
    if launcher == "accelerate":
        cmd = [sys.executable, "-m", "accelerate.commands.launch"]
        if accelerate_config:
            from orca2_kit.config import resolve_accelerate_config

            cmd += ["--config_file", str(resolve_accelerate_config(accelerate_config))]
        elif num_processes > 1:
            cmd += ["--multi_gpu", "--num_processes", str(num_processes)]
        cmd += module
    else:
        cmd = [sys.executable] + module
    env = dict(os.environ, PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    tail, shown = [], LogLines()
    sink = open(log_file, "w") if log_file else None
    for line in proc.stdout:
        tail = (tail + [line])[-40:]
        if sink:
            sink.write(line)
            continue
        if (text := shown(line)) is not None:
            sys.stdout.write(text)
            sys.stdout.flush()
    if sink:
        sink.close()
    else:
        sys.stdout.write(shown.close())
    if proc.wait() != 0:
        raise RuntimeError(f"training failed (exit {proc.returncode}"
                           + (f"; its whole output: {log_file}" if log_file else "") + f"):\n{''.join(tail)}")
    return Path(run_dir) / STAGE_DIR
