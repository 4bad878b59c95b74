"""Checkpoints a run must not trust (issue 12 items 7, 8, 12): non-finite weights or
optimiser state stop a run at its checkpoint, sample and eval refuse them naming the
tensor, and a damaged or hostile document gives a named CheckpointError, never a
RecursionError, TypeError or a huge allocation (a hypothesis fuzz of the loader)."""
import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchgan.cli import main
from scratchgan.gan import checkpoint
from scratchgan.gan.build import build_trainer
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.guard import TrainingDiverged
from scratchgan.gan.sample import load_generator


def ring(out, **kw):
    return TrainConfig(**{**dict(dataset="ring8", steps=4, batch_size=8, progress=False,
                                 out=str(out)), **kw})


def test_an_overflowing_optimiser_state_stops_the_run_at_its_checkpoint(tmp_path):
    t = build_trainer(ring(tmp_path))
    t.train_step()
    good = t.save_checkpoint()
    t.train_step()
    state = next(iter(t.opt_g.state.values()))
    name = next(k for k, v in state.items() if isinstance(v, np.ndarray) and v.ndim)
    state[name][...] = np.inf                     # the losses may still be finite
    with pytest.raises(TrainingDiverged, match=rf"step 2: opt_g/state/\d+/{name} holds NaN "
                                               rf"or Inf.*ckpt-0000001.npz"):
        t.save_checkpoint()
    assert checkpoint.list_checkpoints(t.checkpoints.folder) == [(1, good)]


def test_nan_weights_stop_the_run_at_its_checkpoint(tmp_path):
    t = build_trainer(ring(tmp_path, ema=0.0))
    t.train_step()
    next(iter(t.G.parameters())).data[0] = np.nan
    with pytest.raises(TrainingDiverged, match="step 1: G/.* holds NaN or Inf"):
        t.save_checkpoint()
    assert checkpoint.list_checkpoints(t.checkpoints.folder) == []


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory):
    t = build_trainer(ring(tmp_path_factory.mktemp("good")))
    t.train_step()
    return t.save_checkpoint()


def write(path, meta, arrays):
    with open(path, "wb") as fh:
        np.savez(fh, __meta__=np.array(meta if isinstance(meta, str) else json.dumps(meta)),
                 **arrays)
    return path


def read(path):
    with np.load(path, allow_pickle=False) as npz:
        return json.loads(str(npz["__meta__"])), {k: npz[k] for k in npz.files if k != "__meta__"}


@pytest.mark.parametrize("verb", ["sample", "eval"])
def test_sample_and_eval_refuse_non_finite_weights_naming_the_tensor(tmp_path, good_checkpoint,
                                                                     verb, capsys):
    meta, arrays = read(good_checkpoint)
    name = next(k for k in arrays if k.startswith("s/G_ema/") and arrays[k].ndim == 2)
    arrays[name] = np.full_like(arrays[name], np.nan)
    bad = write(tmp_path / "nan.npz", meta, arrays)
    args = ["--checkpoint", str(bad), "--n", "20"] + (["--out", str(tmp_path / "s.png")]
                                                      if verb == "sample" else [])
    assert main([verb] + args) == 1
    err = capsys.readouterr().err
    assert f"generator (G_ema) tensor {name[len('s/G_ema/'):]} holds NaN or Inf" in err
    assert err.count("\n") == 1 and not (tmp_path / "s.png").exists()


def test_a_hostile_document_is_named(tmp_path, good_checkpoint):
    meta, arrays = read(good_checkpoint)
    deep = ('{"format": "scratchgan-checkpoint", "version": 1, "state": ' + "[" * 100000
            + "]" * 100000 + "}")
    with pytest.raises(checkpoint.CheckpointError, match="nested deeper than"):
        checkpoint.load(write(tmp_path / "deep.npz", deep, arrays))
    with pytest.raises(checkpoint.CheckpointError, match="state must be a table"):
        checkpoint.load(write(tmp_path / "list.npz", {**meta, "state": []}, arrays))
    huge = {**meta, "state": {**meta["state"], "config": {**meta["state"]["config"],
                                                          "nz": 10 ** 10}}}
    with pytest.raises(checkpoint.CheckpointError, match="'nz' = 10000000000 is not a size"):
        load_generator(write(tmp_path / "nz.npz", huge, arrays))
    ref = {**meta, "state": {**meta["state"], "G": {"w": {"__array__": "s/nowhere"}}}}
    with pytest.raises(checkpoint.CheckpointError, match="refers to an array 's/nowhere'"):
        checkpoint.load(write(tmp_path / "ref.npz", ref, arrays))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70)
    | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=8)
ARRAYS = st.builds(lambda shape, dtype: np.ones(shape, dtype),
                   st.lists(st.integers(0, 3), max_size=3).map(tuple),
                   st.sampled_from(["float32", "float64", "int64", "bool", "float16", "<U3"]))


def paths(obj, prefix=()):
    """Every path into a JSON document."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths(v, prefix + (i,))


def replaced(obj, path, value, delete=False):
    if not path:
        return value
    obj = obj.copy()
    if delete and len(path) == 1 and isinstance(obj, dict):
        del obj[path[0]]
        return obj
    obj[path[0]] = replaced(obj[path[0]], path[1:], value, delete)
    return obj


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_the_loader_accepts_only_named_errors(tmp_path, good_checkpoint, data):
    """Damaged documents (a value replaced by any JSON, a key deleted), damaged arrays (any
    shape and dtype under an entry's name) and truncated files: loading for sampling or
    for a resume either works or raises CheckpointError naming the file."""
    meta, arrays = read(good_checkpoint)
    kind = data.draw(st.sampled_from(["value", "delete", "array", "truncate"]))
    if kind in ("value", "delete"):
        where = data.draw(st.sampled_from(list(paths(meta["state"]))))
        meta = {**meta, "state": replaced(meta["state"], where, data.draw(JSON),
                                          delete=kind == "delete")}
    elif kind == "array":
        arrays[data.draw(st.sampled_from(sorted(arrays)))] = data.draw(ARRAYS)
    path = write(tmp_path / "fuzz.npz", meta, arrays)
    if kind == "truncate":
        raw = path.read_bytes()
        path.write_bytes(raw[:data.draw(st.integers(0, len(raw) - 1))])
    for load in (load_generator,
                 lambda p: build_trainer(ring(tmp_path / "t")).load_state_dict(
                     checkpoint.load(p), source=str(p))):
        try:
            load(path)
        except checkpoint.CheckpointError as e:
            assert str(path) in str(e)
