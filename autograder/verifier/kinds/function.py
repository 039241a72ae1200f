"""A NumPy function, called on the grader's cases and compared with the reference.

The hidden test calls `cnnkit.checks.check_function(name, fn)`. The verifier
draws that submission's cases (the fixed edge cases and random ones seeded
from the course secret, the student id and the submission's code), has the
probe call the student's function on them positionally (as the stub
declares it, in a probe sandbox where only NumPy can be imported), and
judges the outputs against the reference it computes itself
(`cnnkit.checks.functions.judge`).
"""

from __future__ import annotations

from cnnkit.checks.functions import NO_RETURN, check_function, draw_cases, judge

from autograder.sandbox.contracts import decode_value, encode_value
from autograder.verifier.kinds.base import Check, Kind, Verdict, denied_imports

__all__ = ["Function", "output_of"]


class Function(Kind):
    """`check_function(name, student_fn, *, cases=...)`: a graded NumPy function."""

    name = "function"
    check = staticmethod(check_function)
    target = "student_fn"
    action = "call"
    scanned = True
    numpy_only = True

    def read(self, call, grade_id, points, stubs):
        target = call.name("student_fn")
        return Check(grade_id, points, self.name, target, call.value("name"), stubs.get(target, ()),
                     options=(("cases", call.value("cases")),))

    def cases(self, check, verifier, student):
        """This student's cases, keyed by the stub's parameter names."""
        cases = draw_cases(check.name, verifier.seed(student, check.name), check.option("cases"))
        if check.parameters and len(check.parameters) == len(cases[0]):  # the stub's order and names
            cases = [dict(zip(check.parameters, case.values())) for case in cases]
        return cases

    def request(self, check, verifier, student):
        cases = self.cases(check, verifier, student)
        return {"function": check.target, "cases": [[encode_value(v) for v in case.values()] for case in cases],
                "numpy": True}

    def verdict(self, check, reported, context):
        libraries = [m for m in denied_imports(reported) if m.split(".")[0] != "numpy"]
        scanned = context.scan is not None and check.target in context.scan.frameworks
        flags = ([f"`{check.target}` should use NumPy only but tried to import {libraries[0]} when graded "
                  "(only NumPy is importable there)"] if libraries and not scanned else [])
        cases = self.cases(check, context.verifier, context.student)
        outputs = reported.get("outputs") if isinstance(reported.get("outputs"), list) else []
        pairs = []
        for index in range(len(cases)):
            item = outputs[index] if index < len(outputs) and isinstance(outputs[index], dict) else {}
            pairs.append(output_of(item))
        result = judge(check.name, cases, pairs, points=check.points)
        special = result.evidence.get("special_cased", [])
        if special:  # right on the cases everyone meets, wrong on this student's own
            flags.append(f"`{check.target}` passes the fixed cases of {', '.join(special)} but fails this student's "
                         "random cases of the same kind: special-cased? review it")
        return Verdict.of(result, flags)


def output_of(item):
    """(value, error) of one probe output, decoded without trusting it."""
    if "error" in item:
        return None, str(item["error"])[:300]
    try:
        value = decode_value(item.get("value"))
    except ValueError as error:
        return None, f"returned something the grader cannot read ({error})"
    if value is None:
        shown = item.get("value", {}) if isinstance(item.get("value"), dict) else {}
        if shown.get("type") == "NoneType":
            return None, NO_RETURN
        return None, f"returned {str(shown.get('type', 'a non-number'))[:40]}, not numbers"
    return value, None
