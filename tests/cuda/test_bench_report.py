"""``scratchgan bench --device cuda``: the card peaks and the report of a GPU run, from a
made-up results document (the measurement itself needs a GPU: tests/cuda/test_gpu_training.py)."""
import argparse

import pytest

from scratchgan.bench import flops, report
from scratchgan.bench.machine import card_peak
from scratchgan.bench.run import add_arguments, command_line


@pytest.mark.parametrize("name,card,tflops", [
    ("NVIDIA H100 80GB HBM3", "H100 SXM", 66.9), ("NVIDIA H100 SXM5 80GB", "H100 SXM", 66.9),
    ("NVIDIA H100 PCIe", "H100 PCIe", 51.2), ("NVIDIA H200", "H200", 66.9)])
def test_cards_are_recognised_from_the_device_name(name, card, tflops):
    peak = card_peak(name)
    assert peak["card"] == card and peak["from"] == "device name"
    assert round(peak["gflops_fp32"] / 1e3, 1) == tflops


def test_unknown_card_and_override():
    assert card_peak("NVIDIA A100-SXM4-40GB") is None
    assert card_peak("NVIDIA H200 NVL") is None          # other clocks: not guessed
    assert card_peak(None) is None
    assert card_peak("NVIDIA A100-SXM4-40GB", "H100 PCIe")["from"] == "--card"


def _args(*argv):
    p = argparse.ArgumentParser()
    add_arguments(p)
    return p.parse_args(list(argv))


def test_command_line_of_a_gpu_run():
    assert command_line(_args("--device", "cuda")) == "scratchgan bench --device cuda"
    assert command_line(_args("--device", "cuda", "--batches", "64", "128")) == \
        "scratchgan bench --device cuda --batches 64 128"
    assert command_line(_args()) == "scratchgan bench"   # the CPU default is unchanged


def _gpu_results():
    peak = card_peak("NVIDIA H100 80GB HBM3")
    step_flops = flops.step_flops(64)
    rows = [{"name": "ours cuda", "impl": "ours", "which": "cuda", "batch": 64,
             "flops": step_flops, "median_s": 0.004, "min_s": 0.0038, "images_per_s": 16000.0,
             "gflops": step_flops / 0.004 / 1e9, "first_step_s": 3.0, "rss_peak_mib": 900.0,
             "step_mib": 1.0, "minor_faults_per_step": 0.0, "foreign_load_cores": 0.0,
             "gpu_mib": 250.0, "vs_torch_eager": 2.0},
            {"name": "torch eager", "impl": "torch", "which": "eager", "batch": 64,
             "flops": step_flops, "median_s": 0.002, "min_s": 0.0019, "images_per_s": 32000.0,
             "gflops": step_flops / 0.002 / 1e9, "first_step_s": 1.0, "rss_peak_mib": 2000.0,
             "step_mib": 1.0, "minor_faults_per_step": 0.0, "foreign_load_cores": 0.0,
             "gpu_mib": 120.0, "vs_torch_eager": 1.0}]
    return {"quick": False, "command": "scratchgan bench --device cuda", "torch": "measured",
            "settings": {"device": "cuda", "threads": 2, "repeats": 15, "warmup_steps": 3,
                         "max_wait_s": 60},
            "machine": {"cpu": "Test CPU", "software": {"numpy": "2", "numba": "0.6"},
                        "malloc": "tuned",
                        "matmul_numpy": {"n": 2048, "median": 100.0, "best": 110.0},
                        "gpu": {"name": "NVIDIA H100 80GB HBM3", "compute_capability": "90",
                                "sms": 132, "memory_gib": 79.6, "cupy": "14.0",
                                "cuda_runtime": 12080, "cuda_driver": 12080,
                                "matmul_cupy": {"n": 8192, "median": 51000.0, "best": 52000.0},
                                "card": peak}},
            "step": {"torch": "measured", "rows": rows,
                     "flops_per_step": {"64": step_flops}}}


def test_report_of_a_gpu_run():
    results = _gpu_results()
    text = report.format_console(results)
    assert "GPU: NVIDIA H100 80GB HBM3 (compute capability 90, 132 SMs, 80 GiB)" in text
    assert "FP32 peak (H100 SXM, from the device name): 16,896 FP32 lanes x 2 FLOP x 1.98 GHz " \
           "= 66.9 TFLOP/s = 100% peak" in text
    assert "cuBLAS float32 GEMM (CuPy, TF32 off) n=8192: 51000 GFLOP/s" in text
    assert "(the CPU's; the GPU's peak below is 100%)" in text
    assert "GPU MiB" in text
    gflops = results["step"]["rows"][0]["gflops"]
    assert f"{gflops:.1f} ({100 * gflops / 66908.16:.0f}%)" in text   # % of the card's peak
    md = report.to_markdown(results)
    assert "| ours cuda | 64 | 4.000 (3.800) |" in md and "GPU (`--device cuda`)" in md
