"""Stage 5, export: what instructors and students get out of a grading run.

Every exporter reads the same typed results (`classroom.load_class`):
`grades_csv` (a row per student), `canvas_csv` (the totals as Canvas'
gradebook imports them), `feedback` (a page per student and notebook) and
`report` (the class report). `export` writes all four. `gradescope` is the
`results.json` that the Gradescope bundle writes for each submission it
grades there (Gradescope takes a programming assignment's scores from its
own autograder run, never from a file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Exports", "export"]


@dataclass(frozen=True)
class Exports:
    """What `export` wrote.

    Attributes:
        grades: the `grades.csv` path.
        canvas: the `canvas.csv` path.
        feedback: nbgrader's `feedback/` folder.
        report: the class report's path.
        students: how many rows the grades have.
        pages: the feedback pages written.
    """

    grades: Path
    canvas: Path
    feedback: Path
    report: Path
    students: int = 0
    pages: list = field(default_factory=list)

    def lines(self):
        """Where everything is, one line per output."""
        return [f"class report:  {self.report}",
                f"grades:        {self.grades} ({self.students} students)",
                f"canvas import: {self.canvas}",
                f"feedback:      {self.feedback}/<student>/<assignment>/<notebook>.html ({len(self.pages)} pages)"]


def export(assignment, *, course=".", db_url=None, totals_only=False):
    """Writes grades, the Canvas import, feedback and the class report.

    Args:
        assignment: the assignment id (graded with `cnnkit grade`).
        course: the course directory.
        db_url: the gradebook's SQLAlchemy URL (default: the course's).
        totals_only: `grades.csv` with only `student` and `score`.

    Returns:
        An `Exports`.

    Raises:
        FileNotFoundError: if the assignment has not been graded.
    """
    from autograder.exports.canvas_csv import write_canvas
    from autograder.exports.classroom import load_class
    from autograder.exports.feedback import write_feedback
    from autograder.exports.grades_csv import write_grades
    from autograder.exports.report import write_report

    classroom = load_class(assignment, course=course, db_url=db_url)
    reports = classroom.course_root / "reports" / assignment
    grades = write_grades(classroom, reports / "grades.csv", totals_only=totals_only)
    canvas = write_canvas(classroom, reports / "canvas.csv")
    pages = write_feedback(classroom, classroom.course_root / "feedback")
    report = write_report(classroom, reports / "report.html")
    return Exports(grades, canvas, classroom.course_root / "feedback", report,
                   len(classroom.results), pages)
