"""Importing scratchgan and building its command line touch no GPU module: a fake ``cupy``
on PYTHONPATH (it writes a marker file when imported) stays unimported, each in a fresh
process."""
import os
import subprocess
import sys

import pytest

PROBE = """
import sys
{code}
print("cupy" in sys.modules,
      sorted(m for m in sys.modules if m.split(".")[:2] == ["scratchgan", "bench"]))
"""


@pytest.fixture
def fake_cupy(tmp_path):
    """A PYTHONPATH entry with a ``cupy`` package whose import writes ``imported``."""
    pkg = tmp_path / "cupy"
    pkg.mkdir()
    marker = tmp_path / "imported"
    (pkg / "__init__.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "class ndarray: pass\n"
        "def is_available(): return False\n")
    return tmp_path, marker


def _run(fake, args):
    path, marker = fake
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(path), *sys.path]))
    out = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert not marker.exists(), f"{args} imported cupy"
    return out.stdout


@pytest.mark.parametrize("code", [
    "import scratchgan; import scratchgan.nn; import scratchgan.functions",
    "import scratchgan.gan.config, scratchgan.gan.settings",
    "from scratchgan.cli import build_parser; build_parser()",
])
def test_imports_and_the_parser_import_no_cupy_nor_bench(fake_cupy, code):
    out = _run(fake_cupy, ["-c", PROBE.format(code=code)])
    assert out.split("\n")[0] == "False []"


@pytest.mark.parametrize("args", [["--help"], ["train", "--help"], ["gradcheck", "--help"],
                                  ["explain", "--help"], ["bench", "--help"]])
def test_help_imports_no_cupy(fake_cupy, args):
    assert "usage: scratchgan" in _run(fake_cupy, ["-m", "scratchgan", *args])


def test_a_cpu_function_call_skips_the_device_checks(fake_cupy):
    # the GPU branch of Function._as_tensors asks each input Tensor for its device
    code = """
import scratchgan as sg
from scratchgan.autograd.tensor import Tensor
asked = []
device = Tensor.device
Tensor.device = property(lambda self: asked.append(1) or device.fget(self))
(sg.Tensor([1.0, 2.0], requires_grad=True) * 2.0).sum().backward()
print(len(asked))
"""
    assert _run(fake_cupy, ["-c", code]).split() == ["0"]


def test_the_function_gpu_branch_is_taken_once_cupy_is_imported(fake_cupy):
    # the same probe reports the branch: with CuPy imported, the inputs' devices are read
    code = """
import cupy, scratchgan as sg
from scratchgan import backend
calls = []
device_of = backend.device_of
import scratchgan.autograd.function as fn
fn.device_of = lambda x: calls.append(1) or device_of(x)
sg.Tensor([1.0, 2.0]) * 2.0
print(len(calls))
"""
    path, marker = fake_cupy
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(path), *sys.path]))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[0]) > 0
