"""inspect.detect_anomaly: the first NaN or Inf, named with its Function, the user's file
and line, its inputs, and (in a backward) the forward op it belongs to."""
import re

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan import inspect as si
from scratchgan.autograd import function as function_module
from scratchgan.gan.losses import gradient_penalty

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")   # NumPy's divide by zero


def line_of(text):
    """The line number of the first line of this file containing ``text``."""
    with open(__file__) as fh:
        return next(i for i, line in enumerate(fh, 1) if text in line and "line_of" not in line)


def test_log_of_a_negative_is_named_in_the_forward():
    x = sg.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    with pytest.raises(si.AnomalyError) as info:
        with si.detect_anomaly():
            h = x * 2.0
            F.log(h)                                    # the NaN is born here
    e = info.value
    assert e.phase == "forward" and e.function.name == "Log" and e.backward_of is None
    message = str(e)
    assert message.startswith("detect_anomaly: Log produced NaN in its output 0")
    assert f"test_inspect_anomaly.py:{line_of('# the NaN is born here')}" in message
    assert "input 0: (3,) float64 min -4, max 6, 0 NaN, 0 Inf" in message
    assert function_module.monitor is None              # restored on the way out


def test_sqrt_at_zero_under_a_gradient_penalty_is_named_in_the_backward():
    # the critic's input gradient is 0 for the second sample (ReLU off), so the penalty
    # takes sqrt(0) (eps = 0): finite in the forward, gy / (2 * 0) in its backward
    W = sg.Tensor(np.ones((2, 3)), requires_grad=True)

    def critic(t):
        return F.relu(t @ W)

    real = np.array([[1.0, 1.0], [-1.0, -1.0]])
    with pytest.raises(si.AnomalyError) as info:
        with si.detect_anomaly():
            gp = gradient_penalty(critic, real, real.copy(), np.random.default_rng(0), eps=0.0)
            gp.backward()                               # the Inf is born here
    e = info.value
    assert e.phase == "backward" and e.function.name == "Div"
    assert e.backward_of.name == "Sqrt"
    message = str(e)
    assert "Div produced Inf in its output 0" in message and "in the backward of Sqrt" in message
    assert f"test_inspect_anomaly.py:{line_of('# the Inf is born here')}" in message
    sqrt_site = re.search(r"in the backward of Sqrt:\n    created at (\S+)", message).group(1)
    assert sqrt_site.endswith(f"test_inspect_anomaly.py:{line_of('gp = gradient_penalty(crit')}")
    assert "via scratchgan/gan/losses.py" in message    # the library line that called sqrt
    assert "min 0, max 18" in message                   # Sqrt's input: the squared norms


def test_a_non_finite_gradient_given_to_backward_is_named():
    x = sg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2.0
    with si.detect_anomaly(), pytest.raises(si.AnomalyError, match="given to backward has NaN"):
        y.backward(np.array([1.0, np.nan]))


def test_nothing_is_raised_or_recorded_outside_the_mode_and_finite_runs_pass_inside():
    x = sg.Tensor(np.array([-1.0]), requires_grad=True)
    y = F.log(x)                                        # NaN, but the mode is off
    assert np.isnan(y.data).all() and not hasattr(y.creator, "created_at")
    with si.detect_anomaly():
        z = F.tanh(x * 3.0).sum()
        z.backward()
    assert z.creator.created_at and np.isfinite(x.grad.data).all()


def test_the_mode_nests_and_restores():
    with si.detect_anomaly():
        outer = function_module.monitor
        with si.detect_anomaly(check_nan=False):
            assert function_module.monitor is not outer
            F.log(sg.Tensor(np.array([-1.0])))          # recorded, not raised
        assert function_module.monitor is outer
    assert function_module.monitor is None
