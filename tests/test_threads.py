"""Thread counts: the kernels' chunk workers and single-threaded BLAS, applied in a scope
and restored, work shared when a worker is slow, and results that do not depend on the
count."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from scratchgan.threads import resolve_threads, using_threads
from scratchgan_kernels import parallel


def blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_a_count_applies_inside_the_block_and_is_restored():
    before_blas, before_workers = blas_threads(), parallel.get_workers()
    with using_threads(3) as workers:
        assert workers == 3 and parallel.get_workers() == 3
        assert set(blas_threads()) == {1}
    assert blas_threads() == before_blas and parallel.get_workers() == before_workers


def test_auto_is_one_worker_per_available_core():
    assert resolve_threads(0) == parallel.default_workers() >= 1
    assert resolve_threads(2) == 2


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True, None])
def test_bad_counts_are_named(bad):
    with pytest.raises(ValueError, match=r"threads must be 0 \(auto"):
        with using_threads(bad):
            pass
    with pytest.raises(ValueError, match="number of worker threads"):
        parallel.set_workers(bad if bad != -1 else 0)


def test_parallel_for_runs_every_chunk_once_and_raises_a_chunks_error():
    seen = []
    lock = threading.Lock()

    def body(k):
        with lock:
            seen.append(k)
    old = parallel.set_workers(3)
    try:
        parallel.parallel_for(17, body)
        assert sorted(seen) == list(range(17))

        def failing(k):
            if k == 5:
                raise ValueError("chunk 5")
        with pytest.raises(ValueError, match="chunk 5"):
            parallel.parallel_for(9, failing)
    finally:
        parallel.set_workers(old)


def test_a_slow_worker_takes_fewer_chunks():
    """The busy-core case: the thread that is slowed down does not hold the others up."""
    done_by: dict[int, str] = {}
    main = threading.current_thread().name

    def body(k):
        if threading.current_thread().name == main:
            time.sleep(0.05)        # the calling thread is "on the busy core"
        done_by[k] = threading.current_thread().name
    old = parallel.set_workers(2)
    try:
        parallel.parallel_for(12, body)
    finally:
        parallel.set_workers(old)
    by_main = sum(name == main for name in done_by.values())
    assert len(done_by) == 12 and by_main <= 3


def test_training_steps_are_equal_bit_for_bit_with_one_and_two_workers():
    """Resume with another --threads, or on another machine, stays exact."""
    from scratchgan import no_grad, optim
    from scratchgan import random as sg_random
    from scratchgan.gan import losses
    from scratchgan.gan.init import dcgan_init
    from scratchgan.gan.models import build_models

    def losses_with(n):
        with using_threads(n):
            sg_random.manual_seed(0)
            G, D = build_models("dcgan", (1, 28, 28), 0)
            G.apply(dcgan_init)
            D.apply(dcgan_init)
            opt_g, opt_d = optim.Adam(G.parameters(), lr=2e-4), optim.Adam(D.parameters(), lr=2e-4)
            rng = np.random.default_rng(0)
            real = rng.standard_normal((32, 1, 28, 28)).astype(np.float32)
            out = []
            for _ in range(2):
                with no_grad():
                    fake = G(rng.standard_normal((32, 100)).astype(np.float32), None).data
                loss_d = losses.d_loss_bce(D(real, None), D(fake, None))
                D.zero_grad()
                loss_d.backward()
                opt_d.step()
                loss_g = losses.g_loss_nonsaturating(
                    D(G(rng.standard_normal((32, 100)).astype(np.float32), None), None))
                G.zero_grad()
                loss_g.backward()
                opt_g.step()
                out += [loss_d.item(), loss_g.item()]
            return out

    assert losses_with(1) == losses_with(2) == losses_with(3)
