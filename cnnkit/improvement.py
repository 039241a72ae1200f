""""Improve it": the grader's rule, and the estimate of it students run.

The rule (`improvement_share`) turns the mean held-out accuracy of an
architecture and of the spec CNN, both trained under the budget (the spec
CNN on more seeds), into a share of the exercise's points: none at the spec
CNN's error, all of them from an error `IMPROVEMENT["error_cut"]` lower,
linear in between. The grader applies it to test recordings and the course's secret
seeds; `estimate_improvement` applies the same rule to the validation rows a
student has, with the public seeds (`improvement_seeds()`), so that a student
can aim: it prints the expected points and how far the seeds spread them.
`benchmarks/bench_ideas.py` measures how far the estimate is from the grader
for each idea the notebook lists.

Nothing here is an answer: the rule is the one the notebook states.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnkit.assignment import IMPROVEMENT, architecture_key, grading, improvement_seeds, train_under_budget

__all__ = ["ImprovementEstimate", "estimate_improvement", "improvement_share"]


def improvement_share(accuracies, references, error_cut=None):
    """The share of "improve it"'s points an architecture earns, by the grader's rule.

    Args:
        accuracies: sequence of floats, the architecture's held-out accuracy per seed.
        references: sequence of floats, the spec CNN's, trained with the same seeds.
        error_cut: float, the relative cut in error worth full marks
            (default: `IMPROVEMENT["error_cut"]`).

    Returns:
        A float in [0, 1]: 0 at or above the spec CNN's mean error, 1 from an
        error `error_cut` lower (relative: 0.12 turns 31% into 27.3%), linear in between.
    """
    error_cut = IMPROVEMENT["error_cut"] if error_cut is None else float(error_cut)
    error, reference_error = 1 - float(np.mean(accuracies)), 1 - float(np.mean(references))
    cut = 1 - error / reference_error if reference_error > 0 else 0.0
    return float(np.clip(cut / error_cut, 0.0, 1.0))


@dataclass(frozen=True, eq=False)
class ImprovementEstimate:
    """What the grader's rule gives an architecture on validation rows.

    Attributes:
        seeds: tuple of the architecture's training seeds.
        accuracies: tuple of floats, the architecture's validation accuracy per seed.
        references: tuple of floats, the spec CNN's per seed (more seeds than the architecture's).
        points: float, the expected points (the rule on the means over the seeds).
        out_of: float, the exercise's points.
        per_seed: tuple of floats, the points each of the architecture's seeds alone would give,
            against the spec CNN's mean (their range is the spread).
        model: the architecture's `keras.Model` trained with the first seed.
    """

    seeds: tuple
    accuracies: tuple
    references: tuple
    points: float
    out_of: float
    per_seed: tuple
    model: object = None

    @property
    def target(self):
        """The validation accuracy from which the rule gives full marks."""
        return 1 - (1 - float(np.mean(self.references))) * (1 - IMPROVEMENT["error_cut"])

    def lines(self):
        """The estimate in a few lines of text."""
        seeds = ", ".join(str(seed) for seed in self.seeds)
        return [
            f"validation accuracy: yours {_listed(self.accuracies)} (seeds {seeds}), the spec CNN "
            f"{np.mean(self.references):.1%} (mean of {len(self.references)} seeds); full marks from {self.target:.1%}",
            f"expected points: {self.points:.2f} of {self.out_of:g} (each seed alone: "
            f"{', '.join(f'{p:.2f}' for p in self.per_seed)})",
            "a guide, not a promise: the grader trains on seeds of its own, which move its points by about half a "
            "point, and scores test recordings, which disagree with validation about some ideas by up to about 0.8 "
            "point; measured on the real data, this estimate came within 1 point of the grader 78% of the time, "
            "within half a point 56%",
        ]

    def __str__(self):
        return "\n".join(self.lines())


def estimate_improvement(build, spec_build, x_train, y_train, x_val, y_val, *, seeds=None, spec_seeds=None,
                         points=3.0, first=None, verbose=0):
    """Applies the grader's "improve it" rule to validation rows, with public seeds.

    Trains the architecture and the spec CNN with `train_under_budget` (the
    spec CNN on more seeds, as the grader does), scores both on the
    validation rows, and applies `improvement_share` as the grader does on
    its test recordings. An architecture that is the spec CNN's is, as for
    the grader, the spec CNN's level: no gain.

    Args:
        build: function of no arguments returning the architecture (a fresh `keras.Model`).
        spec_build: the same for the spec CNN (the student's `build_spec_cnn`).
        x_train: float32 array (rows, 178, 1), standardised training rows.
        y_train: int array (rows,), their class indices.
        x_val: float32 array (rows, 178, 1), standardised validation rows.
        y_val: int array (rows,), their class indices.
        seeds: sequence of ints, the architecture's seeds (default:
            `improvement_seeds()`, the public ones).
        spec_seeds: sequence of ints, the spec CNN's (default:
            `improvement_seeds(reference=True)`; the first ones the same).
        points: float, the exercise's points.
        first: optional pair `(model, spec_model)` already trained under the
            budget with the first seed of each (the notebook's own), so that
            only the other seeds are trained here.
        verbose: Keras' `fit` verbosity.

    Returns:
        An `ImprovementEstimate`.

    Raises:
        RuntimeError: under `cnnkit grade` (the grader retrains the architecture itself).
        ValueError: if the rows and labels disagree in number.
    """
    from cnnkit._validation import check_same_length

    if grading():
        raise RuntimeError("the improvement estimate is never run while grading: the grader retrains the "
                           "architecture itself")
    check_same_length(x_train, y_train, names=("x_train", "y_train"))
    check_same_length(x_val, y_val, names=("x_val", "y_val"))
    seeds = tuple(int(seed) for seed in (improvement_seeds() if seeds is None else seeds))
    spec_seeds = improvement_seeds(reference=True) if spec_seeds is None else tuple(int(s) for s in spec_seeds)
    spec_models = [first[1] if index == 0 and first is not None
                   else train_under_budget(spec_build, x_train, y_train, seed=seed, verbose=verbose)[0]
                   for index, seed in enumerate(spec_seeds)]
    references = [_accuracy(model, x_val, y_val) for model in spec_models]
    if architecture_key(build()) == architecture_key(spec_build()):  # the spec CNN itself: its level, as the grader
        seeds, models, accuracies = spec_seeds, [first[0] if first is not None else spec_models[0]], list(references)
    else:
        models = [first[0] if index == 0 and first is not None
                  else train_under_budget(build, x_train, y_train, seed=seed, verbose=verbose)[0]
                  for index, seed in enumerate(seeds)]
        accuracies = [_accuracy(model, x_val, y_val) for model in models]
    per_seed = tuple(points * improvement_share([a], references) for a in accuracies)
    return ImprovementEstimate(seeds, tuple(accuracies), tuple(references),
                               points * improvement_share(accuracies, references), float(points), per_seed, models[0])


def _accuracy(model, x, y):
    from cnnkit.quiet import silenced

    with silenced():  # TensorFlow warns about retracing when several models predict in turn
        scores = np.asarray(model.predict(x, batch_size=512, verbose=0))
    return float(np.mean(np.argmax(scores, axis=-1) == np.asarray(y)))


def _listed(values):
    return " / ".join(f"{value:.1%}" for value in values)
