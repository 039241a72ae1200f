"""`canvas.csv`: the verified totals in the layout of Canvas' gradebook, ready to import.

Canvas' gradebook import ("Import" on the Grades page) reads the layout of its
own export: the columns `Student`, `ID`, `SIS User ID`, `SIS Login ID`,
`Section`, then one column per assignment, and a `Points Possible` row under
the header. A column whose title is no assignment of the Canvas course becomes
a new assignment worth the points of that row.

- `Student`: "Last, First" when the gradebook has the names, else the id;
- `ID`: Canvas' user id, read from Canvas' download names (`<login>_<user
  id>_<file id>_<notebook>.ipynb`) or set in nbgrader's `lms_user_id`; Canvas
  matches a row by it first;
- `SIS Login ID`: the grader's student id (Canvas matches by it when `ID` is
  empty, so the ids must be the course's logins);
- the assignment's column: the verified total; empty for a roster student who
  submitted nothing, so that Canvas' own missing-submission policy decides.

Canvas shows what it will change before it changes anything.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["COLUMNS", "POINTS_ROW", "canvas_table", "write_canvas"]

COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_ROW = "    Points Possible"


def canvas_table(classroom, *, title=None):
    """The verified totals in Canvas' gradebook layout.

    Args:
        classroom: an `autograder.exports.classroom.ClassResults`.
        title: the assignment's column title in Canvas (default: the
            assignment id).

    Returns:
        A `pandas.DataFrame` of strings: the `Points Possible` row, then one
        row per student, sorted by id.
    """
    from autograder.exports.classroom import MISSING, Student
    from cnnkit.checks.report import format_points

    title = title or classroom.assignment
    rows = [dict.fromkeys(COLUMNS, "") | {"Student": POINTS_ROW, title: format_points(classroom.max_score)}]
    for student, result in classroom.results.items():
        known = classroom.students.get(student) or Student()
        name = f"{known.last_name}, {known.first_name}" if known.last_name and known.first_name else student
        score = "" if result.status == MISSING else format_points(result.score)
        rows.append({"Student": name, "ID": known.lms_user_id or "", "SIS User ID": "", "SIS Login ID": student,
                     "Section": "", title: score})
    return pd.DataFrame(rows, columns=[*COLUMNS, title], dtype=str)


def write_canvas(classroom, path, *, title=None):
    """Writes `canvas_table` as UTF-8 CSV, the file Canvas' gradebook imports.

    Args:
        classroom: an `autograder.exports.classroom.ClassResults`.
        path: the file to write (replaced atomically).
        title: the assignment's column title in Canvas (default: the
            assignment id).

    Returns:
        The path written.
    """
    from autograder.pipeline.files import replace_file

    return replace_file(path, canvas_table(classroom, title=title).to_csv(index=False))
