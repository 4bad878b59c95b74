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
    assert text.startswith("<!-- written by scratchgan bench -->\n# Benchmarks\n")
    assert "Quick smoke run" in text
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


# -- the load, mlp and overhead sections ----------------------------------------------

def _gone(pid):
    import os
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_background_load_processes_run_inside_and_are_stopped_after():
    from scratchgan.bench.load import background_load
    with background_load(2) as pids:
        assert len(pids) == 2 and not any(_gone(p) for p in pids)
    assert all(_gone(p) for p in pids)


def test_background_load_is_stopped_even_when_the_worker_fails():
    from scratchgan.bench.run import measure_under_load
    seen = {}

    def failing_worker(task, env):
        seen["task"] = task
        seen["pids"] = [int(p) for p in _children_running_loader()]
        raise KeyboardInterrupt     # what a Ctrl-C in the middle of a worker looks like

    with pytest.raises(KeyboardInterrupt):
        measure_under_load({"kind": "step", "max_wait": 60.0}, {}, 1, run_worker=failing_worker)
    assert seen["task"]["max_wait"] == 0.0          # no waiting for a quiet machine under load
    assert len(seen["pids"]) == 1 and all(_gone(p) for p in seen["pids"])


def _children_running_loader():
    import os
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if ppid == me and b"np.matmul(a, a, out=out)" in cmd:
            yield entry


@pytest.mark.parametrize("bad", ["-1", "0"])
def test_bad_background_load_is_a_named_error(capsys, bad):
    assert main(["bench", "--quick", "--background-load", bad]) == 2
    assert "--background-load must be a number of busy processes >= 1" in capsys.readouterr().err


def test_command_line_reproduces_the_new_options():
    import argparse
    from scratchgan.bench.run import add_arguments, command_line
    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args(["--quick", "--only", "load", "overhead", "--background-load", "2"])
    line = command_line(args)
    assert line == "scratchgan bench --quick --only load overhead --background-load 2"
    assert command_line(p.parse_args(line.split()[2:])) == line


def test_our_mlp_step_runs_and_counts_its_flops():
    from scratchgan.bench.mlp import mlp_step_flops, ours_mlp_step
    record = ours_mlp_step(4, "numpy")()
    assert np.isfinite(record["loss_d"]) and np.isfinite(record["loss_g"])
    f_g = 2 * 400 + 3 * 400 * 400 + 400 * 2
    f_d = 2 * 200 + 2 * 200 * 200 + 200
    assert mlp_step_flops(1) == 2 * (4 * f_g + 9 * f_d)


def test_torch_mlp_step_and_overhead_chains_where_torch_is_installed():
    torch = pytest.importorskip("torch")
    from scratchgan.bench.mlp import torch_mlp_models, torch_mlp_step
    from scratchgan.bench.overhead import CHAINS, ours_chain, torch_chain
    from scratchgan.gan.models import build_models
    G, D = build_models("mlp", (2,))
    tG, tD = torch_mlp_models(torch)
    for ours, theirs in ((G, tG), (D, tD)):     # the same layers, the same parameter shapes
        assert ([tuple(p.shape) for _, p in ours.named_parameters()]
                == [tuple(p.shape) for p in theirs.parameters()])
    loss_d, loss_g = torch_mlp_step(torch, 4)()
    assert np.isfinite(loss_d) and np.isfinite(loss_g)
    for chain in CHAINS:      # both libraries compute the same chain
        ours = ours_chain(chain, False, n_ops=6)().data
        theirs = torch_chain(torch, chain, False, n_ops=6)().detach().numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
        torch_chain(torch, chain, True, n_ops=6)()


def test_overhead_chains_run_forward_and_backward():
    from scratchgan.bench.overhead import CHAINS, ours_chain
    for chain in CHAINS:
        y = ours_chain(chain, True, n_ops=6)()
        assert np.isfinite(float(y.data))


def test_bench_quick_mlp_and_overhead_from_the_command_line(tmp_path, capsys):
    out, md = tmp_path / "bench.json", tmp_path / "bench.md"
    code = main(["bench", "--quick", "--only", "mlp", "overhead", "--no-torch",
                 "--backends", "numpy", "--peak-size", "64", "--threads", "1",
                 "--repeats", "1", "--json", str(out), "--markdown", str(md)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "== PacGAN MLP training step" in printed and "== Per-Function overhead" in printed
    results = json.loads(out.read_text())
    (row,) = results["mlp"]["rows"]
    assert row["name"] == "ours numpy" and row["batch"] == 100 and row["median_s"] > 0
    assert row["gflops"] > 0 and row["foreign_load_cores"] is not None
    rows = results["overhead"]["rows"]
    assert [(r["chain"], r["mode"]) for r in rows] == [
        (c, m) for c in ("elementwise", "conv-bn-act") for m in ("forward", "forward+backward")]
    assert all(r["results"]["ours"]["us_per_op"] > 0 and "torch" not in r["results"]
               for r in rows)
    text = md.read_text()
    assert "## PacGAN MLP training step" in text and "## Per-Function overhead" in text
    assert "**Per-Function overhead.**" in text and "**MLP step.**" in text


def test_bench_quick_load_section_beside_a_busy_process(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = main(["bench", "--quick", "--only", "step", "--background-load", "1", "--no-torch",
                 "--batches", "2", "--backends", "numpy", "--peak-size", "64",
                 "--threads", "1", "--repeats", "1", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "== DCGAN-28 step beside 1 busy process (--background-load 1) ==" in printed
    results = json.loads(out.read_text())
    assert results["settings"]["sections"] == ["step", "load"]
    assert results["settings"]["background_load"] == 1
    assert "--background-load 1" in results["command"]
    (row,) = results["load"]["rows"]
    assert row["quiet_from"] == "step section" and row["quiet"]["median_s"] > 0
    loaded = row["loaded"]
    assert loaded["median_s"] > 0 and loaded["background_load"] == 1
    assert loaded["foreign_load_cores"] is not None and loaded["foreign_load_cores"] >= 0
    assert row["slowdown"] == pytest.approx(loaded["median_s"] / row["quiet"]["median_s"])
    assert all(_gone(p) for p in loaded["background_pids"])


def test_report_renders_load_mlp_and_overhead_sections():
    results = _fake_results(True)

    def step(name, impl, ms, load=0.0):
        return {"name": name, "impl": impl, "median_s": ms / 1e3, "min_s": ms / 1e3 * 0.9,
                "foreign_load_cores": load}
    results["load"] = {"background_load": 1, "kind": "BLAS loop", "torch": "measured",
                       "rows": [{"name": "ours numba", "impl": "ours", "which": "numba",
                                 "batch": 64, "quiet_from": "step section",
                                 "quiet": step("ours numba", "ours", 300.0),
                                 "loaded": step("ours numba", "ours", 540.0, 1.0),
                                 "slowdown": 1.8, "vs_torch_quiet": 1.25,
                                 "vs_torch_loaded": 0.75},
                                {"name": "torch eager", "impl": "torch", "which": "eager",
                                 "batch": 64, "quiet_from": "measured here",
                                 "quiet": step("torch eager", "torch", 240.0, 0.5),
                                 "loaded": {"error": "RuntimeError: boom"}}]}
    us = {"median_s": 2e-3, "min_s": 1.8e-3, "us_per_op": 10.0, "us_per_op_min": 9.0}
    results["overhead"] = {"torch": "measured", "rows": [
        {"chain": "elementwise", "label": "mul, add, tanh on (4, 4)", "mode": "forward",
         "n_ops": 201, "results": {"ours": us, "torch": {**us, "us_per_op": 2.5}},
         "vs_torch": 4.0, "foreign_load_cores": 0.0}]}
    text = report.format_console(results)
    assert "1.80x" in text and "0.75" in text and "failed: RuntimeError: boom" in text
    assert "torch eager *" in text       # its quiet time was measured under load
    assert "quiet measurements of this section and this run's step section" in text
    assert "ours/torch" in text and "4.00" in text
    md = report.to_markdown(results)
    assert "| ours numba | 64 | 300.0 (270.0) | 540.0 (486.0) | 1.80x |" in md
    assert "| elementwise: mul, add, tanh on (4, 4) | forward | 10.00 (9.000) |" in md
    assert "**Background load (`--background-load K`).**" in md
