""""Improve it": the student's architecture alone, retrained here and compared with the spec CNN.

The hidden test calls `cnnkit.checks.check_improvement(model, build_fn,
held_out(), reference_accuracy(NAME), error_cut=...)`. The probe builds and
saves the builder's (untrained) model; the verifier loads it safely, checks
it against the budget, retrains a clone of it with the assignment's one
procedure on seeds drawn from the course secret, and compares its held-out
accuracy with the reference's trained on those seeds and a few more
(`improvement_seeds(secret, reference=True)`; the grader's rule,
`cnnkit.checks.models.improvement_verdict`). The hidden test may ask for
more trainings (`seeds=`, `reference_seeds=`): less luck, more retraining.
Weights the student trained, for however long, play no part: every weight is
trained from Keras' own initialisation (frozen layers are trained too), and
an architecture whose initialisers carry arrays (weights smuggled into the
config) gets nothing.
"""

from __future__ import annotations

from cnnkit.assignment import BudgetError, architecture_key, budget_accuracy, check_budget, improvement_seeds
from cnnkit.checks.models import check_improvement, improvement_verdict
from cnnkit.quiet import silenced

from autograder.verifier.kinds.base import (Check, Kind, ModelProblem, ReferenceTraining, Verdict, default_of, load_model,
                                            zero)
from autograder.verifier.kinds.trained import reference_of

__all__ = ["Improvement"]


class Improvement(Kind):
    """`check_improvement(model, build_fn, data, reference_accuracy, *, error_cut)`: an architecture's gain."""

    name = "improvement"
    check = staticmethod(check_improvement)
    target = "build_fn"
    action = "build"
    held_out = True
    retrained = True

    def read(self, call, grade_id, points, stubs):
        cut = call.value("error_cut")
        counts = {key: call.value(key) for key in ("seeds", "reference_seeds")}
        for key, count in counts.items():
            if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
                raise ValueError(f"check_improvement's `{key}` must be a positive int; the hidden test of "
                                 f"{grade_id!r} passes {count!r}")
        return Check(grade_id, points, self.name, call.name("build_fn"), reference_of(call),
                     margin=None if cut is None else float(cut), title="improvement",
                     options=tuple((key, count) for key, count in counts.items() if count is not None))

    def needs(self, check, verifier):
        return tuple(ReferenceTraining(check.name, seed) for seed in _seeds(check, verifier, reference=True))

    def request(self, check, verifier, student):
        return {"function": check.target, "input_shape": [default_of(check_budget, "input_length"), 1]}

    def verdict(self, check, reported, context):
        import keras

        verifier = context.verifier
        try:
            model = load_model(context.probe, reported).model
        except ModelProblem as problem:
            return problem.verdict(check)
        try:
            check_budget(model)
        except BudgetError as error:  # a person should see what a model the budget refuses tried
            return zero(check, str(error), (f"`{check.target}`: {error}: 0, review it",))
        smuggled = _array_initialisers(model.get_config())
        if smuggled:
            why = (f"the architecture carries weights of its own (a {smuggled[0]} initialiser holding an array): the "
                   "grader trains every weight from Keras' own random initialisation")
            return zero(check, why, (f"`{check.target}`: {why}",))

        def fresh():  # the architecture alone: a clone, every layer trained
            clone = keras.models.clone_model(model)
            for layer in _layers(clone):
                layer.trainable = True
            return clone

        def trained(seed, wait):  # one seed of the architecture, or None while another worker trains it
            return verifier.recorded(f"{context.student}'s {check.target} architecture on the grader's seed {seed}",
                                     lambda announce: budget_accuracy(fresh, seed, verifier.data_path,
                                                                      test=verifier.held_out, announce=announce,
                                                                      wait=wait))

        references = verifier.free_first([lambda wait, seed=seed: verifier.trained_reference(check.name, seed, wait=wait)
                                          for seed in _seeds(check, verifier, reference=True)])
        if _is_reference(fresh(), check.name):  # the reference itself: its own level, on all of its seeds
            return Verdict.of(improvement_verdict(references, references, points=check.points,
                                                  error_cut=check.margin))
        try:
            with silenced():
                accuracies = verifier.free_first([lambda wait, seed=seed: trained(seed, wait)
                                                  for seed in _seeds(check, verifier)])
        except Exception as error:  # the architecture loads but does not train (a shape only known at fit time)
            return zero(check, f"the architecture could not be trained under the budget: {type(error).__name__}: "
                               f"{str(error)[:160]}")
        return Verdict.of(improvement_verdict(accuracies, references, points=check.points, error_cut=check.margin))


def _seeds(check, verifier, *, reference=False):
    """The course's seeds for the architecture (or the spec CNN), as many as the hidden test asks."""
    count = check.option("reference_seeds" if reference else "seeds")
    return improvement_seeds(verifier.secret, reference=reference, count=count)


def _is_reference(model, name):
    """Whether a model has the reference `name`'s architecture (then the rule compares it with itself: no gain)."""
    from cnnkit.reference import models

    return architecture_key(model) == architecture_key(models.build(name))


def _array_initialisers(config):
    """The class names of initialisers in a model's config that hold arrays (a scalar constant is a setting)."""
    found, stack = [], [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            value = node.get("config", {}).get("value") if isinstance(node.get("config"), dict) else None
            if str(node.get("module", "")).startswith("keras.initializers") and isinstance(value, (list, dict)):
                found.append(str(node.get("class_name")))
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node
    return found


def _layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _layers(layer)
