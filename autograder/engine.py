"""`grade`: every submission of an assignment, through the stages.

collect -> prepare (trusted) -> execute (sandboxed, in parallel) -> verify
(trusted) -> record, with a progress bar and a closing summary. Resumable: a
submission whose latest result has the same content hash is not graded again
unless `force` is set.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.course import Course
from autograder.course.secret import course_secret
from autograder.course.templates import templates_of
from autograder.pipeline import dispatch
from autograder.pipeline.collect import collect
from autograder.pipeline.execute import Execution
from autograder.pipeline.prepare import prepare
from autograder.pipeline.record import ResultsLog, record
from autograder.pipeline.results import CellResult, SubmissionResult
from autograder.sandbox.contracts import CALL_SECONDS
from autograder.sandbox.inputs import sandbox_inputs
from autograder.sandbox.isolation import detect
from autograder.sandbox.limits import Limits, plan_workers
from autograder.verifier.verifier import Verifier

__all__ = ["GradingRun", "grade"]

GRADER_ERROR = "grader error: "  # the flag of a result the grader itself spoilt (graded again on the next run)


@dataclass
class GradingRun:
    """What a call of `grade` did.

    Attributes:
        results: dict of student id -> `SubmissionResult`, every submission
            found (those skipped as already graded included).
        graded: student ids graded by this run.
        skipped: student ids whose unchanged result was kept.
        refused: one line per entry that was not collected.
        results_path: the `results.jsonl` written.
        seconds: wall-clock time of the run.
        lines: the lines printed at the start (limits, sandbox, workers).
    """

    results: dict = field(default_factory=dict)
    graded: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    refused: list = field(default_factory=list)
    results_path: Path = None
    seconds: float = 0.0
    lines: list = field(default_factory=list)

    def summary(self):
        """The closing summary, as lines of text."""
        statuses = Counter(self.results[s].status for s in self.graded)
        flagged = [s for s in self.graded if self.results[s].flags]
        rate = len(self.graded) / self.seconds * 3600 if self.seconds and self.graded else 0.0
        lines = [f"graded {len(self.graded)} submission(s) in {self.seconds:.1f} s ({rate:.0f} per hour); "
                 f"{len(self.skipped)} unchanged and kept; {len(self.refused)} refused",
                 "by status: " + (", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "none")]
        if flagged:
            lines.append(f"flagged {len(flagged)}: " + "; ".join(f"{s} ({', '.join(self.results[s].flags)})"
                                                                 for s in flagged))
        lines += self.refused
        lines.append(f"results: {self.results_path}")
        return lines


def grade(assignment, *, course=".", submissions=None, limits=None, workers=None, scheduler=None, force=False,
          db_url=None, progress=True, echo=print):
    """Grades every submission of an assignment and records the results.

    Args:
        assignment: the assignment id (a folder of `solutions/`).
        course: the course directory (holds `nbgrader_config.py`).
        submissions: a folder or zip of notebooks from an LMS, or None for
            the course's `submitted/` folder.
        limits: an `autograder.sandbox.limits.Limits` (default: the defaults).
        workers: int, submissions in parallel (default: sized from the
            machine's cores and memory).
        scheduler: a Dask scheduler address (or `distributed.Client`) to run
            on instead of local workers.
        force: grade again even what is already graded unchanged.
        db_url: the gradebook's SQLAlchemy URL (default: the course's).
        progress: whether to show a progress bar.
        echo: callable taking one line of text.

    Returns:
        A `GradingRun`.

    Raises:
        FileNotFoundError: if the course has no source for the assignment.
    """
    with tempfile.TemporaryDirectory(prefix="cnnkit-grading-") as scratch:
        return _grade(assignment, Path(scratch), course=course, submissions=submissions, limits=limits,
                      workers=workers, scheduler=scheduler, force=force, db_url=db_url, progress=progress, echo=echo)


def _grade(assignment, scratch, *, course, submissions, limits, workers, scheduler, force, db_url, progress, echo):
    start = time.monotonic()
    limits = limits or Limits()
    course = Course(course, db_url=db_url)
    templates = templates_of(course, assignment)
    course.register(assignment)
    run = GradingRun(results_path=course.root / "reports" / assignment / "results.jsonl")
    log = ResultsLog(run.results_path)
    previous = log.latest()

    found = collect(course.root, assignment, {t.name: t.grade_ids for t in templates}, submissions)
    run.refused = [refusal.line() for refusal in found.refused]
    mechanisms = detect()
    plan = plan_workers(workers, memory_per_worker=limits.memory)
    limits = limits if limits.threads else limits.with_threads(plan.threads)
    worker_slots = dispatch.slots(plan, mechanisms.gpus)
    run.lines = [f"grading {assignment} in {course.root}: {len(found.submissions)} submission(s); {found.ids_from}",
                 "limits: " + limits.describe(), mechanisms.line(limits),
                 ("workers: Dask cluster at " + str(scheduler)) if scheduler else "workers: " + plan.line(),
                 "devices: " + (", ".join(f"{s.worker} -> {s.device}" for s in worker_slots) if mechanisms.gpus
                                else "CPU only (no GPU found)")]
    for line in run.lines + run.refused:
        echo(line)

    verifier = Verifier.for_assignment(course.root / "solutions" / assignment, course.release(assignment, scratch),
                                       course_secret(course.root))
    pending = {}
    for submission in found.submissions:
        kept = previous.get(submission.student)
        # Kept unless changed, forced, or spoilt by a fault of the grader's own (graded again: the fault may be gone).
        if kept is not None and kept.hash == submission.digest and not force and not kept.grader_fault:
            run.results[submission.student] = kept
            run.skipped.append(submission.student)
            continue
        prepared = prepare(submission, templates, assignment=assignment, db_url=course.db_url)
        # A call of a student function may take a fifth of a cell's time, so that the probe ends within its cell.
        probes = verifier.requests(submission.student, prepared.notebooks,
                                   call_seconds=min(CALL_SECONDS, limits.cell_timeout / 5))
        prepared = dataclasses.replace(prepared, probes=probes)
        if prepared.notebooks:
            pending[submission.student] = (submission, prepared)
        else:
            nothing_ran = Execution(submission.student, "graded", "")  # every notebook malformed: nothing to run
            _finish(run, _verified(verifier, nothing_ran, prepared, submission, templates), None, prepared, course,
                    assignment, log)

    options = sandbox_inputs(scratch)
    # The largest submissions first, so that no worker is left with a long one at the end.
    jobs = sorted((prepared for _, prepared in pending.values()),
                  key=lambda prepared: -sum(len(text) for text in prepared.notebooks.values()))
    finished = (dispatch.run_dask(jobs, limits, scheduler, **options) if scheduler
                else dispatch.run_local(jobs, limits, worker_slots, **options))
    bar = _bar(len(jobs), progress)
    for prepared, execution in finished:
        submission = pending[prepared.student][0]
        result = _verified(verifier, execution, prepared, submission, templates)
        _finish(run, result, execution, prepared, course, assignment, log)
        bar.update(1)
        bar.set_postfix_str(f"{prepared.student}: {result.status} {result.score:g}/{result.max_score:g}")
    bar.close()
    run.seconds = time.monotonic() - start
    for line in run.summary():
        echo(line)
    return run


def _verified(verifier, execution, prepared, submission, templates):
    """The verifier's result; a fault of the verifier's own is this submission's alone."""
    try:
        return verifier.verify(execution, prepared, submission.notebooks, templates, digest=submission.digest)
    except Exception as error:
        reason = f"the grader could not verify it ({type(error).__name__}: {str(error)[:160]})"
        cells = tuple(CellResult(t.name[:-len(".ipynb")], grade_id, 0.0, points, f"0: {reason}")
                      for t in templates for grade_id, points in t.graded.items())
        return SubmissionResult(submission.student, "crashed", reason, cells, (GRADER_ERROR + reason,),
                                execution.seconds, execution.worker, execution.device, submission.digest,
                                grader_fault=reason)


def _finish(run, result, execution, prepared, course, assignment, log):
    record(result, assignment=assignment, db_url=course.db_url, log=log,
           autograded_dir=course.root / "autograded", execution=execution, prepared=prepared)
    run.results[result.student] = result
    run.graded.append(result.student)


def _bar(total, enabled):
    from tqdm import tqdm

    return tqdm(total=total, unit="submission", disable=not enabled or total == 0, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)
