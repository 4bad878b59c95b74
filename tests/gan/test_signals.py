"""The stop signals inside one process (issue 26, item 1): a signal sent at a known point of
a step stops the run after that step, a second one of any kind stops it at once, the
handlers there before are restored, and a signal the process ignores stays ignored. The
end-to-end runs killed by each signal are in test_run_folder.py."""
import os
import signal

import pytest

from scratchgan.gan.config import TrainConfig
from scratchgan.gan.run import STOP_SIGNALS, Run, RunInterrupted


def _run(tmp_path, steps, at_step, *signals):
    """A run whose step ``at_step`` sends ``signals`` to this process as it returns (after
    the trainer counted the step: the point where a signal is easiest to misattribute)."""
    config = TrainConfig(dataset="ring8", steps=steps, batch_size=8, progress=False,
                         log_every=1, sample_every=1000, checkpoint_every=1000, score_n=0,
                         out=str(tmp_path / "run"))
    run = Run(config)
    step = run.trainer.train_step

    def signalled_step():
        record = step()
        if run.trainer.step == at_step:
            for signum in signals:
                os.kill(os.getpid(), signum)
        return record

    run.trainer.train_step = signalled_step
    return run


class NotHandledByTheRun(Exception):
    pass


@pytest.fixture
def own_handlers():
    """Handlers of the tests' own on the stop signals while a test runs (a signal the run
    does not handle raises here instead of ending the test process); those before, after."""
    def handler(signum, frame):
        raise NotHandledByTheRun(signal.Signals(signum).name)
    before = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    yield handler
    for s, h in before.items():
        signal.signal(s, h)


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_stops_after_the_step_it_came_in_with_that_steps_checkpoint(
        tmp_path, capsys, own_handlers, signum):
    run = _run(tmp_path, 50, 3, signum)
    with pytest.raises(RunInterrupted) as info:
        run.run()
    name = signal.Signals(signum).name
    ckpt = tmp_path / "run" / "checkpoints" / "ckpt-0000003.npz"
    assert str(info.value) == (f"interrupted by {name} at step 3: its checkpoint is {ckpt}; "
                               f"continue with --resume")
    assert info.value.exit_status == 128 + signum and info.value.signal == signum
    assert ckpt.exists() and run.trainer.step == 3
    err = capsys.readouterr().err
    assert f"{name}: stopping after step 3 to write its checkpoint" in err
    assert all(signal.getsignal(s) is own_handlers for s in STOP_SIGNALS)


def test_a_second_signal_of_another_kind_stops_at_once_and_the_handlers_are_restored(
        tmp_path, own_handlers):
    run = _run(tmp_path, 50, 3, signal.SIGTERM, signal.SIGHUP)
    with pytest.raises(KeyboardInterrupt):
        run.run()
    assert run.trainer.step == 3
    assert not (tmp_path / "run" / "checkpoints").exists()     # stopped before writing one
    assert all(signal.getsignal(s) is own_handlers for s in STOP_SIGNALS)
    assert not run.lock.held


def test_a_signal_at_the_last_step_stops_before_the_final_grid_which_resume_draws(
        tmp_path, own_handlers):
    run = _run(tmp_path, 3, 3, signal.SIGTERM)
    with pytest.raises(RunInterrupted, match="at step 3"):
        run.run()
    out = tmp_path / "run"
    assert (out / "checkpoints" / "ckpt-0000003.npz").exists()
    assert not (out / "final_grid.png").exists()
    config = TrainConfig(dataset="ring8", steps=3, batch_size=8, progress=False, score_n=0,
                         out=str(out))
    Run(config, resume=True).run()
    assert (out / "final_grid.png").exists()


def test_a_signal_the_process_ignores_stays_ignored(tmp_path, capsys, own_handlers):
    signal.signal(signal.SIGHUP, signal.SIG_IGN)       # as under nohup
    run = _run(tmp_path, 5, 2, signal.SIGHUP)
    assert run.run().step == 5
    assert "SIGHUP" not in capsys.readouterr().err
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN


def test_a_second_signal_numba_wrapped_in_a_system_error_is_still_a_keyboard_interrupt(
        tmp_path, own_handlers):
    run = _run(tmp_path, 50, 1000)

    def step_in_a_kernel():         # what a Numba dispatcher makes of a handler's raise
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as e:
            raise SystemError("CPUDispatcher(<function f>) returned a result with an "
                              "exception set") from e

    run.trainer.train_step = step_in_a_kernel
    with pytest.raises(KeyboardInterrupt):
        run.run()
