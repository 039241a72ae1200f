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
