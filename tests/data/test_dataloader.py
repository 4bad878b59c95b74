"""DataLoader: batches, epochs, seeds, exact resume, errors."""
import json

import numpy as np
import pytest

from scratchgan.data import DataLoader, load_dataset


def _data(n=10):
    return np.arange(n, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32), np.arange(n)


def test_batches_pair_inputs_with_labels_and_cover_an_epoch_once():
    x, y = _data(10)
    loader = DataLoader((x, y), batch_size=4, drop_last=False)
    assert len(loader) == 3
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(10))
    for bx, by in batches:
        np.testing.assert_array_equal(bx[:, 0], by)        # rows stay aligned


def test_drop_last_leaves_out_the_short_batch():
    x, y = _data(10)
    loader = DataLoader((x, y), batch_size=4)
    assert len(loader) == 2 and [len(b[1]) for b in loader] == [4, 4]


def test_dataset_and_single_array_sources():
    ring = load_dataset("ring8", n=20)
    bx, by = next(iter(DataLoader(ring, 5)))
    assert bx.shape == (5, 2) and by.shape == (5,) and by.dtype == np.int64
    (only,) = next(iter(DataLoader(np.zeros((20, 2)), 5)))
    assert only.shape == (5, 2)


def test_shuffling_is_per_epoch_and_follows_the_seed():
    x, y = _data(50)
    def orders(seed, shuffle=True, epochs=2):
        loader = DataLoader((x, y), 10, shuffle=shuffle, seed=seed)
        return [np.concatenate([b[1] for b in loader]) for _ in range(epochs)]
    first, second = orders(0)
    assert not np.array_equal(first, second) and not np.array_equal(first, np.arange(50))
    np.testing.assert_array_equal(orders(0)[1], second)
    assert not np.array_equal(orders(1)[0], first)
    for epoch in orders(0, shuffle=False):
        np.testing.assert_array_equal(epoch, np.arange(50))


def test_batches_runs_across_epochs():
    x, y = _data(10)
    loader = DataLoader((x, y), 3)
    stream = loader.batches()
    labels = [next(stream)[1] for _ in range(7)]
    assert loader.epoch == 2 and loader.position == 1
    assert sorted(np.concatenate(labels[:3]).tolist()) != list(range(10))   # 1 dropped per epoch
    assert len(set(np.concatenate(labels[:3]).tolist())) == 9


@pytest.mark.parametrize("stop", [1, 3, 4, 9])     # mid-epoch, epoch end, next epochs
@pytest.mark.parametrize("drop_last", [True, False])
def test_resume_from_state_dict_sees_the_same_batches(stop, drop_last):
    x, y = _data(15)
    uninterrupted = DataLoader((x, y), 4, drop_last=drop_last, seed=3).batches()
    expected = [next(uninterrupted)[1] for _ in range(stop + 10)]

    first = DataLoader((x, y), 4, drop_last=drop_last, seed=3)
    stream = first.batches()
    for _ in range(stop):
        next(stream)
    state = json.loads(json.dumps(first.state_dict()))   # as a checkpoint stores it
    resumed = DataLoader((x, y), 4, drop_last=drop_last, seed=99)
    resumed.load_state_dict(state)
    got = [next(resumed.batches())[1] for _ in range(10)]
    for want, have in zip(expected[stop:], got):
        np.testing.assert_array_equal(want, have)


def test_resumed_for_loop_finishes_the_interrupted_epoch():
    x, y = _data(12)
    first = DataLoader((x, y), 3, seed=5)
    epoch = iter(first)
    head = [next(epoch)[1] for _ in range(2)]
    resumed = DataLoader((x, y), 3, seed=5)
    resumed.load_state_dict(first.state_dict())
    tail = [b[1] for b in resumed]
    assert len(tail) == 2
    assert sorted(np.concatenate(head + tail).tolist()) == list(range(12))


def test_errors():
    x, y = _data(5)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            DataLoader((x, y), bad)
    with pytest.raises(ValueError, match="larger than the dataset's 5 samples"):
        DataLoader((x, y), 6)
    assert len(DataLoader((x, y), 6, drop_last=False)) == 1
    with pytest.raises(ValueError, match=r"differ in length along axis 0: \[5, 4\]"):
        DataLoader((x, y[:4]), 2)
    with pytest.raises(ValueError, match="empty"):
        DataLoader((x[:0],), 1, drop_last=False)
    with pytest.raises(TypeError, match="DataLoader takes"):
        DataLoader("not data", 1)
    state = DataLoader((x, y), 2).state_dict()
    with pytest.raises(ValueError, match="batch_size: saved 2, here 1"):
        DataLoader((x, y), 1).load_state_dict(state)
    with pytest.raises(ValueError, match="lacks"):
        DataLoader((x, y), 2).load_state_dict({"epoch": 0})
