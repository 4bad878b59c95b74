"""Module: registration, traversal, modes, state_dict / load_state_dict, to, repr."""
import numpy as np
import pytest

import scratchgan as sg
from scratchgan import nn
from scratchgan.random import manual_seed


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(2, np.float32))
        self.fc = nn.Linear(2, 3)
        self.register_buffer("count", np.zeros(1, np.int64))
        self.act = nn.LeakyReLU(0.1)

    def forward(self, x):
        return self.act(self.fc(x * self.scale))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))

    def forward(self, x):
        return self.head(self.block(x))


def test_parameter_defaults_to_float32_and_rejects_integers():
    p = nn.Parameter([1.0, 2.0])
    assert p.dtype == np.float32 and p.requires_grad and p.is_leaf
    assert nn.Parameter(np.zeros(2, np.float64)).dtype == np.float64
    assert repr(p).startswith("Parameter(")
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.arange(3))


def test_registration_order_and_dotted_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale", "block.fc.weight", "block.fc.bias", "head.0.weight", "head.0.bias",
        "head.1.weight", "head.1.bias", "head.2.weight", "head.2.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "block.count", "head.1.running_mean", "head.1.running_var", "head.1.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert list(net.children()) == [net.block, net.head]
    assert [n for n, _ in net.named_modules()] == [
        "", "block", "block.fc", "block.act", "head", "head.0", "head.1", "head.2"]
    assert len(list(net.modules())) == 8
    assert len(list(net.parameters())) == 9 and len(list(net.buffers())) == 4
    assert net.num_parameters() == 2 + (6 + 3) + (12 + 4) + (4 + 4) + (4 + 1)


def test_shared_parameter_is_listed_once():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == 2
    assert seq.num_parameters() == 6


def test_attribute_rules():
    block = Block()
    with pytest.raises(TypeError, match="is a Parameter"):
        block.scale = sg.Tensor(np.zeros(2))
    with pytest.raises(TypeError, match="is a child Module"):
        block.fc = 3
    block.count = np.array([5])  # assigning an array to a buffer replaces it
    assert dict(block.named_buffers())["count"].tolist() == [5]
    with pytest.raises(TypeError, match="buffers are plain arrays"):
        block.count = sg.Tensor([1.0])
    with pytest.raises(KeyError, match="already has an attribute"):
        block.register_buffer("fc", np.zeros(1))
    with pytest.raises(KeyError, match="without dots"):
        block.register_buffer("a.b", np.zeros(1))
    with pytest.raises(TypeError, match="expected a Parameter"):
        block.register_parameter("w", np.zeros(1))
    block.register_parameter("w", nn.Parameter(np.zeros(1, np.float32)))
    assert "w" in dict(block.named_parameters())
    del block.fc
    assert "fc.weight" not in dict(block.named_parameters())
    block.scale = nn.Linear(1, 1)  # re-assigning a name moves it between the collections
    names = dict(block.named_parameters())
    assert "scale" not in names and "scale.weight" in names
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        block.missing


def test_forgetting_super_init_and_forward_give_clear_errors():
    class NoInit(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    class NoForward(nn.Module):
        pass

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        NoInit()
    with pytest.raises(NotImplementedError, match="does not define forward"):
        NoForward()(1)


def test_train_eval_are_recursive_and_return_self():
    net = Net()
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())
    net.head.train(False)
    assert net.training and not net.head[1].training


def test_apply_visits_children_before_parents():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(m)) is net
    assert seen[-1] is net and seen.index(net.block.fc) < seen.index(net.block)
    assert len(seen) == len(list(net.modules()))


def test_zero_grad_sets_every_grad_to_none():
    net = Net()
    net(np.ones((4, 2), np.float32)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_is_an_ordered_copy_and_round_trips():
    manual_seed(0)
    net = Net()
    net(np.random.default_rng(0).standard_normal((5, 2)).astype(np.float32))  # moves BN stats
    state = net.state_dict()
    assert list(state) == [
        "block.scale", "block.count", "block.fc.weight", "block.fc.bias", "head.0.weight",
        "head.0.bias", "head.1.weight", "head.1.bias", "head.1.running_mean",
        "head.1.running_var", "head.1.num_batches_tracked", "head.2.weight", "head.2.bias"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["block.scale"][:] = 7  # a copy: the model does not change
    assert np.all(net.block.scale.data == 1)
    manual_seed(1)
    other = Net()
    weight = other.block.fc.weight
    result = other.load_state_dict(net.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert other.block.fc.weight is weight  # in place: the Parameter keeps its identity
    for (k, a), (_, b) in zip(net.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert other.head[1].num_batches_tracked == 1


def test_load_state_dict_names_missing_unexpected_and_mismatching_keys():
    net = Net()
    state = net.state_dict()
    del state["head.0.bias"]
    state["head.9.weight"] = np.zeros(1)
    state["block.fc.weight"] = np.zeros((3, 5), np.float32)
    state["block.scale"] = np.ones(2, np.float64)
    before = net.state_dict()
    with pytest.raises(ValueError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "missing keys: head.0.bias" in message
    assert "unexpected keys: head.9.weight" in message
    assert "block.fc.weight has shape (3, 5) in the checkpoint but (3, 2) in the model" in message
    assert "block.scale has dtype float64 in the checkpoint but float32 in the model" in message
    for k, v in net.state_dict().items():  # nothing was copied
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict_skips_keys_but_not_shapes():
    net = Net()
    state = {"block.scale": np.full(2, 3.0, np.float32), "extra": np.zeros(1)}
    result = net.load_state_dict(state, strict=False)
    assert result.unexpected_keys == ["extra"] and "head.2.bias" in result.missing_keys
    np.testing.assert_array_equal(net.block.scale.data, [3, 3])
    with pytest.raises(ValueError, match=r"block.scale has shape \(3,\)"):
        net.load_state_dict({"block.scale": np.zeros(3, np.float32)}, strict=False)


def test_state_dict_survives_npz_round_trip(tmp_path):
    net = Net()
    np.savez(tmp_path / "net.npz", **net.state_dict())
    other = Net()
    with np.load(tmp_path / "net.npz") as npz:
        other.load_state_dict(dict(npz))
    np.testing.assert_array_equal(other.head[2].weight.data, net.head[2].weight.data)


def test_to_casts_parameters_grads_and_float_buffers_in_place():
    net = Net()
    net(np.ones((3, 2), np.float32)).sum().backward()
    params = list(net.parameters())
    assert net.to(dtype=np.float64) is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    buffers = dict(net.named_buffers())
    assert buffers["head.1.running_mean"].dtype == np.float64
    assert buffers["block.count"].dtype == np.int64  # counters stay integers
    assert net(np.ones((3, 2))).dtype == np.float64
    assert net.to("cpu") is net
    with pytest.raises(ValueError, match="cannot cast to int32"):
        net.to(dtype=np.int32)
    with pytest.raises(ValueError, match="device must be"):
        net.to("tpu")


def test_to_cuda_without_a_gpu_is_a_clear_error():
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() > 0:
            pytest.skip("a GPU is present")
    except Exception:
        pass
    with pytest.raises(RuntimeError, match="CuPy|GPU"):
        nn.Linear(2, 2).to("cuda")


def test_repr_shows_structure_layer_counts_and_total():
    text = repr(Net())
    assert text.splitlines()[0] == "Net("
    assert "(fc): Linear(in_features=2, out_features=3, bias=True)  # 9 parameters" in text
    assert "(1): BatchNorm1d(4, eps=1e-05, momentum=0.1)  # 8 parameters" in text
    assert "(act): LeakyReLU(negative_slope=0.1)\n" in text
    assert "  )  # 29 parameters" in text  # the head Sequential, nested
    assert text.endswith(")  # total 40 parameters")
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.Linear(3, 1)) == ("Linear(in_features=3, out_features=1, bias=True)"
                                     "  # total 4 parameters")

