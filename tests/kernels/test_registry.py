import pytest

import scratchgan_kernels as K
from scratchgan.backend import kernel
from scratchgan.config import using_config


def test_reference_is_always_available_and_aliased():
    assert K.available_backends()[0] == "numpy"
    assert K.get("leaky_relu", "reference") is K.get("leaky_relu", "numpy")


def test_unknown_names_are_clear():
    with pytest.raises(ValueError, match="unknown kernel backend 'tpu'"):
        K.get("leaky_relu", "tpu")
    with pytest.raises(KeyError, match="has no kernel 'nope'"):
        K.get("nope")


def test_missing_backend_is_named():
    if "cuda" in K.available_backends():
        pytest.skip("CuPy is installed here")
    with pytest.raises(K.BackendUnavailable, match="'cuda' is not available"):
        K.get("leaky_relu", "cuda")


def test_ops_follow_the_configured_cpu_backend():
    import numpy as np
    with using_config("cpu_kernels", "reference"):
        assert kernel("leaky_relu", np.zeros(1)) is K.get("leaky_relu", "numpy")
