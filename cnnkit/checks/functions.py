"""Checks of the functions students write, against the `cnnkit` reference.

Each graded function is registered once with: the reference (same signature
as the student's), a generator of random cases, the tolerance, and its
*misconceptions*: wrong variants of the reference that implement a typical
mistake. When a case fails, the student's output is compared with each
variant; the first that matches names the mistake in the feedback.
"""

from __future__ import annotations

import dis
import types
from dataclasses import dataclass, field

import numpy as np

import cnnkit
from cnnkit.checks.report import CheckResult, case_seed, encode_array, silenced
from cnnkit.conv import _pad_amounts

__all__ = ["GRADED", "GradedFunction", "Misconception", "check_function", "reference_used"]


@dataclass(frozen=True)
class Misconception:
    """A typical mistake, written as the wrong function a student would write."""

    name: str
    message: str
    variant: object  # callable with the reference's signature


@dataclass(frozen=True)
class GradedFunction:
    """How one student function is graded."""

    reference: object
    cases: object  # callable: rng -> dict of keyword arguments
    misconceptions: tuple = field(default=())
    rtol: float = 1e-4
    atol: float = 1e-4


def check_function(name, student_fn, *, points=1.0, seed=None, cases=10):
    """Compares a student function with the reference on seeded random cases.

    Args:
        name: the graded function's name, a key of `GRADED`.
        student_fn: the student's callable.
        points: float, the most this check gives.
        seed: int seed of the cases, or None for a fresh one (recorded in the
            evidence so the verifier can replay them).
        cases: int, how many random cases.

    Returns:
        The score, a Python float in [0, points], proportional to the cases
        passed. Feedback names the first failing case and, when the outputs
        show it, the likely misconception.

    Raises:
        KeyError: if `name` is not a graded function.
    """
    graded = GRADED[name]
    seed = case_seed(name, seed)
    rng = np.random.default_rng(seed)
    result = CheckResult(name, float(points), total=cases, evidence={"seed": seed, "cases": cases, "outputs": []})
    problems, mistakes = [], {}
    borrowed = reference_used(student_fn)
    if borrowed:
        result.messages.append(f"uses cnnkit's reference ({borrowed}) instead of your own code: no credit, "
                               "flagged for review")
        result.evidence["flag"] = f"calls {borrowed}"
        return result.emit()
    with silenced():
        for _ in range(cases):
            kwargs = graded.cases(rng)
            expected = graded.reference(**kwargs)
            got, error = _call(student_fn, kwargs)
            result.evidence["outputs"].append({"error": error} if error else encode_array(got))
            problem = error or _difference(got, expected, graded)
            if problem is None:
                result.passed += 1
                continue
            problems.append(f"{_describe(kwargs)}: {problem}")
            mistake = error is None and _misconception(graded, got, kwargs)
            if mistake:
                mistakes[mistake.name] = mistake.message
    result.messages = [f"Likely mistake ({mistake}): {message}" for mistake, message in mistakes.items()]
    result.messages += list(dict.fromkeys(problems))[:2]
    if result.passed == cases:
        result.messages.append("matches the reference on every case")
    return result.emit()


def reference_used(fn, depth=2):
    """Name of a `cnnkit` function or module that `fn`'s code refers to, or None.

    Args:
        fn: the student's function.
        depth: how many levels of called functions to follow.

    Returns:
        A name such as `"cnnkit.conv.conv2d"`, or None.

    Looks at the global names in `fn`'s code (and nested code, and the
    functions it calls, `depth` levels down). A determined student can hide
    a call; the trusted verifier is the real guard. This catches the plain
    `return cnnkit.conv2d(...)`.
    """

    own_module = getattr(fn, "__module__", None) or ""
    if own_module == "cnnkit" or own_module.startswith("cnnkit."):
        return f"{own_module}.{getattr(fn, '__name__', '?')}"
    code = getattr(fn, "__code__", None)
    if code is None or depth < 0:
        return None
    names, stack = set(), [code]
    while stack:  # the globals this code (and code nested in it) loads; attribute names are not globals
        current = stack.pop()
        names.update(i.argval for i in dis.get_instructions(current) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME"))
        stack += [c for c in current.co_consts if isinstance(c, types.CodeType)]
    for name in names:
        obj = getattr(fn, "__globals__", {}).get(name)
        module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
        if isinstance(module, str) and (module == "cnnkit" or module.startswith("cnnkit.")):
            return module if isinstance(obj, types.ModuleType) else f"{module}.{getattr(obj, '__name__', name)}"
        if isinstance(obj, types.FunctionType) and obj is not fn:
            found = reference_used(obj, depth - 1)
            if found:
                return found
    return None


def _call(fn, kwargs):
    try:
        return fn(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}), None
    except NotImplementedError:
        return None, "not implemented yet (raises NotImplementedError)"
    except Exception as error:  # the student's bug is feedback, not a crash
        return None, f"raised {type(error).__name__}: {error}"


def _misconception(graded, got, kwargs):
    """The first misconception whose wrong variant gives exactly `got`, or None."""
    for mistake in graded.misconceptions:
        if _difference(got, mistake.variant(**kwargs), graded) is None:
            return mistake
    return None


def _difference(got, expected, graded):
    """None when `got` matches `expected`, else what differs, in words."""
    if np.isscalar(expected) and not isinstance(expected, np.ndarray):
        try:
            ok = np.isclose(float(got), float(expected), rtol=graded.rtol, atol=graded.atol)
        except (TypeError, ValueError):
            return f"expected a number, got {type(got).__name__}"
        return None if ok else f"expected {expected}, got {got}"
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected an array, got {type(got).__name__}"
    if got.shape != expected.shape:
        return f"output shape {got.shape}, expected {expected.shape}"
    if not np.all(np.isfinite(got)):
        return "output holds NaN or infinity"
    if not np.allclose(got, expected, rtol=graded.rtol, atol=graded.atol):
        worst = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
        return f"values differ, e.g. at index {tuple(int(i) for i in worst)}: {got[worst]:.4g} instead of {expected[worst]:.4g}"
    return None


def _describe(kwargs):
    parts = []
    for key, value in kwargs.items():
        parts.append(f"{key} shape {value.shape}" if isinstance(value, np.ndarray) else f"{key}={value!r}")
    return "case with " + ", ".join(parts)


# ------------------------------------------------------------ case generators


def _image_and_kernel(rng):
    kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
    h, w = kh + int(rng.integers(0, 8)), kw + int(rng.integers(0, 8))
    return {"image": rng.standard_normal((h, w)), "kernel": rng.standard_normal((kh, kw))}


def _output_length_case(rng):
    k = int(rng.integers(1, 8))
    return {"n": k + int(rng.integers(0, 30)), "kernel_size": k, "stride": int(rng.integers(1, 4)),
            "padding": str(rng.choice(["valid", "same"]))}


def _layer_case(rng):
    kh = kw = int(rng.choice([1, 2, 3, 4, 5]))
    c, f = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    h, w = kh + int(rng.integers(1, 8)), kw + int(rng.integers(1, 8))
    return {"x": rng.standard_normal((int(rng.integers(1, 3)), h, w, c)),
            "kernel": rng.standard_normal((kh, kw, c, f)), "bias": rng.standard_normal(f),
            "stride": int(rng.integers(1, 4)), "padding": str(rng.choice(["valid", "same"]))}


def _signal_case(rng):
    k = int(rng.integers(1, 8))
    return {"signal": rng.standard_normal(k + int(rng.integers(0, 40))), "kernel": rng.standard_normal(k)}


def _params_case(rng):
    return {"kernel_size": int(rng.integers(1, 8)), "in_channels": int(rng.integers(1, 65)),
            "filters": int(rng.integers(1, 129))}


def _dense_case(rng):
    return {"in_features": int(rng.integers(1, 2000)), "units": int(rng.integers(1, 500))}


def _pool_case(rng, one_d=False):
    p = int(rng.integers(1, 5))
    shape = (int(rng.integers(1, 3)), p + int(rng.integers(1, 9))) + (() if one_d else (p + int(rng.integers(1, 9)),))
    return {"x": rng.standard_normal(shape + (int(rng.integers(1, 4)),)), "pool_size": p,
            "stride": int(rng.integers(1, 4)), "padding": str(rng.choice(["valid", "same"]))}


def _standardise_case(rng):
    n = int(rng.integers(1, 20))
    return {"signals": rng.normal(-7, 160, size=(n, 178)).round(), "mean": float(rng.normal(-7, 5)),
            "std": float(rng.uniform(100, 200))}


# --------------------------------------------------------------- references


def _conv2d_layer(x, kernel, bias, stride, padding):
    return cnnkit.conv2d(x, kernel, bias, strides=stride, padding=padding)


def _same_pads(x, window, stride, reverse=False):
    """Keras' 'same' padding per spatial axis, or with its halves swapped."""
    pads = [_pad_amounts(n, k, stride, "same") for n, k in zip(x.shape[1:-1], window)]
    return [(after, before) if reverse else (before, after) for before, after in pads]


def _padded(x, pads, fill=0.0):
    return np.pad(x, [(0, 0)] + pads + [(0, 0)], constant_values=fill)


def _conv2d_pads_reversed(x, kernel, bias, stride, padding):
    if padding == "valid":
        return _conv2d_layer(x, kernel, bias, stride, padding)
    x = _padded(x, _same_pads(x, kernel.shape[:2], stride, reverse=True))
    return _conv2d_layer(x, kernel, bias, stride, "valid")


def _pool_pads_reversed(op, kind):
    """A pooling op whose 'same' padding puts the larger half before."""
    def variant(x, pool_size, stride, padding):
        if padding == "valid":
            return op(x, pool_size, stride, padding)
        pads = _same_pads(x, (pool_size,) * (x.ndim - 2), stride, reverse=True)
        if kind == "max":
            return op(_padded(x, pads, fill=x.min() - 1.0), pool_size, stride, "valid")
        sums = op(_padded(x, pads), pool_size, stride, "valid")
        counts = op(_padded(np.ones_like(x), pads), pool_size, stride, "valid")
        return sums / counts
    return variant


def _max_pool2d(x, pool_size, stride, padding):
    return cnnkit.max_pool2d(x, pool_size, stride, padding)


def _average_pool2d(x, pool_size, stride, padding):
    return cnnkit.average_pool2d(x, pool_size, stride, padding)


def _max_pool1d(x, pool_size, stride, padding):
    return cnnkit.max_pool1d(x, pool_size, stride, padding)


def _average_with_padding_counted(x, pool_size, stride, padding):
    if padding == "valid":
        return _average_pool2d(x, pool_size, stride, padding)
    return _average_pool2d(_padded(x, _same_pads(x, (pool_size, pool_size), stride)), pool_size, stride, "valid")


def _standardise(signals, mean, std):
    return ((np.asarray(signals) - mean) / std).astype(np.float32)[:, :, None]


_CHANNELS_FIRST = "the output is channels-first (batch, channels, height, width); Keras is channels-last (batch, height, width, channels)."
_STRIDE = "the stride is ignored: the windows move one step at a time whatever `stride` says."
_PADDING = "'same' padding is off by one: Keras puts the smaller half of the padding before the input (pad_before = total // 2), the larger after."

GRADED = {
    "correlate2d": GradedFunction(
        lambda image, kernel: cnnkit.correlate2d(image, kernel), _image_and_kernel,
        (Misconception("kernel flipped", "cross-correlation does not flip the kernel; your output is the convolution.",
                       lambda image, kernel: cnnkit.convolve2d(image, kernel)),)),
    "convolve2d": GradedFunction(
        lambda image, kernel: cnnkit.convolve2d(image, kernel), _image_and_kernel,
        (Misconception("kernel not flipped", "convolution flips the kernel (k[::-1, ::-1]) before sliding it; "
                       "your output equals the cross-correlation.",
                       lambda image, kernel: cnnkit.correlate2d(image, kernel)),)),
    "output_length": GradedFunction(
        lambda n, kernel_size, stride, padding: cnnkit.output_length(n, kernel_size, stride, padding),
        _output_length_case,
        (Misconception("padding off by one", "the count is off by one: 'valid' gives floor((n - k) / s) + 1 "
                       "and 'same' gives ceil(n / s).",
                       lambda n, kernel_size, stride, padding: (n - kernel_size) // stride if padding == "valid" else n // stride),
         Misconception("stride ignored", _STRIDE,
                       lambda n, kernel_size, stride, padding: cnnkit.output_length(n, kernel_size, 1, padding)))),
    "conv2d_layer": GradedFunction(
        _conv2d_layer, _layer_case,
        (Misconception("stride ignored", _STRIDE,
                       lambda x, kernel, bias, stride, padding: _conv2d_layer(x, kernel, bias, 1, padding)),
         Misconception("channels-first layout", _CHANNELS_FIRST,
                       lambda **kw: _conv2d_layer(**kw).transpose(0, 3, 1, 2)),
         Misconception("padding off by one", _PADDING, _conv2d_pads_reversed),
         Misconception("kernel flipped", "a Conv2D layer computes cross-correlation: do not flip the kernel.",
                       lambda x, kernel, bias, stride, padding: _conv2d_layer(x, kernel[::-1, ::-1], bias, stride, padding)),
         Misconception("bias missing", "the bias is not added (one value per filter).",
                       lambda x, kernel, bias, stride, padding: _conv2d_layer(x, kernel, None, stride, padding)))),
    "conv1d_signal": GradedFunction(
        lambda signal, kernel: np.convolve(signal, kernel, "valid"), _signal_case,
        (Misconception("kernel not flipped", "convolution flips the kernel; your output equals np.correlate.",
                       lambda signal, kernel: np.correlate(signal, kernel, "valid")),)),
    "conv_params": GradedFunction(
        lambda kernel_size, in_channels, filters: cnnkit.conv_parameter_count((kernel_size,) * 2, in_channels, filters),
        _params_case,
        (Misconception("bias missing", "each filter also has one bias.",
                       lambda kernel_size, in_channels, filters: kernel_size**2 * in_channels * filters),
         Misconception("input channels ignored", "each filter spans every input channel: k * k * in_channels weights.",
                       lambda kernel_size, in_channels, filters: kernel_size**2 * filters + filters),
         Misconception("kernel counted once", "a k x k kernel has k * k weights per channel, not k.",
                       lambda kernel_size, in_channels, filters: kernel_size * in_channels * filters + filters))),
    "dense_params": GradedFunction(
        lambda in_features, units: cnnkit.dense_parameter_count(in_features, units), _dense_case,
        (Misconception("bias missing", "each unit also has one bias.", lambda in_features, units: in_features * units),)),
    "max_pool2d": GradedFunction(
        _max_pool2d, _pool_case,
        (Misconception("average instead of max", "max pooling keeps the largest value of each window; yours averages.",
                       _average_pool2d),
         Misconception("stride ignored", _STRIDE, lambda x, pool_size, stride, padding: _max_pool2d(x, pool_size, 1, padding)),
         Misconception("channels-first layout", _CHANNELS_FIRST, lambda **kw: _max_pool2d(**kw).transpose(0, 3, 1, 2)),
         Misconception("padding off by one", _PADDING, _pool_pads_reversed(_max_pool2d, "max")))),
    "average_pool2d": GradedFunction(
        _average_pool2d, _pool_case,
        (Misconception("max instead of average", "average pooling takes the mean of each window; yours keeps the max.",
                       _max_pool2d),
         Misconception("padding counted in the mean", "with 'same' padding, Keras divides by the number of real "
                       "inputs in the window, not by the window size.", _average_with_padding_counted),
         Misconception("stride ignored", _STRIDE, lambda x, pool_size, stride, padding: _average_pool2d(x, pool_size, 1, padding)),
         Misconception("padding off by one", _PADDING, _pool_pads_reversed(_average_pool2d, "average")))),
    "max_pool1d": GradedFunction(
        _max_pool1d, lambda rng: _pool_case(rng, one_d=True),
        (Misconception("average instead of max", "max pooling keeps the largest value of each window; yours averages.",
                       lambda x, pool_size, stride, padding: cnnkit.average_pool1d(x, pool_size, stride, padding)),
         Misconception("stride ignored", _STRIDE, lambda x, pool_size, stride, padding: _max_pool1d(x, pool_size, 1, padding)),
         Misconception("padding off by one", _PADDING, _pool_pads_reversed(_max_pool1d, "max")))),
    "standardise": GradedFunction(
        _standardise, _standardise_case,
        (Misconception("own statistics", "standardise with the *training* mean and std you are given, not the "
                       "statistics of the rows themselves.",
                       lambda signals, mean, std: _standardise(signals, np.mean(signals), np.std(signals))),
         Misconception("channel axis missing", "Conv1D needs a channel axis: shape (rows, 178, 1).",
                       lambda signals, mean, std: _standardise(signals, mean, std)[:, :, 0]))),
}
