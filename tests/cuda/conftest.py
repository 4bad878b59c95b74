"""GPU tests: marked ``gpu``, skipped with the reason (visible with ``-rs``) where CuPy or a
GPU is missing; with ``REQUIRE_GPU=1`` in the environment a missing GPU fails them instead
(for the machines that must run them)."""
import os

import pytest

from scratchgan_kernels.cuda import unavailable_reason


def pytest_runtest_setup(item):
    if item.get_closest_marker("gpu") is None:
        return
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("REQUIRE_GPU") == "1":
        pytest.fail(f"REQUIRE_GPU=1 but the GPU tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"needs a CUDA GPU: {reason}")


@pytest.fixture
def cp():
    """CuPy (only reached by gpu-marked tests, after the check above), with float32 GEMMs
    in full float32 (TF32 off, as scratchgan's default) whatever CUPY_TF32 says."""
    import cupy

    from scratchgan_kernels.cuda import set_tf32
    set_tf32(False)
    return cupy
