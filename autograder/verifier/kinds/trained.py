"""A trained model, scored on held-out rows against the reference trained under the same budget.

The hidden test calls `cnnkit.checks.check_trained_model(model, held_out(),
reference_accuracy(NAME), margin=...)`. The probe saves the variable's model;
the verifier loads it safely, evaluates it on held-out recordings that never
entered a sandbox, and compares its accuracy with the reference model's
trained by the assignment's procedure (`cnnkit.checks.models.trained_verdict`).
"""

from __future__ import annotations

import numpy as np

from cnnkit.reference import models
from cnnkit.assignment import BUDGET, _leaf_layers, reference_accuracy
from cnnkit.checks.models import NEVER_TRAINED, budget_steps, check_trained_model, model_spec, trained_verdict
from cnnkit.checks.report import Mistake
from cnnkit.quiet import silenced

from autograder.verifier.kinds.base import (Check, Kind, ModelProblem, ReferenceTraining, Verdict, default_of, load_model,
                                            zero)
from autograder.verifier.kinds.registry import kind_of

__all__ = ["IMPLAUSIBLE_MARGIN", "Trained", "reference_of"]

IMPLAUSIBLE_MARGIN = 0.2  # accuracy this far above the reference's is flagged for review
LOGITS = ("loss on logits with from_logits=False",
          "the model ends in a linear layer (logits) but was trained with from_logits=False, which expects "
          "probabilities; use SparseCategoricalCrossentropy(from_logits=True).")


class Trained(Kind):
    """`check_trained_model(model, data, reference_accuracy, *, margin)`: a trained model."""

    name = "trained"
    check = staticmethod(check_trained_model)
    target = "model"
    action = "save"
    held_out = True

    def read(self, call, grade_id, points, stubs):
        return Check(grade_id, points, self.name, call.name("model"), reference_of(call),
                     margin=float(call.value("margin")), title=grade_id.removesuffix("_tests"))

    def needs(self, check, verifier):
        return (ReferenceTraining(check.name),)

    def request(self, check, verifier, student):
        return {"variable": check.target}

    def verdict(self, check, reported, context):
        verifier = context.verifier
        try:
            loaded = load_model(context.probe, reported)
        except ModelProblem as problem:
            return problem.verdict(check)
        model = loaded.model
        problem = self._not_what_was_asked(check, loaded, context)
        if problem:
            return zero(check, problem, (f"`{check.target}`: {problem}",))
        reference = verifier.trained_reference(check.name)
        try:
            with silenced():
                scores = np.asarray(model.predict(verifier.held_out.x, batch_size=256, verbose=0))
        except Exception as error:
            return zero(check, f"the model could not predict on (rows, 178, 1) inputs: {type(error).__name__}: "
                               f"{str(error)[:160]}")
        result = trained_verdict(scores, verifier.held_out.y, reference, points=check.points,
                                 name=check.title, margin=check.margin)
        flags = []
        accuracy = result.evidence.get("accuracy")
        if accuracy is not None and accuracy > reference + IMPLAUSIBLE_MARGIN:
            flags.append(f"{check.target} reaches {accuracy:.1%} on held-out recordings, implausibly far above the "
                         f"reference's {reference:.1%}: review it")
        leaves = _leaf_layers(model)
        last = getattr(leaves[-1], "activation", None) if leaves else None
        logits = getattr(last, "__name__", "linear") == "linear"
        if loaded.notes.get("from_logits") is False and logits and result.score < result.points:
            # trained, but with a loss that reads logits as probabilities: that, not "never trained", is the mistake
            result.messages = [m for m in result.messages if getattr(m, "name", None) != NEVER_TRAINED]
            result.messages.insert(0, Mistake(*LOGITS))
        return Verdict.of(result, flags)

    def _not_what_was_asked(self, check, loaded, context):
        """Why the trained model cannot be scored as the asked one ("" when it can): it is not the architecture
        the student's own builder of this reference builds, or it was trained past the budget."""
        built = _builder_model(check, context)
        if built is not None:
            mine, asked = model_spec(loaded.model), model_spec(built)
            if mine != asked:
                where = next((i for i, (a, b) in enumerate(zip(mine, asked)) if a != b), min(len(mine), len(asked)))
                return (f"the trained model is not the model your builder builds (layer {where + 1} differs, or the "
                        "count of layers): train the model your builder returns")
        steps, allowed = loaded.notes.get("steps"), budget_steps(context.verifier.data_path)
        if steps is not None and steps > allowed:
            return (f"the model was trained for {steps:,} gradient steps; the budget allows {allowed:,} "
                    f"({BUDGET['epochs']} epochs of {BUDGET['batch_size']} rows on the training rows)")
        return ""


def reference_of(call):
    """The reference model a check compares with: `reference_accuracy("spec")`'s model, or its default."""
    reference = call.inner("reference_accuracy", reference_accuracy)
    return reference.value("model") if reference else default_of(reference_accuracy, "model")


def _builder_model(check, context):
    """The model the student's own builder of this check's reference builds (as the probe saved it), or None."""
    if context.plan is None:
        return None
    reference = model_spec(models.build(check.name))
    for other in context.plan.checks:
        if not kind_of(other).builds_architecture:
            continue
        if model_spec(context.verifier.reference_model(other.name)) != reference:
            continue
        reported = context.probe.results.get(other.grade_id)
        try:
            return load_model(context.probe, reported).model if isinstance(reported, dict) else None
        except ModelProblem:  # the builder's own check says what is wrong with it
            return None
    return None
