"""Function checks: scores, misconception feedback, silence on stderr, evidence."""

import os
import sys
import warnings

import numpy as np
import pytest

import cnnkit
from cnnkit.checks import GRADED, check_function, decode_array, encode_array
from cnnkit.checks.report import SEED_ENV, case_seed


def _run(capsys, *args, **kwargs):
    score = check_function(*args, **kwargs)
    return score, capsys.readouterr().out


def as_student(fn):
    """`fn` behind a function of the tests' own, as a student's code would be
    (passing cnnkit's function itself is flagged as using the reference)."""
    def student(**kwargs):
        return fn(**kwargs)
    return student


@pytest.mark.parametrize("name", sorted(GRADED))
def test_reference_gets_full_marks_as_a_python_float(name, capsys):
    score, out = _run(capsys, name, as_student(GRADED[name].reference), points=3, seed=5)
    assert type(score) is float and score == 3.0
    assert "matches the reference on every case" in out


@pytest.mark.parametrize("name, mistake", [(n, m) for n in sorted(GRADED) for m in GRADED[n].misconceptions],
                         ids=lambda v: getattr(v, "name", v))
def test_each_misconception_loses_points_and_is_named(name, mistake, capsys):
    score, out = _run(capsys, name, as_student(mistake.variant), points=2, seed=11, cases=20)
    assert type(score) is float and 0.0 <= score < 2.0
    assert f"Likely mistake ({mistake.name})" in out


def test_stub_scores_zero_with_a_clear_message(capsys):
    def convolve2d(image, kernel):
        raise NotImplementedError()

    score, out = _run(capsys, "convolve2d", convolve2d, points=2, seed=0)
    assert score == 0.0 and "not implemented yet" in out


def test_crashing_function_is_feedback_not_a_crash(capsys):
    score, out = _run(capsys, "output_length", lambda **kw: 1 / 0, seed=0)
    assert score == 0.0 and "raised ZeroDivisionError: division by zero" in out


def test_partial_credit_is_the_share_of_cases_passed(capsys):
    reference = cnnkit.output_length

    def half_right(n, kernel_size, stride, padding):
        return reference(n, kernel_size, stride, padding) if padding == "valid" else -1

    score, out = _run(capsys, "output_length", as_student(half_right), points=4, seed=3, cases=40)
    valid = sum(GRADED["output_length"].cases(rng)["padding"] == "valid"
                for rng in [np.random.default_rng(3)] for _ in range(40))
    assert score == pytest.approx(4 * valid / 40)
    assert f"({valid}/40 passed)" in out


def test_student_noise_never_reaches_stderr(capfd):
    def noisy(image, kernel):
        print("debug", file=sys.stderr)
        os.write(2, b"C-level log line\n")
        warnings.warn("slow loop")
        return cnnkit.correlate2d(np.asarray(image), np.asarray(kernel)[::-1, ::-1])

    score = check_function("convolve2d", _without_reference(noisy), points=1, seed=0)
    captured = capfd.readouterr()
    assert score == 1.0
    assert captured.err == ""


def _without_reference(fn):
    """The same function, compiled without a visible `cnnkit` global (the guard
    flags a plain call to the reference)."""
    import types

    ref = cnnkit.correlate2d
    return types.FunctionType(fn.__code__, {**fn.__globals__, "cnnkit": types.SimpleNamespace(correlate2d=ref)})


def test_calling_the_reference_is_flagged(capsys):
    def convolve2d(image, kernel):
        return cnnkit.convolve2d(image, kernel)

    score, out = _run(capsys, "convolve2d", convolve2d, points=2, seed=0)
    assert score == 0.0 and "uses cnnkit's reference (cnnkit)" in out and "flagged for review" in out
    score, out = _run(capsys, "convolve2d", cnnkit.convolve2d, points=2, seed=0)
    assert score == 0.0 and "(cnnkit.conv.convolve2d)" in out


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
