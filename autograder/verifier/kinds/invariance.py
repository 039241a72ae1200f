"""A model whose prediction must not depend on where in the row a pattern lies.

The hidden test calls `cnnkit.checks.check_shift_invariance(build_fn)`. The
probe builds and saves the student's model; the verifier loads it safely,
randomises its weights and compares its outputs on a pattern moved along the
row (`cnnkit.checks.blocks.invariance_verdict`).
"""

from __future__ import annotations

from cnnkit.checks.blocks import check_shift_invariance, invariance_verdict
from cnnkit.quiet import silenced

from autograder.verifier.kinds.base import Check, Kind, ModelProblem, Verdict, load_model

__all__ = ["Invariance"]


class Invariance(Kind):
    """`check_shift_invariance(build_fn, *, input_length)`: a shift-invariant head."""

    name = "invariance"
    check = staticmethod(check_shift_invariance)
    target = "build_fn"
    action = "build"

    def read(self, call, grade_id, points, stubs):
        return Check(grade_id, points, self.name, call.name("build_fn"), "shift_invariance",
                     options=(("input_length", call.value("input_length")),))

    def request(self, check, verifier, student):
        return {"function": check.target, "input_shape": [check.option("input_length"), 1]}

    def verdict(self, check, reported, context):
        try:
            loaded = load_model(context.probe, reported)
        except ModelProblem as problem:
            return problem.verdict(check)
        with silenced():
            result = invariance_verdict(loaded.model, points=check.points,
                                        seed=context.verifier.seed(context.student, check.name) % 2**31,
                                        input_length=check.option("input_length"))
        return Verdict.of(result)
