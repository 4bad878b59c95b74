"""The single-process side of scratchgan.distributed (no MPI needed): the flat buffer,
the sharded generator and loader against one process's draws and batches, the global
batch's divisibility error, and communicator detection."""
from __future__ import annotations

import numpy as np
import pytest

from scratchgan.data import DataLoader
from scratchgan.distributed import (ShardedGenerator, SingleProcess, environment_size,
                                    from_environment, pack, unpack)
from scratchgan.distributed.parallel import ShardedLoader


class FakeRank(SingleProcess):
    """A communicator that only knows its rank and size (no collectives are called)."""

    def __init__(self, rank: int, size: int) -> None:
        self.rank, self.size = rank, size


def test_pack_and_unpack_round_trip_in_one_buffer():
    arrays = [np.arange(6.0).reshape(2, 3), np.ones(4, np.float32), np.array(2.5)]
    flat, layout = pack(arrays)
    assert flat.ndim == 1 and flat.size == 11 and flat.dtype == np.float64
    back = unpack(flat, layout)
    for a, b in zip(arrays, back):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_sharded_generator_rows_concatenate_to_one_process_draws():
    for method, call in (("standard_normal", lambda g: g.standard_normal((3, 2))),
                         ("uniform", lambda g: g.uniform(size=(3, 1, 1, 1))),
                         ("integers", lambda g: g.integers(0, 10, 3))):
        whole = call(np.random.default_rng(7))
        expect_whole = {"standard_normal": lambda g: g.standard_normal((6, 2)),
                        "uniform": lambda g: g.uniform(size=(6, 1, 1, 1)),
                        "integers": lambda g: g.integers(0, 10, 6)}[method](np.random.default_rng(7))
        shards = []
        for rank in range(2):
            g = ShardedGenerator(np.random.default_rng(7), rank, 2)
            shards.append(call(g))
        np.testing.assert_array_equal(np.concatenate(shards), expect_whole)
        assert whole.shape[0] == 3


def test_sharded_generator_states_move_alike_and_unsplit_draws_are_refused():
    a, b = (ShardedGenerator(np.random.default_rng(1), r, 2) for r in (0, 1))
    a.standard_normal((4, 3))
    b.standard_normal((4, 3))
    assert a.bit_generator.state == b.bit_generator.state
    with pytest.raises(AttributeError, match="not split"):
        a.permutation(5)


def test_sharded_loader_shards_are_the_one_process_batches():
    data = np.arange(40.0).reshape(20, 2)
    one = DataLoader(data, 4, seed=3)
    ranks = [ShardedLoader(data, 4, FakeRank(r, 2), seed=3) for r in range(2)]
    it, its = one.batches(), [r.batches() for r in ranks]
    for _ in range(12):                     # across epochs
        whole = next(it)[0]
        parts = [next(i)[0] for i in its]
        np.testing.assert_array_equal(np.concatenate(parts), whole)
    assert ranks[0].state_dict() == ranks[1].state_dict() == one.state_dict()


def test_a_global_batch_the_ranks_do_not_divide_is_refused_by_name():
    with pytest.raises(ValueError, match="batch_size 10 is the global batch, split across 4 "
                                         "ranks: it must be a multiple of 4"):
        ShardedLoader(np.zeros((40, 2)), 10, FakeRank(0, 4))


def test_single_process_collectives_return_their_inputs(monkeypatch):
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert environment_size() == 1
    comm = from_environment()
    assert isinstance(comm, SingleProcess) and comm.rank == 0 and comm.size == 1
    a = np.ones(3)
    assert comm.allreduce([a])[0] is a
    rng = np.random.default_rng(0)
    assert comm.shard_generator(rng) is rng
    assert comm.shard(6) == 6
    assert comm.root_call(lambda: 5) == 5
    monkeypatch.setenv("PMI_SIZE", "4")
    assert environment_size() == 4


@pytest.mark.parametrize("sync_bn", [True, False])
def test_build_trainer_for_a_rank_of_two(tmp_path, sync_bn):
    """build_trainer given rank 0 of 2 (collectives that return their inputs): the task
    draws for half the global batch, the loader hands out half of each batch, batch norm
    is synchronised or not by --sync-bn, and the EMA's copy of G keeps plain batch norm."""
    from scratchgan.data import load_dataset
    from scratchgan.distributed.parallel import SyncBatchNormLayer
    from scratchgan.gan.build import build_trainer
    from scratchgan.gan.guard import DistributedGuard
    from scratchgan.gan.config import make_config
    from scratchgan.nn import BatchNorm
    config = make_config(batch_size=8, steps=1, out=str(tmp_path), progress=False,
                         sync_bn=sync_bn, threads=1)
    t = build_trainer(config, dataset=load_dataset("digits", n=64), comm=FakeRank(0, 2))
    assert t.task.batch_size == 4 and t.data.local_batch_size == 4
    assert len(next(t.data.batches())[0]) == 4
    assert isinstance(t.guard, DistributedGuard)
    layers = [m for m in t.G.modules() if isinstance(m, BatchNorm)]
    assert layers and all(isinstance(m, SyncBatchNormLayer) == sync_bn for m in layers)
    assert not any(isinstance(m, SyncBatchNormLayer) for m in t.ema.average.modules())
    record = t.train_step()
    assert np.isfinite(record["loss_d"]) and np.isfinite(record["loss_g"])
    with pytest.raises(ValueError, match="batch_size 9 is the global batch"):
        build_trainer(make_config(batch_size=9, out=str(tmp_path)), comm=FakeRank(0, 2))
