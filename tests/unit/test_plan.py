"""The verification plan read from the instructor's notebooks: every graded
cell of the assignment maps to a check the verifier knows, with the student's
name it checks and the stub's parameters."""

from pathlib import Path

import pytest

from autograder.verifier.plan import plan_of
from cnnkit.checks.functions import GRADED

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.name for p in (REPO / "solutions" / "cnn").glob("*.ipynb"))


@pytest.fixture(scope="module")
def plans():
    return {name: plan_of(REPO / "solutions" / "cnn" / name, REPO / "assignments" / "cnn" / name) for name in NOTEBOOKS}


def test_every_graded_cell_is_checked_by_the_verifier(plans):
    for plan in plans.values():
        for check in plan.checks:
            assert check.kind != "nbgrader", f"{plan.name}/{check.grade_id} is scored from the kernel's outputs"
            assert check.target, check
            if check.kind == "function":
                assert check.name in GRADED and check.parameters, check


def test_the_second_edition_checks_are_read_with_their_targets(plans):
    checks = {c.grade_id: c for plan in plans.values() for c in plan.checks}
    assert (checks["residual_block_tests"].kind, checks["residual_block_tests"].target) == ("block", "residual_block")
    assert (checks["gap_invariance_tests"].kind, checks["gap_invariance_tests"].target) == ("invariance", "build_gap_cnn")
    improvement = checks["improved_trained_tests"]
    assert (improvement.kind, improvement.target, improvement.name, improvement.margin) == \
        ("improvement", "build_improved_model", "spec", None)
    assert checks["batchnorm_forward_tests"].parameters[:6] == ("x", "gamma", "beta", "moving_mean", "moving_var",
                                                                 "training")
    answer = checks["improved_receptive_field_tests"]
    assert (answer.kind, answer.target, answer.name, answer.option("build_fn")) == \
        ("answer", "improved_receptive_field_ms", "receptive_field_ms", "build_improved_model")
    assert sum(c.points for c in checks.values()) == 57


def test_a_refusal_is_headed_by_its_own_check_not_by_the_reference_it_compares_with(plans):
    from autograder.verifier.kinds.base import zero

    checks = {c.grade_id: c for plan in plans.values() for c in plan.checks}
    refused = zero(checks["improved_trained_tests"], "the model is over the budget").feedback
    assert refused.startswith("[improvement] 0 / ") and "[spec]" not in refused
    assert zero(checks["spec_trained_tests"], "no model").feedback.startswith("[spec_trained] 0 / ")
    assert zero(checks["conv2d_layer_tests"], "missing").feedback.startswith("[conv2d_layer] 0 / ")


def test_a_hidden_test_may_ask_for_more_improve_it_trainings():
    """Read from the call: the counts land in the check's options, the reference trainings the verifier prepares
    follow them (the course's seeds, the default ones first), and a count that is not a positive int is the
    instructor's error, named."""
    import ast
    from types import SimpleNamespace

    from autograder.verifier.kinds import KINDS
    from autograder.verifier.kinds.base import BoundCall
    from cnnkit.assignment import improvement_seeds
    from cnnkit.checks.models import check_improvement

    def read(arguments):
        node = ast.parse(f"check_improvement(m, build_improved_model, held_out(), reference_accuracy('spec'), "
                         f"{arguments})").body[0].value
        return KINDS["improvement"].read(BoundCall(node, check_improvement), "improved_trained_tests", 3.0, {})

    check = read("seeds=8, reference_seeds=12")
    assert (check.option("seeds"), check.option("reference_seeds")) == (8, 12)
    needed = [training.seed for training in KINDS["improvement"].needs(check, SimpleNamespace(secret="s"))]
    assert needed == list(improvement_seeds("s", reference=True, count=12))
    assert needed[:6] == list(improvement_seeds("s", reference=True)) and len(set(needed)) == 12
    assert read("points=3").options == ()
    for wrong in ("seeds=0", "reference_seeds=2.5", "seeds=True"):
        with pytest.raises(ValueError, match="must be a positive int"):
            read(wrong)
