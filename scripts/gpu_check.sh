#!/usr/bin/env bash
# The kit's GPU check on a CUDA machine that has PyTorch but no network (issue 28). Run from the
# repository root, after `bash scripts/gpu_wheels.sh` here prepared .whl/ and .gpu/ (both travel):
#   bash scripts/gpu_check.sh [--out FILE] [--budget-s S]       # default FILE: $OUT/gpu_check.json, else outputs/
# Installs the carried wheels into /tmp/site (never torch: the machine's own CUDA build stays), points
# the kit at the carried tiny student, then runs benchmarks/gpu_check.py: every phase time-boxed, the
# JSON rewritten after each, a table at the end; its log beside the JSON.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
out=${OUT:-outputs/benchmarks}/gpu_check.json
[ "${1:-}" = "--out" ] && { out=$2; shift 2; }
mkdir -p "$(dirname "$out")"
log="${out%.json}.log"
t0=$(date +%s)
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "gpu_check: installing .whl/ failed (run scripts/gpu_wheels.sh here, then carry .whl)" >&2; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}
  echo "gpu_check: $(ls .whl/*.whl | wc -l) wheels installed into /tmp/site in $(( $(date +%s) - t0 )) s"
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
# the tiny random student (SmolLM2's tokenizer), made by gpu_wheels.sh: no GGUF needed here
[ -f .gpu/cache/tiny-random-llama/.complete ] && export ORCA2_CACHE=$PWD/.gpu/cache
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false MPLBACKEND=Agg HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null | sed 's/^/gpu_check: /'
"$PY" benchmarks/gpu_check.py --out "$out" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
echo "gpu_check: done in $(( $(date +%s) - t0 )) s (exit $rc); $out, $log"
exit "$rc"
