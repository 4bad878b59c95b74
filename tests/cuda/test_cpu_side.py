"""The GPU code paths that run without a GPU: the clear errors when CUDA is asked for where
CuPy or a GPU is missing, the registry, device moves that stay on the host, the portable
kernels, and the trainer's deferred (on-device) metrics, driven with NumPy arrays."""
import sys

import numpy as np
import pytest

import scratchgan as sg
import scratchgan_kernels as K
from scratchgan import functions as F
from scratchgan import nn
from scratchgan.backend import DeviceUnavailable, cuda_module, to_device
from scratchgan.config import using_config
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.build import build_trainer
from scratchgan.gan.trainer import TrainingDiverged, layer_grad_norms
from scratchgan_kernels import portable
from scratchgan_kernels.cuda import unavailable_reason

NO_GPU = unavailable_reason() is not None
needs_no_gpu = pytest.mark.skipif(not NO_GPU, reason="a GPU is present: no error to check")


@pytest.fixture
def without_cupy(monkeypatch):
    """As if CuPy were not installed (``import cupy`` raises ImportError)."""
    monkeypatch.setitem(sys.modules, "cupy", None)


# -- the reasons ------------------------------------------------------------------------------

def test_missing_cupy_names_the_install_command(without_cupy):
    reason = unavailable_reason()
    assert "CuPy is not installed" in reason and "pip install 'scratchgan[cuda]'" in reason
    with pytest.raises(DeviceUnavailable, match=r"device 'cuda' is not available: CuPy is not "
                                                r"installed.*scratchgan\[cuda\]"):
        cuda_module()


def test_cupy_without_a_gpu_is_named(monkeypatch):
    class FakeCupy:
        @staticmethod
        def is_available():
            return False
    monkeypatch.setitem(sys.modules, "cupy", FakeCupy)
    assert "sees no usable CUDA GPU" in unavailable_reason()
    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        cuda_module()


def test_device_unavailable_is_a_runtime_and_a_value_error():
    assert issubclass(DeviceUnavailable, RuntimeError)
    assert issubclass(DeviceUnavailable, ValueError)   # the CLI reports ValueErrors cleanly


# -- the registry -----------------------------------------------------------------------------

@needs_no_gpu
def test_registry_lists_cuda_only_where_it_runs():
    assert "cuda" not in K.available_backends()
    with pytest.raises(K.BackendUnavailable, match="'cuda' is not available here"):
        K.get("conv2d", "cuda")


def test_kernels_missing_from_a_backend_come_from_the_portable_module():
    import scratchgan_kernels.cpu as numba_backend
    for name in portable.KERNELS:
        assert K.get(name, "numpy") is portable.KERNELS[name]
        # the numba backend has one-pass versions of the fused batch norm + leaky ReLU
        assert K.get(name, "numba") is numba_backend.KERNELS.get(name, portable.KERNELS[name])
    with pytest.raises(KeyError, match="has no kernel 'nope'.*bce_with_logits"):
        K.get("nope", "numba")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_portable_kernels_are_the_formulas_the_ops_used(dtype):
    rng = np.random.default_rng(0)
    x = (3 * rng.standard_normal((4, 3, 2, 5))).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)
    np.testing.assert_array_equal(portable.bias_add(x, b), x + b.reshape(1, 3, 1, 1))
    y = x.copy()
    assert portable.bias_add(y, b, out=y) is y
    np.testing.assert_array_equal(y, x + b.reshape(1, 3, 1, 1))
    t = rng.uniform(0, 1, x.shape).astype(dtype)
    want = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_array_equal(portable.bce_with_logits(x, t), want)
    p = 1 / (1 + np.exp(-x.astype(np.float64)))
    ref = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(portable.bce_with_logits(x, t), ref,
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
    gy = rng.standard_normal(x.shape).astype(dtype)
    np.testing.assert_allclose(portable.bce_with_logits_grad(x, t, gy), gy * (p - t),
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
    one = np.asarray(0.9, dtype)                      # a one-value target broadcasts
    assert portable.bce_with_logits(x, one).shape == x.shape
    assert portable.bce_with_logits_grad(x[:, :1], one, gy).shape == x.shape


def test_bce_grad_op_matches_the_composed_gradient_bit_for_bit():
    """BCEWithLogitsGrad computes exactly what the composed backward computed before."""
    rng = np.random.default_rng(1)
    x = sg.Tensor((3 * rng.standard_normal((5, 1))).astype(np.float32), requires_grad=True)
    F.bce_with_logits(x, 0.9).backward()
    gy = np.full((5, 1), 1 / 5, np.float32)
    half = np.float32(0.5)
    s = half * (np.tanh(half * x.data) + 1)
    np.testing.assert_array_equal(x.grad.data, gy * (s - np.float32(0.9)))


# -- device moves and their errors ----------------------------------------------------------

def test_tensor_to_on_the_host():
    x = sg.Tensor(np.arange(3, dtype=np.float32), requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x and x.to() is x
    y = x.to(dtype=np.float64)
    assert y.dtype == np.float64 and y.requires_grad and y.is_leaf and y.device == "cpu"
    with pytest.raises(ValueError, match="device must be 'cpu' or 'cuda', got 'tpu'"):
        x.to("tpu")
    a = np.ones(2)
    assert to_device(a, "cpu") is a


@needs_no_gpu
def test_asking_for_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(DeviceUnavailable, match="device 'cuda' is not available"):
        sg.Tensor([1.0]).to("cuda")
    with pytest.raises(DeviceUnavailable, match="device 'cuda' is not available"):
        sg.Tensor([1.0]).cuda()
    with pytest.raises(RuntimeError, match="CuPy|GPU"):
        nn.Linear(2, 2).to("cuda")
    with pytest.raises(RuntimeError, match="CuPy|GPU"):
        nn.Linear(2, 2).cuda()


def test_module_to_without_cupy_says_how_to_install(without_cupy):
    with pytest.raises(RuntimeError, match=r"pip install 'scratchgan\[cuda\]'"):
        nn.Linear(2, 2).to("cuda")


@needs_no_gpu
def test_trainer_on_cuda_fails_before_loading_data(tmp_path, monkeypatch):
    from scratchgan.gan import build

    def no_data(*args, **kwargs):
        raise AssertionError("the device is checked first")
    monkeypatch.setattr(build, "load_dataset", no_data)
    with pytest.raises(DeviceUnavailable, match="device 'cuda' is not available"):
        build_trainer(TrainConfig(device="cuda", out=str(tmp_path), progress=False))


@needs_no_gpu
def test_cli_train_on_cuda_without_a_gpu(tmp_path, capsys):
    from scratchgan.cli import main
    code = main(["train", "--device", "cuda", "--out", str(tmp_path / "run"), "--steps", "1"])
    assert code == 1
    err = capsys.readouterr().err
    assert "scratchgan train: device 'cuda' is not available" in err
    assert "Traceback" not in err
    assert not (tmp_path / "run" / "checkpoints").exists()


@needs_no_gpu
def test_bench_on_cuda_without_a_gpu(capsys):
    from scratchgan.cli import main
    assert main(["bench", "--device", "cuda", "--quick", "--only", "step"]) == 2
    assert "device 'cuda' is not available" in capsys.readouterr().err


def test_tf32_is_a_config_key_and_off_by_default():
    assert sg.Config.allow_tf32 is False
    with using_config("allow_tf32", True):
        assert sg.Config.allow_tf32 is True
        # no effect on the host: a float32 product is computed as before
        a = sg.Tensor(np.ones((2, 3), np.float32))
        assert (a @ a.T).dtype == np.float32
    assert sg.Config.allow_tf32 is False


# -- the trainer's deferred metrics (the GPU path), driven on the host -----------------------

def _trainer(tmp_path, **kw):
    config = TrainConfig(dataset="ring8", batch_size=16, steps=50, log_every=3, ema=0.0,
                         progress=False, out=str(tmp_path / "run"), **kw)
    return build_trainer(config)


def test_deferred_metrics_come_back_at_log_steps_unchanged(tmp_path):
    eager, deferred = _trainer(tmp_path), _trainer(tmp_path)
    deferred.guard.defer = True              # what device="cuda" sets
    for step in (1, 2, 3):
        want, got = eager.train_step(), deferred.train_step()
        if step < 3:                           # device scalars, no host read
            assert all(type(v) is not float and np.ndim(v) == 0 for v in got.values())
            assert len(deferred.guard.pending) == 2 * step      # loss_d and loss_g per step
        else:                                  # the log step: one read, floats, checked
            assert all(type(v) is float for v in got.values())
            assert got == want and deferred.guard.pending == []
    assert deferred.guard.sync() is None


def test_deferred_nan_check_names_the_first_bad_step(tmp_path):
    t = _trainer(tmp_path)
    t.guard.defer = True
    t.train_step()
    for p in t.D.parameters():
        p.data[...] = np.nan
    t.train_step()                               # step 2 diverges; nothing is read yet
    with pytest.raises(TrainingDiverged, match=r"step 2: loss_d is nan; training stopped "
                                               r"\(no checkpoint was written yet\)"):
        t.train_step()                           # step 3: the log step reads and checks


def test_no_checkpoint_is_written_past_an_unchecked_nan(tmp_path):
    t = _trainer(tmp_path)
    t.guard.defer = True
    for p in t.D.parameters():
        p.data[...] = np.nan
    t.train_step()
    with pytest.raises(TrainingDiverged, match="step 1: loss_d is nan"):
        t.save_checkpoint()
    assert not list((tmp_path / "run").rglob("ckpt-*.npz"))


def test_layer_grad_norms_in_float64():
    layer = nn.Linear(3, 2)
    layer(np.ones((4, 3), np.float32)).sum().backward()
    norms = layer_grad_norms(layer, "G")
    assert set(norms) == {"grad_norm/G/weight", "grad_norm/G/bias"}
    g = layer.weight.grad.data
    assert norms["grad_norm/G/weight"] == float(np.sqrt(np.sum(np.square(g, dtype=np.float64))))
    assert layer_grad_norms(nn.Linear(1, 1), "D") == {}


def test_cuda_is_a_device_not_a_cpu_kernel_backend(tmp_path):
    with pytest.raises(ValueError, match="'cuda' is not a CPU kernel backend.*--device cuda"):
        build_trainer(TrainConfig(kernels="cuda", out=str(tmp_path), progress=False))
