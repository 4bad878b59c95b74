"""Data-parallel training over MPI (mpi4py): ``mpiexec -n K scratchgan train ...``.

    comm.py       Communicator: rank, size, allreduce (a list of arrays, one flat buffer
                  per call), broadcast, bcast, allgather, abort; SingleProcess (alone,
                  no MPI imported) and MPICommunicator; from_environment()
    functions.py  AllReduceSum (its backward is itself) and SyncBatchNorm as Functions
    parallel.py   ShardedLoader, SyncBatchNormLayer, convert_sync_batchnorm
    launch.py     rank 0 runs the run folder, the others follow; one rank's error aborts all

Ranks are detected from the environment the MPI launcher sets; alone, the trainer runs
the same code with a SingleProcess communicator. See docs/scaling.md and the README.
"""
from scratchgan.distributed.comm import (Communicator, MPICommunicator, MPIUnavailable,
                                         ShardedGenerator, SingleProcess, environment_size,
                                         from_environment, pack, unpack)
from scratchgan.distributed.functions import (AllReduceSum, SyncBatchNorm, allreduce_sum,
                                              sync_batch_norm)

__all__ = ["Communicator", "SingleProcess", "MPICommunicator", "MPIUnavailable",
           "ShardedGenerator", "environment_size", "from_environment", "pack", "unpack",
           "AllReduceSum", "SyncBatchNorm", "allreduce_sum", "sync_batch_norm"]
