"""The CUDA loader's plain-Python parts (names, sources, launch sizes) and the package
layout: these run everywhere, GPU or not."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchgan_kernels.cuda import loader

ROOT = Path(__file__).resolve().parents[2]


def test_kernel_names_carry_the_dtype():
    assert loader.kernel_name("leaky_relu_fwd", np.float32) == "leaky_relu_fwd_f32"
    assert loader.kernel_name("adam", "float64") == "adam_f64"
    assert loader.dtype_suffix(np.dtype("float32")) == "f32"
    for bad in (np.float16, np.int32, "complex64", "not a dtype"):
        with pytest.raises(TypeError, match="float32 or float64"):
            loader.kernel_name("adam", bad)


def test_every_family_has_its_source_and_the_header_is_shipped():
    for family in loader.FAMILIES:
        assert loader.source_path(family).is_file()
        assert loader.kernel_bases(family), f"{family}.cu defines no kernel"
    assert (loader.HERE / loader.HEADER).is_file()
    with pytest.raises(ValueError, match="unknown CUDA kernel family 'fft'"):
        loader.source_path("fft")
    # every .cu file of the folder is a family the loader knows
    assert {p.stem for p in loader.HERE.glob("*.cu")} == set(loader.FAMILIES)


def test_pyproject_ships_the_sources_and_the_cupy_extra():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = config["tool"]["setuptools"]["package-data"]["scratchgan_kernels.cuda"]
    assert "*.cu" in data and "*.cuh" in data
    assert any(dep.startswith("cupy-cuda12x") for dep in
               config["project"]["optional-dependencies"]["cuda"])


@pytest.mark.parametrize("dtype,macro", [("float32", "SCRATCHGAN_F32"),
                                         ("float64", "SCRATCHGAN_F64")])
def test_the_runtime_source_is_self_contained_and_of_one_dtype(dtype, macro):
    for family in loader.FAMILIES:
        text = loader.build_source(family, dtype)
        assert text.startswith(f"#define {macro} 1\n")
        other = "SCRATCHGAN_F64" if macro == "SCRATCHGAN_F32" else "SCRATCHGAN_F32"
        assert f"#define {other}" not in text
        assert not re.search(r"#\s*include", text), "NVRTC gets no include path"
        assert "typedef float real;" in text and "SG_NAME" in text   # the header, inlined
        assert (loader.HERE / f"{family}.cu").read_text().split("\n", 1)[1][:200] in text
    with pytest.raises(TypeError):
        loader.build_source("conv", np.int64)


def test_the_wrappers_launch_kernels_that_exist():
    """Every (family, kernel) that ops.py launches is defined in that family's source."""
    text = (loader.HERE / "ops.py").read_text()
    defined = {f: set(loader.kernel_bases(f)) for f in loader.FAMILIES}
    launched = re.findall(r'launch(?:_blocks)?\(\s*"(\w+)",\s*f?"([\w{}]+)"', text)
    assert launched, "no launch found in ops.py"
    for family, base in launched:
        if "{kind}" in base:   # the batch-norm launches: bn_{kind}_cols / _block
            names = {base.replace("{kind}", k) for k in ("stats", "forward", "backward")}
        else:
            names = {base}
        assert names <= defined[family], f"{family}.cu lacks {names - defined[family]}"


def test_launch_sizes():
    assert loader.launch_config(1) == ((1,), (256,))
    assert loader.launch_config(257) == ((2,), (256,))
    assert loader.launch_config(10 ** 9) == ((loader.MAX_BLOCKS,), (256,))
    assert loader.launch_config(0) == ((1,), (256,))
    loader.check_int32("op", 2 ** 31 - 1)
    with pytest.raises(ValueError, match="op: 2147483648 elements is too many"):
        loader.check_int32("op", 10, 2 ** 31)


def test_importing_the_kernels_does_not_import_cupy():
    code = ("import sys, scratchgan_kernels, scratchgan_kernels.cuda, "
            "scratchgan_kernels.cuda.loader, scratchgan_kernels.portable\n"
            "scratchgan_kernels.get('leaky_relu', 'numpy')\n"
            "assert 'cupy' not in sys.modules, 'cupy was imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_cuda_table_has_the_reference_names_and_signatures():
    """Where CuPy is installed (a GPU or not), the wrappers import: same kernel set as the
    reference plus the portable kernels, same parameters in the same order."""
    import inspect
    ops = pytest.importorskip("scratchgan_kernels.cuda.ops",
                              reason="CuPy is not installed")
    from scratchgan_kernels import portable, reference
    want = {**reference.KERNELS, **portable.KERNELS}
    assert set(ops.KERNELS) == set(want)
    for name, fn in want.items():
        params = [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]
        got = [(p.name, p.default) for p in inspect.signature(ops.KERNELS[name]).parameters.values()]
        assert got == params, name


def test_require_gpu_turns_the_skips_into_failures(tmp_path):
    from scratchgan_kernels.cuda import unavailable_reason
    if unavailable_reason() is None:
        pytest.skip("a GPU is present: the GPU tests run")
    test = ("tests/cuda/test_gpu_kernels.py::"
            "test_cuda_has_every_kernel_of_the_reference_and_the_portable_module")
    import os
    for require, code, text in (("0", 0, "needs a CUDA GPU"), ("1", 1, "REQUIRE_GPU=1 but")):
        env = {**os.environ, "REQUIRE_GPU": require}
        proc = subprocess.run([sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider",
                               test], cwd=ROOT, env=env, capture_output=True, text=True)
        assert proc.returncode == code and text in proc.stdout, proc.stdout[-2000:]
