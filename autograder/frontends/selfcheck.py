"""`cnnkit check NOTEBOOK`: tells a student, before they submit, whether their
notebook will grade.

The notebook is compared with the released one (deleted cells, changed
nbgrader metadata, edited locked cells, answers still raising
`NotImplementedError`), then run as the grader runs it: locked cells put back
as released, in the grader's sandbox under the grader's default limits. Only
the public tests run (the release has no hidden tests), so nothing hidden is
ever revealed. Exit status 0 only when nothing stands in the way.

From a notebook cell, `check_notebook("01_convolution.ipynb")` prints the
same; inside the checked run itself it does nothing.

With `improve=True` (`cnnkit check --improve`), on the seizure notebook, the
run ends with the grader's "improve it" rule applied to the validation rows
(`cnnkit.improvement.estimate_improvement`, public seeds): the expected
points and their spread over the seeds.
"""

from __future__ import annotations

import ast
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = ["Finding", "SelfCheck", "check_notebook", "find_release"]

SELF_CHECK_ENV = "CNNKIT_SELF_CHECK"
IMPROVED = "build_improved_model"
# The cell `--improve` appends: the estimate trains, which nothing in a graded kernel does, so it leaves the
# grading mode first (the notebook's own improve-it training was skipped, as the grader skips it).
_ESTIMATE_CELL = f"""import os as _os
_os.environ.pop("CNNKIT_GRADING", None)
from cnnkit.improvement import estimate_improvement as _estimate
print(_estimate({IMPROVED}, build_spec_cnn, x_train, y_train, x_val, y_val))"""
# `--improve` trains the architecture and the spec CNN on two seeds after the notebook: more time than grading.
_IMPROVE_LIMITS = {"timeout": 2400.0, "cell_timeout": 1800.0}
_WATCHED = ("grade", "solution", "locked", "points", "cell_type")


@dataclass(frozen=True)
class Finding:
    """One thing the self-check found.

    Attributes:
        blocking: True when it stands in the way of grading.
        message: what, where and what to do, in one line.
    """

    blocking: bool
    message: str


@dataclass
class SelfCheck:
    """The self-check of one notebook.

    Attributes:
        notebook: the checked file.
        release: the released notebook it was compared with, if found.
        findings: list of `Finding`, blocking ones first.
        status: how the run ended (`graded` is a clean run; `not run`).
        seconds: time the run took.
        improvement: the "improve it" estimate's lines (`improve=True`), or None.
    """

    notebook: Path
    release: Path | None = None
    findings: list = field(default_factory=list)
    status: str = "not run"
    seconds: float = 0.0
    improvement: str | None = None

    @property
    def ready(self):
        return not any(finding.blocking for finding in self.findings)

    def reason(self):
        """The verdict in one line."""
        problems = [finding for finding in self.findings if finding.blocking]
        if not problems:
            return (f"READY: {self.notebook.name} ran as the grader runs it in {self.seconds:.0f} s, "
                    "within its limits, and its public tests pass")
        more = f" (and {len(problems) - 1} more problem(s) below)" if len(problems) > 1 else ""
        return f"NOT READY: {self.notebook.name}: {problems[0].message}{more}"

    def text(self):
        """The verdict, then every finding, one per line."""
        lines = [self.reason()]
        lines += [f"  {'problem' if f.blocking else 'note'}: {f.message}" for f in self.findings]
        if self.improvement:
            lines += ["improve it, estimated on your validation rows by the grader's rule:"]
            lines += [f"  {line}" for line in self.improvement.splitlines()]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # IPython shows the text in a notebook cell
        printer.text(self.text())


def check_notebook(path, *, release=None, limits=None, improve=False):
    """Checks that a notebook will grade, running it as the grader would.

    Args:
        path: the notebook file (`.ipynb`).
        release: a folder holding the released notebooks (searched
            recursively; default: the kit's own `assignments/`).
        limits: an `autograder.sandbox.limits.Limits` (default: the grader's,
            with more time when `improve`).
        improve: also estimate the "improve it" points on the validation rows
            (the seizure notebook only; a few minutes on a CPU).

    Returns:
        A `SelfCheck`.

    Raises:
        FileNotFoundError: if `path` or the release folder does not exist.
        ValueError: if `path` is not an `.ipynb` file.
    """
    path = Path(path)
    if path.suffix != ".ipynb":
        raise ValueError(f"notebook: expected an .ipynb file, got {str(path)!r}")
    if not path.is_file():
        raise FileNotFoundError(f"notebook: no such file: {path}")
    report = SelfCheck(path)
    if os.environ.get(SELF_CHECK_ENV):
        report.findings.append(Finding(False, "not checked again inside the self-check's own run"))
        return report
    raw = path.read_bytes()
    report.release = find_release(raw, path.name, release)
    if report.release is None:
        report.findings.append(Finding(True, "no released notebook has these graded cells: is this an assignment "
                                             "notebook of this course? (try --release FOLDER)"))
        return report
    released = nbformat.read(report.release, as_version=4)
    try:
        notebook = _well_formed(raw, released, report.release.name)
    except ValueError as error:
        report.findings.append(Finding(True, f"the grader cannot read it: {error}"))
        return report
    report.findings += _repairs(notebook, released, report.release.name)
    report.findings += _structure(notebook, released) + _unfinished(notebook)
    graded = as_graded(notebook, released)
    if improve and IMPROVED not in _grade_ids(graded):
        report.findings.append(Finding(True, f"--improve: this notebook has no \"improve it\" exercise ({IMPROVED}); "
                                             "it is for the seizure notebook"))
        return report
    if improve:
        graded.cells.append(nbformat.v4.new_code_cell(_ESTIMATE_CELL))
    report.findings += _run(graded, report.release.name, limits, report, improve)
    report.findings.sort(key=lambda finding: not finding.blocking)
    return report


def find_release(raw, name, release=None):
    """The released notebook a submission answers.

    Args:
        raw: the submission's bytes.
        name: its file name.
        release: folder of released notebooks (default: the kit's own).

    Returns:
        The path of the released notebook with the same file name, else the
        one sharing the most nbgrader grade ids; None if none shares any.

    Raises:
        FileNotFoundError: if the release folder does not exist.
    """
    from autograder.course.course import REPO

    folder = Path(release) if release else REPO / "assignments"
    if not folder.is_dir():
        raise FileNotFoundError(f"release: no such folder: {folder}")
    candidates = sorted(folder.rglob("*.ipynb"))
    named = [candidate for candidate in candidates if candidate.name == name]
    if len(named) == 1:
        return named[0]
    try:
        ids = _grade_ids(nbformat.reads(raw.decode("utf-8"), as_version=4))
    except Exception:  # unreadable: matched by name or not at all
        return None
    shared = [(len(ids & _grade_ids(nbformat.read(candidate, as_version=4))), candidate) for candidate in candidates]
    best = max(shared, default=(0, None), key=lambda pair: pair[0])
    return best[1] if best[0] else None


def as_graded(notebook, released):
    """The notebook as the grader runs it: outputs cleared, every locked cell
    of the release put back as released.

    Args:
        notebook: the student's `nbformat.NotebookNode`.
        released: the released `nbformat.NotebookNode`.

    Returns:
        A new `nbformat.NotebookNode`.
    """
    originals = {_grade_id(cell): cell for cell in released.cells if _grade_id(cell)}
    graded = nbformat.from_dict(notebook)
    for cell in graded.cells:
        original = originals.get(_grade_id(cell))
        if original is not None and original.metadata["nbgrader"].get("locked"):
            cell.source = original.source
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return graded


def _well_formed(raw, released, name):
    from autograder.course.templates import NotebookTemplate
    from autograder.pipeline.prepare import well_formed

    template = NotebookTemplate(name, frozenset(_grade_ids(released)), {})
    return well_formed(raw, template)


def _repairs(notebook, released, name):
    """What the grader would repair in the graded cells (as nbgrader does), each with how to fix it."""
    import copy

    from autograder.course.templates import NotebookTemplate
    from autograder.pipeline.prepare import repaired

    template = NotebookTemplate(name, frozenset(_grade_ids(released)), {})
    return [Finding(False, f"{line}; to fix it, delete that cell (or copy only its code into a new cell): the grader "
                           "flags the notebook for a person to look at") for line in repaired(copy.deepcopy(notebook),
                                                                                               template)]


def _structure(notebook, released):
    """Deleted cells, changed nbgrader metadata or cell ids, edited locked cells."""
    from autograder.pipeline.prepare import same_source

    findings = []
    mine = {_grade_id(cell): cell for cell in notebook.cells if _grade_id(cell)}
    for cell in released.cells:
        grade_id = _grade_id(cell)
        if not grade_id:
            continue
        meta = cell.metadata["nbgrader"]
        if grade_id not in mine:
            if meta.get("grade") and not meta.get("solution"):  # the grader puts a test cell back, and says so
                findings.append(Finding(False, f"cell {grade_id!r} ({_kind(meta)}) was deleted: the grader puts it "
                                               "back and flags the notebook for a person to look at; copy it back "
                                               "from the released notebook"))
            else:
                findings.append(Finding(True, f"cell {grade_id!r} ({_kind(meta)}) was deleted: copy it back from "
                                              "the released notebook (the grader needs every cell it released)"))
            continue
        theirs = mine[grade_id]
        changed = [key for key in _WATCHED if theirs.metadata["nbgrader"].get(key) != meta.get(key)]
        if theirs.cell_type != cell.cell_type:
            changed.append("cell type")
        if changed:
            findings.append(Finding(True, f"the nbgrader metadata of cell {grade_id!r} was changed ({', '.join(changed)}): "
                                          "restore the cell from the released notebook"))
        elif meta.get("locked") and not same_source(theirs.source, cell.source):
            findings.append(Finding(True, f"cell {grade_id!r} is locked but was edited: the grader puts the "
                                          "original back, so your edit will not count; undo it"))
        if cell.get("id") and theirs.get("id") != cell.get("id"):
            findings.append(Finding(False, f"cell {grade_id!r} has a new cell id (harmless: the grader matches "
                                           "cells by their nbgrader grade id)"))
    return findings


def _unfinished(notebook):
    """Answer cells that still raise `NotImplementedError`: a problem where anything in the notebook uses the
    unfinished function (a public test, another answer), a note for a helper nothing uses."""
    trees = {id(cell): _parsed(cell.source) for cell in notebook.cells if cell.cell_type == "code"}
    findings = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        unfinished = _raises_unfinished(trees[id(cell)])
        if not unfinished:
            continue
        if None in unfinished or any(_used_elsewhere(notebook, trees, cell, name) for name in unfinished):
            findings.append(Finding(True, f"cell {_grade_id(cell)!r} still raises NotImplementedError: replace "
                                          "that line with your code"))
        else:
            findings.append(Finding(False, f"cell {_grade_id(cell)!r}: {', '.join(sorted(unfinished))} still "
                                           "raise(s) NotImplementedError, but nothing calls it: fine if you do not "
                                           "need that helper"))
    return findings


def _run(notebook, name, limits, report, improve=False):
    """Runs the notebook in the grader's sandbox and reads what went wrong (and, with `improve`, the estimate
    the last cell printed)."""
    from autograder.pipeline.execute import Slot, execute
    from autograder.sandbox.limits import Limits, plan_workers
    from autograder.pipeline.prepare import Prepared
    from autograder.sandbox.inputs import sandbox_inputs
    from autograder.sandbox.isolation import detect
    from autograder.sandbox.preflight import sandbox_problem

    limits = limits or (Limits(**_IMPROVE_LIMITS) if improve else Limits())
    if not limits.threads:
        limits = limits.with_threads(plan_workers(1, memory_per_worker=limits.memory).threads)
    with tempfile.TemporaryDirectory(prefix="cnnkit-check-") as scratch:
        options = sandbox_inputs(Path(scratch), retrained=(IMPROVED,) if improve else ())
        options["env"][SELF_CHECK_ENV] = "1"
        problem = sandbox_problem(detect(), options["env"], world_names=("keras",))
        if problem:  # every cell would fail for a reason that is not the notebook's
            report.status = "not run"
            return [Finding(True, f"cannot run it as the grader does here: {problem}")]
        prepared = Prepared("self-check", {name: nbformat.writes(notebook)})
        execution = execute(prepared, limits, Slot("self-check"), **options)
    report.status, report.seconds = execution.status, execution.seconds
    findings = []
    if execution.status != "graded":
        findings.append(Finding(True, f"it would stop the grader ({execution.status}): {execution.reason}"))
    ran = execution.notebooks.get(name)
    if ran is not None:
        executed = nbformat.reads(ran, as_version=4)
        findings += _cell_findings(executed)
        if improve and executed.cells:
            printed = [output.get("text", "") for output in executed.cells[-1].get("outputs", [])
                       if output.get("output_type") == "stream" and output.get("name") == "stdout"]
            report.improvement = "".join(printed).strip() or None
    return findings


def _cell_findings(executed):
    """Errors in any cell and text on stderr in graded cells of an executed notebook."""
    findings, waiting = [], []
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        where = f"cell {meta['grade_id']!r}" if meta.get("grade_id") else f"cell {index + 1}"
        for output in cell.get("outputs", []):
            if output.output_type == "error" and output.ename == "NotImplementedError":
                waiting.append(where)
            elif output.output_type == "error":
                error = " ".join(f"{output.ename}: {output.evalue}".split()).rstrip(":")[:200]
                what = ("(a public test of the release) fails" if meta.get("locked") and not meta.get("solution")
                        else "raises an error")
                findings.append(Finding(True, f"{where} {what}: {error}"))
            elif output.output_type == "stream" and output.name == "stderr" and (meta.get("grade") or meta.get("solution")):
                text = " ".join(output.text.split())[:120]
                findings.append(Finding(False, f"{where} writes to stderr ({text}); this costs nothing with "
                                               "cnnkit, but a plain nbgrader test cell scores 0 for it"))
    if waiting:
        findings.insert(0, Finding(True, f"{', '.join(waiting)} call(s) a function you have not written yet "
                                         "(NotImplementedError)"))
    return findings


def _parsed(source):
    """A cell's syntax tree, or None when it does not parse (the run reports it)."""
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _raises_unfinished(tree):
    """The names of the functions whose body raises `NotImplementedError` (None for a raise outside any
    function); an empty set when nothing does or the cell does not parse."""
    found = set()

    def visit(node, function):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                found.add(function)
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and function is None \
                else function
            visit(child, inner)

    if tree is not None:
        visit(tree, None)
    return found


def _used_elsewhere(notebook, trees, defining, name):
    """Whether any code cell names `name` outside its definition (a call, or the function passed on)."""
    for cell in notebook.cells:
        tree = trees.get(id(cell))
        if tree is None:
            continue
        own = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
               and node.name == name] if cell is defining else []
        inside = {id(inner) for node in own for inner in ast.walk(node)}
        if any(isinstance(node, ast.Name) and node.id == name and id(node) not in inside for node in ast.walk(tree)):
            return True
    return False


def _grade_id(cell):
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def _grade_ids(notebook):
    return {grade_id for cell in notebook.cells if (grade_id := _grade_id(cell))}


def _kind(meta):
    if meta.get("grade") and not meta.get("solution"):
        return "a test cell"
    if meta.get("solution"):
        return "one of your answer cells"
    return "a locked cell of the release"
