"""Where submissions run: worker threads on this machine, or a Dask cluster.

Both yield `(prepared, execution)` pairs as submissions finish, in any
order. A worker never decides a score and never touches the course: it gets
a `Prepared` and returns an `Execution`, so the grader writes every result
itself, one at a time.

- Locally, each worker is a thread that starts one sandbox at a time and is
  pinned (through the sandbox) to its own cores and, when there are GPUs, to
  one GPU (several workers may share one).
- On Dask (`distributed`), each submission is a task that runs the sandbox
  on a worker; a task whose worker dies is not retried: it is recorded as
  `crashed`, and the other submissions go on.
"""

from __future__ import annotations

import os
import queue
from concurrent.futures import ThreadPoolExecutor, as_completed

from autograder.pipeline.execute import Execution, Slot, execute

__all__ = ["run_dask", "run_local", "slots"]


def slots(plan, gpus=()):
    """One `Slot` per worker: its cores and its GPU.

    Args:
        plan: an `autograder.sandbox.limits.WorkerPlan`.
        gpus: GPU indices to share out.

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
        made.append(Slot(f"worker-{index + 1}", mine, gpus[index % len(gpus)] if gpus else None))
    return made


def run_local(jobs, limits, worker_slots, **options):
    """Runs jobs on local worker threads.

    Args:
        jobs: list of `autograder.pipeline.prepare.Prepared`.
        limits: the `Limits` (threads set).
        worker_slots: list of `Slot`, one per worker.
        **options: passed to `autograder.pipeline.execute.execute`.

    Yields:
        `(prepared, execution)` as each finishes.
    """
    free = queue.Queue()
    for slot in worker_slots:
        free.put(slot)

    def run(prepared):
        slot = free.get()
        try:
            return execute(prepared, limits, slot, **options)
        except Exception as error:  # a fault of the grader's own, kept to this submission
            return _lost(prepared, slot.worker, error)
        finally:
            free.put(slot)

    with ThreadPoolExecutor(max_workers=len(worker_slots), thread_name_prefix="cnnkit-worker") as pool:
        futures = {pool.submit(run, prepared): prepared for prepared in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()


def run_dask(jobs, limits, address, **options):
    """Runs jobs on a Dask cluster.

    Args:
        jobs: list of `autograder.pipeline.prepare.Prepared`.
        limits: the `Limits` (threads set).
        address: the scheduler's address (`tcp://host:8786`), or a
            `distributed.Client`.
        **options: passed to `autograder.pipeline.execute.execute` on the workers.

    Yields:
        `(prepared, execution)` as each finishes.
    """
    from distributed import Client, as_completed as dask_completed

    client = address if isinstance(address, Client) else Client(address, timeout="30s")
    try:
        futures = {client.submit(_on_dask_worker, prepared, limits, options, pure=False, retries=0,
                                 key=f"cnnkit-grade-{prepared.student}-{id(prepared)}"): prepared
                   for prepared in jobs}
        for future in dask_completed(futures):
            prepared = futures[future]
            try:
                yield prepared, future.result()
            except Exception as error:  # KilledWorker and friends
                yield prepared, _lost(prepared, "dask", error)
    finally:
        if client is not address:
            client.close()


def _on_dask_worker(prepared, limits, options):
    from distributed import get_worker

    worker = get_worker()
    return execute(prepared, limits, Slot(f"dask:{worker.name}"), **options)


def _lost(prepared, worker, error):
    return Execution(prepared.student, "crashed",
                     f"the worker running it failed ({type(error).__name__}: {str(error)[:160]})", worker=worker)
