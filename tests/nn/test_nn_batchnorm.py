"""BatchNorm1d / BatchNorm2d: batch statistics in training mode, running statistics in
eval mode, the running-statistics update, and the input checks."""
import re

import numpy as np
import pytest

from scratchgan import nn


def channel_values(x):
    """The values of each channel of x (N, C, ...), by an explicit loop."""
    return [x[:, c].ravel() for c in range(x.shape[1])]


def naive_normalize(x, gamma, beta, mean, var, eps):
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        y[:, c] = gamma[c] * (x[:, c] - mean[c]) / np.sqrt(var[c] + eps) + beta[c]
    return y


@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 5)),
                                          (nn.BatchNorm2d, (4, 3, 2, 5))])
def test_training_mode_uses_batch_statistics_and_updates_running_ones(layer, shape):
    rng = np.random.default_rng(0)
    bn = layer(3, eps=1e-3, momentum=0.25).to(dtype=np.float64)
    bn.weight.data[:] = rng.uniform(0.5, 2, 3)
    bn.bias.data[:] = rng.standard_normal(3)
    x = rng.standard_normal(shape) * 2 + 1
    y = bn(x)
    rows = channel_values(x)
    mean = [r.sum() / r.size for r in rows]
    var = [((r - m) ** 2).sum() / r.size for r, m in zip(rows, mean)]
    np.testing.assert_allclose(y.data, naive_normalize(x, bn.weight.data, bn.bias.data, mean, var,
                                                       1e-3), rtol=1e-10, atol=1e-12)
    unbiased = [((r - m) ** 2).sum() / (r.size - 1) for r, m in zip(rows, mean)]
    np.testing.assert_allclose(bn.running_mean, [0.25 * m for m in mean])
    np.testing.assert_allclose(bn.running_var, [0.75 + 0.25 * v for v in unbiased])
    assert bn.num_batches_tracked == 1
    bn(x)
    np.testing.assert_allclose(bn.running_mean, [(0.75 * 0.25 + 0.25) * m for m in mean])
    assert bn.num_batches_tracked == 2


def test_eval_mode_uses_running_statistics_and_leaves_them_alone():
    rng = np.random.default_rng(1)
    bn = nn.BatchNorm2d(2).to(dtype=np.float64)
    bn.running_mean[:] = [0.5, -1.0]
    bn.running_var[:] = [2.0, 0.25]
    bn.weight.data[:] = [1.5, 0.5]
    x = rng.standard_normal((3, 2, 2, 2))
    y = bn.eval()(x)
    np.testing.assert_allclose(y.data, naive_normalize(x, [1.5, 0.5], [0, 0], [0.5, -1.0],
                                                       [2.0, 0.25], 1e-5), rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean, [0.5, -1.0])
    assert bn.num_batches_tracked == 0
    one = bn(x[:1])  # a batch of one works in eval mode
    np.testing.assert_allclose(one.data, y.data[:1])
    bn.train()
    assert not np.allclose(bn(x).data, y.data)


def test_gradients_reach_gamma_and_beta():
    bn = nn.BatchNorm1d(2)
    x = np.random.default_rng(2).standard_normal((5, 2)).astype(np.float32)
    (bn(x) * np.array([1.0, 2.0], np.float32)).sum().backward()
    np.testing.assert_allclose(bn.bias.grad.data, [5.0, 10.0], rtol=1e-6)
    assert bn.weight.grad is not None


def test_input_and_argument_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(64\) expects input of shape "
                                         r"\(N, 64, H, W\), got \(8, 32, 4, 4\)"):
        nn.BatchNorm2d(64)(np.zeros((8, 32, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 3\) or \(N, 3, L\), got \(2, 3, 4, 4\)"):
        nn.BatchNorm1d(3)(np.zeros((2, 3, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"got \(3,\)"):
        nn.BatchNorm1d(3)(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="more than one value per channel"):
        nn.BatchNorm1d(3)(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm1d: momentum must be in \[0, 1\], got 1.5"):
        nn.BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="eps must be positive"):
        nn.BatchNorm2d(3, eps=0)


def test_parameters_and_buffers():
    bn = nn.BatchNorm2d(4)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    np.testing.assert_array_equal(bn.weight.data, np.ones(4))
    np.testing.assert_array_equal(bn.bias.data, np.zeros(4))
    np.testing.assert_array_equal(bn.running_var, np.ones(4))
    assert bn.running_mean.dtype == np.float32 and bn.num_batches_tracked.dtype == np.int64


def test_estimated_batch_norm_statistics_are_the_average_of_the_batches():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=0.3))
    batches = [np.random.default_rng(i).standard_normal((16, 3)).astype(np.float32)
               for i in range(5)]
    it = iter(batches)
    nn.estimate_batch_norm_statistics(model, lambda: model(next(it)), len(batches))
    h = [b @ model[0].weight.data.T + model[0].bias.data for b in batches]
    np.testing.assert_allclose(model[1].running_mean, np.mean([x.mean(0) for x in h], 0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model[1].running_var, np.mean([x.var(0, ddof=1) for x in h], 0),
                               rtol=1e-5, atol=1e-6)
    assert model[1].momentum == 0.3 and not model.training


@pytest.mark.parametrize("key, index, value, rule", [
    ("running_var", 2, -0.5, "a running variance must be finite and >= 0"),
    ("running_var", 0, np.nan, "a running variance must be finite and >= 0"),
    ("running_var", 1, np.inf, "a running variance must be finite and >= 0"),
    ("running_mean", 1, -np.inf, "a running mean must be finite"),
    ("num_batches_tracked", None, -3, "a count of batches must be >= 0"),
])
def test_load_state_dict_refuses_impossible_running_statistics(key, index, value, rule):
    """Named by the buffer's full key, the entry and the value; nothing is loaded."""
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.BatchNorm1d(3)))
    state = model.state_dict()
    for k in state:
        state[k] = np.asarray(state[k] + 1)      # a state that would change every array
    where = "" if index is None else f"[{index}]"
    state[f"1.0.{key}"][index if index is not None else ()] = value
    before = model.state_dict()
    with pytest.raises(ValueError, match=re.escape(
            f"load_state_dict into Sequential: 1.0.{key}{where} is {value!r} in the "
            f"checkpoint ({rule})")):
        model.load_state_dict(state)
    for k, a in model.state_dict().items():
        np.testing.assert_array_equal(a, before[k], err_msg=k)
    state[f"1.0.{key}"][index if index is not None else ()] = 0
    model.load_state_dict(state)      # zero variance, mean and count are all possible
    assert model.state_dict()["1.0.num_batches_tracked"] == state["1.0.num_batches_tracked"]
