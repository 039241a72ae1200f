"""Function checks: scores, misconception feedback, silence on stderr, evidence."""

import os
import sys
import warnings

import numpy as np
import pytest

import cnnkit.reference
from cnnkit.checks import GRADED, check_function, decode_array, encode_array
from cnnkit.checks.functions import call_positionally, draw_cases, judge
from cnnkit.checks.report import SEED_ENV, case_seed


def _run(capsys, *args, **kwargs):
    score = check_function(*args, **kwargs)
    return score, capsys.readouterr().out


def as_student(fn, names=None):
    """`fn` behind a function of the tests' own, as a student's code would be
    (passing cnnkit's function itself is flagged as using the reference). The
    student's function is called positionally, as the stub declares it."""
    import inspect

    names = names or list(inspect.signature(fn).parameters)

    def student(*args):
        return fn(**dict(zip(names, args)))
    return student


@pytest.mark.parametrize("name", sorted(GRADED))
def test_reference_gets_full_marks_as_a_python_float(name, capsys):
    score, out = _run(capsys, name, as_student(GRADED[name].reference), points=3, seed=5)
    assert type(score) is float and score == 3.0
    assert "matches the reference on every case" in out


def _parameters(name):
    return list(GRADED[name].edges()[0])


@pytest.mark.parametrize("name, mistake", [(n, m) for n in sorted(GRADED) for m in GRADED[n].misconceptions],
                         ids=lambda v: getattr(v, "name", v))
def test_each_misconception_loses_points_and_is_named(name, mistake, capsys):
    score, out = _run(capsys, name, as_student(mistake.variant, _parameters(name)), points=2, seed=11, cases=20)
    assert type(score) is float and 0.0 <= score < 2.0
    assert f"Likely mistake ({mistake.name})" in out


@pytest.mark.parametrize("name, mistake", [(n, m) for n in sorted(GRADED) for m in GRADED[n].misconceptions],
                         ids=lambda v: getattr(v, "name", v))
def test_the_fixed_cases_alone_catch_every_misconception(name, mistake):
    """Whatever the random draw, a wrong implementation loses points: the fixed edge cases catch it."""
    cases = draw_cases(name, seed=0, count=0)
    outputs = [call_positionally(as_student(mistake.variant, _parameters(name)), case) for case in cases]
    result = judge(name, cases, outputs, points=2)
    assert result.score < 2.0 and any(f"({mistake.name})" in m for m in result.messages)


def test_parameter_names_do_not_matter(capsys):
    def conv2d_layer(inputs, w, b, s, pad):  # the stub's order, the student's own names
        return cnnkit.reference.conv2d(inputs, w, b, strides=s, padding=pad)

    score, _ = _run(capsys, "conv2d_layer", _without_reference(conv2d_layer, "conv2d"), points=4, seed=2)
    assert score == 4.0


def test_lists_and_integer_outputs_count_as_arrays(capsys):
    def output_length(n, k, s, p):
        return int(cnnkit.reference.output_length(n, k, s, p))

    def correlate2d(image, kernel):
        return cnnkit.reference.correlate2d(image, kernel).tolist()

    assert _run(capsys, "output_length", _without_reference(output_length, "output_length"), seed=1)[0] == 1.0
    assert _run(capsys, "correlate2d", _without_reference(correlate2d, "correlate2d"), seed=1)[0] == 1.0


def test_stub_scores_zero_with_a_clear_message(capsys):
    def convolve2d(image, kernel):
        raise NotImplementedError()

    score, out = _run(capsys, "convolve2d", convolve2d, points=2, seed=0)
    assert score == 0.0 and "not implemented yet" in out


def test_crashing_function_is_feedback_not_a_crash(capsys):
    score, out = _run(capsys, "output_length", lambda *args: 1 / 0, seed=0)
    assert score == 0.0 and "raised ZeroDivisionError: division by zero" in out


def test_partial_credit_is_the_share_of_kinds_of_case_passed(capsys):
    reference = cnnkit.reference.output_length

    def valid_only(n, kernel_size, stride, padding):
        return reference(n, kernel_size, stride, padding) if padding == "valid" else -1

    scores = set()
    for seed in range(5):  # the same kinds fail whatever the draw: the same score
        score, out = _run(capsys, "output_length", as_student(valid_only), points=6, seed=seed, cases=10)
        scores.add(score)
    kinds = ["'valid' padding", "'same' padding", "stride 1", "stride above 1",
             "stride that does not divide the length", "kernel of size 1"]
    assert scores == {6 * 1 / len(kinds)}, scores  # only 'valid' padding passes: every other kind has a 'same' case
    assert "fails on: 'same' padding" in out and f"(1/{len(kinds)} passed)" in out


def test_student_noise_never_reaches_stderr(capfd):
    def noisy(image, kernel):
        print("debug", file=sys.stderr)
        os.write(2, b"C-level log line\n")
        warnings.warn("slow loop")
        return cnnkit.reference.correlate2d(np.asarray(image), np.asarray(kernel)[::-1, ::-1])

    score = check_function("convolve2d", _without_reference(noisy), points=1, seed=0)
    captured = capfd.readouterr()
    assert score == 1.0
    assert captured.err == ""


def _without_reference(fn, *names):
    """The same function, compiled without a visible `cnnkit` global (the guard
    flags a plain call to the reference)."""
    import types

    hidden = types.SimpleNamespace(reference=types.SimpleNamespace(
        **{name: getattr(cnnkit.reference, name) for name in names or ("correlate2d",)}))
    return types.FunctionType(fn.__code__, {**fn.__globals__, "cnnkit": hidden})


def test_calling_the_reference_is_flagged(capsys):
    def convolve2d(image, kernel):
        return cnnkit.reference.convolve2d(image, kernel)

    score, out = _run(capsys, "convolve2d", convolve2d, points=2, seed=0)
    assert score == 0.0 and "uses cnnkit's reference (cnnkit)" in out and "flagged for review" in out
    score, out = _run(capsys, "convolve2d", cnnkit.reference.convolve2d, points=2, seed=0)
    assert score == 0.0 and "(cnnkit.reference.conv.convolve2d)" in out


def test_unknown_check_name():
    with pytest.raises(KeyError):
        check_function("fft_conv", print)


def test_evidence_arrays_round_trip():
    array = np.random.default_rng(0).standard_normal((2, 3, 4))
    np.testing.assert_allclose(decode_array(encode_array(array)), array.astype(np.float32))
    assert decode_array(encode_array("not numbers")) is None


def test_case_seed_is_repeatable_under_a_grading_seed(monkeypatch):
    assert case_seed("x", 7) == 7
    monkeypatch.setenv(SEED_ENV, "run-1")
    assert case_seed("conv2d_layer") == case_seed("conv2d_layer") != case_seed("max_pool2d")
    monkeypatch.setenv(SEED_ENV, "run-2")
    first = case_seed("conv2d_layer")
    monkeypatch.setenv(SEED_ENV, "run-1")
    assert first != case_seed("conv2d_layer")
