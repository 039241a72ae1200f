"""Stage 3, score: points per graded cell of an executed submission.

Scores are read as `nbgrader autograde` reads them (nbgrader's own
`determine_grade`: an error or text on stderr is 0, a number as the last
value is partial credit), with two rules nbgrader lacks because it never
stops a notebook half-way: a graded cell that did not run scores 0, and so
does a graded cell the submission deleted. Every cell's feedback says why.
"""

from __future__ import annotations

import logging

import nbformat
from nbgrader.utils import determine_grade

from autograder.course import cell_feedback
from autograder.results import CellResult, SubmissionResult

__all__ = ["malformed_result", "score_execution"]

_QUIET = logging.getLogger("autograder.score")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def score_execution(execution, prepared, templates, *, digest):
    """The `SubmissionResult` of an executed submission.

    Args:
        execution: an `autograder.execute.Execution` (None when nothing ran).
        prepared: the `autograder.prepare.Prepared` it ran from.
        templates: tuple of `autograder.prepare.NotebookTemplate`.
        digest: the submission's content hash.

    Returns:
        A `SubmissionResult`; its status is `malformed` when any notebook
        was, else the execution's.
    """
    cells, notebooks = [], {}
    executed = execution.notebooks if execution else {}
    for template in templates:
        name = template.name[:-len(".ipynb")]
        if template.name in prepared.malformed:
            why = f"not graded: {prepared.malformed[template.name]}"
            notebooks[name] = "malformed"
        elif template.name in prepared.missing:
            why = "not graded: this notebook was not submitted"
            notebooks[name] = "missing"
        elif template.name not in executed:
            why = f"not graded: the notebook did not run ({execution.reason if execution else 'no run'})"
            notebooks[name] = "not run"
        else:
            notebooks[name] = "ran"
            cells += _scored_cells(executed[template.name], template, name, execution)
            continue
        cells += [CellResult(name, grade_id, 0.0, float(points), why) for grade_id, points in template.graded.items()]
    if prepared.malformed:
        status = "malformed"
        reason = "; ".join(f"{name}: {why}" for name, why in prepared.malformed.items())
    else:
        status, reason = (execution.status, execution.reason) if execution else ("crashed", "nothing ran")
    return SubmissionResult(
        prepared.student, status, reason, tuple(cells), seconds=execution.seconds if execution else 0.0,
        worker=execution.worker if execution else "", device=execution.device if execution else "cpu",
        hash=digest, limits_hit=execution.limits_hit if execution else (),
        peak_memory=execution.peak_memory if execution else None, notebooks=notebooks)


def malformed_result(prepared, templates, *, digest):
    """The result of a submission none of whose notebooks could run."""
    return score_execution(None, prepared, templates, digest=digest)


def _scored_cells(text, template, name, execution):
    try:
        notebook = nbformat.reads(text, as_version=4)
        found = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}
        feedback = cell_feedback(notebook)
    except Exception:  # the sandbox returned something that is not a notebook
        found, feedback = {}, {}
    cells = []
    for grade_id, points in template.graded.items():
        cell = found.get(grade_id)
        if cell is None:
            cells.append(CellResult(name, grade_id, 0.0, float(points), "0: this graded cell is missing from the notebook"))
        elif cell.cell_type == "code" and cell.get("execution_count") is None:
            why = execution.reason if execution.status != "graded" else "the notebook stopped before it"
            cells.append(CellResult(name, grade_id, 0.0, float(points), f"0: this cell did not run ({why})"))
        else:
            cells.append(CellResult(name, grade_id, _points(cell, points), float(points), feedback.get(grade_id, "")))
    return cells


def _points(cell, points):
    cell.metadata.setdefault("nbgrader", {})["points"] = points  # the release's points, not the submission's
    try:
        score, _ = determine_grade(cell, _QUIET)
    except Exception:  # an output nbgrader cannot read
        return 0.0
    return float(min(max(score or 0.0, 0.0), points))
