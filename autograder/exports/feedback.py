"""Per-student feedback HTML, in nbgrader's layout:
`feedback/<student>/<assignment>/<notebook>.html`.

A page shows each graded cell's verified score and the verifier's feedback,
then the student's own code: the source of the cells they answered, read from
the copy of their notebook taken *before* it ran (`cnnkit_submitted/`), so
nothing their code printed or wrote while running (the hidden tests were in
its kernel) can reach the page. Test cells appear by name only: their source
(hidden tests) is never shown; plain nbgrader's feedback shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.pipeline.files import replace_file
from autograder.exports.render import render
from autograder.pipeline.record import SUBMITTED_DIR

__all__ = ["AnsweredCell", "feedback_html", "student_code", "write_feedback"]


@dataclass(frozen=True)
class AnsweredCell:
    """The source of one cell the student answered.

    Attributes:
        grade_id: nbgrader's grade id of the cell.
        source: what the student wrote (str).
    """

    grade_id: str
    source: str


def student_code(notebook_text):
    """The student's answer cells of a notebook.

    Args:
        notebook_text: the notebook's JSON (str), as it went into the sandbox.

    Returns:
        A list of `AnsweredCell` (cells whose nbgrader metadata marks them
        as solution cells), in notebook order.
    """
    notebook = nbformat.reads(notebook_text, as_version=4)
    return [AnsweredCell(cell.metadata["nbgrader"].get("grade_id", ""), cell.source) for cell in notebook.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")]


def feedback_html(result, notebook, assignment, code=()):
    """One notebook's feedback page.

    Args:
        result: the student's `autograder.pipeline.results.SubmissionResult`.
        notebook: the notebook's name, without `.ipynb`.
        assignment: the assignment id.
        code: the student's `AnsweredCell`s of that notebook.

    Returns:
        The page's HTML text.
    """
    cells = [cell for cell in result.cells if cell.notebook == notebook]
    return render("feedback.html.j2", student=result.student, assignment=assignment, notebook=notebook,
                  score=sum(cell.score for cell in cells), max_score=sum(cell.max_score for cell in cells),
                  status=result.status, reason=result.reason,
                  state=result.notebooks.get(notebook, "ran"), cells=cells, code=list(code))


def write_feedback(classroom, folder):
    """Writes the feedback pages of every student who submitted something.

    Args:
        classroom: an `autograder.exports.classroom.ClassResults`.
        folder: the `feedback/` folder (nbgrader's: `COURSE/feedback`).

    Returns:
        The list of paths written.
    """
    written = []
    for result in classroom.submitted():
        submitted = classroom.course_root / "autograded" / result.student / classroom.assignment / SUBMITTED_DIR
        for template in classroom.templates:
            notebook = template.name[:-len(".ipynb")]
            if result.notebooks.get(notebook) == "missing":
                continue
            source = submitted / template.name
            code = student_code(source.read_text()) if source.exists() else []
            path = Path(folder) / result.student / classroom.assignment / f"{notebook}.html"
            written.append(replace_file(path, feedback_html(result, notebook, classroom.assignment, code)))
    return written
