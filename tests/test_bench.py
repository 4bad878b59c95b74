"""Smoke tests of ``scratchgan bench``: tiny sizes, one repeat, the structure of the output.
Speed is never asserted here (benchmarks measure it, on a quiet machine)."""
import json

import numpy as np
import pytest

from scratchgan.bench import flops, report
from scratchgan.bench.steps import ours_step
from scratchgan.cli import main
from scratchgan.gan.models import build_models


def test_the_layer_list_matches_the_dcgan28_models():
    G, D = build_models("dcgan", (1, 28, 28))
    shapes = [p.shape for _, p in list(G.named_parameters()) + list(D.named_parameters())
              if p.ndim >= 2]
    assert shapes == [layer.weight_shape for layer in flops.dcgan28_layers()]


def test_flop_count_by_hand():
    # MACs per sample: G.fc 100*12544; ConvT 256*128*16*7*7 and 128*64*16*14*14; conv 64*9*784
    f_g = 100 * 12544 + 256 * 128 * 16 * 49 + 128 * 64 * 16 * 196 + 64 * 9 * 784
    # D: conv 1->64 to 14x14, conv 64->128 to 7x7, linear 6272 -> 1
    f_d = 64 * 16 * 196 + 128 * 64 * 16 * 49 + 6272
    assert flops.forward_flops(3) == {"G": 2 * 3 * f_g, "D": 2 * 3 * f_d}
    assert flops.step_flops(1) == 2 * (4 * f_g + 9 * f_d)
    assert flops.step_flops(1, "wgan-gp") == 2 * (4 * f_g + 15 * f_d)


@pytest.mark.parametrize("section", ["step", "wgan-gp"])
def test_our_step_runs_on_a_fixed_batch(section):
    record = ours_step(section, 2, "numpy")()
    assert np.isfinite(record["loss_d"]) and np.isfinite(record["loss_g"])


def test_torch_step_runs_where_torch_is_installed():
    torch = pytest.importorskip("torch")
    from scratchgan.bench.steps import torch_step
    threads = torch.get_num_threads()
    torch.set_num_threads(1)        # tiny ops: OpenMP threads would only wait for each other
    try:
        for section, cl in (("step", False), ("step", True), ("wgan-gp", False)):
            loss_d, loss_g = torch_step(torch, section, 2, channels_last=cl)()
            assert np.isfinite(loss_d) and np.isfinite(loss_g)
    finally:
        torch.set_num_threads(threads)


def test_bench_quick_kernels_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "bench.json"
    md = tmp_path / "bench.md"
    code = main(["bench", "--quick", "--only", "kernels", "--no-torch", "--kernel-batch", "1",
                 "--peak-size", "64", "--threads", "1", "--repeats", "1",
                 "--json", str(out), "--markdown", str(md)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "== machine ==" in printed and "== kernels: DCGAN-28 layers, batch 1 ==" in printed
    results = json.loads(out.read_text())
    assert results["quick"] and results["torch"] == "skipped (--no-torch)"
    machine = results["machine"]
    assert machine["matmul_numpy"]["median"] > 0 and machine["software"]["numpy"]
    assert machine["threads"]["OPENBLAS_NUM_THREADS"] == "1" and machine["malloc"] == "tuned"
    rows = results["kernels"]["rows"]
    assert [(r["layer"], r["op"]) for r in rows] == [
        (la.key, op) for la in flops.dcgan28_layers() for op in ("fwd", "dX", "dW")]
    for r in rows:
        assert set(r["results"]) == set(results["kernels"]["backends"])
        assert all(v["median_s"] > 0 and v["gflops"] > 0 for v in r["results"].values())
        assert r["max_rel_diff"] < 1e-3     # every backend computed the same product
    assert "step" not in results and "wgan-gp" not in results
    text = md.read_text()
    assert text.startswith("# Benchmarks") and "Quick smoke run" in text
    assert "| layer | op | MFLOP |" in text and "## How it is measured" in text


def test_bench_step_section_reports_time_and_memory(tmp_path):
    out = tmp_path / "bench.json"
    code = main(["bench", "--quick", "--only", "wgan-gp", "--no-torch", "--batches", "2",
                 "--backends", "numpy", "--peak-size", "64", "--threads", "1", "--repeats", "1",
                 "--json", str(out)])
    assert code == 0
    (row,) = json.loads(out.read_text())["wgan-gp"]["rows"]
    assert row["name"] == "ours numpy" and row["batch"] == 2
    assert row["median_s"] > 0 and row["images_per_s"] > 0 and row["gflops"] > 0
    assert row["rss_peak_mib"] > 0 and row["step_mib"] >= 0


def test_unknown_backend_is_a_clear_error(capsys):
    assert main(["bench", "--quick", "--backends", "nope"]) == 2
    assert "not available here: nope" in capsys.readouterr().err


def _fake_results(torch_measured):
    def timing(ms):
        return {"median_s": ms / 1e3, "min_s": ms / 1e3 * 0.9}
    backends = ["numba", "numpy"]
    rows = []
    for layer in flops.dcgan28_layers()[:2]:
        res = {b: {**timing(2.0 if b == "numba" else 8.0), "gflops": 10.0} for b in backends}
        if torch_measured:
            res["torch"] = {**timing(1.0), "gflops": 20.0}
        rows.append({"layer": layer.key, "label": layer.label, "kind": layer.kind, "op": "fwd",
                     "flops": 64 * 2 * layer.macs_per_sample, "results": res,
                     "max_rel_diff": 0.0, "foreign_load_cores": 0.5})
    steps = [{"name": "ours numba", "impl": "ours", "which": "numba", "batch": 64,
              "flops": flops.step_flops(64), **timing(300.0), "images_per_s": 213.0,
              "gflops": 116.0, "first_step_s": 1.0, "rss_peak_mib": 300.0, "step_mib": 80.0,
              "minor_faults_per_step": 3.0, "foreign_load_cores": 0.0, "vs_torch_eager": 2.0},
             {"name": "torch eager", "impl": "torch", "which": "eager", "batch": 64,
              "error": "RuntimeError: boom"}]
    torch = "measured" if torch_measured else "skipped (--no-torch)"
    return {"quick": True, "command": "scratchgan bench --quick", "torch": torch,
            "settings": {"threads": 2, "repeats": 3, "warmup_steps": 1, "max_wait_s": 0},
            "machine": {"cpu": "Test CPU", "matmul_numpy": {"n": 2048, "median": 100.0,
                                                            "best": 110.0},
                        "software": {"numpy": "2", "numba": "0.6"}, "malloc": "tuned"},
            "kernels": {"batch": 64, "backends": backends, "torch": torch, "rows": rows},
            "step": {"torch": torch, "rows": steps, "flops_per_step": {"64": flops.step_flops(64)}}}


@pytest.mark.parametrize("torch_measured", [True, False])
def test_report_renders_tables_markdown_and_chart(tmp_path, torch_measured):
    results = _fake_results(torch_measured)
    text = report.format_console(results)
    assert ("numba/torch" in text) == torch_measured and ("numba/numpy" in text) != torch_measured
    assert "failed: RuntimeError: boom" in text and "*: other processes" in text
    md = report.to_markdown(results)
    assert "| ours numba | 64 | 300.0 (270.0) |" in md
    report.write_chart(results, str(tmp_path / "chart.png"))
    assert (tmp_path / "chart.png").read_bytes()[:4] == b"\x89PNG"
