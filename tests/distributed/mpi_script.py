"""Run by tests/distributed/test_mpi.py, alone or under ``mpiexec -n K``:

    python mpi_script.py exact LOSS B OUT.npz        5 steps, float64, reference kernels
    python mpi_script.py resume LOSS B FOLDER OUT.npz STEPS [--resume]
                                                     STEPS steps, checkpoint at step 3
    python mpi_script.py collectives OUT.json        allreduce, broadcast, Adam state,
                                                     SyncBatchNorm (double backward)
    python mpi_script.py die MODE FOLDER             rank 1 dies at step 3 (MODE kill:
                                                     SIGKILL; raise: an exception)
    python mpi_script.py nan FOLDER                  rank 1's critic turns NaN at step 3

Tiny models (DCGAN-28 at widths 4) so that each run takes seconds.
"""
from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from scratchgan import Tensor, grad, optim
from scratchgan import functions as F
from scratchgan import random as sg_random
from scratchgan.distributed import from_environment
from scratchgan.distributed.functions import allreduce_sum, sync_batch_norm
from scratchgan.distributed.launch import launch
from scratchgan.distributed.parallel import ShardedLoader, convert_sync_batchnorm
from scratchgan.gan.build import loss_from_config
from scratchgan.gan.checkpoint import Checkpoints
from scratchgan.gan.guard import make_guard
from scratchgan.gan.config import make_config
from scratchgan.gan.ema import EMA
from scratchgan.gan.guard import TrainingDiverged
from scratchgan.gan.models import DCGANDiscriminator, DCGANGenerator
from scratchgan.gan.settings import RunSettings
from scratchgan.gan.tasks import GANTask
from scratchgan.gan.trainer import Trainer


class Float64Task(GANTask):
    """GANTask whose noise stays float64 (the exactness runs are in float64)."""

    def _noise(self, rng, n):
        return rng.standard_normal((n, self.nz))


def build(comm, loss_name: str, batch: int, out: str, steps: int = 5) -> Trainer:
    """The objects build_trainer makes for a data-parallel run, at tiny widths in float64."""
    c = make_config(loss=loss_name, batch_size=batch, steps=steps, out=out, kernels="numpy",
                    threads=1, progress=False, seed=3, nz=8)
    settings = RunSettings(cpu_kernels="numpy", threads=1)
    with settings.applied():
        sg_random.manual_seed(c.seed)
        loss = loss_from_config(c)
        data = np.random.default_rng(0).uniform(-1, 1, (48, 1, 28, 28))
        dataset = SimpleNamespace(data=data, labels=None, kind="image", num_classes=0)
        G = DCGANGenerator(28, 1, nz=8, ngf=4).to(dtype=np.float64)
        D = DCGANDiscriminator(28, 1, ndf=4, batchnorm=loss.batchnorm_in_d).to(dtype=np.float64)
        task = Float64Task(dataset, 8, 0, comm.shard(batch), "cpu", c.seed)
        import copy
        ema = EMA(G, copy.deepcopy(G), 0.9, task.draw_inputs, c.seed, batch)
        if comm.size > 1:
            convert_sync_batchnorm(G, comm)
            convert_sync_batchnorm(D, comm)
        opt_g = optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
        opt_d = optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
        checkpoints = Checkpoints(Path(out) / "checkpoints", 3)
        guard = make_guard(comm, False, checkpoints.describe_latest)
        return Trainer(data=ShardedLoader(dataset, batch, comm, seed=c.seed), G=G, D=D,
                       opt_g=opt_g, opt_d=opt_d, loss=loss, task=task, config=c,
                       checkpoints=checkpoints, guard=guard, ema=ema, settings=settings,
                       comm=comm)


def state_arrays(t: Trainer, losses: list) -> dict:
    out = {"losses": np.array(losses, np.float64)}
    for prefix, m in (("G", t.G), ("D", t.D)):
        out.update({f"{prefix}.{k}": np.asarray(v) for k, v in m.state_dict().items()})
    return out


def exact(loss_name: str, batch: str, path: str) -> None:
    comm = from_environment()
    t = build(comm, loss_name, int(batch), str(Path(path).parent / "run"))
    with t.scope():
        losses = [[r["loss_d"], r["loss_g"]] for r in (t.train_step() for _ in range(5))]
    if comm.is_root:
        np.savez(path, **state_arrays(t, losses))


def resume(loss_name: str, batch: str, folder: str, path: str, steps: str, *flag: str) -> None:
    comm = from_environment()
    t = build(comm, loss_name, int(batch), folder, int(steps))
    losses = []
    with t.scope():
        if flag:
            assert t.resume(), "no checkpoint to resume"
        while t.step < int(steps):
            r = t.train_step()
            losses.append([r["loss_d"], r["loss_g"]])
            if t.step == 3 and comm.is_root and not flag:
                t.save_checkpoint()
    if comm.is_root:
        np.savez(path, **state_arrays(t, losses))


def collectives(path: str) -> None:
    comm = from_environment()
    r, K = comm.rank, comm.size
    report: dict = {}
    # the flat-buffer allreduce against one allreduce per array (mpi4py's, pickled)
    rng = np.random.default_rng(10 + r)
    arrays = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(7),
              rng.standard_normal((2, 1, 5)).astype(np.float32), np.arange(6.0) * r]
    flat = comm.allreduce(arrays)
    ref = [comm.comm.allreduce(a) for a in arrays]
    report["allreduce"] = all(f.dtype == a.dtype and f.shape == a.shape and
                              np.allclose(f, e, rtol=1e-6, atol=1e-6)
                              for f, e, a in zip(flat, ref, arrays))
    # broadcast of parameters and Adam's state: rank 0's after a few steps of its own
    p = Tensor(np.random.default_rng(r).standard_normal((4, 3)), requires_grad=True)
    from scratchgan import nn
    m = nn.Linear(3, 2).to(dtype=np.float64)
    m.weight.data[...] = r
    opt = optim.Adam([p] + list(m.parameters()), lr=0.1)
    for _ in range(r + 2):
        loss = F.sum(p * p) + F.sum(m(p))
        loss.backward()
        opt.step()
        p.grad = None
        for q in m.parameters():
            q.grad = None
    comm.broadcast_state([m], [opt])
    comm.broadcast([p.data])
    states = comm.allgather(opt.state_dict())
    weights = comm.allgather((p.data.copy(), m.weight.data.copy()))
    report["adam_state"] = all(json.dumps(_plain(s), sort_keys=True) ==
                               json.dumps(_plain(states[0]), sort_keys=True) for s in states)
    report["adam_steps"] = _plain(states[0]).get("state", {}) != {}
    report["params"] = all(np.array_equal(w[0], weights[0][0]) and
                           np.array_equal(w[1], weights[0][1]) for w in weights)
    # SyncBatchNorm: values, gradients and second-order gradients equal those of
    # batch_norm on the whole batch in one process (checked on rank 0)
    with RunSettings(cpu_kernels="numpy").applied():
        g = np.random.default_rng(5)
        N = 4 * K
        X = g.standard_normal((N, 3, 2, 2)) * 2 + 1
        W = g.standard_normal((N, 3, 2, 2))
        gamma0, beta0 = g.standard_normal(3), g.standard_normal(3)

        def objective(x, gamma, beta, bn, total=lambda g: g, share=1.0):
            # the sum over the ranks of first and second is the one-process objective:
            # gamma's gradient is the sum of the ranks' shares (allreduce_sum, itself
            # differentiable), a term of replicated values counts 1/K on each rank
            y = bn(x, gamma, beta)
            first = F.sum(y * y * Tensor(w)) + F.sum(F.tanh(y))
            gx, gg = grad(first, [x, gamma], create_graph=True)
            gg = total(gg)
            return first, F.sum(gx * gx) + share * F.sum(gg * gg * gamma)

        sl = slice(r * 4, (r + 1) * 4)
        x = Tensor(X[sl].copy(), requires_grad=True)
        gamma, beta = Tensor(gamma0.copy(), requires_grad=True), Tensor(beta0.copy(), requires_grad=True)
        w = W[sl]
        first, second = objective(x, gamma, beta,
                                  lambda x, gm, bt: sync_batch_norm(comm, x, gm, bt)[0],
                                  lambda g: allreduce_sum(comm, g), 1.0 / K)
        gx, ggamma, gbeta = grad(second, [x, gamma, beta])
        local = comm.allgather((first.item(), second.item(), gx.data, ggamma.data, gbeta.data))
        if r == 0:
            w = W
            xf = Tensor(X.copy(), requires_grad=True)
            gf, bf = Tensor(gamma0.copy(), requires_grad=True), Tensor(beta0.copy(), requires_grad=True)
            first1, second1 = objective(xf, gf, bf,
                                        lambda x, gm, bt: F.batch_norm(x, gm, bt, training=True))
            gx1, gg1, gb1 = grad(second1, [xf, gf, bf])
            firsts = sum(v[0] for v in local)
            seconds = sum(v[1] for v in local)
            rel = lambda a, b: float(np.max(np.abs(a - b)) / max(1e-300, np.max(np.abs(b))))
            report["syncbn_first"] = rel(np.array(firsts), np.array(first1.item()))
            report["syncbn_second"] = rel(np.array(seconds), np.array(second1.item()))
            report["syncbn_gx"] = rel(np.concatenate([v[2] for v in local]), gx1.data)
            report["syncbn_ggamma"] = rel(sum(v[3] for v in local), gg1.data)
            report["syncbn_gbeta"] = rel(sum(v[4] for v in local), gb1.data)
    if r == 0:
        Path(path).write_text(json.dumps(report))


def _plain(obj):
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    return obj


def die(mode: str, folder: str) -> None:
    with launch("mpi_script") as comm:
        t = build(comm, "nonsaturating", 8, folder, steps=10 ** 6)
        with t.scope():
            while True:
                t.train_step()
                if comm.is_root and t.step == 2:
                    t.save_checkpoint()
                if comm.rank == 1 and t.step == 3:
                    if mode == "kill":
                        os.kill(os.getpid(), signal.SIGKILL)
                    raise RuntimeError("rank 1 fails on purpose")


def nan(folder: str) -> None:
    with launch("mpi_script") as comm:
        t = build(comm, "wgan-gp", 8, folder, steps=10)
        try:
            with t.scope():
                while t.step < 10:
                    if comm.rank == 1 and t.step == 3:
                        for p in t.D.parameters():
                            p.data[...] = np.nan
                    t.train_step()
        except TrainingDiverged as e:
            print(f"rank {comm.rank}: {e}", flush=True)
            sys.exit(3)


if __name__ == "__main__":
    {"exact": exact, "resume": resume, "collectives": collectives, "die": die,
     "nan": nan}[sys.argv[1]](*sys.argv[2:])
