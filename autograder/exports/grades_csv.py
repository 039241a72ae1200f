"""`grades.csv`: one row per student, for a spreadsheet or an LMS import.

Columns, in order (every score is verified, never the kernel's claim):

- `student`: the student id;
- `status`: `graded`, `timeout`, `memory`, `output-limit`, `crashed`,
  `malformed` or `missing` (on the roster, nothing submitted);
- `score`, `max_score`: the assignment's total and its maximum;
- one column per notebook (e.g. `01_convolution`): that notebook's total;
- one column per graded cell, `<notebook>/<grade id>`: that cell's score;
- `flags`: reasons to review the submission by hand, joined by ` | `;
- `reason`: why the status is not `graded`.

With `totals_only`, only `student` and `score`, as LMS grade imports want.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["grades_table", "write_grades"]


def grades_table(classroom, *, totals_only=False):
    """The grades as a table.

    Args:
        classroom: an `autograder.exports.classroom.ClassResults`.
        totals_only: keep only `student` and `score`.

    Returns:
        A `pandas.DataFrame`, one row per student, sorted by id.
    """
    cells = classroom.graded_cells()
    notebooks = list(dict.fromkeys(notebook for notebook, _, _ in cells))
    rows = []
    for result in classroom.results.values():
        scores = {(cell.notebook, cell.grade_id): cell.score for cell in result.cells}
        row = {"student": result.student, "status": result.status, "score": result.score,
               "max_score": classroom.max_score}
        row.update({notebook: round(sum(s for (nb, _), s in scores.items() if nb == notebook), 6)
                    for notebook in notebooks})
        row.update({f"{notebook}/{grade_id}": scores.get((notebook, grade_id), 0.0) for notebook, grade_id, _ in cells})
        row.update({"flags": " | ".join(result.flags), "reason": result.reason})
        rows.append(row)
    columns = (["student", "status", "score", "max_score"] + notebooks
               + [f"{notebook}/{grade_id}" for notebook, grade_id, _ in cells] + ["flags", "reason"])
    table = pd.DataFrame(rows, columns=columns)
    return table[["student", "score"]] if totals_only else table


def write_grades(classroom, path, *, totals_only=False):
    """Writes `grades_table` as UTF-8 CSV (readable by `pandas.read_csv(path)`).

    Args:
        classroom: an `autograder.exports.classroom.ClassResults`.
        path: the file to write (replaced atomically).
        totals_only: write only `student` and `score`.

    Returns:
        The path written.
    """
    from autograder.pipeline.files import replace_file

    return replace_file(path, grades_table(classroom, totals_only=totals_only).to_csv(index=False))
