"""Run-folder safety, end to end through the CLI in a temp folder (issue 12, items 1-5):
a folder holding another run is never replaced without --overwrite, one run at a time holds
a folder, a torn log line does not block a resume, a resume takes the settings that may
change and records them, and refuses what it cannot do before changing anything."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from scratchgan.cli import main
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.run import Run
from scratchgan.gan.runfolder import RunLock, read_jsonl, RunFolderError


def train(out, *extra, steps=2):
    return main(["train", "--dataset", "ring8", "--steps", str(steps), "--batch-size", "8",
                 "--no-progress", "--log-every", "1", "--checkpoint-every", "2",
                 "--sample-every", "100", "--out", str(out), *extra])


def snapshot(folder):
    """Every file's bytes, the lock file aside (a refused run may leave it, empty of meaning)."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".scratchgan.lock"}


def test_a_folder_without_checkpoints_is_refused_naming_what_is_there(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.toml").write_text("steps = 9\n")
    (out / "metrics.jsonl").write_text('{"step": 1}\n')
    before = snapshot(out)
    assert train(out) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not empty" in err and "config.toml, metrics.jsonl" in err
    assert "--overwrite" in err
    assert snapshot(out) == before
    assert train(out, "--resume") == 1          # nothing to resume: refused the same way
    assert snapshot(out) == before
    assert train(out, "--overwrite") == 0
    assert (out / "checkpoints" / "ckpt-0000002.npz").exists()
    assert [r["step"] for r in read_jsonl(out / "metrics.jsonl")[0]] == [1, 2]


def test_a_finished_run_is_refused_and_overwrite_replaces_only_run_files(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out) == 0
    (out / "notes.txt").write_text("mine")
    assert train(out) == 1
    assert "already holds checkpoints" in capsys.readouterr().err
    for ckpt in (out / "checkpoints").iterdir():     # a finished run whose checkpoints were pruned
        ckpt.unlink()
    assert train(out) == 1
    assert "holds no checkpoint to resume" in capsys.readouterr().err
    assert train(out, "--overwrite", steps=4) == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert [r["step"] for r in read_jsonl(out / "metrics.jsonl")[0]] == [1, 2, 3, 4]


HOLD = """
import sys, time
from scratchgan.gan.runfolder import RunLock
lock = RunLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_run_fails_at_once_naming_the_first_and_the_lock_dies_with_it(tmp_path, capsys):
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        assert train(out) == 1
        assert time.monotonic() - start < 5
        err = capsys.readouterr().err
        assert f"pid {holder.pid} on host {socket.gethostname()}" in err and "in use" in err
        assert not (out / "config.toml").exists()
    finally:
        holder.send_signal(signal.SIGKILL)          # a crash: the OS drops the lock
        holder.wait()
    assert train(out) == 0


def test_the_lock_is_exclusive_in_one_process_too_and_released_after_the_run(tmp_path):
    config = TrainConfig(dataset="ring8", steps=2, batch_size=8, progress=False,
                         out=str(tmp_path / "run"))
    run = Run(config)
    with pytest.raises(RunFolderError, match="in use"):
        RunLock(config.out).acquire()
    run.run()
    with RunLock(config.out):
        pass


def test_a_torn_last_metrics_line_is_dropped_on_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out) == 0
    with open(out / "metrics.jsonl", "a") as fh:     # disk full mid-append
        fh.write('{"step": 3, "loss_d": 0.6')
    assert train(out, "--resume", steps=4) == 0
    assert "dropped a torn last line" in capsys.readouterr().out
    assert [r["step"] for r in read_jsonl(out / "metrics.jsonl")[0]] == [1, 2, 3, 4]


def test_a_broken_line_is_named_with_file_and_line_and_nothing_is_rewritten(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out) == 0
    lines = (out / "metrics.jsonl").read_text().splitlines()
    (out / "metrics.jsonl").write_text(lines[0] + "\n{oops\n" + lines[1] + "\n")
    before = snapshot(out)
    assert train(out, "--resume", "--lr-g", "1e-3", steps=4) == 1
    err = capsys.readouterr().err
    assert f"{out / 'metrics.jsonl'}, line 2: not valid JSON" in err and err.count("\n") == 1
    assert snapshot(out) == before                   # config.toml included


def test_read_jsonl_names_non_utf8_and_non_records(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_bytes(b'{"step": 1}\n\xff\xfe\n{"step": 2}\n')
    with pytest.raises(RunFolderError, match=r"m.jsonl, line 2: not UTF-8"):
        read_jsonl(path)
    path.write_text('{"step": 1}\n[1, 2]\n{"step": 2}\n')
    with pytest.raises(RunFolderError, match=r"m.jsonl, line 2: a record must be a JSON object"):
        read_jsonl(path)
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3}\n')
    assert read_jsonl(path, 2) == ([{"step": 1}, {"step": 2}], False)
    path.write_bytes(b'{"step": 1}\n{"step": 2, "x": "\xc3')   # torn inside a character
    assert read_jsonl(path) == ([{"step": 1}], True)


def test_resume_takes_new_rates_and_records_the_change(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out) == 0
    config = TrainConfig(dataset="ring8", steps=4, batch_size=8, progress=False, log_every=1,
                         checkpoint_every=2, sample_every=100, out=str(out), lr_g=5e-4,
                         beta1=0.0, ema=0.99)
    run = Run(config, resume=True)
    assert run.trainer.step == 2
    group = run.trainer.opt_g.param_groups[0]
    assert group["lr"] == 5e-4 and tuple(group["betas"]) == (0.0, 0.999)
    assert run.trainer.opt_d.param_groups[0]["lr"] == 2e-3    # the default, as before
    assert run.trainer.ema.decay == 0.99
    run.run()
    changes = read_jsonl(out / "changes.jsonl")[0]
    assert {(c["step"], c["key"], c["from"], c["to"]) for c in changes} == {
        (2, "lr_g", 2e-3, 5e-4), (2, "beta1", 0.5, 0.0), (2, "ema", 0.999, 0.99),
        (2, "steps", 2, 4)}
    assert train(out, "--resume", "--lr-d", "5e-5", steps=6) == 0
    assert "lr_d: 0.002 -> 5e-05 from step 4" in capsys.readouterr().out
    later = [(c["step"], c["key"]) for c in read_jsonl(out / "changes.jsonl")[0] if c["step"] == 4]
    assert (4, "lr_d") in later and (4, "steps") in later


def test_resume_refuses_what_may_not_change(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out) == 0
    before = snapshot(out)
    assert train(out, "--resume", "--ema", "0", steps=4) == 1
    assert "ema: 0.999 there, 0.0 here" in capsys.readouterr().err
    assert train(out, "--resume", "--loss", "hinge", steps=4) == 1
    assert "loss: 'nonsaturating' there, 'hinge' here" in capsys.readouterr().err
    assert snapshot(out) == before


def test_resume_with_steps_below_the_checkpoint_is_named_and_changes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, steps=4) == 0
    before = snapshot(out)
    assert train(out, "--resume", steps=2) == 1
    err = capsys.readouterr().err
    assert "ckpt-0000004.npz is at step 4, past steps = 2" in err and "nothing was changed" in err
    assert snapshot(out) == before


def test_resume_with_no_checkpoint_starts_a_new_run_and_says_so(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--resume") == 0
    assert "holds no checkpoint; starting a new run at step 0" in capsys.readouterr().out


def _start(out, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "scratchgan.cli", "train", "--steps", "100000", "--batch-size",
         "8", "--log-every", "1", "--checkpoint-every", "100000", "--sample-every", "100000",
         "--no-progress", "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_steps(proc, out, n):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        path = out / "metrics.jsonl"
        if path.exists() and path.read_text().count("\n") >= n:
            return
        time.sleep(0.05)
    raise AssertionError(proc.communicate())


#: a run through the API until a signal stops it, exiting as the CLI does: the message on
#: stderr, the status 128 + the signal's number. The stop signals start at their defaults,
#: as in a process a terminal starts (one the tests' launcher ignores would stay ignored).
_RUN_UNTIL_SIGNALLED = """
import signal, sys
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.run import STOP_SIGNALS, Run, RunInterrupted
for signum in STOP_SIGNALS:
    signal.signal(signum, signal.SIG_DFL)
config = TrainConfig(dataset="ring8", steps=100000, batch_size=8, log_every=1,
                     checkpoint_every=100000, sample_every=100000, score_n=0,
                     progress=False, out=sys.argv[1])
try:
    Run(config).run()
except RunInterrupted as e:
    print(e, file=sys.stderr)
    sys.exit(e.exit_status)
"""


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                            (signal.SIGHUP, 129)],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_stop_signal_writes_the_checkpoint_of_the_step_and_exits_with_its_status(
        tmp_path, capsys, signum, status):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", _RUN_UNTIL_SIGNALLED, str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_steps(proc, out, 3)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status, stderr
    assert "Traceback" not in stderr
    name = signal.Signals(signum).name
    announced = re.search(rf"^{name}: stopping after step (\d+) to write its checkpoint",
                          stderr, re.M)
    assert announced, stderr
    step = int(announced.group(1))
    ckpt = out / "checkpoints" / f"ckpt-{step:07d}.npz"
    assert stderr.strip().splitlines()[-1] == (
        f"interrupted by {name} at step {step}: its checkpoint is {ckpt}; continue with --resume")
    assert sorted((out / "checkpoints").iterdir()) == [ckpt]
    assert read_jsonl(out / "metrics.jsonl")[0][-1]["step"] == step
    assert not list(out.rglob("*.tmp"))
    assert train(out, "--resume", steps=step + 2) == 0
    assert f"resuming {out} at step {step}" in capsys.readouterr().out
    assert [r["step"] for r in read_jsonl(out / "metrics.jsonl")[0]][-3:] == [step, step + 1,
                                                                               step + 2]


def test_a_second_ctrl_c_exits_at_once(tmp_path):
    out = tmp_path / "run"
    proc = _start(out, "--dataset", "digits")            # steps long enough to land inside one
    _wait_for_steps(proc, out, 1)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert ("interrupted again, stopped at once" in stderr
            or "continue with --resume" in stderr)       # the step may have ended first
    assert not list(out.rglob("*.tmp"))


def test_a_failing_run_keeps_its_own_error_when_the_plots_fail_too(tmp_path, monkeypatch, capsys):
    import errno
    from scratchgan.gan import run as run_module
    out = tmp_path / "run"
    config = TrainConfig(dataset="ring8", steps=2, batch_size=8, progress=False, score_n=0,
                         out=str(out))

    def full_disk(path, line):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    def too_large(records, path, evals=()):
        raise OSError(errno.EFBIG, "File too large", str(path))

    monkeypatch.setattr(run_module.viz, "plot_training_curves", too_large)
    with monkeypatch.context() as m:
        m.setattr(run_module, "append_line", full_disk)
        with pytest.raises(OSError) as info:
            Run(config).run()
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(out / "metrics.jsonl")
    assert capsys.readouterr().err == (f"the plots were not drawn ({out / 'curves.png'}: File "
                                       f"too large); the run's error follows\n")
    with pytest.raises(OSError) as info:       # a run that succeeded: the plots' failure is its
        Run(config, overwrite=True).run()
    assert info.value.errno == errno.EFBIG


def test_resume_notes_a_missing_log_whose_records_are_lost(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--eval-every", "2", "--eval-n", "10") == 0
    (out / "metrics.jsonl").unlink()
    assert train(out, "--resume", "--eval-every", "2", "--eval-n", "10", steps=4) == 0
    printed = capsys.readouterr().out
    assert (f"--resume: {out / 'metrics.jsonl'} is missing: its records up to step 2 are lost, "
            f"and the curves start after step 2\n") in printed
    assert "eval.jsonl is missing" not in printed
    assert [r["step"] for r in read_jsonl(out / "metrics.jsonl")[0]] == [3, 4]
    (out / "eval.jsonl").unlink()
    assert train(out, "--resume", "--eval-every", "2", "--eval-n", "10", steps=6) == 0
    printed = capsys.readouterr().out
    assert f"--resume: {out / 'eval.jsonl'} is missing: its records up to step 4" in printed
    assert "metrics.jsonl is missing" not in printed
    assert [r["step"] for r in read_jsonl(out / "eval.jsonl")[0]] == [6]


def test_a_run_without_evaluations_misses_no_eval_log_on_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out) == 0
    assert not (out / "eval.jsonl").exists()
    assert train(out, "--resume", steps=4) == 0
    assert "is missing" not in capsys.readouterr().out


@pytest.mark.parametrize("extra", [(), ("--resume",), ("--overwrite",)])
def test_a_file_in_place_of_the_checkpoints_folder_is_named(tmp_path, capsys, extra):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoints").write_text("not a folder")
    before = snapshot(out)
    assert train(out, *extra) == 1
    err = capsys.readouterr().err
    assert err == (f"scratchgan train: {out / 'checkpoints'} is a file, not a folder of "
                   f"checkpoints\n")
    assert snapshot(out) == before
