"""What the verifier checks, read from the instructor's own notebooks.

The hidden tests of the source notebooks call `cnnkit.checks`; their calls
say what each graded cell checks (`check_function("conv2d_layer",
conv2d_layer, points=4)`, ...). The plan is read from that source with
Python's `ast`, never executed, and the points come from the cell's nbgrader
metadata. The release's stubs give each function's parameters, so that
student functions are called positionally, in the stub's order.

A graded cell whose hidden tests call no cnnkit check is scored as nbgrader
scores it (from the cell's outputs); the plan marks it `nbgrader`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import nbformat

__all__ = ["Check", "NotebookPlan", "plan_of"]

_KINDS = {"check_function": "function", "check_model_spec": "spec", "check_trained_model": "trained",
          "check_train_eval_mode": "mode", "check_residual_block": "block", "check_shift_invariance": "invariance",
          "check_improvement": "improvement"}


@dataclass(frozen=True)
class Check:
    """What one graded cell checks.

    Attributes:
        grade_id: the cell's grade id.
        points: its points (from the source's metadata).
        kind: `function`, `spec`, `trained`, `mode`, `block` (a residual
            block), `invariance` (a shift-invariant model), `improvement`
            (an architecture retrained and compared with the spec CNN), or
            `nbgrader` (no cnnkit check: scored from the cell's outputs).
        target: the student's name it checks (a function or a variable; the
            builder for `improvement`).
        name: the graded function's key in `cnnkit.checks.GRADED`, or the
            reference model (`spec_cnn`, `lenet5`) or reference
            accuracy's model (`spec`).
        parameters: the stub's parameter names (functions).
        margin: accuracy below the reference still worth full marks
            (trained), or the cut in error worth full marks (improvement,
            None for the assignment's default).
    """

    grade_id: str
    points: float
    kind: str
    target: str = ""
    name: str = ""
    parameters: tuple = ()
    margin: float | None = 0.03


@dataclass(frozen=True)
class NotebookPlan:
    """The checks of one notebook, in cell order, and what the release locks.

    Attributes:
        name: the notebook's file name.
        checks: tuple of `Check`.
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
    numpy_only = frozenset(c.target for c in checks if c.kind == "function")
    return NotebookPlan(release_path.name, tuple(checks), locked, numpy_only)


def _check_of(source, grade_id, points, stubs):
    try:
        tree = ast.parse(_python_only(source))
    except SyntaxError:
        return Check(grade_id, points, "nbgrader")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if called not in _KINDS:
            continue
        kind, args = _KINDS[called], node.args
        keywords = {k.arg: k.value for k in node.keywords}
        if kind == "function" and len(args) >= 2:
            name, target = _literal(args[0]), _name(args[1])
            return Check(grade_id, points, kind, target, name, stubs.get(target, ()))
        if kind == "spec" and len(args) >= 2:
            return Check(grade_id, points, kind, _name(args[0]), _reference_model(args[1]))
        if kind == "trained" and args:
            margin = _literal(keywords["margin"]) if "margin" in keywords else 0.03
            model = _literal(args[2].args[0]) if len(args) > 2 and isinstance(args[2], ast.Call) and args[2].args else "spec"
            return Check(grade_id, points, kind, _name(args[0]), model, margin=float(margin))
        if kind == "mode" and args:
            return Check(grade_id, points, kind, _name(args[0]), "train_eval_mode")
        if kind == "block" and args:
            return Check(grade_id, points, kind, _name(args[0]), "residual_block")
        if kind == "invariance" and args:
            return Check(grade_id, points, kind, _name(args[0]), "shift_invariance")
        if kind == "improvement" and len(args) >= 2:
            cut = float(_literal(keywords["error_cut"])) if "error_cut" in keywords else None
            return Check(grade_id, points, kind, _name(args[1]), "spec", margin=cut)
    return Check(grade_id, points, "nbgrader")


def _stub_parameters(release):
    stubs = {}
    for cell in release.cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        try:
            tree = ast.parse(_python_only(cell.source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                stubs[node.name] = tuple(a.arg for a in node.args.args)
    return stubs


def _python_only(source):
    """Cell source without IPython's magics and shell lines."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _literal(node):
    return ast.literal_eval(node)


def _name(node):
    return node.id if isinstance(node, ast.Name) else ""


def _reference_model(node):
    """`cnnkit.models.spec_cnn()` -> `spec_cnn`."""
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return ""
