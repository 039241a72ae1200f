"""Cases are secret, personal and repeatable: a regrade gives the same score,
two students get different cases, a changed submission draws new random
cases (so outputs its feedback showed cannot be written in), and every example
mistake loses points under any course secret (the fixed edge cases see to it)."""

import numpy as np
import pytest

from autograder.frontends.examples import EXAMPLES, NB1, NB2, build_submission
from autograder.verifier.plan import plan_of
from cnnkit.seeds import check_seed, student_seed
from cnnkit.checks.functions import GRADED, call_positionally, draw_cases, judge

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]
PLANS = {name: plan_of(REPO / "solutions" / "cnn" / name, REPO / "assignments" / "cnn" / name) for name in (NB1, NB2)}
MISTAKES = [e for e in EXAMPLES if e.expect and e.status == "graded" and set(e.notebooks) <= {NB1, NB2}
            and any(o != "full" for o, _ in e.expect.values())]


class _Course:
    root = REPO


def _functions(example, notebook):
    """The example student's functions, defined from its notebook's cells."""
    namespace = {}
    exec("import numpy as np", namespace)
    for cell in build_submission(example, _Course)[notebook].cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            exec(cell.source, namespace)
    return namespace


def _score(check, function, secret, student):
    cases = draw_cases(check.name, check_seed(student_seed(secret, student), check.name), 10)
    return judge(check.name, cases, [call_positionally(function, case) for case in cases], points=check.points).score


@pytest.mark.parametrize("example", MISTAKES, ids=lambda e: e.student)
def test_every_example_mistake_loses_points_under_50_secrets(example):
    for notebook in example.notebooks:
        namespace = _functions(example, notebook)
        for check in PLANS[notebook].checks:
            outcome, _ = example.expect.get(check.grade_id, ("full", ""))
            if check.kind != "function" or outcome == "full":
                continue
            scores = [_score(check, namespace[check.target], f"secret-{i}", example.student) for i in range(50)]
            assert max(scores) < check.points, (example.student, check.grade_id, scores)


def test_a_regrade_repeats_and_students_differ():
    assert student_seed("s", "ann") == student_seed("s", "ann") != student_seed("s", "bob")
    assert student_seed("s", "ann") != student_seed("t", "ann")
    ann = draw_cases("conv2d_layer", check_seed(student_seed("s", "ann"), "conv2d_layer"), 10)
    again = draw_cases("conv2d_layer", check_seed(student_seed("s", "ann"), "conv2d_layer"), 10)
    bob = draw_cases("conv2d_layer", check_seed(student_seed("s", "bob"), "conv2d_layer"), 10)
    fixed = len(GRADED["conv2d_layer"].edges())
    assert all(np.array_equal(a["x"], b["x"]) for a, b in zip(ann, again))
    assert not all(np.array_equal(a["x"], b["x"]) and a["x"].shape == b["x"].shape
                   for a, b in zip(ann[fixed:], bob[fixed:]))


def test_the_reference_is_never_trained_in_a_graded_kernel(monkeypatch):
    import cnnkit.assignment as assignment
    import cnnkit.training

    monkeypatch.setenv(assignment.GRADING_ENV, "1")
    monkeypatch.setattr(cnnkit.training, "train", lambda *a, **k: pytest.fail("the reference was trained"))
    monkeypatch.setattr(assignment, "train_under_budget", lambda *a, **k: pytest.fail("the reference was trained"))
    assert assignment.reference_accuracy("spec") is None and assignment.held_out() is None
    with pytest.raises(RuntimeError, match="never trained in a graded kernel"):
        assignment.reference_result_file("spec")
    with pytest.raises(RuntimeError, match="never trained in a graded kernel"):
        assignment.budget_accuracy(lambda: None, seed=0)


def test_outputs_feedback_showed_cannot_be_written_into_the_next_version():
    """On Gradescope a student may resubmit: one who writes the expected outputs of every case the last feedback
    could show into a lookup table (and gives a wrong answer elsewhere) passes the old version's cases, and loses
    the points on the next version's, flagged as special-cased; an honest function scores the same on both."""
    from cnnkit.checks.functions import fixed_cases
    from cnnkit.reference import conv2d as reference

    name = "conv2d_layer"
    first = draw_cases(name, check_seed(student_seed("s", "ann", "version-1"), name), 10)
    second = draw_cases(name, check_seed(student_seed("s", "ann", "version-2"), name), 10)
    fixed = len(fixed_cases(name))
    assert all(np.array_equal(a["x"], b["x"]) for a, b in zip(first[:fixed], second[:fixed])), "the same fixed cases"
    assert not any(a["x"].shape == b["x"].shape and np.array_equal(a["x"], b["x"])
                   for a, b in zip(first[fixed:], second[fixed:])), "new random cases"
    seen = [(case, GRADED[name].reference(**case)) for case in first]

    def looked_up(x, kernel, bias, stride, padding):
        for case, output in seen:
            if np.shape(x) == case["x"].shape and np.array_equal(x, case["x"]) and np.array_equal(kernel, case["kernel"]):
                return output
        return np.zeros((1, 1, 1, 1))

    def outputs(cases, function):
        return [call_positionally(function, case) for case in cases]

    assert judge(name, first, outputs(first, looked_up), points=4).score == 4, "the version it was written for"
    later = judge(name, second, outputs(second, looked_up), points=4)
    assert later.score < 4 and later.evidence.get("special_cased"), later.messages
    honest = lambda x, kernel, bias, stride, padding: reference(x, kernel, bias, stride, padding)  # noqa: E731
    assert judge(name, first, outputs(first, honest), points=4).score == \
        judge(name, second, outputs(second, honest), points=4).score == 4
