"""Where submissions are graded: worker slots on this machine, or a Dask cluster.

Both run a job function on each job and yield `(job, outcome)` pairs as jobs
finish, in any order; the caller (the coordinator) records each outcome
itself, one at a time.

- Locally, each worker slot is a thread that runs one job at a time, pinned
  (through the sandbox and its trusted worker process) to its own cores and,
  when there are GPUs, to one GPU (several slots may share one).
- On Dask (`distributed`), each job is a task; a task whose worker dies is
  not retried: its outcome is the error, and the other jobs go on.

Stopping early (closing the generator, as a Ctrl-C does) cancels every job
not yet started.
"""

from __future__ import annotations

import os
import queue
from concurrent.futures import ThreadPoolExecutor, as_completed

from autograder.pipeline.execute import Slot

__all__ = ["run_dask", "run_local", "slots"]


def slots(plan, gpus=(), kernels_gpu=False):
    """One `Slot` per worker: its cores and its GPU.

    Args:
        plan: an `autograder.sandbox.limits.WorkerPlan`.
        gpus: GPU indices to share out.
        kernels_gpu: whether the sandboxes see the worker's GPU too (see `Slot`).

    Returns:
        A list of `Slot`.
    """
    cores = sorted(os.sched_getaffinity(0))
    made = []
    for index in range(plan.workers):
        if plan.workers <= len(cores):
            mine = tuple(cores[index * plan.threads:(index + 1) * plan.threads])
        else:
            mine = (cores[index % len(cores)],)
        made.append(Slot(f"worker-{index + 1}", mine, gpus[index % len(gpus)] if gpus else None, kernels_gpu))
    return made


def run_local(jobs, work, worker_slots):
    """Runs `work(job, slot)` on local worker slots, one job per slot at a time.

    Args:
        jobs: a list of jobs (any objects).
        work: callable `(job, slot)` -> outcome; an exception it raises is
            the outcome.
        worker_slots: list of `Slot`, one per worker.

    Yields:
        `(job, outcome)` as each finishes.
    """
    free = queue.Queue()
    for slot in worker_slots:
        free.put(slot)

    def run(job):
        slot = free.get()
        try:
            return work(job, slot)
        except Exception as error:  # a fault of the grader's own, kept to this job
            return error
        finally:
            free.put(slot)

    pool = ThreadPoolExecutor(max_workers=len(worker_slots), thread_name_prefix="cnnkit-worker")
    try:
        futures = {pool.submit(run, job): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def run_dask(jobs, work, address):
    """Runs `work(job, slot)` on a Dask cluster, one task per job.

    Args:
        jobs: a list of jobs (picklable).
        work: a picklable callable `(job, slot)` -> outcome.
        address: the scheduler's address (`tcp://host:8786`), or a
            `distributed.Client`.

    Yields:
        `(job, outcome)` as each finishes; the outcome of a task whose worker
        failed is the exception.
    """
    from distributed import Client, as_completed as dask_completed

    client = address if isinstance(address, Client) else Client(address, timeout="30s")
    futures = {}
    try:
        futures = {client.submit(_on_dask_worker, work, job, pure=False, retries=0,
                                 key=f"cnnkit-grade-{index}-{id(job)}"): job for index, job in enumerate(jobs)}
        for future in dask_completed(futures):
            try:
                yield futures[future], future.result()
            except Exception as error:  # KilledWorker and friends
                yield futures[future], error
    finally:
        client.cancel(list(futures))
        if client is not address:
            client.close()


def _on_dask_worker(work, job):
    from distributed import get_worker

    from autograder.pipeline.scratch import remove_stale_scratch

    remove_stale_scratch()  # what a killed run left on this machine (the coordinator sweeps only its own)
    return work(job, Slot(f"dask:{get_worker().name}"))
