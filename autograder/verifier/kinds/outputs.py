"""A graded cell that calls no cnnkit check: scored as nbgrader scores it.

Its points come from the cell's own outputs (nbgrader's `determine_grade`:
an error or text on stderr scores 0, a numeric last value is the score,
anything else full marks). This is what plain `nbgrader autograde` gives;
the verifier has nothing of its own to compare, so such a cell is only as
trustworthy as the kernel that ran it.
"""

from __future__ import annotations

from autograder.verifier.kinds.base import Kind, Verdict

__all__ = ["FromOutputs"]


class FromOutputs(Kind):
    """A test cell with plain asserts: the kernel's own outputs decide."""

    name = "nbgrader"
    claims = True  # the kernel's own score is all there is

    def verdict(self, check, reported, context):
        cell = context.cell
        if cell is None or cell.get("execution_count") is None:
            return Verdict(0.0, f"0: this cell did not run ({context.stopped or 'the notebook stopped before it'})")
        return Verdict(context.claim or 0.0, context.cell_text)
