"""A residual block in Keras' functional API, judged by graph and by number.

The hidden test calls `cnnkit.checks.check_residual_block(block_fn)`. The
probe applies the student's function to a `keras.Input` per case of
`RESIDUAL_CASES` and saves each model; the verifier reads each layer graph
from its config and recomputes its output with NumPy from its own randomised
weights (`cnnkit.checks.blocks.residual_verdict`).
"""

from __future__ import annotations

from cnnkit.checks.blocks import RESIDUAL_CASES, check_residual_block, residual_verdict
from cnnkit.quiet import silenced

from autograder.verifier.kinds.base import Check, Kind, ModelProblem, Verdict, load_model

__all__ = ["Block"]


class Block(Kind):
    """`check_residual_block(block_fn)`: a residual block."""

    name = "block"
    check = staticmethod(check_residual_block)
    target = "block_fn"
    action = "block"

    def read(self, call, grade_id, points, stubs):
        return Check(grade_id, points, self.name, call.name("block_fn"), "residual_block")

    def request(self, check, verifier, student):
        return {"function": check.target,
                "cases": [{"input_shape": list(shape), "args": list(args)} for shape, *args in RESIDUAL_CASES]}

    def verdict(self, check, reported, context):
        outputs = reported.get("outputs") if isinstance(reported.get("outputs"), list) else []
        models, flags = [], []
        for index in range(len(RESIDUAL_CASES)):
            item = outputs[index] if index < len(outputs) and isinstance(outputs[index], dict) else {}
            try:
                if not item:
                    raise ModelProblem("the grader got no model for this case")
                models.append(load_model(context.probe, item).model)
            except ModelProblem as problem:
                models.append(problem.message.removeprefix("raised "))  # the block's own error, as Keras gave it
                flags += [problem.message] if problem.refused else []
        with silenced():
            result = residual_verdict(models, points=check.points,
                                      seed=context.verifier.seed(context.student, check.name) % 2**31)
        return Verdict.of(result, tuple(dict.fromkeys(flags)))
