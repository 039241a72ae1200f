"""What every exporter reads: the class's newest results, one per student.

The results come from `reports/<assignment>/results.jsonl` (the grading
engine's commit record); the roster is every student the gradebook knows
(added with `nbgrader db student add` or by grading) plus every student with
a result. A student on the roster without a result gets a `missing` result
that scores 0 on every graded cell.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.course import Course
from autograder.course.templates import templates_of
from autograder.pipeline.record import ResultsLog
from autograder.pipeline.results import CellResult, SubmissionResult

__all__ = ["MISSING", "ClassResults", "Student", "load_class", "misconceptions"]

MISSING = "missing"


@dataclass(frozen=True)
class ClassResults:
    """The class's results for one assignment.

    Attributes:
        assignment: the assignment id.
        course_root: the course directory (a `Path`).
        templates: tuple of `autograder.course.templates.NotebookTemplate`, in
            assignment order.
        results: dict of student id -> `SubmissionResult`, sorted by id,
            roster students without a submission as status `missing`.
        students: dict of student id -> `Student` (the gradebook's name
            and LMS id of each student it knows).
    """

    assignment: str
    course_root: Path
    templates: tuple
    results: dict
    students: dict = field(default_factory=dict)

    @property
    def max_score(self):
        return float(sum(template.max_score for template in self.templates))

    def graded_cells(self):
        """(notebook, grade id, points) of every graded cell, in assignment order."""
        return [(template.name[:-len(".ipynb")], grade_id, points)
                for template in self.templates for grade_id, points in template.graded.items()]

    def submitted(self):
        """The results of students who submitted something."""
        return [result for result in self.results.values() if result.status != MISSING]


def load_class(assignment, *, course=".", db_url=None):
    """Reads the class's results of an assignment.

    Args:
        assignment: the assignment id (a folder of `solutions/`).
        course: the course directory.
        db_url: the gradebook's SQLAlchemy URL (default: the course's).

    Returns:
        A `ClassResults`.

    Raises:
        FileNotFoundError: if the assignment has not been graded yet (no
            `results.jsonl`) or the course has no source for it.
    """
    course = Course(course, db_url=db_url)
    templates = templates_of(course, assignment)
    log = ResultsLog(course.root / "reports" / assignment / "results.jsonl")
    if not log.path.exists():
        raise FileNotFoundError(f"{log.path} does not exist: grade the assignment first "
                                f"(cnnkit grade {assignment} --course {course.root})")
    results = log.latest()
    students = _roster(course.db_url)
    for student in set(students) - set(results):
        results[student] = _missing(student, templates)
    return ClassResults(assignment, course.root, templates, dict(sorted(results.items())), students)


def misconceptions(result):
    """The misconceptions the verifier named in a result, one per cell at most.

    Args:
        result: a `SubmissionResult`.

    Returns:
        A `collections.Counter` of misconception name -> cells naming it.
    """
    found = Counter()
    for cell in result.cells:
        found.update({name for name, _ in cell.misconceptions})
    return found


@dataclass(frozen=True)
class Student:
    """What the gradebook knows of a student besides the id: the name and the LMS's id (each may be None)."""

    first_name: str | None = None
    last_name: str | None = None
    lms_user_id: str | None = None


def _roster(db_url):
    """Every student of the gradebook: id -> `Student`."""
    from autograder.course.gradebook import open_gradebook

    with open_gradebook(db_url) as gradebook:
        return {student.id: Student(student.first_name, student.last_name, student.lms_user_id)
                for student in gradebook.students}


def _missing(student, templates):
    cells = tuple(CellResult(template.name[:-len(".ipynb")], grade_id, 0.0, points, "0: nothing was submitted")
                  for template in templates for grade_id, points in template.graded.items())
    notebooks = {template.name[:-len(".ipynb")]: "missing" for template in templates}
    return SubmissionResult(student, MISSING, "nothing was submitted", cells, notebooks=notebooks)
