"""`grade`: every submission of an assignment, through the stages.

collect -> on each worker slot: prepare (trusted, in this process, as the
slot takes the submission), probe requests (trusted worker process), execute
(sandboxed), verify (trusted worker process) -> record, with a progress bar
and a closing summary. The coordinator (this process) only collects, prepares,
schedules and records.

Resumable: a submission whose latest result has the same content hash is not
graded again unless `force` is set. Stoppable: Ctrl-C (SIGINT) or SIGTERM
ends the running sandboxes and verifiers, cancels what has not started,
records nothing half-way, and says how many were recorded; the same command
resumes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.course import Course
from autograder.course.secret import course_secret
from autograder.course.templates import templates_of
from autograder.pipeline import dispatch
from autograder.pipeline.collect import collect
from autograder.pipeline.grading import Graded, Job, SlotGrader, Stopped
from autograder.pipeline.prepare import prepare
from autograder.pipeline.record import ResultsLog, record
from autograder.pipeline.scratch import remove_stale_scratch, scratch_folder
from autograder.pipeline.trusted import TrustedWorker, VerifierSetup
from autograder.sandbox.contracts import CALL_SECONDS
from autograder.sandbox.inputs import sandbox_inputs
from autograder.sandbox.isolation import detect
from autograder.sandbox.limits import Limits, plan_workers
from autograder.sandbox.preflight import sandbox_problem
from autograder.verifier.extensions import load_course_checks
from autograder.verifier.verifier import plans_of, retrained_cells, retrained_targets
from cnnkit.assignment import CACHE_ENV
from cnnkit.checks.report import format_points

__all__ = ["INTERRUPTED", "GradingRun", "grade", "train_references", "trainings_record"]

KERNEL_THREADS = 1
INTERRUPTED = 130  # the exit status of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT)
LATE = "the LMS marked this submission late (Canvas' late mark): apply the course's late policy"
TRAINED_DIR = ".cnnkit/trained"  # where a course records its trainings under the budget
REFERENCE_SECONDS = 3600  # training every reference an assignment needs, once


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
        coordinator_cpu: CPU seconds this process spent (the coordinator's own work).
        trainings: `collections.Counter` of `trained` and `reused` trainings under the budget.
        interrupted: whether Ctrl-C or SIGTERM stopped the run.
        pending: how many submissions this run set out to grade.
    """

    results: dict = field(default_factory=dict)
    graded: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    refused: list = field(default_factory=list)
    results_path: Path = None
    seconds: float = 0.0
    lines: list = field(default_factory=list)
    coordinator_cpu: float = 0.0
    trainings: Counter = field(default_factory=Counter)
    interrupted: bool = False
    pending: int = 0

    def summary(self):
        """The closing summary, as lines of text."""
        if self.interrupted:
            return [f"interrupted: {len(self.graded)} of {self.pending} recorded; run the same command to resume"]
        statuses = Counter(self.results[s].status for s in self.graded)
        flagged = [s for s in self.graded if self.results[s].flags]
        rate = len(self.graded) / self.seconds * 3600 if self.seconds and self.graded else 0.0
        per = self.coordinator_cpu / len(self.graded) if self.graded else 0.0
        lines = [f"graded {len(self.graded)} submission(s) in {self.seconds:.1f} s ({rate:.0f} per hour); "
                 f"{len(self.skipped)} unchanged and kept; {len(self.refused)} refused",
                 "by status: " + (", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "none"),
                 f"trainings under the budget: trained {self.trainings['trained']}, reused {self.trainings['reused']}; "
                 f"coordinator CPU {self.coordinator_cpu:.1f} s ({per:.2f} s per submission)"]
        stopped = [s for s in self.graded if self.results[s].status != "graded"]
        if stopped:
            lines.append(f"not graded in full ({len(stopped)}): " + ", ".join(
                f"{s} ({self.results[s].status})" for s in stopped))
        if flagged:
            lines.append(f"flagged for review ({len(flagged)}): " + "; ".join(
                f"{s} ({', '.join(self.results[s].flags)})" for s in flagged))
        lines += self.refused
        lines.append(f"results: {self.results_path}")
        return lines


def grade(assignment, *, course=".", submissions=None, limits=None, workers=None, scheduler=None, force=False,
          db_url=None, progress=True, echo=print, students=None, verbosity=1, kernels_gpu=False):
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
        students: ids of the only students to grade (None: everyone); one
            that is no student's id but holds commas is read as the ids
            between them (`ann,bob`; an id may hold a comma, `Lee, Ann`).
        verbosity: 0 prints the closing summary only; 1 also the run's
            first lines, refusals and trainings; 2 also a line per recorded
            submission.
        kernels_gpu: whether the students' kernels see the workers' GPUs
            too (by default only the verifier's trainings use them).

    Returns:
        A `GradingRun`. SIGINT or SIGTERM (in the main thread) stops the run
        (queued work cancelled, running sandboxes and tasks ended, a record
        being written finished first) and returns it with `interrupted` set:
        a caller that grades in a loop checks it (the CLI exits with 130).

    Raises:
        FileNotFoundError: if the course has no source for the assignment,
            nothing was submitted, or a student of `students` has no submission.
        RuntimeError: if another run grades this assignment of this course now, or a sandbox cannot find what
            the kernels need (see `autograder.sandbox.preflight`).
    """
    if not Path(course).is_dir():
        raise FileNotFoundError(f"no such course folder: {course}")
    with _only_run(Path(course) / "reports" / assignment), scratch_folder("grading") as scratch:
        return _grade(assignment, Path(scratch), course=course, submissions=submissions, limits=limits,
                      workers=workers, scheduler=scheduler, force=force, db_url=db_url, progress=progress, echo=echo,
                      students=students, verbosity=verbosity, kernels_gpu=kernels_gpu)


@contextlib.contextmanager
def _only_run(folder):
    """Holds the assignment's grading lock for the length of a run; a second run on the same course is refused
    (both would grade everything). The lock dies with its process: a killed run never leaves it behind."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".grading.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise RuntimeError(f"another `cnnkit grade` is grading {folder.name} in this course now (process "
                               f"{holder}); wait for it to end, or stop it with Ctrl-C") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _named_students(given, known):
    """The student ids a list of ids or comma-separated ids names (an id that holds a comma is taken whole)."""
    return [piece for text in given
            for piece in ([text] if text in known else [part.strip() for part in text.split(",") if part.strip()])]


def _grade(assignment, scratch, *, course, submissions, limits, workers, scheduler, force, db_url, progress, echo,
           students=None, verbosity=1, kernels_gpu=False):
    start, cpu = time.monotonic(), time.process_time()
    limits = limits or Limits()
    course = Course(course, db_url=db_url)
    templates = templates_of(course, assignment)
    course.register(assignment)
    run = GradingRun(results_path=course.root / "reports" / assignment / "results.jsonl")
    log = ResultsLog(run.results_path)
    previous = log.latest()

    found = collect(course.root, assignment, {t.name: t.grade_ids for t in templates}, submissions)
    if students:
        students = _named_students(students, {s.student for s in found.submissions})
        unknown = sorted(set(students) - {s.student for s in found.submissions})
        if unknown:
            raise FileNotFoundError(f"no submission of {', '.join(unknown)} found (students with one: "
                                    f"{', '.join(s.student for s in found.submissions[:8])}"
                                    f"{', ...' if len(found.submissions) > 8 else ''})")
        found = dataclasses.replace(found, submissions=tuple(s for s in found.submissions if s.student in students))
    run.refused = [refusal.line() for refusal in found.refused]
    mechanisms = detect()
    plan = plan_workers(workers, memory_per_worker=limits.memory)
    # One thread for the kernels' numerical libraries whatever the worker count: a model a student trains in the
    # kernel (and so its score) must not depend on how the run was sized (the verifier's trainings use one too).
    limits = limits if limits.threads else limits.with_threads(KERNEL_THREADS)
    worker_slots = dispatch.slots(plan, mechanisms.gpus, kernels_gpu)
    run.lines = [f"grading {assignment} in {course.root}: {len(found.submissions)} submission(s); {found.ids_from}",
                 "limits: " + limits.describe(), mechanisms.line(limits),
                 ("workers: Dask cluster at " + str(scheduler)) if scheduler else "workers: " + plan.line(),
                 "devices: " + (", ".join(f"{s.worker} -> {s.device}" for s in worker_slots)
                                + ("; the kernels too" if kernels_gpu else "; the kernels on the CPU")
                                if mechanisms.gpus else "CPU only (no GPU found)")]
    if log.skipped_lines:
        shown = ", ".join(map(str, log.skipped_lines[:10])) + (", ..." if len(log.skipped_lines) > 10 else "")
        run.lines.append(f"{log.path}: line(s) {shown} are not grading results: skipped, and left in the file")
    stale = remove_stale_scratch()  # what runs killed outright left (this run's own folder is locked)
    if stale:
        run.lines.append(f"removed {stale} temporary folder(s) that killed runs left in {tempfile.gettempdir()}")
    told = echo if verbosity >= 1 else (lambda line: None)
    for line in run.lines + run.refused:
        told(line)

    load_course_checks(course.root)
    setup = VerifierSetup(course.root / "solutions" / assignment, course.release(assignment, scratch),
                          course_secret(course.root), trainings_record(course), course_root=course.root)
    jobs = []
    for submission in found.submissions:
        kept = previous.get(submission.student)
        # Kept unless changed, forced, or spoilt by a fault of the grader's own (graded again: the fault may be gone).
        if kept is not None and kept.hash == submission.digest and not force and not kept.grader_fault:
            run.results[submission.student] = kept
            run.skipped.append(submission.student)
            continue
        jobs.append(Job(submission))
    jobs.sort(key=lambda job: -job.size)  # the largest first, so that no worker is left with a long one at the end
    gradebook = threading.Lock()  # SQLite's: the slots' preparing reads it while the records write it

    def preparing(submission):
        with gradebook:
            return prepare(submission, templates, assignment=assignment, db_url=course.db_url)

    if scheduler:  # Dask's workers get their jobs prepared (the gradebook is the coordinator's)
        jobs = [dataclasses.replace(job, prepared=preparing(job.submission)) for job in jobs]
    run.pending = len(jobs)

    bar = _bar(len(jobs), progress)
    say = bar.write if progress and jobs else told

    counting = threading.Lock()

    def notes(student, event, text):
        """A training is work the bar counts: one more to do when it starts, one done when it ends."""
        if event == "trained":
            say(f"{student}: {text}")
        with counting:
            if event == "trained":
                bar.total += 1
                bar.refresh()
            elif event == "finished":
                bar.update(1)

    plans = plans_of(setup.source_dir, setup.release_dir)
    inputs = sandbox_inputs(scratch, retrained=retrained_targets(plans), untrained_before=retrained_cells(plans))
    if jobs and not scheduler:  # a Dask cluster's workers have environments of their own
        problem = sandbox_problem(mechanisms, inputs["env"])
        if problem:
            raise RuntimeError(f"cannot grade: {problem}")
    # a call of a student function may take a fifth of a cell's time: the probe ends in its cell
    grader = SlotGrader(setup, limits, templates, min(CALL_SECONDS, limits.cell_timeout / 5), inputs,
                        preparing=preparing, notes=notes, logs=scratch)
    finished = (dispatch.run_dask(jobs, grader.grade, scheduler) if scheduler
                else dispatch.run_local(jobs, grader.grade, worker_slots))
    with _stoppable() as stopping:
        try:
            for job, outcome in finished:
                if isinstance(outcome, Stopped):
                    continue
                graded = outcome if isinstance(outcome, Graded) else Graded(grader.fault(job, _lost(job), outcome))
                result = graded.result
                if job.submission.late:
                    result = dataclasses.replace(result, flags=result.flags + (LATE,))
                with stopping.deferred(), gradebook:  # a Ctrl-C waits for this submission's record to be whole
                    result = record(result, assignment=assignment, db_url=course.db_url, log=log,
                                    autograded_dir=course.root / "autograded", execution=graded.execution,
                                    prepared=graded.prepared, submitted_at=job.submission.submitted_at,
                                    lms_user_id=job.submission.lms_user_id)
                run.results[job.student] = result
                run.graded.append(job.student)
                if verbosity >= 2:
                    say(f"recorded {job.student}: {result.status} {format_points(result.score)}/"
                        f"{format_points(result.max_score)}" + (f"; flagged: {'; '.join(result.flags)}"
                                                                  if result.flags else ""))
                run.trainings.update(graded.trainings)
                with counting:
                    bar.update(1)
                bar.set_postfix_str(f"{job.student}: {graded.result.status} "
                                    f"{format_points(result.score)}/{format_points(result.max_score)}")
        except KeyboardInterrupt:
            run.interrupted = True
            grader.stop()
            finished.close()
        finally:
            grader.close()
            bar.close()
    run.seconds, run.coordinator_cpu = time.monotonic() - start, time.process_time() - cpu
    for line in run.summary():
        echo(line)
    return run


def train_references(assignment, *, course=".", release=None):
    """Trains (or finds recorded) every reference training an assignment's checks need, as the grader
    trains them (in a trusted worker process), so that a later run only reads them.

    Args:
        assignment: the assignment id.
        course: the course directory.
        release: the folder of the released notebooks (default: the course's).

    Returns:
        The list of recorded files (in `trainings_record(course)`).
    """
    course = Course(course)
    load_course_checks(course.root)
    with scratch_folder("references") as scratch:
        setup = VerifierSetup(course.root / "solutions" / assignment, release or course.release(assignment, scratch),
                              course_secret(course.root), trainings_record(course), course_root=course.root)
        worker = TrustedWorker(setup)
        try:
            return worker.call("train_references", timeout=REFERENCE_SECONDS)
        finally:
            worker.close()


def trainings_record(course):
    """Where a course records its trainings under the budget: `$CNNKIT_CACHE` when set
    (one record shared by several courses or machines), else the course's own `.cnnkit/trained/`.

    Args:
        course: the `Course`.

    Returns:
        A `Path`.
    """
    return Path(os.environ.get(CACHE_ENV) or course.root / TRAINED_DIR)


def _lost(job):
    """The execution of a job whose worker failed before it could say anything."""
    from autograder.pipeline.execute import Execution

    return Execution(job.student, "crashed", "", worker="unknown")


class _Stop:
    """Turns SIGINT and SIGTERM into `KeyboardInterrupt`, held back while a record is written."""

    def __init__(self):
        self.requested = self.holding = False

    def __call__(self, signum, frame):
        self.requested = True
        if not self.holding:
            self._ignore_more()
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def deferred(self):
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        if self.requested:
            self._ignore_more()
            raise KeyboardInterrupt

    @staticmethod
    def _ignore_more():  # a second Ctrl-C while stopping changes nothing
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


@contextlib.contextmanager
def _stoppable():
    """Signal handlers for the length of a run (only where signals can be handled: the main thread)."""
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _bar(total, enabled):
    from tqdm import tqdm

    return tqdm(total=total, unit="task", disable=not enabled or total == 0, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.3)
