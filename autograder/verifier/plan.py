"""What the verifier checks, read from the instructor's own notebooks.

The hidden tests of the source notebooks call `cnnkit.checks`; their calls
say what each graded cell checks (`check_function("conv2d_layer",
conv2d_layer, points=4)`, ...). The plan is read from that source with
Python's `ast`, never executed: the call names the kind of check (see
`autograder.verifier.kinds`), is bound to that check's own signature, and the
kind reads its settings from it. The points come from the cell's nbgrader
metadata. The release's stubs give each function's parameters, so that
student functions are called positionally, in the stub's order.

A graded cell whose hidden tests call no cnnkit check is scored as nbgrader
scores it (from the cell's outputs); the plan marks it `nbgrader`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import nbformat

from autograder.pipeline.ipython_cells import without_ipython_lines
from autograder.verifier.kinds import FROM_OUTPUTS, BoundCall, Check, kind_called, kind_of

__all__ = ["Check", "NotebookPlan", "plan_of"]


@dataclass(frozen=True)
class NotebookPlan:
    """The checks of one notebook, in cell order, and what the release locks.

    Attributes:
        name: the notebook's file name.
        checks: tuple of `autograder.verifier.kinds.Check`.
        locked: grade id -> the released source of each locked cell.
        numpy_only: names of functions the notebook asks for in NumPy.
    """

    name: str
    checks: tuple
    locked: dict = field(default_factory=dict)
    numpy_only: frozenset = frozenset()


def plan_of(source_path, release_path):
    """The verification plan of one notebook.

    Args:
        source_path: the instructor's notebook (with hidden tests).
        release_path: the released notebook (stubs).

    Returns:
        A `NotebookPlan`.
    """
    source = nbformat.read(source_path, as_version=4)
    release = nbformat.read(release_path, as_version=4)
    stubs = _stub_parameters(release)
    checks = []
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code":
            continue
        checks.append(_check_of(cell.source, meta["grade_id"], float(meta.get("points", 0)), stubs))
    locked = {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in release.cells
              if cell.metadata.get("nbgrader", {}).get("locked")}
    numpy_only = frozenset(c.target for c in checks if kind_of(c).numpy_only)
    return NotebookPlan(release_path.name, tuple(checks), locked, numpy_only)


def _check_of(source, grade_id, points, stubs):
    """The check of the first call of a registered kind's check that binds to its signature."""
    try:
        tree = ast.parse(without_ipython_lines(source))
    except SyntaxError:
        return Check(grade_id, points, FROM_OUTPUTS)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        kind = kind_called(called)
        if kind is None:
            continue
        try:
            call = BoundCall(node, kind.check)
        except TypeError:  # a call that does not fit the check's signature checks nothing
            continue
        return kind.read(call, grade_id, points, stubs)
    return Check(grade_id, points, FROM_OUTPUTS)


def _stub_parameters(release):
    stubs = {}
    for cell in release.cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        try:
            tree = ast.parse(without_ipython_lines(cell.source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                stubs[node.name] = tuple(a.arg for a in node.args.args)
    return stubs


