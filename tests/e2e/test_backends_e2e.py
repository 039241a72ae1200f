"""End to end under JAX and PyTorch: `cnnkit demo` with `KERAS_BACKEND` set
(the grader and every student kernel on that backend) grades the solution,
the stub and every example mistake whose grading involves the backend
(models built, saved, loaded, trained and predicted) as under TensorFlow:
the same statuses, the same scores for every check that does not train a
model, and for those that do the same outcome (full, partial, zero) or a score within a tenth of
the cell's points (training differs in its last digits from one backend to
another, which moves a model near a threshold across it). The NumPy
exercises' mistakes are scored by NumPy alone, and the examples that hit the
sandbox's limits (a loop, a memory hog, ...) test the sandbox, not the
backend: those run under TensorFlow only. Under JAX, whose kernels train the
seizure notebook's models about four times slower than PyTorch's on two
cores, the seizure notebook's mistakes are left to PyTorch: JAX grades the
solution and the stub (every kind of check, passing and failing) and the
model mistakes of the pooling notebook."""

import os
import shutil
import subprocess
import sys

import pytest

from autograder.course.course import ASSIGNMENT, REPO
from autograder.frontends.examples import EXAMPLES, NB3
from autograder.verifier.plan import plan_of
from autograder.pipeline.record import ResultsLog
from tests.e2e.conftest import E2E_SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
MODEL_CELLS = {"lenet5_tests", "gap_cnn_tests", "gap_invariance_tests", "residual_block_tests"}
# The solution, the stub and the mistakes whose grading involves the backend (models built, saved, loaded, trained,
# predicted); the NumPy exercises' mistakes are scored by NumPy alone and the sandbox limits test the sandbox.
GRADED = [example for example in EXAMPLES if example.status == "graded"
          and (example.stub or not example.expect or set(example.notebooks) & {NB3}
               or any(grade_id in MODEL_CELLS for grade_id in example.expect))]
GRADED_UNDER = {"torch": GRADED,
                "jax": [example for example in GRADED if example.stub or not example.expect or NB3 not in example.notebooks]}


@pytest.fixture(scope="module", params=["jax", "torch"])
def backend_run(request, tmp_path_factory, run):
    root = tmp_path_factory.mktemp(f"demo-{request.param}")
    course = root / "course"
    for folder in ("solutions", "assignments"):
        shutil.copytree(REPO / folder, course / folder)
    shutil.copy(REPO / "nbgrader_config.py", course)
    env = {k: v for k, v in os.environ.items() if k not in ("CNNKIT_DATA", "CNNKIT_CHECK_SEED")}
    # The course's record of trained accuracies (keyed by architecture, not backend) carries over, as a course's
    # cache does when it regrades on another backend: the verifier under this backend loads, predicts and judges.
    env.update(KERAS_BACKEND=request.param, CNNKIT_CACHE=run["env"]["CNNKIT_CACHE"], CNNKIT_COURSE_SECRET=E2E_SECRET)
    out = subprocess.run([sys.executable, "-m", "autograder", "demo", "--course", str(course), "--workdir",
                          str(root / "work"), "--only", ",".join(e.student for e in GRADED_UNDER[request.param])],
                         capture_output=True, text=True, env=env, timeout=1500, cwd=REPO)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return request.param, out.stdout, ResultsLog(root / "work" / "reports" / ASSIGNMENT / "results.jsonl").latest()


def _trained_cells():
    source, release = REPO / "solutions" / ASSIGNMENT, REPO / "assignments" / ASSIGNMENT
    return {check.grade_id for path in sorted(source.glob("*.ipynb"))
            for check in plan_of(path, release / path.name).checks if check.kind in ("trained", "improvement")}


def _outcome(cell):
    return "full" if cell.score >= cell.max_score else "zero" if cell.score == 0 else "partial"


def test_every_example_gets_tensorflows_grade(run, backend_run):
    backend, stdout, results = backend_run
    assert "demo: every example graded as expected" in stdout
    trained = _trained_cells()
    assert trained, "the seizure notebook grades trained models"
    assert {example.student for example in GRADED_UNDER[backend]} <= set(results)
    assert len(GRADED_UNDER["jax"]) >= 4 and any(NB3 in example.notebooks for example in GRADED_UNDER["jax"])
    for example in GRADED_UNDER[backend]:
        mine, reference = results[example.student], run["results"][example.student]
        assert mine.status == reference.status, (backend, example.student, mine.reason)
        for got, want in zip(mine.cells, reference.cells):
            assert got.grade_id == want.grade_id
            where = f"{backend} {example.student} {got.grade_id}: {got.score} vs TensorFlow's {want.score}"
            if got.grade_id in trained:
                assert _outcome(got) == _outcome(want) or abs(got.score - want.score) <= 0.1 * want.max_score, where
            else:
                assert got.score == pytest.approx(want.score, abs=1e-9), where
