"""One promotion rule and numeric data only (issue 12 item 9): a floating Tensor combined
with an integer or bool Tensor keeps its dtype in element-wise arithmetic (float32 stays
float32, as with Python and NumPy constants); non-numeric data and non-real gradients are
refused with a named error."""
import numpy as np
import pytest

from scratchgan import Tensor


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
                                lambda a, b: a / b, lambda a, b: b + a, lambda a, b: b * a])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_with_integer_keeps_the_float_dtype(op, dtype):
    x = Tensor(np.ones(3, dtype), requires_grad=True)
    for other in (Tensor(np.arange(1, 4, dtype=np.int64)), Tensor(np.array([True, True, True])),
                  np.arange(1, 4, dtype=np.int64), 2):
        y = op(x, other)
        assert y.dtype == dtype
        y.sum().backward()
        assert x.grad.dtype == dtype
        x.grad = None


@pytest.mark.parametrize("data, says", [(np.array(["a", "b"]), "not dtype <U1"),
                                        ("abc", "not dtype <U3"),
                                        (np.array([b"x"]), "not dtype |S1")])
def test_non_numeric_data_is_refused(data, says):
    with pytest.raises(TypeError, match=f"a Tensor holds numbers.*{says}"):
        Tensor(data)


def test_only_real_floating_tensors_require_gradients():
    with pytest.raises(TypeError, match="only real floating-point Tensors.*complex64"):
        Tensor(np.ones(2, np.complex64), requires_grad=True)
    with pytest.raises(TypeError, match="only real floating-point Tensors.*int64"):
        Tensor(np.ones(2, np.int64), requires_grad=True)
    assert Tensor(np.ones(2, np.complex64)).dtype == np.complex64
