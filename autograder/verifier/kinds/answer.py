"""A number the student works out about their own model, recomputed here.

The hidden test calls `cnnkit.checks.check_model_answer(QUANTITY, answer,
build_fn)`. The probe reads the number the student's variable holds and
builds and saves the builder's (untrained) model, as the student's cell that
sets the variable left it, when the replay reaches the test cell; the verifier loads the model without running
submission code, computes the quantity from it itself and judges the
number (`cnnkit.checks.answers.answer_verdict`). So the answer is checked
against the student's own model, whatever it is, and never against a value
the kernel printed.
"""

from __future__ import annotations

from cnnkit.assignment import check_budget
from cnnkit.checks.answers import answer_verdict, check_model_answer

from autograder.verifier.kinds.base import Check, Kind, ModelProblem, Verdict, default_of, load_model, zero
from autograder.verifier.kinds.function import output_of

__all__ = ["Answer"]


class Answer(Kind):
    """`check_model_answer(quantity, answer, build_fn)`: a number about the student's own model."""

    name = "answer"
    check = staticmethod(check_model_answer)
    target = "answer"
    action = "answer"

    def read(self, call, grade_id, points, stubs):
        return Check(grade_id, points, self.name, call.name("answer"), call.value("quantity"),
                     options=(("build_fn", call.name("build_fn")),))

    def request(self, check, verifier, student):
        return {"function": check.target, "build": check.option("build_fn"),
                "input_shape": [default_of(check_budget, "input_length"), 1]}

    def verdict(self, check, reported, context):
        answer, error = output_of({"value": reported.get("value")})
        if error:
            return zero(check, f"`{check.target}` should hold one number: it {error.removeprefix('returned ')}")
        try:
            model = load_model(context.probe, reported).model
        except ModelProblem as problem:
            if problem.refused:
                return problem.verdict(check)
            model = problem.message
        return Verdict.of(answer_verdict(check.name, answer, model, points=check.points))
