import numpy as np
import pytest

import scratchgan as sg


def test_operators_and_properties():
    a = sg.Tensor(np.arange(6.0).reshape(2, 3), name="a")
    b = np.ones((2, 3))
    np.testing.assert_allclose((b - a).data, 1 - a.data)   # ndarray on the left dispatches to Tensor
    np.testing.assert_allclose((2 / (a + 1)).data, 2 / (a.data + 1))
    np.testing.assert_allclose((-a).data, -a.data)
    np.testing.assert_allclose(a.T.data, a.data.T)
    np.testing.assert_allclose((a @ a.T).data, a.data @ a.data.T)
    np.testing.assert_allclose(a[1, ::2].data, a.data[1, ::2])
    np.testing.assert_allclose(a.reshape(3, 2).data, a.data.reshape(3, 2))
    np.testing.assert_allclose(a.sum(axis=0).data, a.data.sum(0))
    np.testing.assert_allclose(a.mean().data, a.data.mean())
    assert a.shape == (2, 3) and a.ndim == 2 and a.size == 6 and len(a) == 2
    assert a.dtype == np.float64 and a.device == "cpu"
    assert isinstance(a.numpy(), np.ndarray)
    assert "name='a'" in repr(a)


def test_item_and_detach():
    a = sg.Tensor([3.0], requires_grad=True)
    assert a.item() == 3.0
    d = (a * 2.0).detach()
    assert d.creator is None and not d.requires_grad
    with pytest.raises(ValueError, match="one element"):
        sg.Tensor([1.0, 2.0]).item()


def test_pow_rejects_tensor_exponents():
    a = sg.Tensor([1.0])
    with pytest.raises(TypeError, match="constant real exponent"):
        a ** a


def test_bad_data_is_named():
    with pytest.raises(TypeError, match="cannot make a Tensor"):
        sg.Tensor({"a": 1})


@pytest.mark.parametrize("n", [0, 2, 5])
def test_the_truth_of_a_tensor_of_several_elements_is_ambiguous(n):
    with pytest.raises(ValueError, match=f"the truth value of a Tensor with {n} elements is "
                                         "ambiguous"):
        bool(sg.Tensor(np.zeros(n)))


def test_the_truth_of_a_one_element_tensor_is_its_value():
    assert not sg.Tensor(0.0) and not sg.Tensor([[0.0]]) and sg.Tensor([2.0])


def test_equality_is_element_wise_and_hashing_by_identity():
    a, b = sg.Tensor([1.0, 2.0, 3.0], requires_grad=True), sg.Tensor([1.0, 5.0, 3.0])
    for got, want in [(a == b, [True, False, True]), (a != b, [False, True, False]),
                      (a == 2.0, [False, True, False]), (np.array([1.0, 0, 0]) == a,
                                                         [True, False, False])]:
        assert isinstance(got, sg.Tensor) and got.dtype == np.bool_ and not got.requires_grad
        assert got.data.tolist() == want
    assert (a == None) is False and (a != "a") is True    # noqa: E711 (not numbers: identity)
    seen = {a: "a", b: "b"}
    assert seen[a] == "a" and seen[b] == "b" and a in {a, b} and len({a, b, a}) == 2
    assert sg.Tensor([1.0]) == sg.Tensor([1.0]) and sg.Tensor(1.0) != sg.Tensor(2.0)
