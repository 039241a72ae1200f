"""An assignment's notebooks as the instructor's source defines them: their
names, every grade id, and the points of each graded cell."""

from __future__ import annotations

from dataclasses import dataclass

import nbformat

__all__ = ["NotebookTemplate", "templates_of"]


@dataclass(frozen=True)
class NotebookTemplate:
    """What the release says about one notebook.

    Attributes:
        name: file name, e.g. `"01_convolution.ipynb"`.
        grade_ids: every nbgrader grade id of the released notebook.
        graded: grade id -> points of each graded cell.
        order: every grade id, in the notebook's order.
    """

    name: str
    grade_ids: frozenset
    graded: dict
    order: tuple = ()

    @property
    def max_score(self):
        return float(sum(self.graded.values()))


def templates_of(course, assignment):
    """The assignment's notebooks as the instructor's source defines them.

    Args:
        course: an `autograder.course.course.Course`.
        assignment: the assignment id.

    Returns:
        A tuple of `NotebookTemplate`, sorted by file name.

    Raises:
        FileNotFoundError: if `solutions/<assignment>/` holds no notebook.
    """
    paths = course.notebooks("solutions", assignment)
    if not paths:
        raise FileNotFoundError(f"no notebooks in {course.root / 'solutions' / assignment}: is this the course "
                                "directory (the one with nbgrader_config.py)?")
    templates = []
    for path in paths:
        cells = [cell.metadata.get("nbgrader", {}) for cell in nbformat.read(path, as_version=4).cells]
        order = tuple(m["grade_id"] for m in cells if m.get("grade_id"))
        templates.append(NotebookTemplate(path.name, frozenset(order),
                                          {m["grade_id"]: float(m.get("points", 0)) for m in cells if m.get("grade")},
                                          order))
    return tuple(templates)
