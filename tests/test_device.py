"""The device seam (scratchgan.backend.Device) and the CLI's kernel-backend check at run
time."""
import numpy as np
import pytest

import scratchgan as sg
from scratchgan.backend import CPU, CUDA, DEVICE_NAMES, as_device, device_of
from scratchgan.cli import main


def test_names_parse_to_devices_and_anything_else_is_refused():
    assert DEVICE_NAMES == ("cpu", "cuda")
    assert as_device("cpu") is CPU and as_device("cuda") is CUDA and as_device(CUDA) is CUDA
    assert CUDA.is_gpu and not CPU.is_gpu and str(CUDA) == "cuda" and CPU.xp is np
    for bad in ("gpu", "CUDA", None, 0):
        with pytest.raises(ValueError, match=r"device must be 'cpu' or 'cuda', got "):
            as_device(bad)


def test_host_arrays_and_tensors_are_on_the_cpu_and_stay_there():
    a = np.ones(3, np.float32)
    t = sg.Tensor(a)
    assert device_of(a) is CPU and device_of(t) is CPU and t.device == "cpu"
    assert CPU.move(a) is a and CPU.move(t) is t.data
    assert t.to(CPU) is t and t.to("cpu") is t


@pytest.mark.parametrize("verb", ["gradcheck", "explain"])
def test_an_unavailable_backend_is_named_in_one_line(verb, capsys):
    assert main([verb, "--backend", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"scratchgan {verb}: CPU kernel backend 'nope' is not available "
                          "here; available: numpy")
