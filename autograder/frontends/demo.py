"""The demo grading run: release the assignment, then grade the example
submissions through the engine (sandboxed, in parallel) and print a table of
statuses, scores and feedback per student."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.course import ASSIGNMENT, REPO, Course
from autograder.engine import grade
from autograder.frontends.examples import EXAMPLES, build_submission
from autograder.exports import export
from autograder.course.gradebook import open_gradebook
from autograder.sandbox.limits import Limits
from autograder.frontends.release import find_secrets
from cnnkit.checks.report import format_points

__all__ = ["DEMO_LIMITS", "DemoResult", "demo", "format_table"]

DEMO_SEED = "cnnkit-demo"
# On the demo's roster but submits nothing: exported as `missing`, 0 points.
ABSENT_STUDENT = "absent-student"
# Tighter than the defaults so that the looping example stops sooner. A cell
# must still have room to train the largest model the budget allows on one
# core: the solution's improved model takes about 65 s under TensorFlow and
# 80 s under PyTorch on the stand-in, so 180 s leaves a margin for a slower
# machine and for a student who spends the whole budget.
DEMO_LIMITS = Limits(timeout=600, cell_timeout=180, max_output=5 * 1000**2)


@dataclass
class DemoResult:
    """What the demo did.

    Attributes:
        leaks: secrets found in the release (should be empty).
        run: the `autograder.engine.GradingRun` of the examples.
        workdir: the grading copy of the course.
        exports: the `autograder.exports.Exports` written after grading.
        examples: the `autograder.frontends.examples.Example`s graded.
    """

    leaks: list = field(default_factory=list)
    run: object = None
    workdir: Path = None
    exports: object = None
    examples: tuple = EXAMPLES

    def problems(self):
        """Everything that did not come out as the examples expect, one line each."""
        found = [f"secret in assignments/: {leak}" for leak in self.leaks]
        results = self.run.results
        for example in self.examples:
            result = results.get(example.student)
            if result is None:
                found.append(f"{example.student}: not graded")
            elif result.status != example.status:
                found.append(f"{example.student}: status {result.status}, expected {example.status} ({result.reason})")
        solution, stub = results.get("solution"), results.get("stub")
        if solution and solution.score < solution.max_score:
            found.append(f"solution: {solution.score:g} / {solution.max_score:g}, expected full marks")
        if stub and stub.score > 0:
            found.append(f"stub: {stub.score:g} / {stub.max_score:g}, expected 0")
        return found


def demo(course_root=REPO, workdir="runs/demo", progress=print, workers=None, examples=EXAMPLES):
    """Releases the assignment, grades every example submission, and
    exports grades, Gradescope results, feedback and the class report.

    Grading is repeatable: the checks' random cases are seeded from
    `CNNKIT_CHECK_SEED` (set here to a fixed value unless already set).

    Args:
        course_root: the course directory (default: this repository).
        workdir: folder for the grading copy of the course (emptied first).
        progress: callable taking one line of progress text.
        workers: submissions graded in parallel (default: sized from the machine).
        examples: the `autograder.frontends.examples.Example`s to grade (default: all).

    Returns:
        A `DemoResult`.
    """
    os.environ.setdefault("CNNKIT_CHECK_SEED", DEMO_SEED)
    course_root = Path(course_root)
    progress("releasing: nbgrader generate_assignment, then checking assignments/ for solution and hidden-test text")
    with tempfile.TemporaryDirectory() as scratch:
        Course(course_root, db=Path(scratch) / "gradebook.db").generate()
    leaks = find_secrets(course_root / "assignments", course_root / "solutions")
    work = Course.working_copy(workdir, source=course_root)
    for example in examples:
        work.submit(example.student, build_submission(example, work))
    with open_gradebook(work.db_url) as gradebook:  # the roster, as `nbgrader db student add` writes it
        for student in [example.student for example in examples] + [ABSENT_STUDENT]:
            gradebook.update_or_create_student(student)
    progress(f"grading {len(examples)} example submissions with `cnnkit grade` (sandboxed, in parallel)")
    run = grade(ASSIGNMENT, course=work.root, limits=DEMO_LIMITS, workers=workers, echo=progress)
    progress("exporting grades.csv, Gradescope results, feedback pages and the class report")
    return DemoResult(leaks, run, work.root, export(ASSIGNMENT, course=work.root), tuple(examples))


def format_table(result):
    """The statuses, verified scores, the kernel's own claim where it differs,
    flags and feedback of a `DemoResult`, as printable text (only the
    notebooks each student submitted count)."""
    rows = []
    for example in result.examples:
        graded = result.run.results[example.student]
        submitted = {name[:-len(".ipynb")] for name in example.notebooks}
        cells = [cell for cell in graded.cells if cell.notebook in submitted]
        verified = sum(c.score for c in cells)
        claimed = sum(graded.claims.get(c.grade_id, c.score) for c in cells)  # cells with no claim as verified
        rows.append({"student": example.student,
                     "notebooks": " ".join(sorted(name[:2] for name in submitted)),
                     "status": graded.status,
                     "verified": f"{format_points(verified)} / {format_points(sum(c.max_score for c in cells))}",
                     "kernel claimed": f"{claimed:5.2f}" if graded.claims and abs(claimed - verified) > 0.005 else "",
                     "flags": str(len(graded.flags)) if graded.flags else "",
                     "feedback": _note(graded, cells)})
    widths = {key: max(len(key), *(len(row[key]) for row in rows)) for key in rows[0]}
    lines = ["  ".join(key.ljust(width) for key, width in widths.items())]
    lines += ["  ".join(row[key].ljust(width) for key, width in widths.items()) for row in rows]
    flagged = [(e.student, f) for e in result.examples for f in result.run.results[e.student].flags]
    if flagged:
        lines += ["", "flags:"] + [f"  {student}: {flag}" for student, flag in flagged]
    lines += ["", "(kernel claimed: the score had each cell been scored from the kernel's own outputs, as plain "
                  "nbgrader does, where that differs from the verified score; trained models claim nothing)"]
    return "\n".join(line.rstrip() for line in lines)


def _note(graded, cells):
    short = [cell for cell in cells if cell.score < cell.max_score]
    mistakes = [f"{name}: {message}" for cell in short for name, message in cell.misconceptions]
    if graded.status != "graded":
        note = graded.reason
    elif mistakes:
        note = mistakes[0]
    elif short and all(cell.score == 0 for cell in cells):
        note = "0 on every test cell"
    elif short:
        note = f"{len(short)} test cell(s) short of full marks"
    else:
        note = "full marks"
    return note if len(note) <= 100 else note[:97] + "..."
