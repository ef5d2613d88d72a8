"""The machine class a run records and the expected time the runner announces (orca2_kit/machine.py)."""
import json

from orca2_kit import machine


def test_the_avx2_emulation_is_a_class_without_native_bf16(monkeypatch):
    monkeypatch.setenv(machine.EMULATE, "avx2")
    assert machine.cpu_class() == "avx2" and not machine.native_bf16()
    assert machine.describe(measure=False)["emulated"] == "avx2"


def test_the_runner_says_what_the_profile_took_on_this_class_or_that_nobody_measured_it(monkeypatch, tmp_path):
    monkeypatch.setenv(machine.EMULATE, "avx2")
    table = tmp_path / "expected_times.json"
    monkeypatch.setattr(machine, "EXPECTED_TIMES", table)
    said = []
    machine.announce("offline", said.append)
    assert "no native bf16 (AVX2 only) (emulated: ORCA2_CPU_ISA=avx2)" in said[0]
    assert said[1] == "orca2-kit: no measured time of profile offline on this class of machine (avx2) yet"
    table.write_text(json.dumps({"avx2": {"offline": {"notebook_s": 900, "cores": 2, "gemm_fp32_gflops": 226,
                                                      "run": "r-avx2"}}}))
    said.clear()
    machine.announce("offline", said.append)
    assert "took 15 min of notebook time on a 2-core avx2 machine (run r-avx2" in said[1]
