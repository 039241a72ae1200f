"""What the executed notebook itself shows the verifier (read, never trusted).

- the kernel's **claim** for a test cell: the score plain nbgrader would read
  from its outputs (compared with the verified score; a kernel that claims far
  more is flagged);
- **forgeries**: cells the student wrote whose outputs imitate the checks'
  evidence bundles or the grader's feedback;
- whether a graded cell is **present** in the submitted notebook;
- the **first error** the student's cells raised before each test cell, to
  say why a name the test needs was never defined.
"""

from __future__ import annotations

import logging
import re

import nbformat
from nbgrader.utils import determine_grade

from cnnkit.checks import EVIDENCE_MIME

__all__ = ["claim", "denials", "first_errors", "forgeries", "read_notebook"]

_QUIET = logging.getLogger("autograder.verifier.evidence")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False
_FEEDBACK_LOOKALIKE = re.compile(r"^\[[\w:]+\] [\d.]+ / [\d.]+ points", re.M)


def claim(cell, points):
    """What nbgrader reads from a test cell's outputs (the kernel's own claim).

    Args:
        cell: the executed cell (nbformat), or None.
        points: the cell's points.

    Returns:
        A float in [0, points], or None when the cell did not run.
    """
    if cell is None or cell.get("execution_count") is None:
        return None
    cell.metadata.setdefault("nbgrader", {})["points"] = points
    try:
        score, _ = determine_grade(cell, _QUIET)
    except Exception:
        return 0.0
    return float(min(max(score or 0.0, 0.0), points))


def forgeries(notebook):
    """Cells the student wrote whose outputs imitate the checks' evidence or feedback.

    Args:
        notebook: the executed notebook (nbformat).

    Returns:
        A list of one-line findings (`cell 12 prints text that imitates ...`).
    """
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        for output in cell.get("outputs", []):
            if EVIDENCE_MIME in output.get("data", {}):
                found.append(f"cell {index + 1} displays a forged cnnkit evidence bundle")
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            if _FEEDBACK_LOOKALIKE.search(text if isinstance(text, str) else "".join(text)):
                found.append(f"cell {index + 1} prints text that imitates the grader's feedback")
    return list(dict.fromkeys(found))


# What the sandbox says when it denies something: a write outside the scratch folder, a signal to a process
# that is not the student's, a read of a hidden path, the network.
_DENIED = re.compile(r"\[Errno (?:1|13|30|101|111|-2|-3)\] (?:Operation not permitted|Permission denied|"
                     r"Read-only file system|Network is unreachable|Connection refused|Name or service not known|"
                     r"Temporary failure in name resolution)[^\n]{0,120}")


def denials(notebook):
    """What the sandbox denied the notebook's cells, as they reported it (an error, or a caught one printed).

    Args:
        notebook: the executed notebook (nbformat).

    Returns:
        A list of one-line findings (`cell 3 was denied by the sandbox: ...`).
    """
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                text = f"{output.get('ename', '')}: {output.get('evalue', '')}"
            else:
                text = output.get("text", "") if output.get("output_type") == "stream" else ""
                text = text if isinstance(text, str) else "".join(text)
            match = _DENIED.search(text)
            if match:
                found.append(f"cell {index + 1} was denied by the sandbox ({match.group(0)[:160]}): an attempt to "
                             "reach outside it? review it")
    return list(dict.fromkeys(found))


def first_errors(notebook):
    """For each test cell, the first error a cell of the student's (a solution cell, or one the student added)
    raised before it in the notebook's run, in words (`NameError in cell 'correlate2d': name 'np' is not
    defined`). Only the student's own cells are read: an instructor's cell's traceback could quote hidden code.

    Args:
        notebook: the executed `nbformat.NotebookNode` (untrusted).

    Returns:
        Dict of grade id -> str, for the test cells that have an error before them.
    """
    found, first = {}, None
    for index, cell in enumerate(notebook.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("grade") and not meta.get("solution"):
            if first is not None:
                found[meta.get("grade_id")] = first
            continue
        if first is not None or not (meta.get("solution") or not meta.get("grade_id")):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                where = f"cell {meta['grade_id']!r}" if meta.get("grade_id") else f"cell {index + 1}"
                words = " ".join(str(output.get("evalue", "")).split())[:160]
                first = f"{str(output.get('ename', 'an error'))[:60]} in {where}" + (f": {words}" if words else "")
                break
    return found


def read_notebook(text):
    """A notebook from untrusted text or bytes, or None when it does not read."""
    if not text:
        return None
    try:
        return nbformat.reads(text if isinstance(text, str) else text.decode("utf-8", "replace"), as_version=4)
    except Exception:
        return None
