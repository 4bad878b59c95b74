"""Optimizer state_dict: plain data that survives .npz + JSON, and a restored optimizer
continues exactly the trajectory of the original."""
import io
import json

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import nn, optim
from scratchgan.random import manual_seed

OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: optim.Adam(ps, lr=0.01, betas=(0.5, 0.999), weight_decay=0.01),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5),
}


def model():
    manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))


def train(net, opt, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = rng.standard_normal((8, 3)).astype(np.float32)
        opt.zero_grad()
        (net(x) ** 2).mean().backward()
        opt.step()


def through_npz_and_json(state):
    """What a checkpoint does: arrays into .npz, everything else into JSON."""
    arrays, meta = {}, {"param_groups": state["param_groups"], "state": {}}
    for index, entries in state["state"].items():
        meta["state"][index] = {}
        for name, value in entries.items():
            if isinstance(value, np.ndarray):
                arrays[f"{index}/{name}"] = value
                meta["state"][index][name] = {"array": f"{index}/{name}"}
            else:
                meta["state"][index][name] = value
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    meta = json.loads(json.dumps(meta))  # int keys become strings, tuples lists
    with np.load(buffer) as npz:
        for entries in meta["state"].values():
            for name, value in entries.items():
                if isinstance(value, dict):
                    entries[name] = npz[value["array"]]
    return meta


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_restored_optimizer_continues_the_same_trajectory(name):
    net = model()
    opt = OPTIMIZERS[name](net.parameters())
    train(net, opt, 3, seed=1)
    saved_model, saved_opt = net.state_dict(), through_npz_and_json(opt.state_dict())
    train(net, opt, 3, seed=2)

    twin = model()
    twin.load_state_dict(saved_model)
    twin_opt = OPTIMIZERS[name](twin.parameters())
    twin_opt.load_state_dict(saved_opt)
    train(twin, twin_opt, 3, seed=2)
    for (k, a), (_, b) in zip(net.state_dict().items(), twin.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert twin_opt.param_groups[0].keys() == opt.param_groups[0].keys()
    if name == "adam":
        assert twin_opt.param_groups[0]["betas"] == (0.5, 0.999)


def test_state_dict_layout_is_plain_data():
    net = model()
    opt = optim.Adam([{"params": list(net[0].parameters())},
                      {"params": list(net[2].parameters()), "lr": 0.1}])
    train(net, opt, 2, seed=0)
    state = opt.state_dict()
    assert state["param_groups"] == [
        {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0, "params": [0, 1]},
        {"lr": 0.1, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0, "params": [2, 3]}]
    assert sorted(state["state"]) == [0, 1, 2, 3]
    entry = state["state"][2]
    assert entry["step"] == 2 and type(entry["step"]) is int
    assert isinstance(entry["exp_avg"], np.ndarray) and entry["exp_avg"].shape == (1, 4)
    entry["exp_avg"][:] = 99  # a copy
    assert not np.any(opt.state[net[2].weight]["exp_avg"] == 99)
    json.dumps(state["param_groups"])


def test_load_state_dict_restores_hyperparameters():
    p = nn.Parameter(np.zeros(2))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    state = opt.state_dict()
    state["param_groups"][0]["lr"] = 0.01
    opt.load_state_dict(state)
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["params"] == [p]


def test_load_state_dict_errors_change_nothing():
    a, b = nn.Parameter(np.zeros((2, 3))), nn.Parameter(np.zeros(3))
    opt = optim.Adam([a, b])
    a.grad, b.grad = sg.Tensor(np.ones((2, 3))), sg.Tensor(np.ones(3))
    opt.step()
    good = opt.state_dict()

    other = optim.Adam([nn.Parameter(np.zeros((2, 3)))])
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters in the state dict "
                                         "but 1 in this optimizer"):
        other.load_state_dict(good)
    with pytest.raises(ValueError, match="2 parameter groups, this optimizer 1"):
        opt.load_state_dict({"state": {}, "param_groups": good["param_groups"] * 2})
    bad = opt.state_dict()
    bad["state"][1]["exp_avg"] = np.zeros(4)
    bad["param_groups"][0]["lr"] = 5.0
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 1 has shape \(4,\) but the "
                                         r"parameter has shape \(3,\)"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.001
    with pytest.raises(ValueError, match="hyper-parameters"):
        opt.load_state_dict(optim.SGD([a, b], lr=0.1).state_dict())
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="lr must be a number >= 0"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.001
    bad = opt.state_dict()
    bad["state"][7] = {"step": 1}
    with pytest.raises(ValueError, match="state for parameter 7, which no parameter group lists"):
        opt.load_state_dict(bad)


def test_loaded_state_follows_the_parameter_dtype_and_reads_numbers():
    p = nn.Parameter(np.zeros(3, np.float32))
    opt = optim.Adam([p])
    opt.load_state_dict({"state": {"0": {"step": np.array(4), "exp_avg": np.ones(3),
                                         "exp_avg_sq": np.ones(3)}},
                         "param_groups": [{"lr": 0.1, "betas": [0.9, 0.99], "eps": 1e-8,
                                           "weight_decay": 0.0, "params": [0]}]})
    state = opt.state[p]
    assert state["step"] == 4 and type(state["step"]) is int
    assert state["exp_avg"].dtype == np.float32
    p.grad = sg.Tensor(np.ones(3, np.float32))
    opt.step()
    assert opt.state[p]["step"] == 5
