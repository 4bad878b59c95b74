"""Data-parallel step time on this machine, and scaling projected from it.

    python benchmarks/mpi.py [--model dcgan28|dcgan32|both] [--batch 64] [--steps 8]
                             [--ranks 2] [--json OUT.json] [--markdown OUT.md]

For each model it times the training step (non-saturating DCGAN, one D and one G update,
global batch --batch, float32, the default kernels) in three set-ups:

    1 process x 1 thread      the compute per image on one core
    1 process x 2 threads     the same cores used by threads
    K processes x 1 thread    ``mpiexec -n K`` (--ranks), gradients allreduced, sync BN

and reports the step time, images/s, and the bytes allreduced per step (the gradients of
G and D, 4 bytes a parameter, plus the synchronised batch-norm statistics). Then it
projects many hosts with a ring allreduce,

    T_comm(K) = 2 (K - 1) / K * bytes / bandwidth + 2 (K - 1) * latency,

at 10 and 100 Gb/s (latency 20 us a hop), and the batch per rank b at which
communication stays under 10 % of the step when it is not overlapped with compute:
T_comm <= 0.1 (b t_image + T_comm), i.e. b >= 9 T_comm / t_image, t_image the measured
compute time per image of one core. The paragraph it prints (``--markdown``) is what
docs/scaling.md holds.

Each measurement is a subprocess (``--worker``) with one warm-up step and the median of
--steps timed steps; the K-rank one is the slowest rank's. Run it on a quiet machine:
every number here is a time.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

MODELS = {"dcgan28": (1, 28, 28), "dcgan32": (3, 32, 32)}
LATENCY_S = 20e-6
BANDWIDTHS_GBIT = (10, 100)


def worker(model: str, batch: int, steps: int, threads: int, out: str) -> None:
    """Time ``steps`` training steps in this process (a rank of a job under mpiexec)."""
    import tempfile

    from scratchgan.data import Dataset
    from scratchgan.distributed import from_environment
    from scratchgan.gan.build import build_trainer
    from scratchgan.gan.config import make_config

    comm = from_environment()
    shape = MODELS[model]
    data = np.random.default_rng(0).uniform(-1, 1, (4 * batch,) + shape).astype(np.float32)
    dataset = Dataset(name="random batch", data=data, labels=None, num_classes=0, kind="image")
    with tempfile.TemporaryDirectory() as tmp:
        config = make_config(model="dcgan", ngf=64, ndf=64, batch_size=batch, steps=10 ** 6,
                             threads=threads,
                             ema=0.0, progress=False, out=tmp)
        trainer = build_trainer(config, dataset=dataset, comm=comm)
        counts = {"G": sum(p.data.size for p in trainer.G.parameters()),
                  "D": sum(p.data.size for p in trainer.D.parameters())}
        times = []
        with trainer.scope():
            trainer.train_step()                        # warm-up (JIT, caches)
            for _ in range(steps):
                comm.allgather(None)                    # start together
                start = time.perf_counter()
                trainer.train_step()
                times.append(time.perf_counter() - start)
        slowest = [max(ts) for ts in zip(*comm.allgather(times))]
        if comm.is_root:
            Path(out).write_text(json.dumps({"step_s": statistics.median(slowest),
                                             "params": counts, "ranks": comm.size,
                                             "threads": threads, "batch": batch}))


def measure(model: str, batch: int, steps: int, ranks: int, threads: int,
            timeout: float) -> dict:
    """One set-up, as a subprocess (under mpiexec when ranks > 1)."""
    import tempfile
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "MPI_LOCAL"))}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        command = [sys.executable, __file__, "--worker", model, str(batch), str(steps),
                   str(threads), str(out)]
        if ranks > 1:
            mpiexec = shutil.which("mpiexec", path=f"{Path(sys.executable).parent}"
                                                   f"{os.pathsep}{os.environ.get('PATH', '')}")
            if mpiexec is None:
                raise SystemExit("no mpiexec: pip install \"scratchgan[mpi]\"")
            command = [mpiexec, "-n", str(ranks)] + command
        subprocess.run(command, check=True, timeout=timeout, env=env)
        return json.loads(out.read_text())


def bn_bytes(model: str) -> int:
    """Bytes of the synchronised batch-norm statistics one step allreduces (G's layers in
    its D-step forward and its G-step forward and backward, D's in three forwards and two
    backwards), float64: small beside the gradients."""
    from scratchgan.gan.models import build_models
    from scratchgan.nn import BatchNorm
    G, D = build_models("dcgan", MODELS[model])
    g = sum(m.num_features for m in G.modules() if isinstance(m, BatchNorm))
    d = sum(m.num_features for m in D.modules() if isinstance(m, BatchNorm))
    # forward: 2 reductions of C (+1 count); backward: 2 of C recomputed + 2 of C
    return 8 * (g * (2 + 2 + 4) + d * (3 * 2 + 2 * 4))


def ring_seconds(nbytes: float, ranks: int, gbit: float) -> float:
    return 2 * (ranks - 1) / ranks * nbytes * 8 / (gbit * 1e9) + 2 * (ranks - 1) * LATENCY_S


def project(model: str, one: dict, nbytes: int) -> dict:
    t_image = one["step_s"] / one["batch"]
    rows = {}
    for gbit in BANDWIDTHS_GBIT:
        for ranks in (8, 64):
            t = ring_seconds(nbytes, ranks, gbit)
            rows[f"{gbit}Gb/{ranks}"] = {"comm_s": t, "min_batch_per_rank": int(np.ceil(9 * t / t_image))}
    return {"t_image_s": t_image, "rows": rows}


def markdown(results: dict) -> str:
    lines = ["| model | set-up | step (ms) | images/s |", "|---|---|---:|---:|"]
    for model, r in results.items():
        for name in ("1x1", "1x2", f"{r['ranks']}x1"):
            m = r[name]
            lines.append(f"| {model} | {name.replace('x', ' process(es) x ')} thread(s) | "
                         f"{1e3 * m['step_s']:.0f} | {m['batch'] / m['step_s']:.0f} |")
    lines += ["", "| model | bytes allreduced / step | link | ranks | T_comm (ms) | "
              "batch per rank for comm < 10 % |", "|---|---:|---|---:|---:|---:|"]
    for model, r in results.items():
        for key, row in r["projection"]["rows"].items():
            gbit, ranks = key.split("/")
            lines.append(f"| {model} | {r['bytes'] / 1e6:.1f} MB | {gbit}/s | {ranks} | "
                         f"{1e3 * row['comm_s']:.2f} | {row['min_batch_per_rank']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        model, batch, steps, threads, out = argv[1:]
        worker(model, int(batch), int(steps), int(threads), out)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("dcgan28", "dcgan32", "both"), default="both")
    parser.add_argument("--batch", type=int, default=64, help="global batch (default 64)")
    parser.add_argument("--steps", type=int, default=8, help="timed steps (default 8)")
    parser.add_argument("--ranks", type=int, default=2, help="MPI processes (default 2)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per set-up")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--markdown", help="write the tables here")
    args = parser.parse_args(argv)
    models = list(MODELS) if args.model == "both" else [args.model]
    results = {}
    for model in models:
        r = {"ranks": args.ranks}
        for name, ranks, threads in (("1x1", 1, 1), ("1x2", 1, 2),
                                     (f"{args.ranks}x1", args.ranks, 1)):
            r[name] = measure(model, args.batch, args.steps, ranks, threads, args.timeout)
            m = r[name]
            print(f"{model} {name}: {1e3 * m['step_s']:.1f} ms/step, "
                  f"{m['batch'] / m['step_s']:.0f} images/s", flush=True)
        params = r["1x1"]["params"]
        r["bytes"] = 4 * (params["G"] + params["D"]) + bn_bytes(model)
        r["projection"] = project(model, r["1x1"], r["bytes"])
        print(f"{model}: {r['bytes'] / 1e6:.2f} MB allreduced per step "
              f"(G {params['G']:,} + D {params['D']:,} parameters, float32)", flush=True)
        results[model] = r
    table = markdown(results)
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.markdown:
        Path(args.markdown).write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
