"""Numbers a student works out about their own model, checked against the
grader's own computation from the model their builder makes.

A *quantity* (`QUANTITIES`) says how the true value follows from a model,
how close an answer must be, and the wrong values that common slips give,
each with its name and what to do about it. The one quantity so far is the
receptive field of the improved model, in milliseconds.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from cnnkit._validation import check_choice
from cnnkit.checks.report import CheckResult, Mistake
from cnnkit.quiet import silenced

__all__ = ["QUANTITIES", "SAMPLING_HZ", "Quantity", "answer_verdict", "check_model_answer"]

SAMPLING_HZ = 173.61  # the Bonn recordings' sampling rate


@dataclass(frozen=True)
class Quantity:
    """How one quantity about a model is computed and judged.

    Attributes:
        what: the quantity in words, for messages.
        truth: `model -> float`, the right value.
        tolerance: how far from it an answer may lie.
        slips: `model -> list of (name, value, message)`, the values common
            mistakes give.
    """

    what: str
    truth: object
    tolerance: float
    slips: object


def _field(model, strides=True):
    from cnnkit.reference.models import receptive_field_of

    return receptive_field_of(model, strides=strides)


def _ms(samples, rate=SAMPLING_HZ):
    return 1000.0 * samples / rate


def _receptive_field_slips(model):
    samples = _field(model)
    return [
        ("samples, not milliseconds", float(samples),
         "that is the field in samples; divide by the sampling rate (173.61 Hz) and multiply by 1000 for ms."),
        ("seconds, not milliseconds", samples / SAMPLING_HZ, "that is the field in seconds; the question asks for ms."),
        ("strides ignored", _ms(_field(model, strides=False)),
         "each layer widens the field by (kernel - 1) x dilation x the product of the strides BEFORE it; after a "
         "pooling of 2, every later kernel's step covers 2 input samples."),
        ("a row read as one second", _ms(samples, 178.0),
         "a row's 178 samples last 1.025 s, not 1 s: the samples are 1/173.61 s apart."),
        ("one sample short", _ms(samples - 1),
         "a field starts at 1 sample (one input position) before any layer widens it; that answer leaves it out."),
        ("the spec CNN's field", _ms(16),
         "92 ms is the spec CNN's field (16 samples); compute your own model's from its own layers."),
    ]


QUANTITIES = {
    "receptive_field_ms": Quantity(
        what="the receptive field of your model's last feature map, in ms",
        truth=lambda model: _ms(_field(model)),
        tolerance=_ms(0.5),  # half a sample: 2.9 ms
        slips=_receptive_field_slips,
    ),
}


def answer_verdict(quantity, answer, model, *, points=1.0):
    """Judges a student's number about their own model (runs no student code).

    Right when it lies within the quantity's tolerance of the value the
    grader computes from `model`; otherwise a slip is named only when the
    answer matches that slip's value and no other's.

    Args:
        quantity: str, a key of `QUANTITIES` (`"receptive_field_ms"`).
        answer: the student's value (a number; anything else scores 0).
        model: the `keras.Model` the student's builder made, or why there
            is none (a str: the builder's error, a model the grader cannot read).
        points: float, the most the check gives.

    Returns:
        A `CheckResult` with one criterion.

    Raises:
        ValueError: if `quantity` is not a key of `QUANTITIES`.
    """
    check_choice(quantity, allowed=tuple(QUANTITIES), name="quantity")
    spec = QUANTITIES[quantity]
    result = CheckResult(quantity, points, total=1, show_counts=False)
    if isinstance(model, str):
        result.messages.append(f"0: the grader has no model of yours to compute it from: {model[:200]}")
        return result
    value = _number(answer)
    if value is None:
        result.messages.append(f"0: the answer should be one number ({spec.what}); got {_shown(answer)}")
        return result
    with silenced():
        truth, slips = spec.truth(model), spec.slips(model)
    result.evidence.update(answer=value, truth=truth)
    if abs(value - truth) <= spec.tolerance:
        result.passed = 1
        result.messages.append(f"right: {value:.1f} (the grader computes {truth:.1f} from your model)")
        return result
    result.messages.append(f"0: {value:g} is not {spec.what}; the grader computes {truth:.1f} from the model "
                           f"your builder makes (answers within {spec.tolerance:.1f} count)")
    matched = [(name, message) for name, slip, message in slips  # a slip that gives the truth is no slip here
               if abs(slip - truth) > spec.tolerance and abs(value - slip) <= spec.tolerance]
    if len(matched) == 1:
        result.messages.append(Mistake(*matched[0]))
    return result


def check_model_answer(quantity, answer, build_fn, *, points=1.0):
    """Checks a number the student worked out about their own model.

    Args:
        quantity: str, a key of `QUANTITIES` (`"receptive_field_ms"`).
        answer: the student's number.
        build_fn: the student's builder; the value is computed from the
            model it returns (untrained: only its layers matter).
        points: float, the most this check gives.

    Returns:
        The score, a Python float.

    Raises:
        ValueError: if `quantity` is not a key of `QUANTITIES`.
    """
    check_choice(quantity, allowed=tuple(QUANTITIES), name="quantity")
    with silenced():
        try:
            model = build_fn()
        except Exception as error:
            model = f"{type(error).__name__}: {str(error)[:300]}"
    return answer_verdict(quantity, answer, model, points=points).emit()


def _number(answer):
    """The answer as a finite float, or None (a bool, a string, an array of several values are not numbers)."""
    if isinstance(answer, (bool, str, bytes)):  # (NumPy would read "392" as 392.0; the grader's probe does not)
        return None
    try:
        import numpy as np

        array = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None
    if array.size != 1 or not math.isfinite(float(array.reshape(-1)[0])):
        return None
    return float(array.reshape(-1)[0])


def _shown(answer):
    return f"{type(answer).__name__} {str(answer)[:40]!r}" if not isinstance(answer, numbers.Number) else repr(answer)
