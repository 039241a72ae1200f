"""End to end under JAX and PyTorch: `cnnkit demo` with `KERAS_BACKEND` set
(the grader and every student kernel on that backend) grades every example
as under TensorFlow: the same statuses, the same scores for every check that
does not train a model, and the same outcome (full, partial, zero) for those
that do (training differs in its last digits from one backend to another)."""

import os
import shutil
import subprocess
import sys

import pytest

from autograder.course import ASSIGNMENT, REPO
from autograder.examples import EXAMPLES
from autograder.plan import plan_of
from autograder.record import ResultsLog

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module", params=["jax", "torch"])
def backend_run(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"demo-{request.param}")
    course = root / "course"
    for folder in ("solutions", "assignments"):
        shutil.copytree(REPO / folder, course / folder)
    shutil.copy(REPO / "nbgrader_config.py", course)
    env = {k: v for k, v in os.environ.items() if k not in ("CNNKIT_DATA", "CNNKIT_CHECK_SEED")}
    env.update(KERAS_BACKEND=request.param, CNNKIT_CACHE=str(root / "cache"))
    out = subprocess.run([sys.executable, "-m", "autograder", "demo", "--course", str(course), "--workdir",
                          str(root / "work")], capture_output=True, text=True, env=env, timeout=1500, cwd=REPO)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return request.param, out.stdout, ResultsLog(root / "work" / "reports" / ASSIGNMENT / "results.jsonl").latest()


def _trained_cells():
    source, release = REPO / "solutions" / ASSIGNMENT, REPO / "assignments" / ASSIGNMENT
    return {check.grade_id for path in sorted(source.glob("*.ipynb"))
            for check in plan_of(path, release / path.name).checks if check.kind == "trained"}


def _outcome(cell):
    return "full" if cell.score >= cell.max_score else "zero" if cell.score == 0 else "partial"


def test_every_example_gets_tensorflows_grade(run, backend_run):
    backend, stdout, results = backend_run
    assert "demo: every example graded as expected" in stdout
    trained = _trained_cells()
    assert trained, "the seizure notebook grades trained models"
    for example in EXAMPLES:
        mine, reference = results[example.student], run["results"][example.student]
        assert mine.status == reference.status, (backend, example.student, mine.reason)
        for got, want in zip(mine.cells, reference.cells):
            assert got.grade_id == want.grade_id
            where = f"{backend} {example.student} {got.grade_id}: {got.score} vs TensorFlow's {want.score}"
            if got.grade_id in trained:
                assert _outcome(got) == _outcome(want), where
            else:
                assert got.score == pytest.approx(want.score, abs=1e-9), where
