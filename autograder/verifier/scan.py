"""Reading a submission's code without running it (trusted, static).

The grader parses the code the student wrote (the notebook's unlocked code
cells) with Python's `ast` and looks for three things:

- **the reference**: a graded function, model builder or predictor that
  reaches cnnkit's reference implementations (`cnnkit.reference.conv2d`, `cnnkit.reference.models`,
  `cnnkit.checks`, ... under any name, directly or through the student's own
  helpers). Only `cnnkit.assignment`, `cnnkit.data`, `cnnkit.devices` and
  `cnnkit.training` are the student's to use. Such a check scores 0.
- **frameworks in NumPy exercises**: a function the notebook asks for in
  NumPy that reaches Keras, TensorFlow, PyTorch or JAX. Flagged.
- **tampering and dynamic code**: `exec`, `eval`, `compile`, `__import__`,
  `importlib`, `get_ipython`/IPython, `sys.modules`, `builtins`, `ctypes`,
  profilers and tracers, assignments into imported modules (`np.allclose =
  ...`), and paths of the grader's files (the gradebook,
  `solutions/`, other students' folders). Flagged, since such code could
  hide anything; the sandbox keeps those files out of reach anyway.

It also compares the submitted notebook with the release: edited locked
cells, changed points, deleted graded cells. A determined student can hide
code from a reader; hiding it takes the dynamic tools that are flagged.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from autograder.pipeline.ipython_cells import CellReader
from autograder.pipeline.prepare import same_source
from autograder.verifier.kinds import kind_of
from autograder.verifier.libraries import FRAMEWORKS, is_reference

__all__ = ["ScanReport", "scan"]

MAX_READ = 5 * 1000**2  # characters of a notebook's code read (a long notebook holds about 50,000)
_EVIDENCE = "application/vnd.cnnkit"  # the MIME type of the checks' evidence bundles: only the grader writes it
_GRADER_PATHS = ("gradebook", "solutions/", "autograded/", "submitted/", "/job", ".cnnkit", "nbgrader_config")
_DYNAMIC = {"exec": "exec()", "eval": "eval()", "compile": "compile()", "__import__": "__import__()",
            "get_ipython": "get_ipython()", "__builtins__": "__builtins__", "importlib": "importlib",
            "IPython": "IPython", "builtins": "builtins", "ctypes": "ctypes", "sys.modules": "sys.modules",
            "sys.setprofile": "sys.setprofile", "sys.settrace": "sys.settrace", "sys._getframe": "sys._getframe",
            "threading.settrace": "threading.settrace", "inspect.currentframe": "inspect.currentframe"}


@dataclass(frozen=True)
class ScanReport:
    """What reading the code found.

    Attributes:
        reference: dict of student name -> the cnnkit reference it reaches.
        frameworks: dict of student name -> the framework it reaches.
        flags: tuple of reasons to review, one line each.
    """

    reference: dict = field(default_factory=dict)
    frameworks: dict = field(default_factory=dict)
    flags: tuple = ()


def scan(submitted, sanitised, plan):
    """Reads one notebook of a submission.

    Args:
        submitted: the notebook as submitted (`nbformat.NotebookNode`).
        sanitised: the notebook as it ran (locked cells restored).
        plan: its `autograder.verifier.plan.NotebookPlan`.

    Returns:
        A `ScanReport`.
    """
    flags = _tampering(submitted, plan)
    code = [(_where(cell, index), cell.source) for index, cell in enumerate(sanitised.cells)
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade_id") not in plan.locked]
    reader, read = _Reader(), 0
    for where, source in code:
        read += len(source)
        if read > MAX_READ:  # parsing costs seconds per MB: code built to be slow to read is itself worth a look
            reader.dynamic.append((where, f"more than {MAX_READ // 1000**2} MB of code (the rest is not read)"))
            break
        try:
            reader.read(where, source)
        except RecursionError:  # code built to be too deep to read is itself worth a look
            reader.dynamic.append((where, "code nested too deeply to read"))
    flags += [f"{plan.name}: {what} in {where}" for where, what in reader.dynamic]
    targets = [check.target for check in plan.checks if kind_of(check).scanned and check.target]
    reference, frameworks = {}, {}
    for target in targets:
        try:
            reached = reader.reaches(target)
        except RecursionError:
            reached = set()
        cnnkit = sorted((q for q in reached if is_reference(q)), key=lambda q: (-len(q), q))  # the most specific
        if cnnkit:
            reference[target] = cnnkit[0]
            flags.append(f"{plan.name}: `{target}` uses cnnkit's reference ({cnnkit[0]})")
        used = sorted({q.split(".")[0] for q in reached if q.split(".")[0] in FRAMEWORKS})
        if used and target in plan.numpy_only:
            frameworks[target] = used[0]
            flags.append(f"{plan.name}: `{target}` should use NumPy only but calls {used[0]}")
    return ScanReport(reference, frameworks, tuple(dict.fromkeys(flags)))


def _tampering(submitted, plan):
    flags = []
    found = {}
    for cell in submitted.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            found[grade_id] = cell
    for check in plan.checks:
        if check.grade_id not in found:  # put back by prepare, which says so
            continue
        points = found[check.grade_id].metadata["nbgrader"].get("points")
        if points is not None and float(points) != check.points:
            flags.append(f"{plan.name}: the points of {check.grade_id!r} were changed to {points}")
    for grade_id, source in plan.locked.items():
        if grade_id in found and not same_source(found[grade_id].source, source):
            flags.append(f"{plan.name}: locked cell {grade_id!r} was edited (restored before grading)")
    return flags


def _scope(body):
    """`(inner, outer, local)` of what a name is bound to: the nodes that run in the function's own scope, those that
    run where it is defined (defaults, decorators, annotations), and the function's local names (its parameters and
    what it assigns, but not what it imports: an import inside still reaches the module). A bound value that is
    not a function is all outer."""
    if not isinstance(body, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return [body], [], frozenset()
    arguments = body.args
    parameters = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                  *(a for a in (arguments.vararg, arguments.kwarg) if a is not None)]
    outer = [*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]
    if isinstance(body, ast.Lambda):
        inner = [body.body]
    else:
        inner = list(body.body)
        outer += [*body.decorator_list, *(a.annotation for a in parameters if a.annotation is not None),
                  *([body.returns] if body.returns is not None else [])]
    nodes = [node for part in inner for node in ast.walk(part)]
    stored = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
    defined = {n.name for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    declared = {name for n in nodes if isinstance(n, (ast.Global, ast.Nonlocal)) for name in n.names}
    imported = {(a.asname or a.name.split(".")[0]) for n in nodes if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names}
    local = ({a.arg for a in parameters} | stored | defined) - declared - imported
    return inner, outer, frozenset(local)


def _root(node):
    """The name an attribute chain starts from (`np` for `np.linalg.norm`), or None."""
    start = _chain(node)[-1]
    return start.id if isinstance(start, ast.Name) else None


def _chain(node):
    """The nodes of an attribute chain (`a.b.c`: the three of it), outermost first."""
    parts = [node]
    while isinstance(node, ast.Attribute):
        node = node.value
        parts.append(node)
    return parts


def _displays(qualified):
    """Whether a qualified name is IPython's display API (`display`, `clear_output`, `Markdown`, ...), which
    notebooks use to show results: no hook into the kernel, unlike the rest of IPython."""
    return qualified is not None and (qualified == "IPython.display" or qualified.startswith("IPython.display."))


def _where(cell, index):
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {grade_id!r}" if grade_id else f"cell {index + 1}"


class _Reader:
    """Names bound across the notebook's cells, and what each function reaches."""

    def __init__(self):
        self.cells = CellReader()  # this notebook's
        self.aliases = {}      # local name -> qualified name of a module or object
        self.modules = set()   # qualified names bound by `import` (modules, not objects)
        self.functions = {}    # function name -> list of AST bodies (redefinitions add up)
        self.dynamic = []      # (where, what)

    def read(self, where, source):
        try:
            tree = self.cells.readable_tree(source)  # IPython's syntax read as what it runs
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # the kernel reports it; nothing to read
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for name in node.names:
                    parts = name.name.split(".")
                    self.modules.update(".".join(parts[:i + 1]) for i in range(len(parts)))
                    if name.asname:
                        self.aliases[name.asname] = name.name
                    else:
                        top = name.name.split(".")[0]
                        self.aliases[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for name in node.names:
                    self.aliases[name.asname or name.name] = f"{node.module}.{name.name}"
        for node in tree.body:
            self._bind(node)
        shown = {id(part) for node in ast.walk(tree)  # `IPython.display`: showing things, not hooks
                 if isinstance(node, (ast.Attribute, ast.Name)) and _displays(self.qualify(node))
                 for part in _chain(node)}
        for node in ast.walk(tree):
            what = None if id(node) in shown else self._dynamic(node) or self._patch(node)
            if what:
                self.dynamic.append((where, what))

    def _patch(self, node):
        """`np.allclose = ...`, `setattr(json, "dump", ...)`: changing a module others rely on."""
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr") \
                and node.args:
            targets = [ast.Attribute(value=node.args[0], attr="?")]
        for target in targets:
            if isinstance(target, ast.Attribute):
                module = self.qualify(target.value)
                if module and module in self.modules:
                    return f"patches the module {module} ({module}.{target.attr} = ...)"
        return None

    def _bind(self, node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.functions.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):  # what a name is bound to counts as its body (lambdas too)
                    qualified = None if isinstance(node.value, ast.Lambda) else self.qualify(node.value)
                    if qualified:
                        self.aliases[target.id] = qualified
                    self.functions.setdefault(target.id, []).append(node.value)

    def qualify(self, node):
        """`cnnkit.reference.conv2d` for `c.conv2d` when `c` is `cnnkit`; None when unknown."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualify(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):  # functools.partial(cnnkit.reference.conv2d, ...), getattr(cnnkit, ...)
            return self.qualify(node.func) if not node.args else (self.qualify(node.args[0]) or self.qualify(node.func))
        return None

    def reaches(self, name, seen=None):
        """Qualified names a student name reaches, through the helpers it calls."""
        seen = set() if seen is None else seen
        if name in seen:
            return set()
        seen.add(name)
        reached = set()
        if name in self.aliases:
            reached.add(self.aliases[name])
        for body in self.functions.get(name, []):
            inner, outer, local = _scope(body)
            for nodes, shadowed in ((inner, local), (outer, frozenset())):
                for node in (node for part in nodes for node in ast.walk(part)):
                    if not isinstance(node, (ast.Name, ast.Attribute)) or _root(node) in shadowed:
                        continue  # a parameter or local variable named like a module is not the module
                    qualified = self.qualify(node)
                    if qualified:
                        reached.add(qualified)
                    if isinstance(node, ast.Name) and node.id in self.functions and node.id != name:
                        reached |= self.reaches(node.id, seen)
        return reached

    def _dynamic(self, node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _EVIDENCE in node.value:
                return f"writes the grader's evidence type ({_EVIDENCE}...)"
            touched = [p for p in _GRADER_PATHS if p in node.value]
            return f"refers to the grader's files ({touched[0]!r})" if touched else None
        if isinstance(node, ast.Name) and node.id in _DYNAMIC:
            return f"uses {_DYNAMIC[node.id]}"
        if isinstance(node, (ast.Attribute, ast.Name)):
            qualified = self.qualify(node)
            if qualified:
                for key, what in _DYNAMIC.items():
                    if qualified == key or qualified.startswith(key + "."):
                        return f"uses {what}"
        return None
