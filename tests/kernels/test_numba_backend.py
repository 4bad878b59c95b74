"""The numba backend as a whole: the reference's kernel names and signatures, the default
CPU backend of the ops, the switch back to the reference, and the fallback warning."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

pytest.importorskip("numba", reason="the numba backend needs numba")

import scratchgan  # noqa: E402
import scratchgan_kernels  # noqa: E402
import scratchgan_kernels.cpu as nb  # noqa: E402
import scratchgan_kernels.reference as ref  # noqa: E402
from scratchgan import functions as F  # noqa: E402
from scratchgan.config import Config, using_config  # noqa: E402


def test_same_kernels_and_signatures_as_the_reference():
    assert set(nb.KERNELS) == set(ref.KERNELS)
    for name, fn in ref.KERNELS.items():
        want = [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]
        got = [(p.name, p.kind, p.default)
               for p in inspect.signature(nb.KERNELS[name]).parameters.values()]
        assert got == want, name
        assert scratchgan_kernels.get(name, "numba") is nb.KERNELS[name]


def test_numba_is_the_default_cpu_backend():
    assert "numba" in scratchgan_kernels.available_backends()
    assert Config.cpu_kernels == "numba"


class Spy:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


def test_ops_run_the_numba_kernels_by_default_and_the_reference_on_request(monkeypatch):
    spies = {}
    for backend, kernels in (("numba", nb.KERNELS), ("numpy", ref.KERNELS)):
        for name in ("conv2d", "conv_transpose2d", "conv2d_grad_weight"):
            spies[backend, name] = Spy(kernels[name])
            monkeypatch.setitem(kernels, name, spies[backend, name])
    rng = np.random.default_rng(0)
    x = scratchgan.Tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32),
                          requires_grad=True)
    W = scratchgan.Tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
                          requires_grad=True)
    F.conv2d(x, W, stride=2, padding=1).sum().backward()
    assert [spies["numba", n].calls for n in ("conv2d", "conv_transpose2d",
                                              "conv2d_grad_weight")] == [1, 1, 1]
    assert all(spies["numpy", n].calls == 0 for n in ("conv2d", "conv_transpose2d",
                                                      "conv2d_grad_weight"))
    gx, gW = x.grad.numpy(), W.grad.numpy()
    x.grad = W.grad = None
    with using_config("cpu_kernels", "numpy"):
        F.conv2d(x, W, stride=2, padding=1).sum().backward()
    assert [spies["numpy", n].calls for n in ("conv2d", "conv_transpose2d",
                                              "conv2d_grad_weight")] == [1, 1, 1]
    assert spies["numba", "conv2d"].calls == 1
    np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(W.grad.numpy(), gW, rtol=1e-5, atol=1e-5)
    assert Config.cpu_kernels == "numba"


def test_without_numba_the_reference_is_the_default_with_one_warning(monkeypatch):
    import scratchgan.config as config
    monkeypatch.setattr(scratchgan_kernels, "unavailable_reason",
                        lambda backend: "No module named 'numba'")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert config._default_cpu_kernels() == "numpy"
    assert len(caught) == 1 and issubclass(caught[0].category, RuntimeWarning)
    message = str(caught[0].message)
    assert "numba" in message and "reference" in message and "No module named" in message
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert config._default_cpu_kernels() == "numba"
