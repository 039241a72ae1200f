"""The layout keeps the architecture's rules (read from the source with `ast`,
function-local imports included): no import circle in either package, cnnkit
never imports autograder, only the front ends import the engine, the sandbox
imports nothing of the trusted side, the probe nothing of the grader; kinds of
check are compared nowhere but in their registry, and no decision is read
back from the text of feedback."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _modules():
    found = {}
    for path in sorted(REPO.glob("cnnkit/**/*.py")) + sorted(REPO.glob("autograder/**/*.py")):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


MODULES = _modules()


def _resolve(name):
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(module):
    """The project modules a module imports, anywhere in its code."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            found |= {_resolve(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {_resolve(f"{node.module}.{alias.name}") for alias in node.names}
    # a module's own packages are not imports of it
    return {name for name in found if name and name != module and not module.startswith(name + ".")}


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles():
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in GRAPH[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def test_there_is_no_import_circle_in_either_package():
    assert _cycles() == []


def test_cnnkit_never_imports_autograder():
    assert {m: d for m, d in GRAPH.items() if m.startswith("cnnkit") and any(x.startswith("autograder") for x in d)} == {}


def test_only_the_front_ends_import_the_engine():
    importers = {m for m, d in GRAPH.items() if "autograder.engine" in d}
    assert importers and all(m.startswith("autograder.frontends.") for m in importers), importers


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("autograder.sandbox.")])
def test_the_sandbox_imports_nothing_of_the_trusted_side(module):
    trusted = ("autograder.verifier", "autograder.course", "autograder.pipeline", "autograder.exports",
               "autograder.frontends", "autograder.engine")
    assert not [d for d in GRAPH[module] if d.startswith(trusted)], GRAPH[module]


def test_the_probe_imports_nothing_of_the_grader_or_the_reference():
    assert GRAPH["autograder.sandbox.probe"] == set()


def _kind_comparisons(path):
    """`x.kind == "..."` and `x.kind in (...)` in a module (NumPy's `dtype.kind` aside)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        left = node.left if isinstance(node, ast.Compare) else None
        if isinstance(left, ast.Attribute) and left.attr == "kind" and getattr(left.value, "attr", "") != "dtype":
            if any(isinstance(c, (ast.Constant, ast.Tuple, ast.Set, ast.List)) for c in node.comparators):
                found.append(node.lineno)
    return found


def test_no_module_of_the_engine_compares_kind_strings():
    found = {m: lines for m, path in MODULES.items() if m.startswith("autograder") and (lines := _kind_comparisons(path))}
    assert found == {}


def test_no_decision_is_read_back_from_feedback_text():
    for module, path in MODULES.items():
        if not module.startswith("autograder"):
            continue
        text = path.read_text()
        assert "Likely mistake" not in text, f"{module} reads misconceptions back from feedback"
        assert '"refused" in' not in text and "startswith(GRADER" not in text, module
