"""Release the assignment, then prove the release is sound.

`release` runs nbgrader's generate step (solutions/ -> assignments/) and then
checks, in a working copy of the course, with real `nbgrader autograde`:

1. the solutions, submitted as a student would, score full marks;
2. the released stubs, untouched, score 0, with every cell executed and no
   crash;
3. no solution or hidden-test text is in `assignments/`.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.course.course import ASSIGNMENT, REPO, Course
from autograder.frontends.examples import EXAMPLES, build_submission
from cnnkit.quiet import silenced

__all__ = ["ReleaseReport", "find_secrets", "grade_example", "release", "secret_lines"]

MARKERS = re.compile(r"(BEGIN|END) (SOLUTION|HIDDEN TESTS)")
_SECRET_REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


@dataclass
class ReleaseReport:
    """What `release` found."""

    solution: object = None
    stub: object = None
    leaks: list = field(default_factory=list)
    unexecuted: list = field(default_factory=list)

    def problems(self):
        """Everything wrong with the release, one line each (empty when sound)."""
        found = [f"secret in assignments/: {leak}" for leak in self.leaks]
        for who, want in ((self.solution, "full"), (self.stub, "zero")):
            if who is None:
                continue
            if who.error:
                found.append(f"autograding the {who.student} failed: {who.error.splitlines()[0]}")
                continue
            for cell in who.cells():
                if (want == "full" and cell.score < cell.max_score) or (want == "zero" and cell.score > 0):
                    found.append(f"{who.student}: {cell.notebook}/{cell.grade_id} scored {cell.score:g} / "
                                 f"{cell.max_score:g}, expected {'full marks' if want == 'full' else '0'}: "
                                 f"{cell.feedback.splitlines()[0] if cell.feedback else ''}")
        found += [f"stub: cell not executed: {where}" for where in self.unexecuted]
        return found


def release(course_root=REPO, workdir=None):
    """Generates `assignments/` from `solutions/` and proves the release sound.

    Args:
        course_root: the course directory (default: this repository).
        workdir: folder for the grading copy (default: a temporary folder).
            Pass one to grade more submissions there afterwards.

    Returns:
        A tuple `(report, course)`: a `ReleaseReport` and the working-copy
        `Course` in which the solution and the stub were graded.
    """
    course_root = Path(course_root)
    with tempfile.TemporaryDirectory() as scratch:
        Course(course_root, db=Path(scratch) / "gradebook.db").generate()
    report = ReleaseReport(leaks=find_secrets(course_root / "assignments", course_root / "solutions"))
    work = Course.working_copy(workdir or tempfile.mkdtemp(prefix="cnnkit-release-"), source=course_root)
    examples = {example.student: example for example in EXAMPLES}
    with silenced():  # plain nbgrader's kernels write TensorFlow's start-up lines to this terminal: nothing to act on
        report.solution = grade_example(work, examples["solution"])
        report.stub = grade_example(work, examples["stub"])
    report.unexecuted = _unexecuted_cells(work, "stub")
    return report, work


def grade_example(course, example):
    """Submits one example student to a course and autogrades it.

    Args:
        course: a `Course` (a working copy).
        example: an `autograder.frontends.examples.Example`.

    Returns:
        The `SubmissionScore`.
    """
    course.submit(example.student, build_submission(example, course))
    return course.autograde(example.student)


def find_secrets(release_dir, source_dir):
    """Solution or hidden-test text found in released files.

    Looks for nbgrader's markers anywhere in the release, and for every
    distinctive line of the source's solution and hidden-test regions (see
    `secret_lines`).

    Args:
        release_dir: the release folder (`assignments/`).
        source_dir: the source folder (`solutions/`).

    Returns:
        A list of `"file: what"` strings; empty when nothing leaks.
    """
    distinctive = secret_lines(source_dir)
    leaks = []
    for path in sorted(Path(release_dir).rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if MARKERS.search(text):
            leaks.append(f"{path}: nbgrader marker {MARKERS.search(text).group(0)!r}")
        if path.suffix == ".ipynb":
            sources = "\n".join(cell.source for cell in nbformat.reads(text, as_version=4).cells)
            lines = {line.strip() for line in sources.splitlines()}
            leaks += [f"{path}: solution or hidden-test line {line!r}" for line in sorted(distinctive & lines)]
    return leaks


def secret_lines(source_dir, regions=("SOLUTION", "HIDDEN TESTS")):
    """The distinctive lines of the source's solution or hidden-test regions.

    A line is distinctive when it is at least 12 characters long, not a
    comment, and never appears outside those regions (so `return out` is not).

    Args:
        source_dir: the source folder (`solutions/` or one assignment's).
        regions: which of nbgrader's regions to read.

    Returns:
        A set of stripped lines.
    """
    secret, public = set(), set()
    for path in Path(source_dir).rglob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            found = _SECRET_REGION.findall(cell.source)
            secret.update(line.strip() for kind, body in found if kind in regions for line in body.splitlines())
            public.update(line.strip() for line in _SECRET_REGION.sub("", cell.source).splitlines())
    return {line for line in secret - public if len(line) >= 12 and not line.startswith("#")}


def _unexecuted_cells(course, student):
    missing = []
    for path in sorted((course.root / "autograded" / student / ASSIGNMENT).glob("*.ipynb")):
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code" and cell.source.strip() and cell.get("execution_count") is None:
                missing.append(f"{path.name} cell {index}")
    return missing
