"""Learning-rate schedules: each one's sequence, state round trip, bad arguments."""
import numpy as np
import pytest

from scratchgan import nn, optim
from scratchgan.optim import lr_scheduler


def optimizer(lr=1.0, groups=1):
    return optim.SGD([{"params": [nn.Parameter(np.zeros(1))]} for _ in range(groups)], lr=lr)


def sequence(scheduler, steps):
    """get_last_lr() of group 0 right after construction and after each step."""
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    assert scheduler.optimizer.param_groups[0]["lr"] == lrs[-1]
    return lrs


def test_step_lr():
    lrs = sequence(lr_scheduler.StepLR(optimizer(2.0), step_size=3, gamma=0.5), 7)
    np.testing.assert_allclose(lrs, [2, 2, 2, 1, 1, 1, 0.5, 0.5])


def test_exponential_lr():
    lrs = sequence(lr_scheduler.ExponentialLR(optimizer(1.0), gamma=0.9), 4)
    np.testing.assert_allclose(lrs, [0.9 ** t for t in range(5)])


def test_linear_lr_decays_to_zero_and_holds():
    lrs = sequence(lr_scheduler.LinearLR(optimizer(0.4), total_iters=4), 6)
    np.testing.assert_allclose(lrs, [0.4, 0.3, 0.2, 0.1, 0.0, 0.0, 0.0], atol=1e-15)
    lrs = sequence(lr_scheduler.LinearLR(optimizer(1.0), 0.5, 1.0, 2), 3)
    np.testing.assert_allclose(lrs, [0.5, 0.75, 1.0, 1.0])


def test_lambda_lr_per_group():
    opt = optimizer(1.0, groups=2)
    opt.param_groups[1]["lr"] = 10.0
    scheduler = lr_scheduler.LambdaLR(opt, [lambda t: 1 / (t + 1), lambda t: t])
    scheduler.step()
    scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([1 / 3, 20.0])
    np.testing.assert_allclose(sequence(lr_scheduler.LambdaLR(optimizer(), lambda t: 0.5 ** t), 2),
                               [1, 0.5, 0.25])


def test_scheduler_drives_the_optimizer_update():
    p = nn.Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=1.0)
    scheduler = lr_scheduler.StepLR(opt, 1, gamma=0.5)
    for _ in range(3):
        p.grad = nn.Parameter(np.ones(1))
        opt.step()
        scheduler.step()
    np.testing.assert_allclose(p.data, [-(1 + 0.5 + 0.25)])


def test_state_dict_round_trip_resumes_the_schedule():
    scheduler = lr_scheduler.LinearLR(optimizer(1.0), total_iters=10)
    for _ in range(3):
        scheduler.step()
    state = scheduler.state_dict()
    assert state == {"last_epoch": 3, "base_lrs": [1.0]}
    fresh_opt = optimizer(1.0)
    resumed = lr_scheduler.LinearLR(fresh_opt, total_iters=10)
    resumed.load_state_dict(state)
    assert fresh_opt.param_groups[0]["lr"] == pytest.approx(0.7)
    scheduler.step()
    resumed.step()
    assert resumed.get_last_lr() == scheduler.get_last_lr()
    with pytest.raises(ValueError, match="2 base lrs for 1 parameter groups"):
        resumed.load_state_dict({"last_epoch": 1, "base_lrs": [1.0, 2.0]})


def test_bad_arguments():
    with pytest.raises(TypeError, match="schedules an Optimizer"):
        lr_scheduler.StepLR("adam", 3)
    with pytest.raises(TypeError, match="schedules an Optimizer"):
        lr_scheduler.LambdaLR(None, lambda t: 1)
    with pytest.raises(ValueError, match="step_size must be a positive int"):
        lr_scheduler.StepLR(optimizer(), 0)
    with pytest.raises(ValueError, match="gamma must be a number > 0"):
        lr_scheduler.ExponentialLR(optimizer(), gamma=0)
    with pytest.raises(TypeError, match="LinearLR needs total_iters"):
        lr_scheduler.LinearLR(optimizer())
    with pytest.raises(ValueError, match="end_factor must be a number >= 0"):
        lr_scheduler.LinearLR(optimizer(), end_factor=-1, total_iters=3)
    with pytest.raises(ValueError, match="a list of 2"):
        lr_scheduler.LambdaLR(optimizer(groups=2), [lambda t: 1])
