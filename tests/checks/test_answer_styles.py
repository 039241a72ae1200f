"""A right answer in another style earns every point, read in the kernel or
through the grader's sandbox alike.

Each graded function's reference output is handed back in the styles
students write (lists, tuples, float32, Python scalars, a one-element array
for a number, a generator or `map` for a sequence, rows as a list of arrays)
and judged two ways: as `cnnkit.checks.check_function` reads it in the
student's kernel (`call_positionally`), and as the grader reads it from a probe
sandbox (the probe's encoding, then `output_of`). Both must give full marks;
styles that are not right answers (text for a number, several numbers for one)
must lose on both paths. And the arguments a student's function receives
are the same on both paths: the grader's cases cross to the probe as JSON,
and come out with the types and dtypes the kernel's check passes."""

import fractions
import itertools
import json
import time

import numpy as np
import pytest

from autograder.sandbox import probe
from autograder.sandbox.contracts import encode_value
from autograder.verifier.kinds.function import output_of
from cnnkit.checks.functions import GRADED, MAX_ITEMS, call_positionally, fixed_cases, judge


def _sequence(value):
    return isinstance(value, np.ndarray) and value.ndim == 1


def _number(value):
    return np.ndim(value) == 0


STYLES = {
    "a nested list": lambda v: v.tolist() if isinstance(v, np.ndarray) else v,
    "a tuple": lambda v: tuple(v.tolist()) if _sequence(v) else v,
    "float32": lambda v: np.asarray(v, dtype=np.float32) if isinstance(v, np.ndarray) else np.float32(v),
    "a generator": lambda v: (x for x in v.tolist()) if _sequence(v) else v,
    "map": lambda v: map(float, v.tolist()) if _sequence(v) else v,
    "a Python number": lambda v: v.item() if isinstance(v, (np.ndarray, np.generic)) and _number(v) else v,
    "a one-element array": lambda v: np.array([v]) if _number(v) else v,
    "a one-element list": lambda v: [float(v)] if _number(v) else v,
    "rows as a list of arrays": lambda v: list(v) if isinstance(v, np.ndarray) and v.ndim >= 2 else v,
    "a Fraction": lambda v: fractions.Fraction(float(v)) if _number(v) else v,
}


def _in_the_kernel(name, student):
    cases = fixed_cases(name)
    return judge(name, cases, [call_positionally(student, case) for case in cases])


def _as_the_probe_receives(case):
    return [probe._decode(json.loads(json.dumps(encode_value(value)))) for value in case.values()]


def _through_the_sandbox(name, student):
    cases = fixed_cases(name)
    outputs = [output_of(probe._call(probe._read(student), _as_the_probe_receives(case), 5.0)) for case in cases]
    return judge(name, cases, outputs)


def _kind(value):
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_kind(item) for item in value))
    return type(value).__name__


@pytest.mark.parametrize("name", sorted(GRADED))
def test_a_function_receives_the_same_arguments_in_the_kernel_and_in_the_probe(name):
    for case in fixed_cases(name):
        received = _as_the_probe_receives(case)
        assert [_kind(v) for v in received] == [_kind(v) for v in case.values()], f"{name}: {case}"


def _styled(name, style):
    reference = GRADED[name].reference
    return lambda *args: STYLES[style](reference(*args))


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("name", sorted(GRADED))
def test_a_right_answer_in_any_style_earns_every_point_on_both_paths(name, style):
    student = _styled(name, style)
    for path in (_in_the_kernel, _through_the_sandbox):
        result = _in_the_kernel(name, student) if path is _in_the_kernel else _through_the_sandbox(name, student)
        assert result.passed == result.total, f"{name} as {style}, {path.__name__}: {result.messages[:2]}"


@pytest.mark.parametrize("wrong, words", [(lambda v: str(v), "str"), (lambda v: [v, v], "2 numbers"),
                                          (lambda v: None, "returned None: does every path")])
def test_what_is_not_one_number_loses_on_both_paths_and_says_what_it_is(wrong, words):
    reference = GRADED["conv_params"].reference

    def student(*args):
        return wrong(reference(*args))

    kernel, sandbox = _in_the_kernel("conv_params", student), _through_the_sandbox("conv_params", student)
    assert kernel.passed == sandbox.passed == 0
    assert any(words in str(m) for m in kernel.messages) and any(words in str(m) for m in sandbox.messages)


def test_numbers_as_text_lose_on_both_paths():
    reference = GRADED["invariant_shifts"].reference

    def as_text(*args):
        return [str(shift) for shift in reference(*args)]

    kernel, sandbox = _in_the_kernel("invariant_shifts", as_text), _through_the_sandbox("invariant_shifts", as_text)
    assert kernel.passed == sandbox.passed < kernel.total


def test_a_wrong_answer_in_generator_style_still_loses():
    reference = GRADED["invariant_shifts"].reference

    def off_by_one(*args):
        return (shift + 1 for shift in reference(*args))

    kernel = _in_the_kernel("invariant_shifts", off_by_one)
    sandbox = _through_the_sandbox("invariant_shifts", off_by_one)
    assert kernel.passed == sandbox.passed < kernel.total - 1  # (no shift to move, the only kind it keeps)


def test_an_endless_generator_is_cut_off_not_waited_for():
    started = time.monotonic()
    report = probe._call(probe._read(lambda: itertools.count()), [], 5.0)
    assert f"more than {MAX_ITEMS:,} items" in report["error"]
    assert call_positionally(lambda: itertools.count(), {})[1].endswith(f"more than {MAX_ITEMS:,} items")

    def slow():
        while True:
            time.sleep(0.01)
            yield 1

    report = probe._call(probe._read(slow), [], 1.0)
    assert report.get("hung") and "did not return within" in report["error"]
    assert time.monotonic() - started < 10
