"""The students' "improve it" estimate: the grader's rule on validation rows
with public seeds, the notebook's own seed-0 models reused, never run while
grading."""

import numpy as np
import pytest

from cnnkit import assignment
from cnnkit.improvement import estimate_improvement, improvement_share
from cnnkit.reference import models

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def rows():
    data = assignment.seizure_data()
    pick = lambda n: np.random.default_rng(0).permutation(n)  # noqa: E731
    train, val = pick(len(data.train_labels))[:600], pick(len(data.validation_labels))[:300]
    standardise = lambda s: ((s - data.mean) / data.std).astype("float32")[:, :, None]  # noqa: E731
    return (standardise(data.train_signals[train]), data.train_labels[train],
            standardise(data.validation_signals[val]), data.validation_labels[val])


def test_the_spec_cnn_handed_in_as_the_improvement_is_the_spec_cnns_level_no_gain(rows, monkeypatch):
    """As the grader: the spec CNN's architecture is scored at the spec CNN's own level, on all of its seeds, so
    it earns nothing however the seeds fall; and it is trained once per seed, not again as the architecture."""
    import cnnkit.improvement

    trained = []
    monkeypatch.setattr(cnnkit.improvement, "train_under_budget",
                        lambda *args, seed, **kwargs: trained.append(seed) or assignment.train_under_budget(
                            *args, seed=seed, **kwargs))
    estimate = estimate_improvement(models.spec_cnn, models.spec_cnn, *rows, seeds=(0, 1), spec_seeds=(0, 1, 2))
    assert trained == [0, 1, 2]
    assert estimate.accuracies == estimate.references and len(estimate.references) == 3
    assert estimate.seeds == (0, 1, 2) and estimate.points == 0.0
    assert "expected points: 0.00 of 3" in str(estimate) and "(mean of 3 seeds)" in str(estimate)


def test_the_points_follow_the_graders_rule_on_the_validation_accuracies(rows):
    estimate = estimate_improvement(models.bn_cnn, models.spec_cnn, *rows, seeds=(0, 1), spec_seeds=(0, 1, 2),
                                    points=3)
    assert len(estimate.accuracies) == 2 and len(estimate.references) == 3
    assert estimate.points == pytest.approx(3 * improvement_share(estimate.accuracies, estimate.references))
    for seed_points, mine in zip(estimate.per_seed, estimate.accuracies):
        assert seed_points == pytest.approx(3 * improvement_share([mine], estimate.references))
    assert estimate.model is not None and estimate.model.name == "bn_cnn"


def test_models_already_trained_with_the_first_seed_are_scored_not_trained_again(rows):
    x_train, y_train, x_val, y_val = rows
    mine, _ = assignment.train_under_budget(models.bn_cnn, x_train, y_train, seed=0)
    spec, _ = assignment.train_under_budget(models.spec_cnn, x_train, y_train, seed=0)
    reused = estimate_improvement(models.bn_cnn, models.spec_cnn, *rows, seeds=(0,), spec_seeds=(0,),
                                  first=(mine, spec))
    assert reused.model is mine
    accuracy = lambda model: float(np.mean(np.argmax(model.predict(x_val, verbose=0), -1) == y_val))  # noqa: E731
    assert reused.accuracies == (accuracy(mine),) and reused.references == (accuracy(spec),)


def test_it_refuses_to_run_while_grading_and_checks_its_rows(rows, monkeypatch):
    x_train, y_train, x_val, y_val = rows
    with pytest.raises(ValueError, match="`x_val` and `y_val` must have as many rows"):
        estimate_improvement(models.spec_cnn, models.spec_cnn, x_train, y_train, x_val, y_val[:-1])
    monkeypatch.setenv(assignment.GRADING_ENV, "1")
    with pytest.raises(RuntimeError, match="never run while grading"):
        estimate_improvement(models.spec_cnn, models.spec_cnn, *rows)


def test_the_public_seeds_are_not_the_graders_and_the_spec_cnn_has_more_of_them():
    assert set(assignment.improvement_seeds()).isdisjoint(assignment.improvement_seeds("a course secret"))
    for secret in (None, "a course secret"):
        mine, spec = assignment.improvement_seeds(secret), assignment.improvement_seeds(secret, reference=True)
        assert len(spec) == assignment.IMPROVEMENT["reference_seeds"] > len(mine) and spec[:len(mine)] == mine
