"""Which class of machine a run is on, and what the kit's measured runs took on that class.

Speed depends on the class more than on anything a profile sets: a CPU with AVX512-BF16 or AMX
runs bf16 matrix products natively (the kit trains the frozen base in bf16 there), an AVX2-only
CPU (most laptops) runs everything in fp32 at a fraction of that. The runner prints the class at
start with the expected time of the profile from `orca2_kit/data/expected_times.json`, which
scripts/readme_measured.py writes from measured runs (never typed).

An AVX2-only laptop is emulated on a newer CPU with `ORCA2_CPU_ISA=avx2` together with the
libraries' own caps (`ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2`,
`CT2_FORCE_CPU_ISA=AVX2`): the kit then treats the CPU as one without native bf16.
"""
from __future__ import annotations

import json
import os
import platform
import time
from functools import lru_cache
from pathlib import Path

from orca2_kit.paths import PACKAGE_DATA

EXPECTED_TIMES = PACKAGE_DATA / "expected_times.json"
EMULATE = "ORCA2_CPU_ISA"  # 'avx2': behave as on an AVX2-only CPU (see the module docstring)


def _cpuinfo(key: str) -> str:
    """The first value of `key` in /proc/cpuinfo ('' where it is absent or unreadable)."""
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith(key):
                return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def cpu_flags() -> set[str]:
    return set(_cpuinfo("flags").split())


def cpu_model() -> str:
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def cpu_vendor() -> str:
    """'GenuineIntel', 'AuthenticAMD', ... ('' where /proc/cpuinfo does not say)."""
    return _cpuinfo("vendor_id")


def emulated_isa() -> str | None:
    v = os.environ.get(EMULATE, "").strip().lower()
    return v or None


def native_bf16() -> bool:
    """AVX512-BF16 or AMX, and not emulating an older CPU."""
    if emulated_isa() == "avx2":
        return False
    flags = cpu_flags()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cpu_class() -> str:
    """'avx512-bf16' (native bf16: AVX512-BF16 or AMX), 'avx2' (no native bf16; emulated or real),
    'avx512' (AVX-512 without bf16) or 'other'."""
    if emulated_isa() == "avx2":
        return "avx2"
    flags = cpu_flags()
    if "avx512_bf16" in flags or "amx_bf16" in flags:
        return "avx512-bf16"
    if "avx512f" in flags:
        return "avx512"
    return "avx2" if "avx2" in flags else "other"


@lru_cache(maxsize=None)
def gemm_gflops(n: int = 1024, seconds: float = 0.5) -> float:
    """torch's fp32 matrix product on this machine's threads, best of repeated n x n products."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best, t_end = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def describe(measure: bool = True) -> dict:
    """The machine class record the runner keeps in the manifest."""
    import torch

    rec = {"class": cpu_class(), "cpu": cpu_model(), "cores": os.cpu_count(), "threads": torch.get_num_threads(),
           "native_bf16": native_bf16(), "emulated": emulated_isa(),
           "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
           "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}  # other work slows a run: say so
    if measure:
        rec["gemm_fp32_gflops"] = round(gemm_gflops(), 1)
    return rec


def expected(profile: str, klass: str) -> dict | None:
    """What the kit's measured run of `profile` took on a machine of `klass` (None if not measured)."""
    if not EXPECTED_TIMES.is_file():
        return None
    table = json.loads(EXPECTED_TIMES.read_text())
    return (table.get(klass) or {}).get(profile)


def announce(profile: str, log=print) -> dict:
    """One or two lines at the start of a run: the class, and the expected time on it."""
    rec = describe()
    what = {"avx512-bf16": "native bf16 (AVX512-BF16/AMX)", "avx2": "no native bf16 (AVX2 only)",
            "avx512": "AVX-512 without bf16", "other": "no AVX2"}.get(rec["class"], rec["class"])
    gpu = f", GPU {rec['cuda']}" if rec["cuda"] else ""
    log(f"orca2-kit: machine: {rec['cpu']}, {rec['cores']} cores, {what}"
        + (f" (emulated: {EMULATE}={rec['emulated']})" if rec["emulated"] else "")
        + f", fp32 matrix products at {rec['gemm_fp32_gflops']:.0f} GFLOP/s{gpu}")
    exp = expected(profile, rec["class"])
    if exp:
        log(f"orca2-kit: profile {profile} took {exp['notebook_s'] / 60:.0f} min of notebook time on a {exp['cores']}-core "
            f"{rec['class']} machine (run {exp['run']}, {exp['gemm_fp32_gflops']:.0f} GFLOP/s there; "
            f"README: Measured)")
    else:
        log(f"orca2-kit: no measured time of profile {profile} on this class of machine ({rec['class']}) yet")
    return rec
