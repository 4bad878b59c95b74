"""A NUMBA_NUM_THREADS that Numba cannot take: scratchgan falls back to the NumPy kernels
with one warning naming the variable, as when Numba is missing (a fresh interpreter each,
since the backend is chosen at import)."""
import os
import subprocess
import sys

import pytest

PROBE = """
import sys
import scratchgan
import scratchgan_kernels
from scratchgan.config import Config
print(Config.cpu_kernels, "numba" in sys.modules)
try:
    scratchgan_kernels.get("leaky_relu", "numba")
except scratchgan_kernels.BackendUnavailable as e:
    print(e)
"""


def probe(value: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMBA_NUM_THREADS": value}
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("value", ["0", "abc", "-2", ""])
def test_a_bad_thread_count_falls_back_to_the_numpy_kernels_with_one_warning(value):
    result = probe(value)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    said = f"NUMBA_NUM_THREADS={value!r} is not a thread count, an integer >= 1"
    assert result.stderr.count("Warning") == 1 and said in result.stderr, result.stderr
    assert "using the NumPy reference kernels" in result.stderr
    assert result.stdout.splitlines() == [
        "numpy False",        # the backend in use, and Numba was never imported
        f"kernel backend 'numba' is not available here ({said})"]


def test_a_good_thread_count_keeps_numba():
    pytest.importorskip("numba")
    result = probe("1")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.splitlines() == ["numba True"]
