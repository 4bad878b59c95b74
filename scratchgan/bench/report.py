"""The results of ``scratchgan bench`` as console tables, markdown (BENCHMARKS.md) and a chart.

Everything here reads the results document that ``run.run_benchmarks`` returns (and
``--json`` writes), so a saved JSON can be re-rendered: ``to_markdown(json.load(f))``.
"""
from __future__ import annotations

from typing import Any

from scratchgan.backend import CUDA

LOAD_MARK = 0.3          # cores of foreign load above which a row is marked '*'
DIFF_MARK = 1e-3         # relative difference between backends above which a row is marked '!'

LOAD_NOTE = (f"*: other processes used more than {LOAD_MARK} cores while this row was timed: "
             "not comparable (thread pools that synchronise often, PyTorch's OpenMP pool most "
             "of all, slow down by large factors when another process holds a core)")

METHOD = """\
- **Timing.** Each measurement: warm-up calls (untimed: compilation, caches, workspaces),
  then an inner loop count so that one timed repeat lasts at least the minimum time (only
  fast kernels loop), then the timed repeats; per-call time = repeat time / inner count,
  reported as median and (min). The kernel table times all backends of a row alternately
  (one repeat of each in turn) in one process, so a load change hits all of them. Every
  training-step configuration runs in its own fresh process, one after another. Before
  each measurement the run waits (bounded by `--max-wait`) until other processes use less
  than 0.3 cores; the load seen while timing is recorded, and rows timed under more are
  marked `*`.
- **Same conditions for every library.** Each worker process starts with
  `OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS` and `NUMBA_NUM_THREADS` set to
  the thread count (PyTorch also gets `torch.set_num_threads`; our CPU measurements run
  inside `scratchgan.threads.using_threads(threads)`, as `scratchgan train` does: that many
  kernel chunk workers, BLAS and OpenMP pools of one thread), and, in malloc mode
  `tuned`, with `MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=1073741824`, so
  glibc neither maps multi-MB blocks afresh nor trims them on every call (a 1.6-4.5x effect
  on single kernels with the default, dynamic thresholds); NumPy arrays and PyTorch tensors
  both come from that malloc.
- **Peak.** "% peak" divides by the measured float32 matmul rate of NumPy's BLAS
  (n = 2048, same threads); it can pass 100% where the probe ran under more load than the
  row, or where a step skips products that the FLOP count includes (below). The FMA-theoretical figure is an estimate from lscpu (cores x
  clock x FLOP/cycle; under a hypervisor the clock is the nominal one).
- **FLOPs.** Analytic: conv/convT/linear multiply-adds x 2 (conv: OC C k^2 OH OW; convT:
  C OC k^2 H W per sample); bias, batch norm, activations, losses and Adam are not counted.
  Training steps use the 3x convention (a forward pass F, its backward 2F): DCGAN step =
  4 F_G + 9 F_D (G forward for the fake batch; D forward+backward on real and fake; G and D
  forward+backward for the G update); WGAN-GP adds the penalty's critic forward, its
  create_graph input gradient and the backward through both, 6 F_D: 4 F_G + 15 F_D. The
  count includes a few products a step may skip (D's weight gradients in the G update, which
  both our trainer and the PyTorch step freeze; the input gradients of D's first conv in the
  D update and of G.fc), the same count for every library.
- **Training steps.** Ours: `build_trainer(TrainConfig(...)).train_step()` (DCGAN-28, Adam lr 2e-4,
  betas 0.5/0.999, n_critic 1) with EMA off and a fixed random real batch (as PyTorch's),
  the data set dropped before measuring. PyTorch: the same architecture, DCGAN init and
  optimizer (default `torch.optim.Adam`) in `torch.nn`, z drawn inside the step, fake batch
  under `no_grad`, D frozen in the G update, `loss.item()` read per update; eager NCHW and
  eager channels-last. WGAN-GP: critic without batch norm, penalty weight 10, one D and one
  G update. images/s = batch / step time.
- **Memory.** Per configuration, in its fresh process: after building the models and
  optimizers and one first step (compilation, optimizer state, persistent workspaces), a
  garbage collection and `malloc_trim(0)` (so memory freed by then is not counted), the RSS
  high-water mark is reset (`/proc/self/clear_refs`); "RSS peak" is VmHWM after the
  warm-up and timed steps (the whole process: interpreter, libraries, parameters, optimizer
  state, and the step) and "step MiB" = that peak - the RSS at the reset: the working
  memory of a step (activations, gradients, temporaries). Not tracemalloc (too slow for
  our many small arrays, blind to PyTorch's allocations).
- **GPU (`--device cuda`).** Ours is the `cuda` backend (CuPy arrays, the CUDA C kernels of
  `kernels/cuda/*.cu`, cuBLAS GEMMs), PyTorch runs on CUDA (cuBLAS/cuDNN); TF32 is off in
  both (`Config.allow_tf32 = False`; `torch.backends.cuda.matmul.allow_tf32` and
  `torch.backends.cudnn.allow_tf32` False). Each timed repeat starts and ends with a device
  synchronisation, so it covers the GPU work its calls queued. Neither training step reads a
  loss back inside the measurement (ours keeps them on the device until a log step; the
  PyTorch step keeps them as tensors). "% peak" divides by the named card's FP32 (CUDA
  core, non-tensor) peak, lanes x 2 x boost clock (H100 SXM and H200: 66.9 TFLOP/s; H100
  PCIe: 51.2); the measured cuBLAS float32 GEMM rate (n = 8192) is shown beside it. "GPU
  MiB": CuPy's memory pool after the steps (it only grows), or PyTorch's peak allocation.
- **Kernel table.** Each backend runs the call its autograd makes: ours conv2d /
  conv_transpose2d / conv2d_grad_weight (dX of a conv is a transposed conv and vice versa),
  PyTorch `F.conv2d`/`F.conv_transpose2d` and `aten.convolution_backward` with one output
  mask per gradient; linear layers are each backend's `matmul` kernel (numba: column blocks
  on the kernel workers, one BLAS thread each; numpy: `np.matmul`; an inner dimension of 1,
  D.fc's dX, is the broadcast product the op computes) and `F.linear`/`torch.mm` in
  PyTorch. No bias. Results are cross-checked between
  backends before timing (a mismatch marks the row `!`).
- **Background load (`--background-load K`).** The DCGAN-28 step (ours on the first
  backend, PyTorch eager) at batch 64 (or each of `--batches`), first quiet (the same run's "step" rows where
  that section ran, else measured in the same way here), then each configuration again in
  a fresh worker with K busy processes started beside it: each `python -c` with
  `OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=1` running a float32 512 x 512
  NumPy matmul in a loop (one core of steady work each; the same load for ours and for
  PyTorch). The loaders start before the worker (the run waits until each has done its
  first product), are killed (process group, SIGKILL) and reaped as soon as the worker
  ends, whatever way it ends, and exit by themselves if the run dies. Under load the
  worker does not wait for a quiet machine; the foreign load it saw while timing is
  recorded (about K cores where the loaders ran throughout). Slowdown = loaded median /
  quiet median of the same configuration; "÷ torch eager" compares ours with PyTorch in
  the same state (quiet or loaded).
- **MLP step.** PacGAN's sizes for 2-D data: G = 4 hidden layers of 400 (Linear,
  BatchNorm1d, ReLU) from z of size 2, D = 3 hidden layers of 200 (Linear, LeakyReLU 0.2),
  batch 100, non-saturating loss, Adam(2e-4, betas 0.5/0.999), n_critic 1. Ours:
  `Trainer.train_step` of `build_trainer` with `model = "mlp"` (`build_models("mlp", (2,))`,
  the layers' default initialisation), EMA off, a fixed random batch of points. PyTorch: the
  same layers in `torch.nn` with their default initialisation (the same distributions as
  ours), default Adam, and the step structure of the DCGAN comparison (z drawn in the step,
  fake batch under `no_grad`, D frozen in the G update, `loss.item()` per update). Each
  configuration in its fresh worker, like the DCGAN steps; GFLOP counts the linear layers'
  multiply-adds x 2 with the same 4 F_G + 9 F_D convention.
- **Per-Function overhead.** Chains of N = 201 ops on tiny arrays, built afresh on every
  call: "elementwise" cycles mul by a (4, 4) tensor, add of it, tanh on a (4, 4) float32
  input; "conv-bn-act" cycles conv2d (3 -> 3 channels, 3x3, padding 1, no bias), batch norm
  (batch statistics) and leaky ReLU on (2, 3, 8, 8). "forward" records the graph without a
  backward; "forward+backward" then calls `y.sum().backward()` (gradients of the input and
  every parameter, reset to None before each call). µs/op = call time / N. Ours (inside
  `using_threads`) and PyTorch eager are timed alternately in one worker, one repeat each
  in turn, with an inner loop so that a repeat lasts at least the kernel table's minimum
  time.
"""


# -- cells ------------------------------------------------------------------------

def _num(x: float) -> str:
    """About four significant digits, without exponent."""
    a = abs(x)
    if a >= 1000:
        return f"{x:.0f}"
    if a >= 100:
        return f"{x:.1f}"
    if a >= 10:
        return f"{x:.2f}"
    return f"{x:.3f}"


def _ms(r: dict[str, Any]) -> str:
    return f"{_num(1e3 * r['median_s'])} ({_num(1e3 * r['min_s'])})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _ratio(x: float) -> str:
    return f"{x:.2f}" if x >= 0.1 else f"{x:.2g}"


def _peak(results: dict[str, Any]) -> float | None:
    """The GFLOP/s that "% peak" divides by: on the GPU the named card's FP32 peak (else the
    measured cuBLAS rate), on the CPU the measured NumPy matmul rate."""
    gpu = results.get("machine", {}).get("gpu")
    if results.get("settings", {}).get("device") == CUDA.name and gpu:
        if gpu.get("card"):
            return gpu["card"]["gflops_fp32"]
        return gpu.get("matmul_cupy", {}).get("median")
    mm = results.get("machine", {}).get("matmul_numpy")
    return mm["median"] if mm else None


def gpu_lines(results: dict[str, Any]) -> list[str]:
    """The GPU lines of the machine section (``--device cuda`` runs)."""
    g = results.get("machine", {}).get("gpu")
    if not g:
        return []
    lines = [f"GPU: {g['name']} (compute capability {g['compute_capability']}, {g.get('sms')} SMs, "
             f"{g['memory_gib']:.0f} GiB); CuPy {g['cupy']}, CUDA runtime {g['cuda_runtime']}, "
             f"driver {g['cuda_driver']}" + (f"; torch CUDA {g['torch_cuda']}"
                                             if g.get("torch_cuda") else "")]
    mm = g["matmul_cupy"]
    line = (f"measured: cuBLAS float32 GEMM (CuPy, TF32 off) n={mm['n']}: "
            f"{mm['median']:.0f} GFLOP/s (best {mm['best']:.0f})")
    if g.get("matmul_torch"):
        line += f"; torch: {g['matmul_torch']['median']:.0f} GFLOP/s"
    lines.append(line)
    card = g.get("card")
    lines.append(f"FP32 peak ({card['card']}, from the {card['from']}): {card['formula']} "
                 "= 100% peak" if card else
                 "FP32 peak: card not recognised (pass --card); % peak uses the measured GEMM")
    return lines


def _rate(gflops: float, peak: float | None) -> str:
    return f"{gflops:.1f}" + (f" ({100 * gflops / peak:.0f}%)" if peak else "")


# -- tables as (headers, rows) ----------------------------------------------------------

def machine_lines(results: dict[str, Any]) -> list[str]:
    m = results.get("machine", {})
    s = results.get("settings", {})
    if "error" in m:
        return [f"machine probe failed: {m['error']}"]
    sw = m.get("software", {})
    blas = sw.get("blas") or "BLAS unknown"
    if sw.get("blas_core"):
        blas += f", {sw['blas_core']} kernels"
    torch = (f"torch {sw['torch']} ({sw.get('torch_threads')} threads)" if sw.get("torch")
             else f"torch {results.get('torch', 'skipped')}")
    cores = (f"{m.get('cpus')} CPUs ({m.get('cores')} cores/socket x {m.get('sockets')} socket, "
             f"{m.get('threads_per_core')} thread/core"
             + (f", {m['hypervisor']} guest" if m.get("hypervisor") else "") + ")")
    lines = [f"CPU: {m.get('cpu')} ({m.get('vendor')}), {cores}",
             f"software: Python {sw.get('python')}, numpy {sw.get('numpy')} ({blas}), "
             f"numba {sw.get('numba')}, {torch}",
             f"settings: {s.get('threads')} threads for every library; malloc {m.get('malloc')}"
             + (" (MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=1073741824)"
                if m.get("malloc") == "tuned" else " (glibc defaults)")
             + f"; float32; {s.get('repeats')} timed repeats"
             + (f", {_plural(s['warmup_steps'], 'warm-up step')} per training step"
                if s.get("warmup_steps") else "")
             + f"; quiet-machine wait <= {s.get('max_wait_s', 0):g} s"]
    mm = m.get("matmul_numpy")
    if mm:
        line = (f"measured peak: numpy float32 matmul n={mm['n']}: {mm['median']:.1f} GFLOP/s "
                f"(best {mm['best']:.1f}) = 100% peak")
        if m.get("matmul_torch"):
            line += f"; torch matmul: {m['matmul_torch']['median']:.1f} GFLOP/s"
        lines.append(line)
    th = m.get("theoretical")
    lines.append(f"FMA-theoretical (estimate): {th['formula']} = {th['gflops_fp32']:.0f} GFLOP/s "
                 f"(clock: {th['ghz_source']})" if th else "FMA-theoretical: not readable here")
    if s.get("device") == CUDA.name:
        lines = [x.replace("= 100% peak", "(the CPU's; the GPU's peak below is 100%)")
                 for x in lines]
        lines += gpu_lines(results)
    return lines


def _kernel_columns(k: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """The backends of the kernel table and the (numerator, denominator) pairs of its ratio
    columns: each of ours / torch where PyTorch ran, else numba / numpy."""
    ours = list(k["backends"])
    cols = ours + (["torch"] if any("torch" in r["results"] for r in k.get("rows", [])) else [])
    if "torch" in cols:
        return cols, [(b, "torch") for b in ours]
    if "numpy" in ours and len(ours) > 1:
        return cols, [(b, "numpy") for b in ours if b != "numpy"]
    return cols, []


def kernel_table(results: dict[str, Any]) -> tuple[list[str], list[list[str]], list[str]]:
    """(headers, rows, footnotes) of the kernel table."""
    k = results["kernels"]
    rows_in = k.get("rows", [])
    cols, ratios = _kernel_columns(k)
    peak = _peak(results)
    headers = (["layer", "op", "MFLOP"] + [f"{b} ms" for b in cols]
               + [f"{b} GFLOP/s (%peak)" for b in cols] + [f"{a}/{b}" for a, b in ratios])
    rows, marks = [], set()
    for r in rows_in:
        res = r["results"]
        op = r["op"]
        if (r.get("foreign_load_cores") or 0) > LOAD_MARK:
            op += " *"
            marks.add("*")
        if r.get("max_rel_diff", 0) > DIFF_MARK:
            op += " !"
            marks.add("!")
        cells = [r["label"], op, _num(r["flops"] / 1e6)]
        cells += [_ms(res[b]) if b in res else "-" for b in cols]
        cells += [_rate(res[b]["gflops"], peak) if b in res else "-" for b in cols]
        cells += [_ratio(res[a]["median_s"] / res[b]["median_s"]) if a in res and b in res
                  else "-" for a, b in ratios]
        rows.append(cells)
    notes = [f"batch {k['batch']}; times in ms, median (min); ratios of median times "
             "(> 1: slower than the right-hand side)"]
    if "torch" not in cols:
        notes.append(f"PyTorch: {k.get('torch', 'skipped')}")
    if "*" in marks:
        notes.append(LOAD_NOTE)
    if "!" in marks:
        notes.append("!: the backends' results differ by more than 1e-3 (relative)")
    if "error" in k:
        notes.append(f"kernel worker failed: {k['error']}")
    return headers, rows, notes


def step_table(results: dict[str, Any], section: str) -> tuple[list[str], list[list[str]], list[str]]:
    sec = results[section]
    peak = _peak(results)
    headers = ["configuration", "batch", "ms/step median (min)",
               "points/s" if section == "mlp" else "images/s",
               "GFLOP/s (%peak)", "÷ torch eager", "first step s", "RSS peak MiB",
               "step MiB", "faults/step"]
    gpu = any("gpu_mib" in r for r in sec["rows"])
    if gpu:
        headers.append("GPU MiB")
    rows, notes, loaded = [], [], False
    for r in sec["rows"]:
        if "median_s" not in r:
            rows.append([r["name"], str(r["batch"]), f"failed: {r.get('error', '?')}"]
                        + [""] * (len(headers) - 3))
            continue
        name = r["name"]
        if (r.get("foreign_load_cores") or 0) > LOAD_MARK:
            name += " *"
            loaded = True
        rows.append([name, str(r["batch"]), _ms(r), f"{r['images_per_s']:.0f}",
                     _rate(r["gflops"], peak),
                     _ratio(r["vs_torch_eager"]) if "vs_torch_eager" in r else "-",
                     f"{r['first_step_s']:.2f}",
                     f"{r['rss_peak_mib']:.0f}" if "rss_peak_mib" in r else "-",
                     f"{r['step_mib']:.0f}" if "step_mib" in r else "-",
                     f"{r['minor_faults_per_step']:.0f}"]
                    + ([f"{r['gpu_mib']:.0f}" if "gpu_mib" in r else "-"] if gpu else []))
    flops = ", ".join(f"batch {b}: {f / 1e9:.2f}" for b, f in sec.get("flops_per_step", {}).items())
    notes.append(f"GFLOP per step (3x convention): {flops}; '÷ torch eager' = median time / "
                 "PyTorch eager's at the same batch (> 1: slower)")
    if sec.get("torch") != "measured":
        notes.append(f"PyTorch: {sec.get('torch')}")
    if loaded:
        notes.append(LOAD_NOTE)
    return headers, rows, notes


def _load_cell(r: dict[str, Any]) -> str:
    v = r.get("foreign_load_cores")
    return "-" if v is None else f"{v:.2f}"


def load_table(results: dict[str, Any]) -> tuple[list[str], list[list[str]], list[str]]:
    """(headers, rows, footnotes) of the background-load section."""
    sec = results["load"]
    k = sec["background_load"]
    headers = ["configuration", "batch", "quiet ms median (min)",
               f"loaded (K={k}) ms median (min)", "slowdown", "÷ torch eager quiet",
               "÷ torch eager loaded", "foreign load quiet", "foreign load loaded"]
    rows, marked = [], False
    for r in sec["rows"]:
        quiet, loaded = r["quiet"], r.get("loaded", {})
        name = r["name"]
        if (quiet.get("foreign_load_cores") or 0) > LOAD_MARK:
            name += " *"
            marked = True
        def cell(x: dict[str, Any]) -> str:
            return _ms(x) if "median_s" in x else f"failed: {x.get('error', '?')}"
        rows.append([name, str(r["batch"]), cell(quiet), cell(loaded),
                     f"{r['slowdown']:.2f}x" if "slowdown" in r else "-",
                     _ratio(r["vs_torch_quiet"]) if "vs_torch_quiet" in r else "-",
                     _ratio(r["vs_torch_loaded"]) if "vs_torch_loaded" in r else "-",
                     _load_cell(quiet), _load_cell(loaded)])
    sources = {"step section": "this run's step section",
               "measured here": "quiet measurements of this section"}
    quiet_from = " and ".join(sources.get(x, x) for x in
                              sorted({r["quiet_from"] for r in sec["rows"]}))
    notes = [f"background load: {_plural(k, 'busy process')} beside each loaded measurement, "
             f"each a {sec['kind']}; quiet times from {quiet_from}",
             "slowdown = loaded median / the same configuration's quiet median (2x is what "
             "running on one of two cores alone would cost); '÷ torch eager' = ours / PyTorch "
             "eager in the same state; foreign load = cores other processes used while the "
             "row was timed"]
    if sec.get("torch") != "measured":
        notes.append(f"PyTorch: {sec.get('torch')}")
    if marked:
        notes.append("*: the quiet time was measured with more than "
                     f"{LOAD_MARK} cores of foreign load: the slowdown understates")
    return headers, rows, notes


def overhead_table(results: dict[str, Any]) -> tuple[list[str], list[list[str]], list[str]]:
    """(headers, rows, footnotes) of the per-Function overhead section."""
    sec = results["overhead"]
    rows_in = sec.get("rows", [])
    torch = any("torch" in r["results"] for r in rows_in)
    headers = ["chain", "mode", "ours µs/op median (min)"] + (
        ["torch µs/op median (min)", "ours/torch"] if torch else [])
    rows, marked = [], False
    for r in rows_in:
        mode = r["mode"]
        if (r.get("foreign_load_cores") or 0) > LOAD_MARK:
            mode += " *"
            marked = True
        cells = [f"{r['chain']}: {r['label']}", mode]
        for impl in (("ours", "torch") if torch else ("ours",)):
            x = r["results"].get(impl)
            cells.append(f"{_num(x['us_per_op'])} ({_num(x['us_per_op_min'])})" if x else "-")
        if torch:
            cells.append(_ratio(r["vs_torch"]) if "vs_torch" in r else "-")
        rows.append(cells)
    n = rows_in[0]["n_ops"] if rows_in else "?"
    notes = [f"time of one call of a chain of {n} ops (built afresh, then for "
             "forward+backward y.sum().backward()) / {n}; ratio of medians (> 1: slower)"
             .replace("{n}", str(n))]
    if not torch:
        notes.append(f"PyTorch: {sec.get('torch', 'skipped')}")
    if marked:
        notes.append(LOAD_NOTE)
    if "error" in sec:
        notes.append(f"overhead worker failed: {sec['error']}")
    return headers, rows, notes


def _extra_sections(results: dict[str, Any]) -> list[tuple[str, tuple]]:
    """(title, table) of the load and overhead sections present."""
    out = []
    if "load" in results:
        k = results["load"]["background_load"]
        out.append((f"DCGAN-28 step beside {_plural(k, 'busy process')} (--background-load {k})",
                    load_table(results)))
    if "overhead" in results:
        out.append(("Per-Function overhead (forward, forward+backward; tiny arrays)",
                    overhead_table(results)))
    return out


# -- rendering ----------------------------------------------------------------------

def render_text(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)] if rows else \
        [len(h) for h in headers]
    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    head = line(headers)
    return "\n".join([head, "-" * len(head)] + [line(r) for r in rows])


def render_markdown(headers: list[str], rows: list[list[str]]) -> str:
    def esc(c: str) -> str:
        return str(c).replace("|", "\\|")
    align = ["---" if i < 2 else "---:" for i in range(len(headers))]
    out = ["| " + " | ".join(esc(h) for h in headers) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


SECTION_TITLES = {"step": "DCGAN-28 training step (non-saturating loss)",
                  "wgan-gp": "WGAN-GP training step (gradient penalty, double backward)",
                  "mlp": "PacGAN MLP training step (G 4 x 400 with BN, D 3 x 200)"}
STEP_SECTIONS = ("step", "wgan-gp", "mlp")


def format_console(results: dict[str, Any]) -> str:
    parts = ["== machine =="] + machine_lines(results)
    if "kernels" in results:
        h, rows, notes = kernel_table(results)
        parts += ["", f"== kernels: DCGAN-28 layers, batch {results['kernels']['batch']} ==",
                  render_text(h, rows)] + notes
    for section in STEP_SECTIONS:
        if section in results:
            h, rows, notes = step_table(results, section)
            parts += ["", f"== {SECTION_TITLES[section]} ==", render_text(h, rows)] + notes
    for title, (h, rows, notes) in _extra_sections(results):
        parts += ["", f"== {title} ==", render_text(h, rows)] + notes
    if results.get("quick"):
        parts += ["", "(--quick: a smoke run; the numbers are indicative only)"]
    return "\n".join(parts)


def to_markdown(results: dict[str, Any]) -> str:
    s = results.get("settings", {})
    parts = ["# Benchmarks", ""]
    if results.get("quick"):
        parts += ["> **Quick smoke run, to be replaced by the full run.** These numbers come "
                  f"from `--quick` ({_plural(s.get('repeats', 0), 'repeat')}, "
                  f"{_plural(s.get('warmup_steps', 0), 'warm-up step')}, no wait for a quiet "
                  "machine) and possibly from a subset of the configurations (see the command), "
                  "on a machine that may have been busy with other work (rows marked `*`): they "
                  "show the form of the tables, not the speed. Regenerate on a quiet machine "
                  "with `scratchgan bench --json bench.json --chart bench.png "
                  "--markdown BENCHMARKS.md`.", ""]
    parts += ["Generated by `scratchgan bench` (see `scratchgan bench --help`); the method is "
              "described at the end. Where the CPU targets stand, what was tried and what "
              "lost, read from these tables: [docs/performance.md](docs/performance.md).", "",
              f"Command: `{results.get('command', 'scratchgan bench')}`  ",
              f"Date (UTC): {results.get('time_utc', '?')}; total wall time "
              f"{results.get('wall_s', 0):.0f} s", "", "## Machine", ""]
    parts += [f"- {line}" for line in machine_lines(results)]
    if "kernels" in results:
        h, rows, notes = kernel_table(results)
        parts += ["", f"## Kernels: DCGAN-28 layers, batch {results['kernels']['batch']}", "",
                  render_markdown(h, rows), ""] + [f"{n}  " for n in notes]
    for section in STEP_SECTIONS:
        if section in results:
            h, rows, notes = step_table(results, section)
            parts += ["", f"## {SECTION_TITLES[section]}", "", render_markdown(h, rows), ""]
            parts += [f"{n}  " for n in notes]
    for title, (h, rows, notes) in _extra_sections(results):
        parts += ["", f"## {title}", "", render_markdown(h, rows), ""]
        parts += [f"{n}  " for n in notes]
    parts += ["", "## How it is measured", "", METHOD]
    return "\n".join(parts).rstrip() + "\n"


def write_chart(results: dict[str, Any], path: str) -> None:
    """A PNG: step times per configuration and batch, and the kernel time ratios."""
    from matplotlib.figure import Figure

    from scratchgan.viz import save_figure
    panels = [s for s in STEP_SECTIONS if s in results]
    has_kernels = "kernels" in results and results["kernels"].get("rows")
    n = len(panels) + bool(has_kernels)
    if n == 0:
        raise ValueError("nothing to chart: the results have no step or kernel section")
    fig = Figure(figsize=(6.5 * n, 5.5 if not has_kernels else 7.5))
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, section in zip(axes, panels):
        rows = [r for r in results[section]["rows"] if "median_s" in r]
        names = list(dict.fromkeys(r["name"] for r in rows))
        batches = list(dict.fromkeys(r["batch"] for r in rows))
        width = 0.8 / max(len(names), 1)
        for i, name in enumerate(names):
            xs, ys, lo = [], [], []
            for j, b in enumerate(batches):
                r = next((r for r in rows if r["name"] == name and r["batch"] == b), None)
                if r is not None:
                    xs.append(j + (i - (len(names) - 1) / 2) * width)
                    ys.append(1e3 * r["median_s"])
                    lo.append(1e3 * (r["median_s"] - r["min_s"]))
            ax.bar(xs, ys, width, label=name, yerr=[lo, [0] * len(lo)], capsize=2)
        ax.set_xticks(range(len(batches)), [f"batch {b}" for b in batches])
        ax.set_ylabel("ms per step (median; whisker: min)")
        ax.set_title(SECTION_TITLES[section], fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    if has_kernels:
        ax = axes[-1]
        pairs = _kernel_columns(results["kernels"])[1]
        rows = results["kernels"]["rows"]
        labels = [f"{r['label'].split(' k')[0]} {r['op']}" for r in rows]
        height = 0.8 / max(len(pairs), 1)
        for i, (a, b) in enumerate(pairs):
            ys = [k + (i - (len(pairs) - 1) / 2) * height for k in range(len(rows))]
            vals = [r["results"][a]["median_s"] / r["results"][b]["median_s"]
                    if a in r["results"] and b in r["results"] else float("nan") for r in rows]
            # bars grow from 1 (equal time): to the left where faster, to the right where slower
            ax.barh(ys, [v - 1 for v in vals], height, left=1.0, label=f"{a} / {b}")
        ax.axvline(1.0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_yticks(range(len(rows)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("time ratio (median; < 1: faster)")
        ax.set_title(f"kernels, batch {results['kernels']['batch']}", fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    title = "scratchgan bench" + (" (--quick smoke run)" if results.get("quick") else "")
    gpu = results.get("machine", {}).get("gpu") or {}
    cpu = gpu.get("name") or results.get("machine", {}).get("cpu")
    fig.suptitle(f"{title}: {cpu}" if cpu else title)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
