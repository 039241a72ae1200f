"""One submission on one worker slot: prepare, probe requests, sandbox, verdict.

A slot grades a submission in four steps: the grader's own process prepares
its notebooks as the slot takes it (`autograder.pipeline.prepare`; so the
first sandbox starts at once, not after the whole class is prepared); then, on
the slot's cores, its trusted worker process (`autograder.pipeline.trusted`)
draws the probe requests, the sandbox runs the notebooks and the probes
(`autograder.pipeline.execute`), and the trusted worker gives the verdict. The
coordinator only collects, prepares and records, so its own CPU per submission
stays small, and adding slots (or Dask workers) adds throughput.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.pipeline.execute import Execution, execute
from autograder.pipeline.results import CellResult, SubmissionResult
from autograder.pipeline.trusted import (VERIFIER_LIMITS, TrustedOutOfMemory, TrustedTimeout, TrustedWorker,
                                         TrustedWorkerError)

__all__ = ["GRADER_ERROR", "REQUEST_SECONDS", "VERIFY_SECONDS", "Graded", "Job", "SlotGrader", "Stopped"]

_SHARED = {}  # run -> slot name -> TrustedWorker, in a Dask worker process
GRADER_ERROR = "grader error: "  # the flag of a result the grader itself spoilt (graded again on the next run)
REQUEST_SECONDS = 600  # the first call of a worker builds the verifier (imports Keras, builds the references)
VERIFY_SECONDS = 3600  # a verdict may train references and an architecture under the budget


@dataclass(frozen=True)
class Job:
    """A submission to grade.

    Attributes:
        submission: the `autograder.pipeline.collect.Submission`.
        prepared: its `autograder.pipeline.prepare.Prepared` (no probes yet),
            or None: the slot that grades it prepares it.
    """

    submission: object
    prepared: object = None

    @property
    def student(self):
        return self.submission.student

    @property
    def size(self):
        """The submission's bytes."""
        return sum(len(raw) for raw in self.submission.notebooks.values())


@dataclass(frozen=True)
class Graded:
    """A job's outcome: the result, what to keep of the run (for `record`), and
    the trainings under the budget it needed (`Counter` of `trained`, `reused`)."""

    result: SubmissionResult
    execution: Execution = None
    prepared: object = None
    trainings: Counter = field(default_factory=Counter)


class Stopped(Exception):
    """The grader is stopping: this job's outcome is not to be recorded."""


@dataclass(eq=False)
class SlotGrader:
    """Grades jobs on worker slots, one trusted worker process per slot.

    Attributes:
        setup: the `autograder.pipeline.trusted.VerifierSetup`.
        limits: the `Limits` (threads set).
        templates: tuple of `NotebookTemplate`.
        call_seconds: how long one call of a student function may take.
        inputs: keyword arguments for `execute` (`env`, `binds`).
        preparing: callable `(submission)` -> `Prepared`, for the jobs that
            come unprepared (not sent to Dask: jobs sent there come prepared).
        notes: callable `(student, event, text)` told of trainings as they
            start or are reused, or None (on Dask: none are told; the counts
            come back with each job).
        logs: folder for the trusted workers' logs, or None.
    """

    setup: object
    limits: object
    templates: tuple
    call_seconds: float
    inputs: dict = field(default_factory=dict)
    preparing: object = None
    notes: object = None
    logs: Path = None
    run: str = field(default_factory=lambda: uuid.uuid4().hex)
    _workers: dict = field(default_factory=dict, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def __getstate__(self):  # sent to Dask workers without its processes, its event, its notes or its preparing
        state = dict(self.__dict__)
        state["_workers"], state["_stop"], state["notes"], state["logs"], state["preparing"] = (None,) * 5
        return state

    def __setstate__(self, state):
        # every task of a run on one Dask worker process shares that process's trusted workers
        self.__dict__.update(state, _stop=threading.Event(), _workers=_SHARED.setdefault(state["run"], {}))

    def grade(self, job, slot):
        """Preparation (when the job has none), requests, sandbox and verdict of one job on one slot.

        Args:
            job: a `Job`.
            slot: the `autograder.pipeline.execute.Slot`.

        Returns:
            A `Graded`.

        Raises:
            Stopped: if the grader is stopping.
        """
        worker = self._worker(slot)
        student, prepared = job.student, job.prepared
        if prepared is None:
            prepared = self.preparing(job.submission)
            self._check()
        trainings = Counter()

        def notes(event, text):
            trainings[event] += 1
            if self.notes is not None:
                self.notes(student, event, text)

        try:
            probes = worker.call("requests", student, tuple(prepared.notebooks), code_hash=prepared.code_hash,
                                 call_seconds=self.call_seconds, timeout=REQUEST_SECONDS, notes=notes)
        except TrustedWorkerError as error:
            return Graded(self.fault(job, Execution(student, "crashed", "", worker=slot.worker), error))
        self._check()
        prepared = dataclasses.replace(prepared, probes=probes)
        execution = (execute(prepared, self.limits, slot, cancel=self._stop, **self.inputs) if prepared.notebooks
                     else Execution(student, "graded", ""))  # every notebook malformed: nothing to run
        self._check()
        try:
            result = worker.call("verify", execution, prepared, job.submission.notebooks, self.templates,
                                 digest=job.submission.digest, timeout=VERIFY_SECONDS, notes=notes)
        except TrustedTimeout:
            self._check()
            result = self._too_slow(job, execution)
        except TrustedOutOfMemory:
            self._check()
            result = self._too_big(job, execution)
        except TrustedWorkerError as error:
            self._check()
            result = self.fault(job, execution, error)
        return Graded(result, execution, prepared, trainings)

    def stop(self):
        """Stops every job: running sandboxes and trusted workers end, none starts."""
        self._stop.set()
        for worker in list(self._workers.values()):
            worker.close()

    def close(self):
        """Ends the trusted workers (the run is over)."""
        for worker in list(self._workers.values()):
            worker.close()
        self._workers.clear()

    def _worker(self, slot):
        self._check()
        if slot.worker not in self._workers:
            log = None if self.logs is None else Path(self.logs) / f"{slot.worker.replace(':', '-')}-verifier.log"
            self._workers[slot.worker] = TrustedWorker(self.setup, cpus=slot.cpus, gpu=slot.gpu, log=log)
        return self._workers[slot.worker]

    def _check(self):
        if self._stop is not None and self._stop.is_set():
            raise Stopped()

    def _zeroed(self, job, execution, status, reason, flags, fault=""):
        cells = tuple(CellResult(t.name[:-len(".ipynb")], grade_id, 0.0, points, f"0: {reason}")
                      for t in self.templates for grade_id, points in t.graded.items())
        return SubmissionResult(job.student, status, reason, cells, flags, execution.seconds, execution.worker,
                                execution.device, job.submission.digest, grader_fault=fault)

    def fault(self, job, execution, error):
        """A fault of the grader's own: this submission's alone, and graded again by the next run."""
        reason = f"the grader could not verify it ({str(error)[:200]})"
        return self._zeroed(job, execution, "crashed", reason, (GRADER_ERROR + reason,), fault=reason)

    def _too_big(self, job, execution):
        """Verification out of memory: the submission's models are the likely cause; a person should look."""
        reason = (f"verifying it used more than the verifier's {VERIFIER_LIMITS.memory / 1024**3:g} GiB of memory "
                  "(its models?) and was stopped")
        return self._zeroed(job, execution, "memory", reason, (reason,))

    def _too_slow(self, job, execution):
        """Verification past its limit: the submission's models are the likely cause; a person should look."""
        reason = (f"verifying it took longer than {VERIFY_SECONDS} s (its models' training under the budget?) "
                  "and was stopped")
        return self._zeroed(job, execution, "timeout", reason, (reason,))
