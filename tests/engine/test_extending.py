"""The recipes of docs/instructors.md, proved: a new graded NumPy function and a
new kind of check, added to a temporary course and graded end to end by
`cnnkit grade` (real nbgrader, real kernels in the sandbox, the verifier in
its trusted worker processes).

- The function (`relu`) is one `GradedFunction` registered in
  `cnnkit.checks.GRADED` and a hidden test calling `check_function`.
- The kind (`even`: is `fn(-x) == fn(x)`?) is one `Kind` subclass registered
  with the verifier, and a hidden test calling its check.

Both live in the course's own `cnnkit_checks.py` (the route for one course;
in the kit they are the same lines in `cnnkit/checks/functions.py` and a
module of `autograder/verifier/kinds/`). The kernel never knows them, so its
own test cells fail and claim nothing: the verifier's verdict is the score.
"""

import shutil
import textwrap

import nbformat
import pytest

from autograder import grade
from autograder.course.course import Course
from autograder.sandbox.limits import Limits
from autograder.verifier.kinds import KINDS
from cnnkit.checks import GRADED
from tests.engine.conftest import REPO, _cell

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

COURSE_CHECKS = '''
import numpy as np

from autograder.verifier.kinds import Check, Kind, Verdict, register
from autograder.verifier.kinds.function import output_of
from cnnkit.checks import GRADED, CheckResult, Mistake
from cnnkit.checks.functions import GradedFunction, Misconception

GRADED["relu"] = GradedFunction(
    lambda x: np.maximum(x, 0.0), lambda rng: {"x": rng.standard_normal(int(rng.integers(1, 9)))},
    (Misconception("absolute value instead of ReLU", "ReLU zeroes the negative inputs; abs turns them positive.",
                   lambda x: np.abs(x)),),
    edges=lambda: [{"x": np.array([-2.0, 0.0, 3.0])}, {"x": np.array([1.5, 2.0])}],
    kinds=lambda x: ["negative inputs" if np.any(np.asarray(x) < 0) else "no negative input"])


def check_even(fn, *, points=1.0, samples=4):
    """The new kind's check, as a hidden test calls it."""
    raise NotImplementedError


class Even(Kind):
    """`check_even(fn, *, samples)`: the function gives the same output for x and -x."""

    name = "even"
    check = staticmethod(check_even)
    target = "fn"
    action = "call"

    def read(self, call, grade_id, points, stubs):
        return Check(grade_id, points, self.name, call.name("fn"), "even", options=(("samples", call.value("samples")),))

    def request(self, check, verifier, student):
        xs = np.random.default_rng(verifier.seed(student, check.name)).standard_normal(check.option("samples"))
        return {"function": check.target, "cases": [[float(x)] for x in xs] + [[float(-x)] for x in xs]}

    def verdict(self, check, reported, context):
        values = [output_of(item)[0] for item in reported.get("outputs", [])]
        half = check.option("samples")
        same = sum(a is not None and b is not None and np.allclose(a, b) for a, b in zip(values[:half], values[half:]))
        result = CheckResult("even", check.points, passed=int(same), total=half)
        if same < half:
            result.messages.append(Mistake("not even", "f(-x) differs from f(x)"))
        return Verdict.of(result)


register(Even())
'''


def _source():
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        _cell("import numpy as np", "imports", locked=True),
        _cell("""
            def relu(x):
                ### BEGIN SOLUTION
                return np.maximum(x, 0.0)
                ### END SOLUTION
            """, "relu", solution=True),
        _cell("""
            ### BEGIN HIDDEN TESTS
            from cnnkit.checks import check_function
            check_function("relu", relu, points=2)
            ### END HIDDEN TESTS
            """, "relu_tests", grade=True, points=2, locked=True),
        _cell("""
            def square(x):
                ### BEGIN SOLUTION
                return x * x
                ### END SOLUTION
            """, "square", solution=True),
        _cell("""
            ### BEGIN HIDDEN TESTS
            check_even(square, points=1, samples=3)
            ### END HIDDEN TESTS
            """, "square_tests", grade=True, points=1, locked=True),
    ]
    return notebook


def _submit(root, student, relu, square):
    notebook = nbformat.read(root / "assignments" / "ext" / "ext.ipynb", as_version=4)
    answers = {"relu": f"def relu(x):\n    return {relu}", "square": f"def square(x):\n    return {square}"}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = textwrap.dedent(answers[grade_id])
    folder = root / "submitted" / student / "ext"
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "ext.ipynb")


def test_a_new_graded_function_and_a_new_kind_grade_end_to_end(tmp_path, monkeypatch):
    root = tmp_path / "course"
    (root / "solutions" / "ext").mkdir(parents=True)
    nbformat.write(_source(), root / "solutions" / "ext" / "ext.ipynb")
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "cnnkit_checks.py").write_text(COURSE_CHECKS)
    Course(root).api().generate_assignment("ext", force=True, create=True)
    _submit(root, "right", "np.maximum(x, 0.0)", "x * x")
    _submit(root, "wrong", "np.abs(x)", "x * x * x")
    monkeypatch.setitem(GRADED, "relu", None)  # the course's checks register into these; removed afterwards
    monkeypatch.setitem(KINDS, "even", None)
    monkeypatch.setenv("CNNKIT_COURSE_SECRET", "extending")
    run = grade("ext", course=root, workers=1, progress=False, limits=Limits(timeout=120, cell_timeout=30),
                echo=lambda line: None)
    right, wrong = ({cell.grade_id: cell for cell in run.results[s].cells} for s in ("right", "wrong"))
    assert run.results["right"].status == "graded" and run.results["right"].score == 3.0, right
    assert 0 < wrong["relu_tests"].score < 2.0, wrong["relu_tests"].feedback
    assert dict(wrong["relu_tests"].misconceptions) == {
        "absolute value instead of ReLU": "ReLU zeroes the negative inputs; abs turns them positive."}
    assert wrong["square_tests"].score == 0.0 and "Likely mistake (not even)" in wrong["square_tests"].feedback
    assert run.results["wrong"].flags == (), "the kernel claims nothing it could not: no flag"
