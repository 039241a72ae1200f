"""What a check reports: a score, feedback in plain words, and evidence.

nbgrader scores a test cell from its outputs, in order: any text on stderr
or an error before the result scores 0; otherwise a last value that reads as
a float in [0, points] is the score, and anything else (`False`, a string,
NumPy 2's `np.float64(2.5)`, a negative number) gets *full* marks. So every
check silences stderr while it runs, and ends by returning a plain Python
float clamped to [0, points].

Evidence for the trusted verifier goes into the cell's output as one display
bundle of MIME type `application/vnd.cnnkit.evidence+json`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import zlib
from dataclasses import dataclass, field

import numpy as np

__all__ = ["EVIDENCE_MIME", "SEED_ENV", "CheckResult", "Mistake", "case_seed", "decode_array", "encode_array",
           "format_points"]

EVIDENCE_MIME = "application/vnd.cnnkit.evidence+json"
SEED_ENV = "CNNKIT_CHECK_SEED"


def format_points(value):
    """Points as people write them, the same everywhere they are shown: at most two decimals, no trailing
    zeros (`0.33`, `9.83`, `2`).

    Args:
        value: a number of points.

    Returns:
        A str.
    """
    return f"{round(float(value), 2):g}"


def case_seed(name, seed=None):
    """The seed of a check's random cases.

    Args:
        name: the check's name.
        seed: an explicit int seed, or None.

    Returns:
        `seed` when given; else, when the grader sets `CNNKIT_CHECK_SEED`, a
        seed derived from it and `name` (a grading run is then repeatable);
        else a fresh random seed. Either way the evidence records it.
    """
    if seed is not None:
        return int(seed)
    run_seed = os.environ.get(SEED_ENV)
    if run_seed:
        return int.from_bytes(hashlib.sha256(f"{run_seed}:{name}".encode()).digest()[:4], "big") >> 1
    return secrets.randbelow(2**31)


class Mistake(str):
    """A misconception named in feedback: the line a student reads, with its
    name and message kept as data (`name`, `message`) for the grader's exports.

    It is the feedback line itself (a `str`: `"Likely mistake (name): message"`),
    so it sits among a result's other messages in the order it was found.

    Args:
        name: the misconception's short name (e.g. `"kernel not flipped"`).
        message: what is wrong and how to fix it, in plain words.
    """

    def __new__(cls, name, message):
        line = super().__new__(cls, f"Likely mistake ({name}): {message}")
        line.name, line.message = str(name), str(message)
        return line

    def __reduce__(self):
        return Mistake, (self.name, self.message)


@dataclass
class CheckResult:
    """The outcome of one check.

    Attributes:
        check: the check's name (e.g. `"conv2d_layer"`).
        points: the most the check can give.
        passed: cases (or criteria) met.
        total: cases (or criteria) tried.
        messages: feedback lines, most useful first; a `Mistake` names a
            misconception.
        evidence: JSON-able dict for the verifier (seed, outputs, model path).
        show_counts: whether the feedback shows "(passed/total passed)".
    """

    check: str
    points: float
    passed: int = 0
    total: int = 0
    messages: list = field(default_factory=list)
    evidence: dict = field(default_factory=dict)
    show_counts: bool = True

    @property
    def score(self):
        """Points earned: `points * passed / total`, a float in [0, points]."""
        if self.total == 0:
            return 0.0
        return float(min(max(self.points * self.passed / self.total, 0.0), self.points))

    @property
    def misconceptions(self):
        """The misconceptions named in the messages, a tuple of `Mistake`, in order."""
        return tuple(m for m in self.messages if isinstance(m, Mistake))

    def feedback(self):
        """The feedback a student reads, as text."""
        head = f"[{self.check}] {format_points(self.score)} / {format_points(self.points)} points"
        if self.show_counts:
            head += f" ({self.passed}/{self.total} passed)"
        return "\n".join([head] + [f"  - {m}" for m in self.messages])

    def emit(self):
        """Prints the feedback, displays the evidence, and returns the score.

        Returns:
            The score as a plain Python float, to be the test cell's last value.
        """
        print(self.feedback())
        _display_evidence({"check": self.check, "points": self.points, "score": self.score,
                           "passed": self.passed, "total": self.total, **self.evidence})
        return float(self.score)


def encode_array(value):
    """A compact, JSON-able copy of an array (float32, zlib, base64).

    Args:
        value: array-like of numbers, or anything else (kept as its repr).

    Returns:
        A dict with `shape` and `data`, or with `repr` when not numeric.
    """
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        return {"repr": repr(value)[:200]}
    data = base64.b64encode(zlib.compress(array.tobytes(), 6)).decode("ascii")
    return {"shape": list(array.shape), "data": data}


def decode_array(encoded):
    """Inverse of `encode_array`.

    Args:
        encoded: a dict made by `encode_array`.

    Returns:
        A float32 NumPy array, or None for a non-numeric value.
    """
    if "data" not in encoded:
        return None
    raw = zlib.decompress(base64.b64decode(encoded["data"]))
    return np.frombuffer(raw, dtype=np.float32).reshape(encoded["shape"])


def _display_evidence(bundle):
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is not None:
        display({EVIDENCE_MIME: bundle, "text/plain": f"<cnnkit evidence: {bundle['check']}>"}, raw=True)
