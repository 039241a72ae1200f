"""Dask clusters to grade on: an existing scheduler, a `LocalCluster`, or
SLURM jobs through dask-jobqueue.

The grading engine needs only a scheduler address; this module makes one
when asked. A SLURM cluster reads its settings (queue, account, cores,
memory, walltime) from Dask's configuration (`~/.config/dask/jobqueue.yaml`),
as dask-jobqueue documents, and grows to `CNNKIT_SLURM_JOBS` jobs (default 4).
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["scheduler_for"]


@contextlib.contextmanager
def scheduler_for(cluster=None, address=None):
    """The scheduler address to grade on, for the duration of a `with` block.

    Args:
        cluster: None, `"local"` (a `distributed.LocalCluster` on loopback)
            or `"slurm"` (a `dask_jobqueue.SLURMCluster`).
        address: an existing scheduler's address; wins over `cluster`.

    Yields:
        The address, or None to grade on local worker threads.

    Raises:
        ValueError: if `cluster` is unknown, or dask-jobqueue is missing.
    """
    if address or not cluster:
        yield address
        return
    if cluster == "local":
        from distributed import LocalCluster

        with LocalCluster(n_workers=None, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as local:
            yield local.scheduler_address
        return
    if cluster == "slurm":
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError:
            raise ValueError("--cluster slurm needs dask-jobqueue: pip install 'cnnkit[cluster]'") from None
        with SLURMCluster() as slurm:
            slurm.scale(jobs=int(os.environ.get("CNNKIT_SLURM_JOBS", "4")))
            yield slurm.scheduler_address
        return
    raise ValueError(f"Invalid value for `cluster`. Expected 'local' or 'slurm'. Received cluster={cluster!r}.")
