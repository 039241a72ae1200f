"""A model built to a spec, compared with the reference layer by layer.

The hidden test calls `cnnkit.checks.check_model_spec(build, cnnkit.reference.models.NAME())`.
The probe builds the student's model and saves it; the verifier loads it
without running submission code and compares it with the reference model it
builds itself (`cnnkit.checks.models.spec_verdict`).
"""

from __future__ import annotations

from cnnkit.checks.models import check_model_spec, spec_verdict

from autograder.verifier.kinds.base import Check, Kind, ModelProblem, ReferenceModel, Verdict, load_model

__all__ = ["Spec"]


class Spec(Kind):
    """`check_model_spec(model, reference)`: a model that follows a spec."""

    name = "spec"
    check = staticmethod(check_model_spec)
    target = "model"
    action = "build"
    scanned = True
    builds_architecture = True

    def read(self, call, grade_id, points, stubs):
        return Check(grade_id, points, self.name, call.name("model"), call.called("reference"))

    def needs(self, check, verifier):
        return (ReferenceModel(check.name),)

    def request(self, check, verifier, student):
        return {"function": check.target, "input_shape": list(verifier.reference_model(check.name).input_shape[1:])}

    def verdict(self, check, reported, context):
        try:
            loaded = load_model(context.probe, reported)
        except ModelProblem as problem:
            return problem.verdict(check)
        reference = context.verifier.reference_model(check.name)
        return Verdict.of(spec_verdict(loaded.model, reference, points=check.points))
