import numpy as np
import pytest

from scratchgan.data import (GRID25_CENTRES, GRID25_STD, RING8_CENTRES, RING8_STD, DataLoader,
                             load_dataset, sample_grid25, sample_ring8)


def test_ring8_centres_are_eight_distinct_points_on_the_unit_circle():
    assert RING8_CENTRES.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(RING8_CENTRES, axis=1), 1.0)
    angles = np.sort(np.mod(np.arctan2(RING8_CENTRES[:, 1], RING8_CENTRES[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(np.diff(angles), 2 * np.pi / 8)  # no two centres on one point


def test_grid25_centres():
    assert sorted(map(tuple, GRID25_CENTRES.tolist())) == [
        (x, y) for x in (-4.0, -2.0, 0.0, 2.0, 4.0) for y in (-4.0, -2.0, 0.0, 2.0, 4.0)]


@pytest.mark.parametrize("sampler,centres,std", [(sample_ring8, RING8_CENTRES, RING8_STD),
                                                 (sample_grid25, GRID25_CENTRES, GRID25_STD)])
def test_samples_spread_by_the_mode_std(sampler, centres, std):
    points, modes = sampler(50_000, np.random.default_rng(0))
    assert points.dtype == np.float32 and set(modes.tolist()) == set(range(len(centres)))
    offsets = points - centres[modes]
    np.testing.assert_allclose(offsets.std(axis=0), std, rtol=0.05)


def test_loader_batches_and_epochs():
    x, y = np.arange(10.0)[:, None], np.arange(10)
    loader = DataLoader((x, y), 3, shuffle=True, drop_last=True, seed=0)
    assert len(loader) == 3
    epoch = list(loader)
    assert len(epoch) == 3 and all(b[0].shape == (3, 1) for b in epoch)
    seen = np.concatenate([b[1] for b in epoch])
    assert len(set(seen.tolist())) == 9 and np.all(x[seen, 0] == seen)  # pairs stay aligned
    assert not np.array_equal(seen, np.concatenate([b[1] for b in loader]))  # reshuffled
    keep_last = DataLoader((x,), 3, shuffle=False, drop_last=False)
    assert [len(b[0]) for b in keep_last] == [3, 3, 3, 1]


def test_resume_mid_epoch_gives_the_same_batches():
    ds = load_dataset("ring8", n=50)
    a = DataLoader(ds, 8, seed=4).batches()
    for _ in range(9):  # into the second epoch
        next(a)
    b_loader = DataLoader(ds, 8, seed=4)
    b = b_loader.batches()
    for _ in range(9):
        next(b)
    state = b_loader.state_dict()
    c_loader = DataLoader(ds, 8, seed=123)
    c_loader.load_state_dict(state)
    c = c_loader.batches()
    for _ in range(12):
        np.testing.assert_array_equal(next(a)[0], next(c)[0])


def test_loader_errors():
    with pytest.raises(ValueError, match="positive int"):
        DataLoader((np.zeros(3),), 0)
    with pytest.raises(ValueError, match="exceeds the 3 samples"):
        DataLoader((np.zeros(3),), 4)
    with pytest.raises(ValueError, match="differ in length"):
        DataLoader((np.zeros(3), np.zeros(4)), 1)
