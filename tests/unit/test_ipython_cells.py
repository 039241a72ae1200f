"""A cell's IPython syntax turned into the Python it runs, as the replay and the scan need it, within a budget."""

import ast
import time

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from autograder.pipeline.ipython_cells import CellReader

# Cells IPython runs as Python after its own clean-up: the reader must give the same code, whether it hands them to
# IPython (they hold IPython syntax) or keeps them as they are (they do not).
AS_IPYTHON_RUNS_THEM = [
    "def f(x):\n    return x % 3 != 0  # why?\n",
    "    def f(x):\n        return x\n",  # a whole cell indented, as pasted
    "\n\n    x = 1\n    y = 2",
    ">>> x = 1\n>>> y = x + 1\n",  # a pasted doctest
    "In [3]: x = 1\n   ...: y = 2\n",  # a pasted IPython session
    "import numpy as np\n%matplotlib inline\nfiles = !ls\nx = %time np.zeros(3)\nnp.zeros?\n",
    "a = 'b' != 'c'\nb = 5 % 3\nif a:\n    pass\n",
]


@pytest.mark.parametrize("source", AS_IPYTHON_RUNS_THEM)
def test_the_replay_gets_the_code_ipython_would_run(source):
    mine, theirs = CellReader().replay_code(source), TransformerManager().transform_cell(source)
    assert ast.dump(ast.parse(mine)) == ast.dump(ast.parse(theirs))


def test_a_notebook_built_to_be_slow_to_read_is_read_quickly_past_the_budget():
    """IPython's transformation costs about 3 s per MB: a notebook's cells with IPython syntax get at most the
    budget of it; past it, magic and shell lines are dropped (and the code is still read)."""
    reader = CellReader(budget=10_000)
    cell = "%matplotlib inline\n" + "x = 1\n" * 200_000  # 1.2 MB, one magic line
    started = time.process_time()
    code = reader.replay_code(cell)
    assert time.process_time() - started < 2, "dropped, not transformed"
    assert code.startswith("\nx = 1") and "matplotlib" not in code
    tree = reader.readable_tree("import numpy as np\n!ls\nnp.allclose = print\n")  # small, but past the budget too
    assert any(isinstance(node, ast.Assign) for node in tree.body)
    assert CellReader().replay_code("%matplotlib inline\nx = 1").startswith("get_ipython().run_line_magic")


def test_plain_python_is_never_given_to_ipython():
    reader = CellReader(budget=0)
    assert reader.replay_code("def f(x):\n    return x\n") == "def f(x):\n    return x\n"
