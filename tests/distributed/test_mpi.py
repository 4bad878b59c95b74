"""Data-parallel training under ``mpiexec -n 2`` (each test starts its own job as a
subprocess, with a timeout): exactness against one process in float64, resume, the
collectives, SyncBatchNorm's double backward, a NaN on one rank, a rank that dies, and
``scratchgan train`` itself. Skipped where mpi4py (the ``mpi`` extra) is not installed."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py")

SCRIPT = Path(__file__).with_name("mpi_script.py")
MPIEXEC = shutil.which("mpiexec", path=f"{Path(sys.executable).parent}{os.pathsep}"
                                       f"{os.environ.get('PATH', '')}")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install 'scratchgan[mpi]')")
REPO = Path(__file__).resolve().parents[2]


def _env() -> dict:
    """This environment without the variables of an enclosing MPI job."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PMI_", "OMPI_", "MV2_", "MPI_LOCAL", "HYDRA_", "PMIX_"))}


def run(args: list, ranks: int | None = 2, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python args`` under ``mpiexec -n ranks`` (None: alone), output captured."""
    command = [sys.executable, *map(str, args)]
    if ranks is not None:
        command = [MPIEXEC, "-n", str(ranks), *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=_env(),
                          cwd=REPO)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def relative(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)) if a.size else 0.0


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_two_ranks_equal_one_process(tmp_path, loss):
    """K = 2 ranks with global batch 8 (sync BN, gradients averaged) give the losses and
    parameters of one process with batch 8 after 5 steps, float64, reference kernels."""
    ok(run([SCRIPT, "exact", loss, 8, tmp_path / "one.npz"], ranks=None))
    ok(run([SCRIPT, "exact", loss, 8, tmp_path / "two.npz"]))
    one, two = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")
    assert sorted(one.files) == sorted(two.files)
    assert len(one.files) > 10
    for key in one.files:
        assert relative(two[key], one[key]) < 1e-8, key
    assert not np.array_equal(one["losses"][0], one["losses"][-1])


def test_resume_under_mpi_is_exact(tmp_path):
    """A 2-rank run resumed from its step-3 checkpoint computes the losses and parameters
    of the uninterrupted 2-rank run, to the bit."""
    folder = tmp_path / "run"
    ok(run([SCRIPT, "resume", "nonsaturating", 8, folder, tmp_path / "full.npz", 6]))
    assert [p.name for p in (folder / "checkpoints").iterdir()] == ["ckpt-0000003.npz"]
    ok(run([SCRIPT, "resume", "nonsaturating", 8, folder, tmp_path / "resumed.npz", 6,
            "--resume"]))
    full, resumed = np.load(tmp_path / "full.npz"), np.load(tmp_path / "resumed.npz")
    np.testing.assert_array_equal(resumed["losses"], full["losses"][3:])
    for key in full.files:
        if key != "losses":
            np.testing.assert_array_equal(resumed[key], full[key], err_msg=key)


def test_collectives_adam_broadcast_and_sync_batch_norm(tmp_path):
    """The flat-buffer allreduce equals one allreduce per array (shapes and dtypes kept);
    broadcast_state gives every rank rank 0's parameters and Adam state; SyncBatchNorm on
    2 ranks equals batch_norm on the whole batch in value, gradient and second order."""
    import json
    ok(run([SCRIPT, "collectives", tmp_path / "c.json"]))
    report = json.loads((tmp_path / "c.json").read_text())
    assert report["allreduce"] and report["adam_state"] and report["adam_steps"]
    assert report["params"]
    for key in ("syncbn_first", "syncbn_second", "syncbn_gx", "syncbn_ggamma", "syncbn_gbeta"):
        assert report[key] < 1e-10, (key, report)


def test_nan_on_one_rank_stops_every_rank(tmp_path):
    result = run([SCRIPT, "nan", tmp_path / "run"], timeout=60)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "rank 0: step 4: loss_d is not finite on rank 1 (nan) of 2" in out, out
    assert "rank 1: step 4: loss_d is not finite on rank 1" in out, out


@pytest.mark.parametrize("mode", ["kill", "raise"])
def test_a_dying_rank_ends_the_job(tmp_path, mode):
    """Rank 1 is killed (SIGKILL) or raises at step 3 while rank 0 trains on: the job ends
    within seconds, not a hang, and rank 0's checkpoint of step 2 loads."""
    from scratchgan.gan import checkpoint
    start = time.monotonic()
    result = run([SCRIPT, "die", mode, tmp_path / "run"], timeout=60)
    elapsed = time.monotonic() - start
    assert result.returncode != 0
    assert elapsed < 30, elapsed
    out = result.stdout + result.stderr
    if mode == "raise":
        assert "(rank 1 of 2): RuntimeError: rank 1 fails on purpose" in out, out
    else:
        assert "signal 9" in out or "Killed" in out, out
    state = checkpoint.load(tmp_path / "run" / "checkpoints" / "ckpt-0000002.npz")
    assert state["step"] == 2


def test_scratchgan_train_on_two_ranks(tmp_path):
    """``mpiexec -n 2 scratchgan train`` with no new flag: rank 0 writes the run folder and
    prints once; a global batch the ranks do not divide stops with a clear error."""
    out = tmp_path / "run"
    result = ok(run(["-m", "scratchgan", "train", "--dataset", "digits", "--steps", "2",
                     "--batch-size", "8", "--out", out, "--no-progress", "--score-n", "50"],
                    timeout=180))
    assert result.stdout.count("done: 2 steps") == 1, result.stdout
    assert result.stdout.count("scores at step 2, 50 samples") == 1, result.stdout   # rank 0's
    assert (out / "checkpoints" / "ckpt-0000002.npz").exists()
    assert (out / "metrics.jsonl").read_text().count("\n") >= 1
    bad = run(["-m", "scratchgan", "train", "--dataset", "digits", "--steps", "2",
               "--batch-size", "7", "--out", tmp_path / "bad", "--no-progress"], timeout=120)
    assert bad.returncode != 0
    assert "batch_size 7 is the global batch, split across 2 ranks" in bad.stderr, bad.stderr


def test_scratchgan_train_resume_on_two_ranks_is_exact(tmp_path):
    """``mpiexec -n 2 scratchgan train --resume``: rank 0 reads the checkpoint and every
    rank continues from its state; the logged losses of steps 3 and 4 equal those of an
    uninterrupted 2-rank run, to the bit."""
    import json

    def train(out, steps, *extra):
        return ok(run(["-m", "scratchgan", "train", "--dataset", "digits", "--steps", steps,
                       "--batch-size", "8", "--out", out, "--no-progress", "--log-every", "1",
                       "--checkpoint-every", "2", "--threads", "1", "--score-n", "0", *extra],
                      timeout=180))

    def losses(out):
        return [(r["step"], r["loss_d"], r["loss_g"], r["d_real"]) for r in map(
            json.loads, (out / "metrics.jsonl").read_text().splitlines())]

    train(tmp_path / "full", 4)
    train(tmp_path / "cut", 2)
    resumed = train(tmp_path / "cut", 4, "--resume")
    assert "resuming" in resumed.stdout
    assert losses(tmp_path / "cut") == losses(tmp_path / "full")


def start(args: list, ranks: int = 2) -> subprocess.Popen:
    """``python args`` under ``mpiexec -n ranks``, started in the background."""
    return subprocess.Popen([MPIEXEC, "-n", str(ranks), sys.executable, *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), cwd=REPO)


def _train_args(out, steps, *extra) -> list:
    """``scratchgan train`` on ring8 at batch 8, every step logged, checkpoints far apart."""
    return ["-m", "scratchgan", "train", "--dataset", "ring8", "--steps", steps,
            "--batch-size", "8", "--log-every", "1", "--checkpoint-every", "100000",
            "--sample-every", "100000", "--no-progress", "--score-n", "0", "--threads", "1",
            "--out", out, *extra]


def _rank_pid(job: subprocess.Popen, out: Path, rank: int) -> int:
    """The process id of ``rank``: rank 0's from the run folder's lock, another's from
    /proc (the descendant of ``mpiexec`` whose environment says PMI_RANK=rank)."""
    if rank == 0:
        return int((out / ".scratchgan.lock").read_text().split()[1])
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            pass
    todo, found = [job.pid], []
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            todo.append(child)
            try:
                env = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"PMI_RANK={rank}".encode() in env:
                found.append(child)
    assert len(found) == 1, found
    return found[0]


def _wait_for_steps(job: subprocess.Popen, out: Path, n: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and job.poll() is None:
        path = out / "metrics.jsonl"
        if path.exists() and path.read_text().count("\n") >= n:
            return
        time.sleep(0.05)
    job.kill()
    raise AssertionError(job.communicate())


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
@pytest.mark.parametrize("target, signum", [  # two in the default run, two more with -m slow
    ("mpiexec", signal.SIGTERM), ("rank 1", signal.SIGTERM),
    pytest.param("mpiexec", signal.SIGINT, marks=pytest.mark.slow),
    pytest.param("rank 0", signal.SIGTERM, marks=pytest.mark.slow)],
    ids=["mpiexec-SIGTERM", "rank1-SIGTERM", "mpiexec-SIGINT", "rank0-SIGTERM"])
def test_a_stop_signal_stops_every_rank_after_one_step_with_its_checkpoint(
        tmp_path, target, signum):
    """A stop signal to ``mpiexec`` (which forwards SIGINT and SIGTERM to every rank), to
    rank 0 alone or to rank 1 alone: every rank stops after the same step, rank 0 writes
    its checkpoint, ``mpiexec`` exits with 128 + the signal (143, 130), no MPI_Abort; a
    resume under ``mpiexec`` continues from that checkpoint."""
    import json
    import re
    out = tmp_path / "run"
    job = start(_train_args(out, 100000))
    _wait_for_steps(job, out, 3)
    pid = job.pid if target == "mpiexec" else _rank_pid(job, out, int(target[-1]))
    os.kill(pid, signum)
    try:
        _, stderr = job.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        job.kill()
        raise AssertionError(job.communicate())
    name = signal.Signals(signum).name
    assert job.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr and "MPI_Abort" not in stderr, stderr
    assert "aborting the job" not in stderr, stderr
    stopped = re.findall(rf"interrupted by {name} at step (\d+): its checkpoint is (\S+);",
                         stderr)
    assert len(stopped) == 1, stderr                                  # rank 0's
    step = int(stopped[0][0])
    assert f"rank 1 of 2: interrupted by {name} at step {step}: rank 0 wrote its " \
           f"checkpoint" in stderr, stderr
    ckpt = out / "checkpoints" / f"ckpt-{step:07d}.npz"
    assert stopped[0][1] == str(ckpt)
    assert sorted((out / "checkpoints").iterdir()) == [ckpt]
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps[-1] == step
    resumed = ok(run(_train_args(out, step + 2, "--resume"), timeout=120))
    assert f"resuming {out} at step {step}" in resumed.stdout
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps[-3:] == [step, step + 1, step + 2]


def test_a_second_stop_signal_ends_the_job_at_once(tmp_path):
    """Two SIGTERMs to ``mpiexec`` in a row: the job ends within seconds (an abort), not
    a hang."""
    out = tmp_path / "run"
    job = start(_train_args(out, 100000, "--dataset", "digits"))   # steps long enough
    _wait_for_steps(job, out, 1)
    job.send_signal(signal.SIGTERM)
    time.sleep(0.01)
    job.send_signal(signal.SIGTERM)
    try:
        _, stderr = job.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        job.kill()
        raise AssertionError(job.communicate())
    assert job.returncode != 0, stderr
    assert "Traceback" not in stderr, stderr
