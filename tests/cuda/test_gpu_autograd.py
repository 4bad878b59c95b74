"""Every Function on CuPy arrays: forward equal to the CPU's, and gradient checks (first and
second order) in float64 on the GPU, over the whole op catalogue; device moves and the
mixed-device errors. Needs a GPU (marker ``gpu``)."""
import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan import nn
from scratchgan.config import using_config
from scratchgan.testing import all_cases, check_backward, check_double_backward

pytestmark = pytest.mark.gpu

CASES = all_cases()
SEEDS = (0, 1, 2)


def _draw_case(case, seed):
    rng = np.random.default_rng(seed)
    return case.make(lambda lo, hi: int(rng.integers(lo, hi + 1)), rng)


def _on_gpu(cp, params):
    """Floating arrays among the params (batch norm's running statistics) on the GPU;
    integer index arrays stay host arrays (the ops copy them over)."""
    return {k: cp.asarray(v) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
            for k, v in params.items()}


def _outputs(ys):
    return ys if isinstance(ys, tuple) else (ys,)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_matches_the_cpu(cp, name, seed):
    case = CASES[name]
    arrays, params = _draw_case(case, seed)
    for dtype, tol in ((np.float32, 1e-5), (np.float64, 1e-12)):
        want = _outputs(case.call(*[sg.Tensor(a.astype(dtype)) for a in arrays], **params))
        got = _outputs(case.call(*[sg.Tensor(cp.asarray(a.astype(dtype))) for a in arrays],
                                 **_on_gpu(cp, params)))
        for g, w in zip(got, want):
            assert g.device == "cuda" and g.dtype == w.dtype and g.shape == w.shape
            scale = max(float(np.max(np.abs(w.numpy()))) if w.size else 1.0, 1.0)
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=tol, atol=tol * scale,
                                       err_msg=f"{name} {dtype.__name__} params {params}")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_on_the_gpu(cp, name, seed):
    case = CASES[name]
    arrays, params = _draw_case(case, seed)
    gparams = _on_gpu(cp, params)
    xs = [cp.asarray(a) for a in arrays]                  # float64, on the device

    def f(*tensors):
        assert all(t.device == "cuda" for t in tensors)
        return case.call(*tensors, **gparams)
    check_backward(f, xs, **case.tolerances)
    check_double_backward(f, xs, **case.tolerances)


def test_every_function_is_covered_by_the_gpu_gradchecks():
    from scratchgan import docgen
    covered = {f for case in CASES.values() for f in case.functions}
    every = {c for classes in docgen.functions_by_family().values() for c in classes}
    assert every <= covered


def test_device_moves(cp):
    x = sg.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True, name="x")
    g = x.to("cuda")
    assert g.device == "cuda" and isinstance(g.data, cp.ndarray) and g.requires_grad
    assert g.is_leaf and g.name == "x" and g.to("cuda") is g and g.cuda() is g
    back = g.cpu()
    assert back.device == "cpu" and isinstance(back.data, np.ndarray)
    np.testing.assert_array_equal(back.numpy(), x.numpy())
    assert g.to(dtype=np.float64).device == "cuda"
    assert g.to("cpu", np.float64).dtype == np.float64
    (g * g).sum().backward()
    assert g.grad.device == "cuda"
    np.testing.assert_array_equal(g.grad.numpy(), 2 * x.numpy())


def test_constants_follow_the_gpu_and_devices_do_not_mix(cp):
    x = sg.Tensor(cp.ones(3, cp.float32))
    y = 2.0 * x + np.float32(1) - sg.Tensor(np.array(0.5, np.float32))   # 0-d host Tensor: moved
    assert y.device == "cuda" and y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), [2.5, 2.5, 2.5])
    z = x + np.ones(3, np.float32)                     # a host array constant: copied over
    assert z.device == "cuda"
    with pytest.raises(TypeError, match="inputs live on different devices"):
        x + sg.Tensor(np.ones(3, np.float32))
    with pytest.raises(TypeError, match="inputs live on different devices"):
        x + sg.Tensor(np.array(1.0, np.float32), requires_grad=True)


def test_backward_takes_a_host_upstream_gradient(cp):
    x = sg.Tensor(cp.arange(3, dtype=cp.float64), requires_grad=True)
    (x * 3.0).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_module_to_cuda_and_back(cp):
    net = nn.Sequential(nn.Conv2d(1, 4, 3, 1, 1), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
                        nn.Flatten(), nn.Linear(4 * 25, 2))
    x = np.random.default_rng(0).standard_normal((3, 1, 5, 5)).astype(np.float32)
    want = net(x).numpy()
    state = net.state_dict()
    assert net.cuda() is net
    assert all(p.device == "cuda" for p in net.parameters())
    assert all(isinstance(b, cp.ndarray) for b in net.buffers())
    net.load_state_dict(state)                         # host arrays load into device arrays
    got = net(sg.Tensor(cp.asarray(x)))
    assert got.device == "cuda"
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)
    assert all(isinstance(a, np.ndarray) for a in net.state_dict().values())
    net.cpu()
    assert all(p.device == "cpu" for p in net.parameters())


def test_spectral_norm_and_embedding_on_the_gpu(cp):
    lin = nn.spectral_norm(nn.Linear(5, 3)).cuda()
    y = lin(sg.Tensor(cp.ones((2, 5), cp.float32)))
    assert y.device == "cuda" and isinstance(lin.weight_u, cp.ndarray)
    sigma = np.linalg.svd(lin.weight_orig.numpy(), compute_uv=False)[0]
    for _ in range(50):
        lin(sg.Tensor(cp.ones((2, 5), cp.float32)))
    assert abs(np.linalg.svd(lin.weight.numpy(), compute_uv=False)[0] - 1) < 1e-3
    assert sigma > 0
    emb = nn.Embedding(10, 4).cuda()
    labels = np.array([1, 3, 3, 9])
    out = emb(labels)                                  # host labels: no device read
    out.sum().backward()
    assert out.device == "cuda" and emb.weight.grad.device == "cuda"
    np.testing.assert_array_equal(emb.weight.grad.numpy()[3], 2 * np.ones(4, np.float32))


def test_tf32_only_when_asked(cp):
    from cupy._core import _routines_linalg as linalg
    a = sg.Tensor(cp.ones((4, 4), cp.float32))
    with using_config("allow_tf32", True):
        a @ a
        assert linalg.get_compute_type(np.float32) == linalg.COMPUTE_TYPE_TF32
    a @ a
    assert linalg.get_compute_type(np.float32) == linalg.COMPUTE_TYPE_DEFAULT


def test_gradient_penalty_runs_on_the_gpu(cp):
    """Double backward through conv, transposed conv, batch norm, leaky ReLU and linear."""
    rng = np.random.default_rng(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3, 2, 1), nn.LeakyReLU(0.2), nn.ConvTranspose2d(3, 2, 4, 2, 1),
                        nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2 * 6 * 6, 1)).to("cuda", np.float64)
    x = sg.Tensor(cp.asarray(rng.standard_normal((4, 2, 6, 6))), requires_grad=True)

    def penalty(x):
        (g,) = sg.grad(F.sum(net(x)), x, create_graph=True)
        return F.mean(F.sum(F.flatten(g) ** 2, axis=1))
    check_backward(penalty, [x.data], atol=1e-5, rtol=1e-3)
