"""Every .cu file compiles with nvcc for sm_90 without an error or a warning, the float32
modules without any double-precision instruction; skipped where nvcc is not installed.

Two compiles per (file, dtype): the file itself, as a person would build it
(``nvcc -arch=sm_90 -cubin -DSCRATCHGAN_F32 -Xptxas --warn-on-double-precision-use``), and
the exact source the loader hands to NVRTC at run time (``loader.build_source``: the dtype's
#define and the header inlined) to PTX, whose entry points must be the names the wrappers
launch. A last test shows that the double-precision check does fire on double arithmetic.
"""
import re
import shutil
import subprocess

import pytest

from scratchgan_kernels.cuda import loader

NVCC = shutil.which("nvcc")
pytestmark = pytest.mark.skipif(NVCC is None, reason="nvcc is not installed")

ARCH = "-arch=sm_90"
DTYPES = {"float32": "SCRATCHGAN_F32", "float64": "SCRATCHGAN_F64"}


def _nvcc(args, cwd):
    proc = subprocess.run([NVCC, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def _flags(dtype):
    """float32: ptxas warns on any double-precision instruction (and the test fails on any
    warning); float64 modules are double by design."""
    return ["-Xptxas", "--warn-on-double-precision-use"] if dtype == "float32" else []


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("family", loader.FAMILIES)
def test_cu_file_compiles_cleanly(family, dtype, tmp_path):
    src = loader.source_path(family)
    cmd = [ARCH, "-cubin", f"-D{DTYPES[dtype]}", *_flags(dtype), "-o",
           str(tmp_path / f"{family}.cubin"), str(src)]
    code, output = _nvcc(cmd, src.parent)
    assert code == 0 and output == "", f"nvcc {' '.join(cmd)}\n{output}"
    assert (tmp_path / f"{family}.cubin").stat().st_size > 0


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("family", loader.FAMILIES)
def test_runtime_source_compiles_and_exports_the_launched_names(family, dtype, tmp_path):
    cu = tmp_path / f"{family}_{dtype}.cu"
    cu.write_text(loader.build_source(family, dtype))
    ptx = tmp_path / f"{family}_{dtype}.ptx"
    cmd = [ARCH, "-ptx", "-std=c++17", "-o", str(ptx), str(cu)]
    code, output = _nvcc(cmd, tmp_path)
    assert code == 0 and output == "", f"nvcc {' '.join(cmd)}\n{output}"
    entries = set(re.findall(r"\.entry\s+(\w+)", ptx.read_text()))
    want = {loader.kernel_name(base, dtype) for base in loader.kernel_bases(family)}
    assert entries == want


def test_the_double_precision_check_fires(tmp_path):
    """The float32 gate above is real: one double multiply makes ptxas warn."""
    cu = tmp_path / "double.cu"
    cu.write_text('extern "C" __global__ void k(const float* x, float* y) '
                  '{ y[threadIdx.x] = x[threadIdx.x] * 0.1 + 1.0 / 3.0; }\n')
    code, output = _nvcc([ARCH, "-cubin", *_flags("float32"), "-o",
                          str(tmp_path / "double.cubin"), str(cu)], tmp_path)
    assert code == 0 and "double precision" in output
