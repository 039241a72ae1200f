"""End to end: `cnnkit demo` releases the course and grades the example
submissions through the engine (sandboxed, two workers); every example gets
the expected status, score and feedback. One run (about 6 minutes on 2 cores,
the `run` fixture of conftest.py) serves every end-to-end test."""

import nbformat
import pytest

from autograder.course.course import ASSIGNMENT
from autograder.frontends.examples import EXAMPLES
from cnnkit.checks import EVIDENCE_MIME

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BY_NAME = {example.student: example for example in EXAMPLES}


def test_every_example_is_graded_as_expected(run):
    assert "demo: every example graded as expected" in run["stdout"]
    assert "sandbox: bubblewrap namespaces" in run["stdout"] and "workers: 2 worker(s)" in run["stdout"]


@pytest.mark.parametrize("student", [e.student for e in EXAMPLES])
def test_each_example_gets_its_status_in_the_results_and_the_gradebook(run, student):
    result = run["results"][student]
    assert result.status == BY_NAME[student].status, result.reason
    assert (result.status == "graded") == (result.reason == ""), result.reason
    assert run["scores"][student].score == pytest.approx(result.score), "gradebook and results.jsonl agree"


def test_solution_scores_full_marks_and_stub_zero(run):
    solution, stub = run["scores"]["solution"], run["scores"]["stub"]
    assert solution.max_score == stub.max_score == 46
    assert solution.score == 46 and all(c.score == c.max_score for c in solution.cells())
    assert stub.score == 0 and len(stub.cells()) == 23


@pytest.mark.parametrize("student", [e.student for e in EXAMPLES if e.expect])
def test_each_example_gets_the_expected_score_and_feedback(run, student):
    example = BY_NAME[student]
    submitted = {name.removesuffix(".ipynb") for name in example.notebooks}
    cells = [cell for cell in run["results"][student].cells if cell.notebook in submitted]
    assert cells, f"{student}: nothing graded"
    for cell in cells:
        outcome, words = example.expect.get(cell.grade_id, ("full", ""))
        where = f"{student} {cell.grade_id}: {cell.score} / {cell.max_score}\n{cell.feedback}"
        if outcome == "full":
            assert cell.score == cell.max_score, where
        elif outcome == "zero":
            assert cell.score == 0, where
        else:
            assert 0 < cell.score < cell.max_score, where
        assert words in cell.feedback, where


def test_feedback_table_lists_every_student(run):
    table = run["stdout"].split("student", 1)[1]
    for example in EXAMPLES:
        assert example.student in table
    assert "kernel not flipped: convolution flips the kernel" in table
    assert "model never trained: accuracy is at chance level" in table
    for status in ("timeout", "memory", "crashed", "output-limit", "malformed"):
        assert f"  {status}  " in table


def test_test_cells_end_with_a_number_and_never_write_stderr(run):
    """nbgrader's traps: stderr in a test cell scores 0; a non-numeric last value scores full marks."""
    for student in ("solution", "noisy-but-correct", "kernel-not-flipped", "untrained-model"):
        folder = run["work"].root / "autograded" / student / ASSIGNMENT
        for path in folder.glob("*.ipynb"):
            for cell in nbformat.read(path, as_version=4).cells:
                if not cell.metadata.get("nbgrader", {}).get("grade"):
                    continue
                kinds = [o.output_type for o in cell.outputs]
                assert not any(o.get("name") == "stderr" for o in cell.outputs), (student, path.name, cell.outputs)
                assert kinds[-1] == "execute_result", (student, path.name, kinds)
                value = cell.outputs[-1]["data"]["text/plain"]
                assert float(value) == float(value.strip()), value
                assert any(EVIDENCE_MIME in o.get("data", {}) for o in cell.outputs), "no evidence bundle"


def test_trained_models_are_left_as_evidence(run):
    folder = run["work"].root / "autograded" / "solution" / ASSIGNMENT
    notebook = nbformat.read(folder / "03_seizure_classifier.ipynb", as_version=4)
    bundles = [o["data"][EVIDENCE_MIME] for c in notebook.cells for o in c.get("outputs", [])
               if EVIDENCE_MIME in o.get("data", {})]
    paths = [b["model_path"] for b in bundles if b.get("model_path")]
    assert paths == ["cnnkit_evidence/spec_trained.keras"]  # "improve it" is graded on the architecture alone
    for path in paths:
        assert (folder / path).is_file()
    seeds = [b["seed"] for b in bundles if "seed" in b]
    assert seeds, "function checks record their seed"


def test_each_architecture_is_trained_once_per_seed_and_announced(run):
    """The references (the spec CNN on the assignment's seed and the grader's two) and the solution's improved
    architecture on the grader's two seeds: five trainings for the whole demo class, each announced once; every
    other student who needs one reuses the record."""
    summary = next(line for line in run["stdout"].splitlines() if line.startswith("trainings under the budget"))
    assert summary.startswith("trainings under the budget: trained 5, reused "), summary
    assert int(summary.split("reused ")[1].split(";")[0]) >= 6, summary
    announced = [line.split(": ", 1)[1] for line in (run["stdout"] + run["stderr"]).splitlines()
                 if line.endswith("under the budget") and ": training " in line]
    assert len(announced) == 5 == len(set(announced)), announced
