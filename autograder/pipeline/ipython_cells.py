"""A notebook cell's IPython syntax as the Python it runs (trusted, static).

A notebook's cells are IPython, not Python: `%%time` above a function,
`%matplotlib inline`, `!pip install ...`, `x = %time f()`. Jupyter runs
them; the grader's two readers of a submission's code outside the kernel
must read them the same way:

- the replay (`autograder.sandbox.replay`) runs each cell with `exec`:
  `CellReader.replay_code` hands it Python in which a cell magic that runs
  its body in the notebook (`RUNS_ITS_BODY`: `%%time`, `%%capture`,
  `%%prun`) is that body, and the rest is IPython's own transformation (its
  `get_ipython()` calls do nothing in the replay, except `%time` and
  `%%writefile`);
- the scan (`autograder.verifier.scan`) reads the code without running it:
  `CellReader.readable_tree` gives the syntax tree of what the cell runs,
  the code of timing and profiling magics read as code (`%timeit` too: it
  runs its statement, if elsewhere), a `%%writefile` module read as code
  (the notebook may import it), and every other magic or shell line an inert
  `None`. So one `x = !ls` line no longer hides a whole cell from the scan.

IPython's transformation costs about 3 s per MB of code, in the grader's own
processes: a `CellReader` reads one notebook and transforms only the cells
that hold IPython syntax, at most `MAX_TRANSFORMED` characters of them; past
that (a notebook built to be slow to read) its magic and shell lines are
dropped instead, as the scan did before, so reading any notebook stays quick.
"""

from __future__ import annotations

import ast
import re

__all__ = ["MAX_TRANSFORMED", "RUNS_ITS_BODY", "CellReader", "without_ipython_lines"]

# Cell magics that run their body as a cell of the notebook, in its namespace.
RUNS_ITS_BODY = frozenset({"time", "capture", "prun"})
# What the scan reads as code: those, and magics whose statement or body is Python that runs somewhere.
_READ_AS_CODE = RUNS_ITS_BODY | {"timeit", "writefile"}
_LINE_CODE = frozenset({"time", "timeit", "prun"})
MAX_TRANSFORMED = 1_000_000  # characters per notebook given to IPython's transformation (about 3 s)
# What IPython reads as its own syntax: a magic, a shell escape or help (`%`, `!`, `?` first or `?` last), an
# assignment from one (`x = %time f()`, `files = !ls`), a pasted prompt (`>>> `, `... `, `In [3]: `), or a whole
# cell indented (IPython takes the first line's indent off every line). A cell without any is Python as it stands.
_IPYTHON_SYNTAX = re.compile(r"^[ \t]*([%!?]|>>>|\.\.\.|In \[)|=[ \t]*[%!]|\?[ \t]*$|\A\s*?^[ \t]+\S", re.MULTILINE)


class CellReader:
    """Turns one notebook's cells into the Python they run, sharing one budget of IPython's transformation.

    Args:
        budget: int, characters of cells with IPython syntax that IPython
            transforms (default `MAX_TRANSFORMED`).
    """

    def __init__(self, budget=MAX_TRANSFORMED):
        self.left = budget

    def replay_code(self, source):
        """A cell's code as plain Python for the replay.

        Args:
            source: str, the cell's source.

        Returns:
            A str of Python: a body-running cell magic on the first line
            (after blank lines, as IPython finds it; one inside it in turn)
            replaced by its body, the rest transformed by IPython (the source
            as written when IPython cannot transform it).
        """
        return self._python(_unwrapped(source, RUNS_ITS_BODY))

    def readable_tree(self, source):
        """The syntax tree of what a cell runs, for reading without running it.

        Args:
            source: str, the cell's source.

        Returns:
            An `ast.Module`.

        Raises:
            SyntaxError, ValueError, RecursionError, MemoryError: as
                `ast.parse` does on what the cell holds.
        """
        tree = ast.parse(self._python(_unwrapped(source, _READ_AS_CODE)))
        if "get_ipython" in source:  # the student's own calls stay what they are (and the scan flags them)
            return tree
        return ast.fix_missing_locations(_Magics().visit(tree))

    def _python(self, source):
        if not _IPYTHON_SYNTAX.search(source):
            return source
        if len(source) > self.left:  # past the budget: the magic and shell lines dropped, quickly
            return without_ipython_lines(source)
        self.left -= len(source)
        return _transformed(source)


def without_ipython_lines(source):
    """A cell's source with its magic and shell lines (`%...`, `!...`) blanked: Python, quickly, if roughly.

    Args:
        source: str, the cell's source.

    Returns:
        A str.
    """
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _unwrapped(source, magics):
    lines, first = source.splitlines(keepends=True), 0
    while True:
        while first < len(lines) and not lines[first].strip():
            first += 1
        line = lines[first] if first < len(lines) else ""
        if not (line.startswith("%%") and line[2:].rstrip().partition(" ")[0] in magics):
            return "".join(lines[first:])
        first += 1


def _transformed(source):
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - left as written; whoever runs or reads it meets its error as the notebook would
        return source


def _magic(node):
    """`(method, args)` of a call IPython's transformation wrote (`get_ipython().run_line_magic('time', 'f()')`),
    else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Call) and isinstance(node.func.value.func, ast.Name)
            and node.func.value.func.id == "get_ipython"):
        return None
    return node.func.attr, [arg.value if isinstance(arg, ast.Constant) else None for arg in node.args]


def _line_code(found, mode):
    """The code of a `%time`-like line magic, parsed in `mode`, or None."""
    method, args = found
    if method != "run_line_magic" or len(args) < 2 or args[0] not in _LINE_CODE or not isinstance(args[1], str):
        return None
    try:
        return ast.parse(args[1], mode=mode)
    except SyntaxError:
        return None


class _Magics(ast.NodeTransformer):
    """IPython's calls read as what they run: a timing magic's code in its place, anything else `None`."""

    def visit_Expr(self, node):
        found = _magic(node.value)
        if found is not None:
            code = _line_code(found, "exec")
            return code.body if code is not None else ast.Expr(ast.Constant(None))
        return self.generic_visit(node)

    def visit_Call(self, node):
        found = _magic(node)
        if found is not None:
            code = _line_code(found, "eval")
            return code.body if code is not None else ast.Constant(None)
        return self.generic_visit(node)
