"""Same code, same points, for bugs nobody listed: every small mutation of
the solution's NumPy functions (an operator swapped, a constant off by one,
a comparison loosened, a slice's step dropped), judged on the cases several
course secrets draw, gets one verdict: the same points, the same name (or
none), and never a special-casing flag, since an honest bug is not code that
recognises the fixed cases. A mutation reaches the graded functions that call
the one it changed (`conv_macs` through a wrong `output_length`), as a
student's own helper does in the notebook."""

import ast
import copy
import json
import warnings

import numpy as np
import pytest

from autograder.course.course import REPO
from cnnkit.checks.functions import GRADED, call_positionally, draw_cases, judge
from cnnkit.seeds import derive_seed

pytestmark = pytest.mark.slow
SECRETS = [f"mutant-secret-{i}" for i in range(8)]
_SWAPPED = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
            ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}


def _function_cells():
    """The source of each solution cell that only defines functions (and imports)."""
    for path in sorted((REPO / "solutions" / "cnn").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                source = "".join(cell["source"])
                if all(isinstance(node, (ast.FunctionDef, ast.Import, ast.ImportFrom))
                       for node in ast.parse(source).body):
                    yield source


class _Mutation(ast.NodeTransformer):
    """Makes the `target`-th possible change of a tree, and says what it was in `done`."""

    def __init__(self, target):
        self.target, self.seen, self.done = target, -1, None

    def _chosen(self):
        self.seen += 1
        return self.seen == self.target

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if type(node.op) in _SWAPPED and self._chosen():
            self.done = f"line {node.lineno}: {type(node.op).__name__} -> {_SWAPPED[type(node.op)].__name__}"
            node.op = _SWAPPED[type(node.op)]()
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and type(node.ops[0]) in _SWAPPED and self._chosen():
            self.done = f"line {node.lineno}: {type(node.ops[0]).__name__} -> {_SWAPPED[type(node.ops[0])].__name__}"
            node.ops = [_SWAPPED[type(node.ops[0])]()]
        return node

    def visit_Constant(self, node):
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            for delta in (1, -1):
                if self._chosen():
                    self.done = f"line {node.lineno}: {node.value} -> {node.value + delta}"
                    return ast.copy_location(ast.Constant(node.value + delta), node)
        return node

    def visit_Slice(self, node):
        self.generic_visit(node)
        if node.step is not None and self._chosen():
            self.done, node.step = f"line {node.lineno}: a slice's step dropped", None
        return node


def _mutants(source):
    """(what changed, mutated source tree) for every single change of `source`."""
    tree, target = ast.parse(source), 0
    while True:
        mutation = _Mutation(target)
        mutated = mutation.visit(copy.deepcopy(tree))
        if mutation.done is None:
            return
        yield mutation.done, ast.fix_missing_locations(mutated)
        target += 1


def _calls(fn, names, namespace, seen=()):
    """Whether `fn` calls one of `names`, directly or through other functions of `namespace`."""
    code = getattr(fn, "__code__", None)
    return code is not None and any(
        name in names or (name not in seen and _calls(namespace.get(name), names, namespace, seen + (name,)))
        for name in code.co_names)


def _verdict(name, fn, secret):
    cases = draw_cases(name, derive_seed(secret, "mutant", name))
    result = judge(name, cases, [call_positionally(fn, case) for case in cases], points=3.0)
    return round(result.score, 6), tuple(m.name for m in result.misconceptions), tuple(result.evidence["special_cased"])


SOLUTION = {"np": np}
for _source in _function_cells():
    exec(_source, SOLUTION)  # noqa: S102 - the repository's own solution
CELLS = [source for source in _function_cells()  # the cells of the graded NumPy functions (and their helpers)
         if {node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)} & set(GRADED)]


@pytest.mark.parametrize("source", CELLS, ids=[ast.parse(s).body[-1].name for s in CELLS])
def test_every_mutation_of_a_solution_function_gets_one_verdict_under_every_secret(source):
    defined = {node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
    judged = 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for change, tree in _mutants(source):
            namespace = dict(SOLUTION)
            try:
                exec(compile(tree, "<mutant>", "exec"), namespace)  # noqa: S102 - a mutation of the solution
            except Exception:  # a mutation that does not even define its function is nobody's submission
                continue
            for name in [n for n in GRADED if n in namespace and (n in defined or _calls(namespace[n], defined,
                                                                                             namespace))]:
                verdicts = {_verdict(name, namespace[name], secret) for secret in SECRETS}
                if verdicts == {(3.0, (), ())}:
                    continue  # a mutation that changes nothing graded (dead code, an equivalent form)
                judged += 1
                assert len(verdicts) == 1, f"{name} with {change}: {sorted(verdicts)}"
                assert not verdicts.pop()[2], f"{name} with {change}: an honest bug read as special-casing"
    assert judged, "no mutation of this cell lost a point: the checks cannot see its bugs"
