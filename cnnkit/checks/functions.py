"""Checks of the functions students write, against the `cnnkit` reference.

Each graded function is registered once with: the reference (same signature
as the student's), a generator of random cases, the tolerance, and its
*misconceptions*: wrong variants of the reference that implement a typical
mistake. When a case fails, the student's output is compared with each
variant; the first that matches names the mistake in the feedback.
"""

from __future__ import annotations

import collections.abc
import dis
import itertools
import math
import types
from dataclasses import dataclass, field

import numpy as np

import cnnkit.reference
from cnnkit.checks.report import CheckResult, Mistake, case_seed, encode_array
from cnnkit.quiet import silenced
from cnnkit.reference.conv import _pad_amounts

__all__ = ["FIXED_DRAWS", "GRADED", "MAX_ITEMS", "NO_RETURN", "GradedFunction", "Misconception", "call_positionally",
           "check_function", "draw_cases", "fixed_cases", "judge", "reference_used"]


# How many random-looking cases, drawn once from a fixed seed, join the edge cases that decide the points.
FIXED_DRAWS = 32
_FIXED_SEED = 20261125

# An iterator a student's function returns (a generator, `map`, `filter`) is read as the list of its items, up to
# this many; the probe in the grader's sandbox reads it the same way.
MAX_ITEMS = 1_000_000

# What a function that returned None is told (a `print` in place of `return`, or no `return` on some path).
NO_RETURN = "returned None: does every path of the function end in `return` with its result?"


@dataclass(frozen=True)
class Misconception:
    """A typical mistake, written as the wrong function a student would write."""

    name: str
    message: str
    variant: object  # callable with the reference's signature


@dataclass(frozen=True)
class GradedFunction:
    """How one student function is graded.

    Attributes:
        reference: the right answer, with the stub's parameters.
        cases: callable rng -> dict of arguments, in the stub's order.
        misconceptions: tuple of `Misconception`.
        rtol, atol: the tolerance of a match.
        edges: callable () -> list of fixed cases that cover every kind of
            case (odd and even kernels, strides that do not divide, ...).
        kinds: callable(**case) -> tuple of the kinds a case belongs to.
    """

    reference: object
    cases: object
    misconceptions: tuple = field(default=())
    rtol: float = 1e-4
    atol: float = 1e-4
    edges: object = None
    kinds: object = None

    def kinds_of(self, case):
        return tuple(self.kinds(**case)) if self.kinds else ("every case",)


def check_function(name, student_fn, *, points=1.0, seed=None, cases=10):
    """Compares a student function with the reference on fixed and random cases.

    The function is called positionally, in the stub's parameter order, so
    its parameters may have any names.

    Args:
        name: the graded function's name, a key of `GRADED`.
        student_fn: the student's callable.
        points: float, the most this check gives.
        seed: int seed of the random cases, or None (see `case_seed`).
        cases: int, how many random cases beside the fixed ones.

    Returns:
        The score, a Python float in [0, points]: the share of the kinds of
        case (see `GradedFunction.kinds`) on which every case passes.
        Feedback names the failing kinds, a failing case and, when the
        outputs show it, the likely misconception.

    Raises:
        KeyError: if `name` is not a graded function.
    """
    seed = case_seed(name, seed)
    drawn = draw_cases(name, seed, cases)
    borrowed = reference_used(student_fn)
    if borrowed:
        result = CheckResult(name, float(points), total=1, evidence={"seed": seed, "flag": f"calls {borrowed}"})
        result.messages.append(f"uses cnnkit's reference ({borrowed}) instead of your own code: no credit, "
                               "flagged for review")
        return result.emit()
    with silenced():
        outputs = [call_positionally(student_fn, case) for case in drawn]
        result = judge(name, drawn, outputs, points=points)
    result.evidence.update(seed=seed, cases=len(drawn),
                           outputs=[{"error": error} if error else encode_array(got) for got, error in outputs])
    return result.emit()


def fixed_cases(name):
    """The cases every student's function meets, the same for all: the edge
    cases, then `FIXED_DRAWS` random ones drawn once from a fixed seed. They
    alone decide the points (see `judge`).

    Args:
        name: a key of `GRADED`.

    Returns:
        A list of dicts of arguments, in the stub's parameter order.
    """
    graded = GRADED[name]
    rng = np.random.default_rng(_FIXED_SEED + 1)
    return [dict(case) for case in (graded.edges() if graded.edges else [])] + \
        [graded.cases(rng) for _ in range(FIXED_DRAWS)]


def draw_cases(name, seed, count=10):
    """The cases a graded function is checked on: the fixed cases (see
    `fixed_cases`), then `count` random ones drawn from `seed`.

    Args:
        name: a key of `GRADED`.
        seed: int seed of the random cases.
        count: int, how many random cases.

    Returns:
        A list of dicts of arguments, in the stub's parameter order.
    """
    rng = np.random.default_rng(seed)
    return fixed_cases(name) + [GRADED[name].cases(rng) for _ in range(count)]


def call_positionally(fn, case):
    """`fn(*case.values())` on copies of the arguments.

    An iterator it returns (a generator, `map`, `filter`, a dict's keys or
    values) is read as the list of its items: a lazy sequence of the right
    numbers is a right answer in another style.

    Returns:
        `(output, None)`, or `(None, what went wrong in words)`.
    """
    try:
        return _materialised(fn(*[(v.copy() if isinstance(v, np.ndarray) else v) for v in case.values()])), None
    except NotImplementedError:
        return None, "not implemented yet (raises NotImplementedError)"
    except Exception as error:  # the student's bug is feedback, not a crash
        return None, f"raised {type(error).__name__}: {str(error)[:200]}"


def _materialised(value):
    """An iterator or a dict view as the list of its items (at most `MAX_ITEMS`); anything else as it is."""
    if not isinstance(value, (collections.abc.Iterator, collections.abc.KeysView, collections.abc.ValuesView)):
        return value
    items = list(itertools.islice(value, MAX_ITEMS + 1))
    if len(items) > MAX_ITEMS:
        raise ValueError(f"returned an iterator of more than {MAX_ITEMS:,} items")
    return items


def judge(name, cases, outputs, *, points=1.0):
    """Scores a graded function's outputs against the reference.

    Runs only the reference and its wrong variants, never student code, so
    the trusted verifier and the in-kernel check give the same verdict.

    The fixed cases (the first of `cases`, see `draw_cases`) decide the
    points, so the same code earns the same points for every student. The
    student's own random cases run too: a random case that fails although
    every kind it belongs to passed its fixed cases is evidence the fixed
    cases alone did not see (code that special-cases them?), so its kinds are
    lost as well and named in `evidence["special_cased"]`. A random case that
    fails in a kind the fixed cases already fail shows the mistake they found,
    and costs nothing more: an honest bug loses the same points whatever the
    random draw.
    A misconception is named only when it explains the fixed cases' evidence:
    its wrong variant gives every failing output, or fails exactly the kinds
    that fail.

    Args:
        name: a key of `GRADED`.
        cases: list of argument dicts (see `draw_cases`).
        outputs: list of `(output, error)` pairs, one per case (error is a
            str when the call failed, else None).
        points: float, the most the check gives.

    Returns:
        A `CheckResult`: one criterion per kind of case; a kind passes when
        every case of that kind matches.
    """
    graded = GRADED[name]
    fixed = len(fixed_cases(name))
    failing, own, wrong = {}, [], []
    kinds = list(dict.fromkeys(kind for case in cases[:fixed] for kind in graded.kinds_of(case)))
    expected = [graded.reference(**case) for case in cases]
    for index, (case, (got, error)) in enumerate(zip(cases, outputs)):
        problem = error or _difference(got, expected[index], graded)
        if problem is None:
            continue
        wrong.append((index, got, error))
        if index < fixed:
            for kind in graded.kinds_of(case):
                failing.setdefault(kind, f"{_describe(case)}: {problem}")
        else:
            own.append((graded.kinds_of(case), f"{_describe(case)}: {problem}"))
    special = {}
    for case_kinds, why in own:  # unexplained: no kind of the case failed on the fixed cases
        if not any(kind in failing for kind in case_kinds):
            special.update({kind: why for kind in case_kinds if kind not in special})
    # the name, like the points, is read from the fixed cases: the same code is told the same thing
    mistake = _explaining(graded, cases[:fixed], expected, [item for item in wrong if item[0] < fixed], set(failing))
    failing.update(special)
    kinds += [kind for kind in special if kind not in kinds]
    result = CheckResult(name, float(points), passed=len(kinds) - len(failing), total=len(kinds))
    result.messages = [Mistake(mistake.name, mistake.message)] if mistake else []
    if failing:
        result.messages.append("fails on: " + "; ".join(failing))
        if special:
            result.messages.append(f"passes the fixed cases of {', '.join(special)} but fails your own random cases "
                                   "of the same kind: lost all the same, and flagged for review")
        result.messages += list(dict.fromkeys(failing.values()))[:2]
    else:
        result.messages.append("matches the reference on every case")
    result.evidence = {"failing_kinds": sorted(failing), "kinds": kinds, "special_cased": sorted(special)}
    return result


def _explaining(graded, cases, expected, wrong, failing_kinds):
    """The misconception that gives every failing output; else the one that fails exactly the failing kinds
    (and gives at least one failing output); else None."""
    answered = [(index, got) for index, got, error in wrong if error is None]
    if not answered:
        return None
    outputs = {}

    def variant(mistake, index):  # (two variants may share a name: one per axis)
        if (id(mistake), index) not in outputs:
            outputs[id(mistake), index] = mistake.variant(**cases[index])
        return outputs[id(mistake), index]

    def gives(mistake, index, got):
        return _difference(got, variant(mistake, index), graded) is None

    for mistake in graded.misconceptions:
        if len(answered) == len(wrong) and all(gives(mistake, index, got) for index, got in answered):
            return mistake
    for mistake in graded.misconceptions:
        fails = {kind for index, case in enumerate(cases)
                 if _difference(variant(mistake, index), expected[index], graded) is not None
                 for kind in graded.kinds_of(case)}
        if fails == failing_kinds and any(gives(mistake, index, got) for index, got in answered):
            return mistake
    return None


def reference_used(fn, depth=2):
    """Name of a `cnnkit` function or module that `fn`'s code refers to, or None.

    Args:
        fn: the student's function.
        depth: how many levels of called functions to follow.

    Returns:
        A name such as `"cnnkit.reference.conv.conv2d"`, or None.

    Looks at the global names in `fn`'s code (and nested code, and the
    functions it calls, `depth` levels down). A determined student can hide
    a call; the trusted verifier is the real guard. This catches the plain
    `return cnnkit.reference.conv2d(...)`.
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


def _difference(got, expected, graded):
    """None when `got` matches `expected`, else what differs, in words."""
    if got is None:
        return NO_RETURN
    if isinstance(got, (set, frozenset)):  # a set of numbers answers as well as its sorted list
        got = sorted(got)
    if np.isscalar(expected) and not isinstance(expected, np.ndarray):
        return _scalar_difference(got, expected, graded)
    try:
        if np.asarray(got).dtype.kind in "SU":  # text that looks like numbers is still text (the probe agrees)
            raise TypeError
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


def _scalar_difference(got, expected, graded):
    """`_difference` where a number is expected: any one number counts (a Python or NumPy scalar, an array or list
    of one element); text, None or several numbers do not."""
    if isinstance(got, (str, bytes)):
        return f"expected a number, got {type(got).__name__}"
    try:
        value = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected a number, got {type(got).__name__}"
    if value.size != 1:
        return f"expected a number, got {value.size} numbers (shape {value.shape})"
    value = value.item()
    ok = np.isclose(value, float(expected), rtol=graded.rtol, atol=graded.atol)
    return None if ok else f"expected {expected}, got {value:.6g}"


def _describe(kwargs):
    """A case in a few words: small arrays in full, larger ones by shape."""
    parts = []
    for key, value in kwargs.items():
        if isinstance(value, np.ndarray):
            kind = " of integers" if np.issubdtype(value.dtype, np.integer) else ""
            if value.size <= 12:
                text = np.array2string(value, precision=2, separator=", ").replace("\n", "")
                parts.append(f"{key}={' '.join(text.split())}")
            else:
                parts.append(f"{key} shape {value.shape}{kind}")
        else:
            parts.append(f"{key}={value!r}")
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


def _gradient_case(rng):
    n = int(rng.integers(2, 30))
    k = int(rng.integers(1, n + 1))
    return {"x": rng.standard_normal(n), "grad_y": rng.standard_normal(n - k + 1), "kernel_size": k}


def _learning_case(rng):
    k = int(rng.integers(1, 4))
    shape = (int(rng.integers(k + 2, 12)), int(rng.integers(k + 2, 12)))
    image = rng.standard_normal(shape)
    target = cnnkit.reference.correlate2d(image, rng.standard_normal((k, k)))
    return _learning_problem(image, target, k, int(rng.integers(1, 40)))


def _learning_problem(image, target, k, steps):
    """The arguments, in the stub's order (they are passed positionally), with a step size that converges."""
    return {"image": image, "target": target, "kernel_size": k, "steps": steps,
            "lr": float(0.5 / (k * k * np.sum(image**2)))}


def _params_case(rng):
    return {"kernel_size": int(rng.integers(1, 8)), "in_channels": int(rng.integers(1, 65)),
            "filters": int(rng.integers(1, 129))}


def _dense_case(rng):
    return {"in_features": int(rng.integers(1, 2000)), "units": int(rng.integers(1, 500))}


def _local_case(rng):
    return {"out_height": int(rng.integers(1, 33)), "out_width": int(rng.integers(1, 33)),
            "kernel_size": int(rng.integers(1, 8)), "in_channels": int(rng.integers(1, 17)),
            "filters": int(rng.integers(1, 33))}


def _macs_case(rng):
    k, stride, padding = int(rng.integers(1, 8)), int(rng.integers(1, 5)), str(rng.choice(["valid", "same"]))
    return {"height": int(rng.integers(k, 41)), "width": int(rng.integers(k, 41)), "kernel_size": k,
            "in_channels": int(rng.integers(1, 65)), "filters": int(rng.integers(1, 65)), "stride": stride,
            "padding": padding}


def _spread_case(rng):
    seeds = int(rng.integers(2, 9))
    # distinct by 0.4 points at least, so that float32 arithmetic stays well within the tolerance
    accuracies = float(rng.uniform(0.4, 0.9)) + rng.choice(np.arange(-12, 13), seeds, replace=False) * 0.004
    difference = float(rng.normal(0, 0.04)) if rng.random() < 0.9 else 0.0
    return {"difference": difference, "accuracies": accuracies if rng.random() < 0.7 else accuracies.tolist()}


def _method_case(rng):
    classes = int(rng.integers(2, 7))
    methods = rng.integers(0, int(rng.integers(1, 4)), classes)
    confusion = rng.integers(0, 25, (classes, classes)) + np.diag(rng.integers(20, 200, classes))
    return {"confusion": confusion, "method": methods.astype(bool) if methods.max() <= 1 and rng.random() < 0.5
            else methods}


def _field_case(rng):
    return {"layers": [[int(rng.integers(1, 8)), int(rng.integers(1, 4))] for _ in range(int(rng.integers(1, 6)))]}


def _shift_case(rng):
    layers = [[int(rng.integers(1, 8)), int(rng.choice([1, 1, 2, 3]))] for _ in range(int(rng.integers(1, 6)))]
    return {"layers": layers, "max_shift": int(rng.integers(1, 41))}


def _costs_case(rng):
    rows = int(rng.integers(100, 10_000))
    small = int(rng.choice([8, 16, 32, 50, 64, 100]))
    large = int(rng.choice([128, 200, 256, 512, 1000, 1024, 4096]))
    pair = (small, large) if rng.random() < 0.7 else (large, small)
    if math.ceil(rows / pair[0]) == math.ceil(rows / pair[1]):
        pair = (1, pair[1])
    return _timed(rows, pair, float(rng.uniform(2e-4, 2e-2)), float(rng.uniform(1e-7, 1e-4)))


def _timed(rows, batch_sizes, per_step, per_row):
    """A case whose epoch times follow the model exactly: ceil(rows / b) * per_step + rows * per_row."""
    return {"rows": rows, "batch_sizes": tuple(batch_sizes),
            "seconds": np.array([math.ceil(rows / b) * per_step + rows * per_row for b in batch_sizes])}


def _batch_norm_case(rng):
    channels = int(rng.integers(1, 5))
    shape = (int(rng.integers(2, 9)),) + ((int(rng.integers(1, 12)),) if rng.random() < 0.7 else ()) + (channels,)
    return {"x": rng.normal(rng.normal(0, 2), rng.uniform(0.5, 3), shape),
            "gamma": rng.uniform(0.5, 2, channels), "beta": rng.normal(0, 1, channels),
            "moving_mean": rng.normal(0, 1, channels), "moving_var": rng.uniform(0.2, 3, channels),
            "training": bool(rng.random() < 0.5)}


def _dropout_case(rng):
    shape = (int(rng.integers(1, 6)), int(rng.integers(1, 20)))
    return {"x": rng.normal(0, 2, shape), "rate": float(rng.choice([0.1, 0.25, 0.5, 0.8])),
            "training": bool(rng.random() < 0.5), "noise": rng.random(shape)}


def _pool_case(rng, one_d=False):
    p = int(rng.integers(1, 5))
    shape = (int(rng.integers(1, 3)), p + int(rng.integers(1, 9))) + (() if one_d else (p + int(rng.integers(1, 9)),))
    return {"x": rng.standard_normal(shape + (int(rng.integers(1, 4)),)), "pool_size": p,
            "stride": int(rng.integers(1, 4)), "padding": str(rng.choice(["valid", "same"]))}


def _standardise_case(rng):
    n = int(rng.integers(1, 20))
    return {"signals": rng.normal(-7, 160, size=(n, 178)).round(), "mean": float(rng.normal(-7, 5)),
            "std": float(rng.uniform(100, 200))}


# ------------------------------------------- fixed edge cases and their kinds
# Every kind of case appears among the fixed cases, so that a wrong
# implementation loses the same points in every run, whatever the random draw.


def _fixed(draw):
    """Edge cases drawn once from a fixed seed (the same for everyone)."""
    return lambda: draw(np.random.default_rng(_FIXED_SEED))


def _integer(*arrays):
    return any(isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.integer) for a in arrays)


def _image_kinds(image, kernel):
    kh, kw = kernel.shape
    kinds = ["1x1 kernel" if kh == kw == 1 else "non-square kernel" if kh != kw else "square kernel"]
    if image.shape == kernel.shape:
        kinds.append("kernel as large as the image")
    if 1 in image.shape:
        kinds.append("a single row or column")
    if _integer(image):
        kinds.append("integer image")
    return kinds


def _image_edges(rng):
    return [{"image": rng.standard_normal((6, 7)), "kernel": rng.standard_normal((3, 3))},
            {"image": rng.standard_normal((5, 8)), "kernel": rng.standard_normal((2, 3))},
            {"image": rng.standard_normal((4, 4)), "kernel": rng.standard_normal((1, 1))},
            {"image": rng.standard_normal((1, 9)), "kernel": rng.standard_normal((1, 4))},
            {"image": rng.standard_normal((3, 4)), "kernel": rng.standard_normal((3, 4))},
            {"image": rng.integers(-5, 6, (5, 6)), "kernel": rng.standard_normal((2, 2)).round(1)}]


def _length_kinds(n, kernel_size, stride, padding):
    kinds = [f"'{padding}' padding", "stride 1" if stride == 1 else
             "stride that does not divide the length" if (n - (kernel_size if padding == "valid" else 0)) % stride
             else "stride above 1"]
    if kernel_size == 1:
        kinds.append("kernel of size 1")
    return kinds


def _length_edges(rng):
    return [dict(n=n, kernel_size=k, stride=s, padding=p) for n, k, s, p in
            ((28, 5, 1, "valid"), (28, 5, 1, "same"), (7, 2, 2, "valid"), (7, 2, 2, "same"), (10, 3, 3, "valid"),
             (12, 4, 2, "valid"), (12, 3, 3, "same"), (5, 5, 1, "valid"), (9, 1, 4, "same"), (11, 4, 3, "same"),
             (6, 1, 1, "valid"), (8, 1, 3, "valid"))]


def _layer_kinds(x, kernel, bias, stride, padding):
    kh, kw = kernel.shape[:2]
    kinds = ["'valid' padding" if padding == "valid" else
             "'same' padding, even kernel" if kh % 2 == 0 or kw % 2 == 0 else "'same' padding, odd kernel"]
    if stride == 1:
        kinds.append("stride 1")
    else:
        covered = [n - (k if padding == "valid" else 0) for n, k in zip(x.shape[1:3], (kh, kw))]
        kinds.append("stride that does not divide the input" if any(c % stride for c in covered) else "stride above 1")
    if kh != kw:
        kinds.append("non-square kernel")
    if kh == kw == 1:
        kinds.append("1x1 kernel")
    if _integer(x, kernel):
        kinds.append("integer inputs")
    return kinds


def _layer_edges(rng):
    def case(shape, kernel, stride, padding, integer=False):
        x = rng.integers(-4, 5, shape) if integer else rng.standard_normal(shape)
        k = rng.integers(-2, 3, kernel) if integer else rng.standard_normal(kernel)
        return {"x": x, "kernel": k, "bias": rng.standard_normal(kernel[-1]).round(2), "stride": stride,
                "padding": padding}
    return [case((2, 6, 7, 2), (3, 3, 2, 3), 1, "valid"), case((1, 6, 6, 1), (3, 3, 1, 2), 1, "same"),
            case((1, 5, 6, 2), (2, 2, 2, 2), 1, "same"), case((1, 7, 6, 1), (4, 2, 1, 2), 2, "same"),
            case((1, 8, 7, 2), (2, 3, 2, 1), 3, "valid"), case((2, 5, 5, 3), (1, 1, 3, 2), 2, "valid"),
            case((1, 5, 6, 1), (2, 3, 1, 2), 1, "valid", integer=True), case((1, 9, 8, 1), (3, 3, 1, 1), 2, "same"),
            # a stride that divides the input, 'same' padding, an odd total padding (one more after than before)
            case((1, 8, 8, 1), (3, 3, 1, 2), 2, "same")]


def _signal_kinds(signal, kernel):
    kinds = ["kernel of length 1" if len(kernel) == 1 else
             "kernel as long as the signal" if len(kernel) == len(signal) else "kernel shorter than the signal"]
    if _integer(signal, kernel):
        kinds.append("integer signal")
    return kinds


def _signal_edges(rng):
    return [{"signal": np.array([1, 2, 3, 4]), "kernel": np.array([1, 1])},
            {"signal": np.array([0, 0, 1, 0, 0]), "kernel": np.array([1, 2, 3])},
            {"signal": rng.standard_normal(12), "kernel": rng.standard_normal(1)},
            {"signal": rng.standard_normal(6), "kernel": rng.standard_normal(6)},
            {"signal": rng.standard_normal(30), "kernel": rng.standard_normal(5)}]


def _gradient_kinds(x, grad_y, kernel_size):
    kinds = ["kernel of length 1" if kernel_size == 1 else
             "one position (kernel as long as the signal)" if len(grad_y) == 1 else "several positions"]
    if _integer(x, grad_y):
        kinds.append("integer signal")
    return kinds


def _gradient_edges(rng):
    return [{"x": np.arange(6.0), "grad_y": np.array([0.0, 0.0, 1.0]), "kernel_size": 4},
            {"x": rng.standard_normal(12), "grad_y": rng.standard_normal(12), "kernel_size": 1},
            {"x": rng.standard_normal(5), "grad_y": rng.standard_normal(1), "kernel_size": 5},
            {"x": rng.standard_normal(20), "grad_y": rng.standard_normal(16), "kernel_size": 5},
            {"x": np.array([3, -1, 4, 1, -5, 9]), "grad_y": np.array([2, -1, 1, 3]), "kernel_size": 3}]


def _kernel_gradient(x, grad_y, kernel_size):
    """dL/dw of y[i] = sum_m w[m] x[i + m]: sum_i grad_y[i] x[i + m], one sum per weight."""
    return np.correlate(np.asarray(x, dtype=float), np.asarray(grad_y, dtype=float), "valid")


def _learning_kinds(image, target, kernel_size, steps, lr):
    return ["1x1 kernel" if kernel_size == 1 else "larger kernel", "one step" if steps == 1 else "several steps"]


def _learning_edges(rng):
    cases = []
    for shape, k, steps in (((6, 6), 3, 1), ((8, 7), 3, 25), ((5, 9), 1, 1), ((7, 7), 1, 10), ((9, 8), 2, 30)):
        image = rng.standard_normal(shape)
        cases.append(_learning_problem(image, cnnkit.reference.correlate2d(image, rng.standard_normal((k, k))), k,
                                       steps))
    return cases


def _learnt_kernel(image, target, kernel_size, steps, lr, *, ascent=False, forward=None):
    """Gradient descent on L(k) = sum((correlate2d(image, k) - target)**2) / 2 from k = 0: k -= lr * dL/dk, where
    dL/dk = correlate2d(image, residual), the sharing sum of every position (`forward` and `ascent`: the
    mistakes' variants)."""
    image, target = np.asarray(image, dtype=float), np.asarray(target, dtype=float)
    forward = forward or cnnkit.reference.correlate2d
    kernel = np.zeros((kernel_size, kernel_size))
    for _ in range(steps):
        gradient = cnnkit.reference.correlate2d(image, forward(image, kernel) - target)
        kernel = kernel + lr * gradient if ascent else kernel - lr * gradient
    return kernel


def _params_kinds(kernel_size, in_channels, filters):
    return ["one input channel" if in_channels == 1 else "several input channels",
            "1x1 kernel" if kernel_size == 1 else "larger kernel"]


def _params_edges(rng):
    return [dict(kernel_size=k, in_channels=c, filters=f) for k, c, f in ((5, 1, 6), (1, 3, 4), (3, 16, 32), (1, 1, 8))]


def _dense_kinds(in_features, units):
    return ["one input" if in_features == 1 else "several inputs"]


def _dense_edges(rng):
    return [dict(in_features=i, units=u) for i, u in ((400, 120), (1, 1), (84, 10), (1, 5))]


def _local_kinds(out_height, out_width, kernel_size, in_channels, filters):
    return ["one input channel" if in_channels == 1 else "several input channels",
            "1x1 kernel" if kernel_size == 1 else "larger kernel",
            "one output position" if out_height * out_width == 1 else "several output positions"]


def _local_edges(rng):
    return [dict(out_height=h, out_width=w, kernel_size=k, in_channels=c, filters=f) for h, w, k, c, f in
            ((28, 28, 5, 1, 6), (10, 10, 5, 6, 16), (1, 1, 3, 4, 2), (7, 5, 1, 3, 8), (4, 6, 3, 1, 1))]


def _macs_kinds(height, width, kernel_size, in_channels, filters, stride, padding):
    return [f"'{padding}' padding", "stride 1" if stride == 1 else "stride above 1",
            "1x1 kernel" if kernel_size == 1 else "larger kernel",
            "one input channel" if in_channels == 1 else "several input channels"]


def _macs_edges(rng):
    return [dict(height=h, width=w, kernel_size=k, in_channels=c, filters=f, stride=s, padding=p)
            for h, w, k, c, f, s, p in ((32, 32, 5, 1, 6, 1, "valid"), (227, 227, 11, 3, 96, 4, "valid"),
                                        (28, 28, 3, 16, 32, 1, "same"), (7, 9, 1, 8, 4, 2, "same"),
                                        (10, 13, 3, 1, 2, 2, "valid"), (13, 11, 3, 4, 5, 3, "same"),
                                        (6, 5, 1, 1, 3, 1, "valid"), (9, 12, 2, 3, 7, 1, "same"))]


def _conv_macs(height, width, kernel_size, in_channels, filters, stride, padding):
    return cnnkit.reference.conv_multiply_adds((height, width), kernel_size, in_channels, filters, stride, padding)


def _macs_counted(counted):
    """A mistake's variant: the right output positions, `counted(positions, k, in_channels, filters)` of them."""
    def variant(height, width, kernel_size, in_channels, filters, stride, padding):
        positions = (cnnkit.reference.output_length(height, kernel_size, stride, padding)
                     * cnnkit.reference.output_length(width, kernel_size, stride, padding))
        return counted(positions, kernel_size, in_channels, filters)
    return variant


def _method_kinds(confusion, method):
    confusion, method = np.asarray(confusion), np.asarray(method)
    methods = len(np.unique(method))
    kinds = ["no mistakes" if not (confusion - np.diag(np.diag(confusion))).any() else
             "one method for every class" if methods == 1 else
             "a method per class" if methods == len(method) else
             "two methods" if methods == 2 else "three methods or more"]
    return kinds + (["methods as booleans"] if method.dtype == bool else [])


def _method_edges(rng):
    bonn = np.array([[456, 2, 2, 0, 0], [0, 83, 124, 0, 0], [0, 106, 170, 0, 0], [0, 3, 1, 180, 46],
                     [1, 0, 0, 52, 177]])
    return [{"confusion": bonn, "method": np.array([True, True, True, False, False])},
            {"confusion": bonn, "method": np.array([0, 0, 0, 1, 1])},
            {"confusion": rng.integers(0, 20, (6, 6)) + np.diag(rng.integers(30, 90, 6)),
             "method": np.array([0, 1, 2, 0, 1, 2])},
            {"confusion": np.diag([40, 30, 20]), "method": np.array([0, 0, 1])},
            {"confusion": np.array([[30, 4], [7, 25]]), "method": np.array([0, 1])},
            {"confusion": rng.integers(0, 10, (4, 4)) + np.diag([50, 50, 50, 50]), "method": np.array([3, 3, 3, 3])}]


def _same_method(method):
    """(k, k) bools: whether classes i and j were recorded the same way."""
    method = np.asarray(method)
    return method[:, None] == method[None, :]


def _within_method_share(confusion, method):
    """The share of the off-diagonal (mistaken) counts whose true and predicted classes share a recording method."""
    confusion, same = np.asarray(confusion, dtype=float), _same_method(method)
    mistakes = confusion * (1 - np.eye(len(same)))
    total = mistakes.sum()
    return float((mistakes * same).sum() / total) if total else 0.0


def _field_kinds(layers):
    strides = [stride for _, stride in layers]
    kinds = ["one layer" if len(layers) == 1 else
             "several layers, stride 1" if set(strides) == {1} else "several layers with strides"]
    if any(stride > 1 for stride in strides[:-1]):
        kinds.append("a stride before a later layer")
    if any(kernel == 1 for kernel, _ in layers):
        kinds.append("a kernel of 1")
    return kinds


def _field_edges(rng):
    return [{"layers": [[5, 1]]}, {"layers": [[3, 1], [3, 1], [3, 1]]},
            {"layers": [[5, 1], [2, 2], [5, 1], [2, 2]]}, {"layers": [[7, 2], [3, 2], [3, 1]]},
            {"layers": [[1, 1], [2, 2], [1, 1], [4, 3]]}, {"layers": [[3, 3]]}]


def _total_stride(layers):
    return math.prod(stride for _, stride in layers)


def _shift_kinds(layers, max_shift):
    total, strided = _total_stride(layers), sum(stride > 1 for _, stride in layers)
    kinds = ["stride 1 throughout" if strided == 0 else "one strided layer" if strided == 1 else "several strided layers"]
    if total > max_shift:
        kinds.append("total stride above max_shift")
    elif max_shift % total == 0:
        kinds.append("max_shift itself a multiple")
    return kinds


def _shift_edges(rng):
    return [{"layers": [[5, 1], [2, 2], [5, 1], [2, 2]], "max_shift": 16}, {"layers": [[3, 1], [3, 1]], "max_shift": 5},
            {"layers": [[3, 2], [2, 3]], "max_shift": 20}, {"layers": [[7, 4]], "max_shift": 3},
            {"layers": [[1, 2], [2, 3]], "max_shift": 5},
            {"layers": [[1, 1], [2, 2], [3, 1], [3, 3], [2, 2]], "max_shift": 30}, {"layers": [[2, 2]], "max_shift": 7}]


def _invariant_shifts(layers, max_shift):
    return np.asarray(cnnkit.reference.invariant_shifts([tuple(layer) for layer in layers], max_shift), dtype=int)


def _multiples(step, max_shift, start=None):
    return np.arange(step if start is None else start, max_shift + 1, step, dtype=int)


def _spread_kinds(difference, accuracies):
    return ["a gain" if difference > 0 else "a loss" if difference < 0 else "no difference",
            "two seeds" if len(accuracies) == 2 else "several seeds"]


def _spread_edges(rng):
    return [{"difference": 0.031, "accuracies": np.array([0.70, 0.69, 0.69, 0.71])},
            {"difference": -0.012, "accuracies": [0.70, 0.69, 0.72]},
            {"difference": 0.05, "accuracies": np.array([0.66, 0.68])},
            {"difference": -0.2, "accuracies": np.array([0.55, 0.61])},
            {"difference": 0.0, "accuracies": np.array([0.8, 0.79, 0.83, 0.81, 0.8])},
            {"difference": 0.004, "accuracies": np.array([0.72, 0.73, 0.71, 0.72, 0.74, 0.70, 0.72, 0.73])}]


def _spread_with(spread):
    """in_seed_spreads with the spread measured by `spread(accuracies)`."""
    return lambda difference, accuracies: float(difference / spread(np.asarray(accuracies, dtype=float)))


def _costs_kinds(rows, batch_sizes, seconds):
    kinds = ["batch sizes that divide the rows" if all(rows % b == 0 for b in batch_sizes) else "a partial last batch"]
    if batch_sizes[0] > batch_sizes[1]:
        kinds.append("the larger batch first")
    if max(batch_sizes) >= rows:
        kinds.append("one step per epoch")
    return kinds


def _costs_edges(rng):
    return [_timed(2048, (32, 512), 2e-3, 4e-5), _timed(8050, (128, 1024), 3e-3, 2e-5),
            _timed(2048, (512, 32), 5e-3, 1e-6), _timed(1000, (64, 1000), 1e-3, 5e-5),
            _timed(1000, (10, 4000), 4e-4, 3e-6), _timed(int(rng.integers(3000, 6000)), (100, 256), 8e-3, 2e-7)]


def _step_costs(rows, batch_sizes, seconds):
    return np.asarray(cnnkit.reference.step_costs(rows, batch_sizes, seconds))


def _costs_with_steps(count):
    """step_costs with the steps of an epoch counted by `count(rows, batch_size)`."""
    def variant(rows, batch_sizes, seconds):
        steps = [count(rows, b) for b in batch_sizes]
        per_step = (seconds[0] - seconds[1]) / (steps[0] - steps[1])
        return np.array([per_step, (seconds[1] - steps[1] * per_step) / rows])
    return variant


def _batch_norm_kinds(x, gamma, beta, moving_mean, moving_var, training):
    kinds = ["training mode" if training else "inference mode",
             "(batch, steps, channels) input" if np.ndim(x) == 3 else "(batch, features) input"]
    if np.shape(x)[-1] > 1:
        kinds.append("several channels")
    return kinds


def _batch_norm_edges(rng):
    def case(shape, training):
        c = shape[-1]
        return {"x": rng.normal(1.5, 2.0, shape), "gamma": rng.uniform(0.5, 2, c), "beta": rng.normal(0, 1, c),
                "moving_mean": rng.normal(0, 1, c), "moving_var": rng.uniform(0.2, 3, c), "training": training}
    return [case((8, 10, 3), True), case((8, 10, 3), False), case((6, 4), True), case((6, 4), False),
            case((5, 7, 1), True), case((5, 7, 1), False)]


def _dropout_kinds(x, rate, training, noise):
    return ["training mode" if training else "inference mode"] + (["a high rate"] if rate > 0.5 else [])


def _dropout_edges(rng):
    def case(rate, training, shape=(4, 10)):
        return {"x": rng.normal(0, 2, shape), "rate": rate, "training": training, "noise": rng.random(shape)}
    return [case(0.5, True), case(0.5, False), case(0.2, True, (3, 8)), case(0.2, False, (3, 8)),
            case(0.8, True), case(0.8, False)]


def _pool_kinds(x, pool_size, stride, padding):
    kinds = [f"'{padding}' padding"]
    covered = [n - (pool_size if padding == "valid" else 0) for n in x.shape[1:-1]]
    kinds.append("stride equal to the pool" if stride == pool_size else
                 "overlapping windows (stride below the pool)" if stride < pool_size else "stride above the pool")
    if any(c % stride for c in covered):
        kinds.append("stride that does not divide the input")
    if pool_size == 1:
        kinds.append("pool of size 1")
    if padding == "same" and np.all(x < 0):
        kinds.append("negative inputs with padding")
    return kinds


def _pool_edges(one_d):
    def draw(rng):
        def shape(*spatial):
            return (1,) + spatial[:1 if one_d else 2] + (2,)
        return [{"x": rng.standard_normal(shape(6, 6)), "pool_size": 2, "stride": 2, "padding": "valid"},
                {"x": rng.standard_normal(shape(5, 7)), "pool_size": 3, "stride": 2, "padding": "same"},
                {"x": -rng.uniform(1, 5, shape(5, 6)), "pool_size": 3, "stride": 2, "padding": "same"},
                {"x": rng.standard_normal(shape(6, 5)), "pool_size": 3, "stride": 1, "padding": "valid"},
                {"x": rng.standard_normal(shape(7, 8)), "pool_size": 2, "stride": 3, "padding": "valid"},
                {"x": -rng.uniform(1, 5, shape(7, 7)), "pool_size": 2, "stride": 3, "padding": "same"},
                {"x": rng.standard_normal(shape(4, 3)), "pool_size": 1, "stride": 1, "padding": "same"},
                {"x": rng.standard_normal(shape(7, 7)), "pool_size": 2, "stride": 2, "padding": "same"}]
    return draw


def _standardise_kinds(signals, mean, std):
    return ["one row" if len(signals) == 1 else "several rows"] + (["integer signals"] if _integer(signals) else [])


def _standardise_edges(rng):
    return [{"signals": rng.integers(-500, 500, (1, 178)), "mean": -7.0, "std": 160.0},
            {"signals": rng.normal(-7, 160, (5, 178)).round(), "mean": 3.5, "std": 120.0}]


# --------------------------------------------------------------- references


def _conv2d_layer(x, kernel, bias, stride, padding):
    return cnnkit.reference.conv2d(x, kernel, bias, strides=stride, padding=padding)


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
    return cnnkit.reference.max_pool2d(x, pool_size, stride, padding)


def _average_pool2d(x, pool_size, stride, padding):
    return cnnkit.reference.average_pool2d(x, pool_size, stride, padding)


def _max_pool1d(x, pool_size, stride, padding):
    return cnnkit.reference.max_pool1d(x, pool_size, stride, padding)


def _average_with_padding_counted(x, pool_size, stride, padding):
    if padding == "valid":
        return _average_pool2d(x, pool_size, stride, padding)
    return _average_pool2d(_padded(x, _same_pads(x, (pool_size, pool_size), stride)), pool_size, stride, "valid")


def _standardise(signals, mean, std):
    return ((np.asarray(signals) - mean) / std).astype(np.float32)[:, :, None]


def _locally_connected(out_height, out_width, kernel_size, in_channels, filters):
    return cnnkit.reference.locally_connected_parameter_count(out_height * out_width, (kernel_size,) * 2, in_channels, filters)


def _batch_norm(x, gamma, beta, moving_mean, moving_var, training):
    return cnnkit.reference.batch_norm(x, gamma, beta, moving_mean, moving_var, bool(training))


def _batch_norm_variant(mode=None, per_row=False, batch_axis_only=False, epsilon_outside=False, ddof=0,
                        epsilon=1e-3, momentum=None):
    """A wrong batch normalisation: a fixed mode (`"batch"` or `"moving"` statistics whatever `training`
    says), statistics per row or over the batch axis alone, epsilon outside the square root or another
    epsilon, the unbiased variance, or in training the moving averages updated with `momentum` and used."""
    def variant(x, gamma, beta, moving_mean, moving_var, training):
        x = np.asarray(x, dtype=float)
        if (mode or ("batch" if training else "moving")) == "batch":
            axes = tuple(range(1, x.ndim)) if per_row else (0,) if batch_axis_only else tuple(range(x.ndim - 1))
            mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, ddof=ddof, keepdims=True)
            if momentum is not None:
                mean = momentum * np.asarray(moving_mean) + (1 - momentum) * mean
                var = momentum * np.asarray(moving_var) + (1 - momentum) * var
        else:
            mean, var = moving_mean, moving_var
        scale = np.sqrt(var) + epsilon if epsilon_outside else np.sqrt(var + epsilon)
        return gamma * (x - mean) / scale + beta
    return variant


def _dropout(x, rate, training, noise):
    return cnnkit.reference.dropout(x, rate, bool(training), noise)


_CHANNELS_FIRST = "the output is channels-first (batch, channels, height, width); Keras is channels-last (batch, height, width, channels)."

def _truncated(reference):
    """The reference as an integer output buffer gives it: every value truncated."""
    def variant(**case):
        return np.trunc(np.asarray(reference(**case), dtype=float))
    return variant


def _valid_window_at_origin(image, kernel):
    """The textbook sum with the wrong index offset: the full convolution's
    first outputs instead of `out[i, j] = (x * k)[i + kh - 1, j + kw - 1]`."""
    kh, kw = np.shape(kernel)
    full = cnnkit.reference.convolve2d(image, kernel, mode="full")
    return full[:np.shape(image)[0] - kh + 1, :np.shape(image)[1] - kw + 1]


def _conv2d_symmetric_same(x, kernel, bias, stride, padding):
    """'same' padding as k // 2 on both sides (right only for odd kernels)."""
    if padding == "valid":
        return _conv2d_layer(x, kernel, bias, stride, padding)
    kh, kw = kernel.shape[:2]
    return _conv2d_layer(_padded(x, [(kh // 2, kh // 2), (kw // 2, kw // 2)]), kernel, bias, stride, "valid")


def _conv2d_one_axis_stride(axis):
    def variant(x, kernel, bias, stride, padding):
        strides = (stride, 1) if axis == 0 else (1, stride)
        return cnnkit.reference.conv2d(x, kernel, bias, strides=strides, padding=padding)
    return variant


def _max_pool_zero_padding(op):
    def variant(x, pool_size, stride, padding):
        if padding == "valid":
            return op(x, pool_size, stride, padding)
        return op(_padded(x, _same_pads(x, (pool_size,) * (x.ndim - 2), stride)), pool_size, stride, "valid")
    return variant


_CHANNELS_FIRST = "the output is channels-first (batch, channels, height, width); Keras is channels-last (batch, height, width, channels)."
_STRIDE = "the stride is ignored: the windows move one step at a time whatever `stride` says."
_PADDING = "'same' padding is off by one: Keras puts the smaller half of the padding before the input (pad_before = total // 2), the larger after."
_ONE_AXIS = "the stride is applied along one axis only: windows must move `stride` steps down *and* across."
_EVEN_SAME = ("'same' padding is wrong for even kernels: k // 2 on both sides pads one too many; Keras pads "
              "k - 1 in total (more generally max((out - 1) * s + k - n, 0)), the smaller half first.")
_INT_BUFFER = ("your output buffer has the input's integer dtype, so every value is truncated: make it a float "
               "array (np.zeros(shape)) whatever the input's dtype.")
_FULL_MODE = ("the output is the 'full' one (every position where the kernel overlaps the image, "
              "(h + kh - 1) x (w + kw - 1)); 'valid' keeps only the positions where the kernel fits inside: "
              "(h - kh + 1) x (w - kw + 1).")
_TRANSPOSED = ("the output is transposed: out[i, j] is the window whose top-left corner is at row i, column j, "
               "so the output has (h - kh + 1) rows and (w - kw + 1) columns.")
_ZERO_PAD_MAX = ("max pooling pads with zeros: for negative inputs the padding wins. Keras ignores the padding "
                 "(pad with -inf, or take the max over real inputs only).")
_ONE_AXIS_FLIP = ("the kernel is flipped along one axis only: convolution flips it along both (k[::-1, ::-1], "
                  "a 180-degree rotation).")

_BN_EVAL = ("at evaluation (training=False) batch normalisation must use the moving mean and variance, not the "
            "statistics of the batch in hand: otherwise a row's prediction depends on the other rows of its batch.")
_BN_TRAIN = ("in training (training=True) batch normalisation uses the statistics of the batch in hand (the mean "
             "and variance over every axis but the channels); the moving averages are for evaluation.")
_BN_AXES = ("the statistics are taken over the wrong axes: batch normalisation normalises each *channel* over the "
            "batch (and the steps), x.mean(axis=tuple(range(x.ndim - 1))), not each row over its own values.")
_BN_MOMENTUM = ("in training batch normalisation normalises with the statistics of the batch in hand; the moving "
                "averages are updated then (moving = momentum * moving + (1 - momentum) * batch statistic) but only "
                "used at evaluation.")
_NOT_SCALED = ("the units that survive are not scaled: inverted dropout divides them by (1 - rate) in training, so "
               "that the expected output equals the input and nothing changes at evaluation.")
_DROPOUT_EVAL = "dropout is left on at evaluation: with training=False the layer returns its input unchanged."

GRADED = {
    "correlate2d": GradedFunction(
        lambda image, kernel: cnnkit.reference.correlate2d(image, kernel), _image_and_kernel,
        (Misconception("kernel flipped", "cross-correlation does not flip the kernel; your output is the convolution.",
                       lambda image, kernel: cnnkit.reference.convolve2d(image, kernel)),
         Misconception("integer output buffer", _INT_BUFFER,
                       _truncated(lambda image, kernel: cnnkit.reference.correlate2d(image, kernel))),
         Misconception("'full' mode instead of 'valid'", _FULL_MODE,
                       lambda image, kernel: cnnkit.reference.correlate2d(image, kernel, mode="full")),
         Misconception("output transposed", _TRANSPOSED,
                       lambda image, kernel: cnnkit.reference.correlate2d(image, kernel).T)),
        edges=_fixed(_image_edges), kinds=_image_kinds),
    "convolve2d": GradedFunction(
        lambda image, kernel: cnnkit.reference.convolve2d(image, kernel), _image_and_kernel,
        (Misconception("kernel not flipped", "convolution flips the kernel (k[::-1, ::-1]) before sliding it; "
                       "your output equals the cross-correlation.",
                       lambda image, kernel: cnnkit.reference.correlate2d(image, kernel)),
         Misconception("kernel flipped along one axis only", _ONE_AXIS_FLIP,
                       lambda image, kernel: cnnkit.reference.correlate2d(image, np.asarray(kernel)[::-1, :])),
         Misconception("kernel flipped along one axis only", _ONE_AXIS_FLIP,
                       lambda image, kernel: cnnkit.reference.correlate2d(image, np.asarray(kernel)[:, ::-1])),
         Misconception("index offset", "the sum is right but starts at the wrong place: in 'valid' mode "
                       "out[i, j] = (x * k)[i + kh - 1, j + kw - 1], the first position where the kernel fits "
                       "inside the image.", _valid_window_at_origin),
         Misconception("integer output buffer", _INT_BUFFER,
                       _truncated(lambda image, kernel: cnnkit.reference.convolve2d(image, kernel))),
         Misconception("'full' mode instead of 'valid'", _FULL_MODE,
                       lambda image, kernel: cnnkit.reference.convolve2d(image, kernel, mode="full")),
         Misconception("output transposed", _TRANSPOSED,
                       lambda image, kernel: cnnkit.reference.convolve2d(image, kernel).T)),
        edges=_fixed(_image_edges), kinds=_image_kinds),
    "output_length": GradedFunction(
        lambda n, kernel_size, stride, padding: cnnkit.reference.output_length(n, kernel_size, stride, padding),
        _output_length_case,
        (Misconception("'same' rounded down", "with 'same' padding the count is ceil(n / s), rounded *up*: the last "
                       "window may hang over the end, padded.",
                       lambda n, kernel_size, stride, padding:
                       n // stride if padding == "same" else cnnkit.reference.output_length(n, kernel_size, stride, padding)),
         Misconception("output size without its + 1", "the count misses its + 1: 'valid' gives "
                       "floor((n - k) / s) + 1 (in general floor((n + 2p - k) / s) + 1) and 'same' gives ceil(n / s).",
                       lambda n, kernel_size, stride, padding: (n - kernel_size) // stride if padding == "valid" else n // stride),
         Misconception("stride ignored", _STRIDE,
                       lambda n, kernel_size, stride, padding: cnnkit.reference.output_length(n, kernel_size, 1, padding)),
         Misconception("padding ignored", "'same' padding keeps ceil(n / s) positions; your count is the 'valid' one "
                       "whatever `padding` says.",
                       lambda n, kernel_size, stride, padding: cnnkit.reference.output_length(n, kernel_size, stride, "valid")),
         Misconception("division not rounded down", "(n - k) / s + 1 must be rounded down: a window that does not fit "
                       "is not a position (use //).",
                       lambda n, kernel_size, stride, padding: (n - kernel_size) / stride + 1 if padding == "valid"
                       else cnnkit.reference.output_length(n, kernel_size, stride, padding))),
        edges=_fixed(_length_edges), kinds=_length_kinds),
    "conv2d_layer": GradedFunction(
        _conv2d_layer, _layer_case,
        (Misconception("stride ignored", _STRIDE,
                       lambda x, kernel, bias, stride, padding: _conv2d_layer(x, kernel, bias, 1, padding)),
         Misconception("stride along one axis only", _ONE_AXIS, _conv2d_one_axis_stride(0)),
         Misconception("stride along one axis only", _ONE_AXIS, _conv2d_one_axis_stride(1)),
         Misconception("channels-first layout", _CHANNELS_FIRST,
                       lambda **kw: _conv2d_layer(**kw).transpose(0, 3, 1, 2)),
         Misconception("padding off by one", _PADDING, _conv2d_pads_reversed),
         Misconception("even-kernel 'same' padding", _EVEN_SAME, _conv2d_symmetric_same),
         Misconception("kernel flipped", "a Conv2D layer computes cross-correlation: do not flip the kernel.",
                       lambda x, kernel, bias, stride, padding: _conv2d_layer(x, kernel[::-1, ::-1], bias, stride, padding)),
         Misconception("bias missing", "the bias is not added (one value per filter).",
                       lambda x, kernel, bias, stride, padding: _conv2d_layer(x, kernel, None, stride, padding)),
         Misconception("integer output buffer", _INT_BUFFER, _truncated(_conv2d_layer))),
        edges=_fixed(_layer_edges), kinds=_layer_kinds),
    "conv1d_signal": GradedFunction(
        lambda signal, kernel: np.convolve(signal, kernel, "valid"), _signal_case,
        (Misconception("kernel not flipped", "convolution flips the kernel; your output equals np.correlate.",
                       lambda signal, kernel: np.correlate(signal, kernel, "valid")),
         Misconception("'full' mode instead of 'valid'", "np.convolve's default mode is 'full' (n + k - 1 outputs, "
                       "the kernel hanging over the ends); 'valid' keeps the n - k + 1 positions where it fits.",
                       lambda signal, kernel: np.convolve(signal, kernel)),
         Misconception("'same' mode instead of 'valid'", "mode 'same' keeps max(n, k) outputs, padding the signal; "
                       "'valid' keeps the n - k + 1 positions where the kernel fits.",
                       lambda signal, kernel: np.convolve(signal, kernel, "same"))),
        edges=_fixed(_signal_edges), kinds=_signal_kinds),
    "conv1d_kernel_gradient": GradedFunction(
        _kernel_gradient, _gradient_case,
        (Misconception("gradients not summed over positions", "w[m] is used at every output position (that is "
                       "parameter sharing), so its gradient adds g[i] * x[i + m] over all of them; yours keeps one "
                       "position's term.",
                       lambda x, grad_y, kernel_size: np.asarray(grad_y, float)[0] * np.asarray(x, float)[:kernel_size]),
         Misconception("gradients averaged over positions", "the chain rule adds the positions' contributions, it "
                       "does not average them (a mean over the batch belongs to the loss, not to the layer).",
                       lambda x, grad_y, kernel_size: _kernel_gradient(x, grad_y, kernel_size) / len(grad_y)),
         Misconception("gradient reversed", "y[i] multiplies w[m] by x[i + m], so the gradient of w[m] pairs g with the "
                       "window that starts at m; yours is in reverse order (w[k - 1 - m]'s).",
                       lambda x, grad_y, kernel_size: _kernel_gradient(x, grad_y, kernel_size)[::-1]),
         Misconception("upstream gradient flipped (np.convolve)", "dL/dw[m] = sum_i g[i] * x[i + m] slides g over x "
                       "unflipped: a correlation, np.correlate(x, g, 'valid'); np.convolve flips g first.",
                       lambda x, grad_y, kernel_size: _kernel_gradient(x, np.asarray(grad_y, float)[::-1], kernel_size)),
         Misconception("upstream gradient ignored", "each position's term is weighted by the gradient arriving there, "
                       "g[i]: sum_i g[i] * x[i + m], not the sum of the windows.",
                       lambda x, grad_y, kernel_size: _kernel_gradient(x, np.ones(len(grad_y)), kernel_size))),
        edges=_fixed(_gradient_edges), kinds=_gradient_kinds),
    "learn_kernel": GradedFunction(
        _learnt_kernel, _learning_case,
        (Misconception("forward pass convolves", "the forward pass slid the kernel flipped (convolve2d) while the "
                       "gradient, corr(x, r), is that of a correlation: the layer and its gradient disagree, so the "
                       "steps do not descend its loss. A Conv2D layer correlates: correlate2d in both.",
                       lambda **case: _learnt_kernel(**case, forward=cnnkit.reference.convolve2d)),
         Misconception("gradient ascent", "a step goes *against* the gradient, k - lr * dL/dk: adding it climbs the "
                       "loss.", lambda **case: _learnt_kernel(**case, ascent=True)),
         Misconception("gradient averaged over positions", "dL/dk sums residual * input over every position (the "
                       "sharing sum of section 7); a mean divides each step by the number of positions.",
                       lambda image, target, kernel_size, steps, lr: _learnt_kernel(
                           image, target, kernel_size, steps, lr / np.asarray(target).size)),
         Misconception("one step too many or too few", "start from k = 0 and take exactly `steps` updates.",
                       lambda image, target, kernel_size, steps, lr:
                       _learnt_kernel(image, target, kernel_size, steps + 1, lr)),
         Misconception("one step too many or too few", "start from k = 0 and take exactly `steps` updates.",
                       lambda image, target, kernel_size, steps, lr:
                       _learnt_kernel(image, target, kernel_size, steps - 1, lr))),
        edges=_fixed(_learning_edges), kinds=_learning_kinds),
    "conv_params": GradedFunction(
        lambda kernel_size, in_channels, filters: cnnkit.reference.conv_parameter_count((kernel_size,) * 2, in_channels, filters),
        _params_case,
        (Misconception("bias missing", "each filter also has one bias.",
                       lambda kernel_size, in_channels, filters: kernel_size**2 * in_channels * filters),
         Misconception("input channels ignored", "each filter spans every input channel: k * k * in_channels weights.",
                       lambda kernel_size, in_channels, filters: kernel_size**2 * filters + filters),
         Misconception("kernel counted once", "a k x k kernel has k * k weights per channel, not k.",
                       lambda kernel_size, in_channels, filters: kernel_size * in_channels * filters + filters),
         Misconception("a bias per input channel", "there is one bias per *filter* (output channel), not one per "
                       "input channel.",
                       lambda kernel_size, in_channels, filters: kernel_size**2 * in_channels * filters + in_channels),
         Misconception("a bias per channel of each filter", "one bias per filter, added once to its output: "
                       "(k * k * in_channels + 1) * filters.",
                       lambda kernel_size, in_channels, filters: (kernel_size**2 + 1) * in_channels * filters)),
        edges=_fixed(_params_edges), kinds=_params_kinds),
    "conv_macs": GradedFunction(
        _conv_macs, _macs_case,
        (Misconception("output size from the input", "a layer computes one dot product per *output* position: "
                       "H_out * W_out from output_length (with the stride and padding), not the input's "
                       "height * width.",
                       lambda height, width, kernel_size, in_channels, filters, stride, padding:
                       height * width * kernel_size**2 * in_channels * filters),
         Misconception("stride ignored", "the output positions are counted as if the windows moved one step at "
                       "a time: pass `stride` to output_length.",
                       lambda height, width, kernel_size, in_channels, filters, stride, padding:
                       _conv_macs(height, width, kernel_size, in_channels, filters, 1, padding)),
         Misconception("one output position only", "that is the work of one position for every filter; the "
                       "kernel is applied at each of the H_out * W_out output positions.",
                       lambda height, width, kernel_size, in_channels, filters, stride, padding:
                       kernel_size**2 * in_channels * filters),
         Misconception("bias counted as a multiply-add", "count the weights' multiply-adds only, k * k * "
                       "in_channels per output (the bias is one addition, not a multiply).",
                       _macs_counted(lambda n, k, c, f: n * (k * k * c + 1) * f)),
         Misconception("input channels ignored", "each output's dot product spans every input channel: "
                       "k * k * in_channels multiply-adds.",
                       _macs_counted(lambda n, k, c, f: n * k * k * f)),
         Misconception("kernel counted once", "a k x k kernel has k * k weights per channel, not k.",
                       _macs_counted(lambda n, k, c, f: n * k * c * f))),
        edges=_fixed(_macs_edges), kinds=_macs_kinds),
    "dense_params": GradedFunction(
        lambda in_features, units: cnnkit.reference.dense_parameter_count(in_features, units), _dense_case,
        (Misconception("bias missing", "each unit also has one bias.", lambda in_features, units: in_features * units),
         Misconception("a bias per input", "there is one bias per *unit* (output), not one per input: "
                       "(in_features + 1) * units.", lambda in_features, units: in_features * units + in_features)),
        edges=_fixed(_dense_edges), kinds=_dense_kinds),
    "locally_connected_params": GradedFunction(
        _locally_connected, _local_case,
        (Misconception("bias missing", "each output unit also has its own bias.",
                       lambda out_height, out_width, kernel_size, in_channels, filters:
                       out_height * out_width * kernel_size**2 * in_channels * filters),
         Misconception("weights shared", "that is the convolution's count: a locally connected layer has its own "
                       "kernel at each of the out_height * out_width positions (local connectivity, no sharing).",
                       lambda out_height, out_width, kernel_size, in_channels, filters:
                       kernel_size**2 * in_channels * filters + filters),
         Misconception("input channels ignored", "each kernel spans every input channel: k * k * in_channels weights.",
                       lambda out_height, out_width, kernel_size, in_channels, filters:
                       out_height * out_width * (kernel_size**2 * filters + filters)),
         Misconception("biases shared", "without sharing every output unit has its own bias too: "
                       "out_height * out_width * filters biases, not one per filter.",
                       lambda out_height, out_width, kernel_size, in_channels, filters:
                       out_height * out_width * kernel_size**2 * in_channels * filters + filters)),
        edges=_fixed(_local_edges), kinds=_local_kinds),
    "receptive_field": GradedFunction(
        lambda layers: cnnkit.reference.receptive_field([tuple(layer) for layer in layers]), _field_case,
        (Misconception("strides ignored", "each layer widens the field by (k - 1) times the *product of the strides "
                       "before it*, not by k - 1: after a stride-2 layer, one step of the next layer spans 2 inputs.",
                       lambda layers: 1 + sum(k - 1 for k, _ in layers)),
         Misconception("own stride counted", "a layer's own stride does not widen its field; only the strides of the "
                       "layers before it do (jump *= stride comes after field += (k - 1) * jump).",
                       lambda layers: 1 + sum((k - 1) * int(np.prod([s for _, s in layers[:i + 1]]))
                                              for i, (k, _) in enumerate(layers))),
         Misconception("kernel widths added", "the field is 1 + the sum of (k - 1) * jump, not the sum of the kernel "
                       "widths: two 3-wide layers see 5 inputs, not 6.",
                       lambda layers: sum(k for k, _ in layers)),
         Misconception("field starts at 0", "before any layer a unit sees one input: the field starts at 1, then "
                       "grows by (k - 1) * jump per layer.",
                       lambda layers: cnnkit.reference.receptive_field([tuple(layer) for layer in layers]) - 1)),
        edges=_fixed(_field_edges), kinds=_field_kinds),
    "invariant_shifts": GradedFunction(
        _invariant_shifts, _shift_case,
        (Misconception("every shift", "global average pooling forgets *where* a feature is, but a shift that is not a "
                       "multiple of the strides changes the feature maps themselves: a stride-2 layer then samples "
                       "other positions (section 2's pooled signal shifted by 1 was not a shifted copy of anything).",
                       lambda layers, max_shift: _multiples(1, max_shift)),
         Misconception("last stride only", "every strided layer must see whole steps, not only the last: the shift "
                       "must be a multiple of the product of all the strides.",
                       lambda layers, max_shift: _multiples(layers[-1][1], max_shift)),
         Misconception("strides added", "each stride *multiplies* the step of everything after it (the jump of the "
                       "receptive field): the total stride is the product of the strides, not their sum.",
                       lambda layers, max_shift: _multiples(sum(s for _, s in layers), max_shift)),
         Misconception("multiples of the receptive field", "the receptive field says how far one unit sees, not how "
                       "the layers' grids move: what must line up is every strided layer's grid, so the shift must "
                       "be a multiple of the total stride (kernel sizes play no part).",
                       lambda layers, max_shift: _multiples(
                           cnnkit.reference.receptive_field([tuple(layer) for layer in layers]), max_shift)),
         Misconception("max_shift left out", "the shifts go up to max_shift *included*: range(stop) stops one short.",
                       lambda layers, max_shift: _multiples(_total_stride(layers), max_shift - 1)),
         Misconception("shift 0 counted", "the question asks for the shifts from 1 to max_shift: 0 (no shift at all) "
                       "is not one of them.",
                       lambda layers, max_shift: _multiples(_total_stride(layers), max_shift, start=0))),
        edges=_fixed(_shift_edges), kinds=_shift_kinds),
    "in_seed_spreads": GradedFunction(
        lambda difference, accuracies: cnnkit.reference.in_seed_spreads(difference, accuracies), _spread_case,
        (Misconception("population standard deviation", "the spread of a few seeds is their *sample* standard "
                       "deviation, with n - 1 in the denominator (`np.std(a, ddof=1)`); NumPy's default divides by "
                       "n and makes the spread too small, most of all with few seeds.",
                       _spread_with(lambda a: np.std(a))),
         Misconception("variance instead of standard deviation", "divide by the standard deviation, the square root "
                       "of the variance: it has the accuracies' units, so the ratio has none.",
                       _spread_with(lambda a: np.var(a, ddof=1))),
         Misconception("standard error instead of the spread of one run", "the question compares one run with "
                       "another, so the unit is how far *one* run moves (the standard deviation), not how far the "
                       "mean of n runs moves (the standard error, smaller by sqrt(n)).",
                       _spread_with(lambda a: np.std(a, ddof=1) / np.sqrt(len(a)))),
         Misconception("range instead of standard deviation", "the spread is the standard deviation of the "
                       "accuracies, not the distance between the highest and the lowest.",
                       _spread_with(lambda a: np.max(a) - np.min(a))),
         Misconception("the spread of a difference of two runs", "dividing by sqrt(2) s measures the difference "
                       "against the spread of a *difference* of two runs, a fair unit too; the question asks for "
                       "the spread of one run, s itself (and a ratio below about 3 is then within chance).",
                       _spread_with(lambda a: np.sqrt(2) * np.std(a, ddof=1))),
         Misconception("difference in points, spread in fractions", "both are fractions (0.031 is 3.1 points): "
                       "the difference multiplied by 100 and the accuracies not makes the ratio 100 times too large.",
                       lambda difference, accuracies: 100 * cnnkit.reference.in_seed_spreads(difference, accuracies)),
         Misconception("spread in points, difference in fractions", "both are fractions (0.031 is 3.1 points): "
                       "the accuracies multiplied by 100 and the difference not makes the ratio 100 times too small.",
                       lambda difference, accuracies: cnnkit.reference.in_seed_spreads(difference, accuracies) / 100),
         Misconception("sign dropped", "keep the difference's sign: a negative ratio says the first scored lower, "
                       "which is news too.",
                       lambda difference, accuracies: abs(cnnkit.reference.in_seed_spreads(difference, accuracies)))),
        edges=_fixed(_spread_edges), kinds=_spread_kinds),
    "step_costs": GradedFunction(
        _step_costs, _costs_case,
        (Misconception("steps rounded down", "the last, partial batch is a step too: an epoch of 2000 rows in batches "
                       "of 32 takes ceil(2000 / 32) = 63 steps, not 62.", _costs_with_steps(lambda n, b: n // b)),
         Misconception("steps not rounded", "an epoch takes a whole number of steps, ceil(rows / batch_size): the "
                       "last, partial batch costs a whole step's fixed part.", _costs_with_steps(lambda n, b: n / b)),
         Misconception("each timing read alone", "each epoch's time holds both costs, so neither timing alone gives "
                       "either: solve the two equations together (subtracting them removes the rows' part).",
                       lambda rows, batch_sizes, seconds: np.array(
                           [seconds[int(np.argmin(batch_sizes))] / math.ceil(rows / min(batch_sizes)),
                            seconds[int(np.argmax(batch_sizes))] / rows])),
         Misconception("costs swapped", "return the fixed cost per step first, then the cost per row.",
                       lambda rows, batch_sizes, seconds: _step_costs(rows, batch_sizes, seconds)[::-1])),
        edges=_fixed(_costs_edges), kinds=_costs_kinds, rtol=1e-6, atol=1e-12),
    "batchnorm_forward": GradedFunction(
        _batch_norm, _batch_norm_case,
        (Misconception("batch statistics at evaluation", _BN_EVAL, _batch_norm_variant(mode="batch")),
         Misconception("moving statistics in training", _BN_TRAIN, _batch_norm_variant(mode="moving")),
         Misconception("statistics per row", _BN_AXES,
                       _batch_norm_variant(per_row=True)),
         Misconception("epsilon outside the square root", "epsilon belongs inside the root: "
                       "(x - mean) / sqrt(var + epsilon).", _batch_norm_variant(epsilon_outside=True)),
         Misconception("unbiased variance", "Keras normalises with the biased variance of the batch (divide by n, "
                       "np.var's default), not by n - 1.", _batch_norm_variant(ddof=1)),
         Misconception("statistics over the batch axis only", "a channel's statistics are taken over every axis but "
                       "the channels (the batch and the steps of a sequence), not over the batch axis alone.",
                       _batch_norm_variant(batch_axis_only=True)),
         Misconception("epsilon hard-coded", "use the `epsilon` argument (Keras' default is 1e-3), not a number of "
                       "your own such as 1e-5.", _batch_norm_variant(epsilon=1e-5)),
         Misconception("moving averages used in training", _BN_MOMENTUM, _batch_norm_variant(momentum=0.99)),
         Misconception("momentum reversed", "Keras' momentum weighs the *old* moving average: moving = momentum * "
                       "moving + (1 - momentum) * batch statistic, with momentum 0.99 (PyTorch's `momentum` is the "
                       "other way round). And in training the batch's own statistics normalise; the moving averages "
                       "are only updated, for evaluation.", _batch_norm_variant(momentum=0.01))),
        edges=_fixed(_batch_norm_edges), kinds=_batch_norm_kinds, rtol=1e-4, atol=1e-4),
    "dropout_forward": GradedFunction(
        _dropout, _dropout_case,
        (Misconception("dropout not scaled", _NOT_SCALED,
                       lambda x, rate, training, noise: np.where(noise >= rate, x, 0.0) if training else x),
         Misconception("dropout left on at evaluation", _DROPOUT_EVAL,
                       lambda x, rate, training, noise: np.where(noise >= rate, x / (1 - rate), 0.0)),
         Misconception("scaled at evaluation", "this is the original, non-inverted dropout (scale by 1 - rate at "
                       "evaluation); Keras scales the survivors by 1 / (1 - rate) in training and leaves evaluation "
                       "alone.", lambda x, rate, training, noise: np.where(noise >= rate, x, 0.0) if training
                       else np.asarray(x) * (1 - rate)),
         Misconception("mask inverted", "a unit is dropped where its noise is *below* the rate (noise < rate), so "
                       "that a share `rate` of the units is dropped.",
                       lambda x, rate, training, noise: np.where(noise < rate, x / (1 - rate), 0.0) if training
                       else x),
         Misconception("survivors multiplied by the keep rate", "inverted dropout *divides* the survivors by "
                       "1 - rate, so that their expected sum stays the same; multiplying shrinks them twice.",
                       lambda x, rate, training, noise: np.where(noise >= rate, np.asarray(x) * (1 - rate), 0.0)
                       if training else x),
         Misconception("one mask for the whole batch", "every row gets a mask of its own (the noise has the shape of "
                       "x); one row's mask used for the whole batch drops the same units everywhere.",
                       lambda x, rate, training, noise: np.where(np.asarray(noise)[:1] >= rate,
                                                                 np.asarray(x) / (1 - rate), 0.0) if training else x)),
        edges=_fixed(_dropout_edges), kinds=_dropout_kinds),
    "max_pool2d": GradedFunction(
        _max_pool2d, _pool_case,
        (Misconception("average instead of max", "max pooling keeps the largest value of each window; yours averages.",
                       _average_pool2d),
         Misconception("stride ignored", _STRIDE, lambda x, pool_size, stride, padding: _max_pool2d(x, pool_size, 1, padding)),
         Misconception("channels-first layout", _CHANNELS_FIRST, lambda **kw: _max_pool2d(**kw).transpose(0, 3, 1, 2)),
         Misconception("padding off by one", _PADDING, _pool_pads_reversed(_max_pool2d, "max")),
         Misconception("zero padding in max pooling", _ZERO_PAD_MAX, _max_pool_zero_padding(_max_pool2d))),
        edges=_fixed(_pool_edges(one_d=False)), kinds=_pool_kinds),
    "average_pool2d": GradedFunction(
        _average_pool2d, _pool_case,
        (Misconception("max instead of average", "average pooling takes the mean of each window; yours keeps the max.",
                       _max_pool2d),
         Misconception("padding counted in the mean", "with 'same' padding, Keras divides by the number of real "
                       "inputs in the window, not by the window size.", _average_with_padding_counted),
         Misconception("stride ignored", _STRIDE, lambda x, pool_size, stride, padding: _average_pool2d(x, pool_size, 1, padding)),
         Misconception("padding off by one", _PADDING, _pool_pads_reversed(_average_pool2d, "average"))),
        edges=_fixed(_pool_edges(one_d=False)), kinds=_pool_kinds),
    "max_pool1d": GradedFunction(
        _max_pool1d, lambda rng: _pool_case(rng, one_d=True),
        (Misconception("average instead of max", "max pooling keeps the largest value of each window; yours averages.",
                       lambda x, pool_size, stride, padding: cnnkit.reference.average_pool1d(x, pool_size, stride, padding)),
         Misconception("stride ignored", _STRIDE, lambda x, pool_size, stride, padding: _max_pool1d(x, pool_size, 1, padding)),
         Misconception("padding off by one", _PADDING, _pool_pads_reversed(_max_pool1d, "max")),
         Misconception("zero padding in max pooling", _ZERO_PAD_MAX, _max_pool_zero_padding(_max_pool1d))),
        edges=_fixed(_pool_edges(one_d=True)), kinds=_pool_kinds),
    "within_method_share": GradedFunction(
        _within_method_share, _method_case,
        (Misconception("correct predictions counted", "only the mistakes count, the off-diagonal entries: the "
                       "diagonal holds the rows predicted right, which stay within their method trivially.",
                       lambda confusion, method: float(np.sum(np.asarray(confusion) * _same_method(method))
                                                       / np.sum(confusion))),
         Misconception("share of every row, not of the mistakes", "divide by the number of mistakes (the "
                       "off-diagonal total), not by every row.",
                       lambda confusion, method: _within_method_share(confusion, method)
                       * float(np.sum(confusion) - np.trace(confusion)) / float(np.sum(confusion))),
         Misconception("the share that crosses methods", "that is the share of mistakes that *cross* from one "
                       "recording method to the other; the question asks for those that stay within one.",
                       lambda confusion, method: 1.0 - _within_method_share(confusion, method)),
         Misconception("a percentage, not a share", "return the share as a fraction between 0 and 1 (0.25, not 25).",
                       lambda confusion, method: 100.0 * _within_method_share(confusion, method))),
        edges=_fixed(_method_edges), kinds=_method_kinds),
    "standardise": GradedFunction(
        _standardise, _standardise_case,
        (Misconception("own statistics", "standardise with the *training* mean and std you are given, not the "
                       "statistics of the rows themselves.",
                       lambda signals, mean, std: _standardise(signals, np.mean(signals), np.std(signals))),
         Misconception("channel axis missing", "Conv1D needs a channel axis: shape (rows, 178, 1).",
                       lambda signals, mean, std: _standardise(signals, mean, std)[:, :, 0])),
        edges=_fixed(_standardise_edges), kinds=_standardise_kinds),
}
