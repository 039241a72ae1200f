"""Every seed that a course secret decides, from one function.

A grader's random choices must be unpredictable to students (they come from
the course secret), repeatable (a regrade draws the same), personal where
they should be (each submission's own cases) and shared where they should be
(the same training seeds and held-out rows for the whole class). All of them
are `derive_seed(secret, label, ...)`: a chain of SHA-256 hashes, one link per
label, so that a seed for a submission's check is derived from that
submission's seed, and labels of different purposes never meet:

| seed | labels |
| --- | --- |
| a submission's | `student`, the hash of the submission's code |
| one check's cases for a submission | `student`, the code's hash, the check's name |
| "improve it" trainings (the class's) | `":improve"`, the training's index |
| the stand-in's held-out recordings | `":held-out"` |

Course-wide labels start with `:`, which no student id may hold, so they can
never coincide with a student's.
"""

from __future__ import annotations

import hashlib

__all__ = ["check_seed", "derive_seed", "student_seed"]


def derive_seed(root, *labels, bits=63):
    """A seed derived from `root` through each of `labels` in turn.

    Args:
        root: the course secret (str), or a seed derived before.
        *labels: one or more labels (str or int), most general first.
        bits: how many bits the seed has (63: any NumPy or Python use; 31:
            Keras' and NumPy's legacy global seeding).

    Returns:
        An int in [0, 2**bits).

    Raises:
        ValueError: if no label is given or `bits` is not in 1..63.
    """
    if not labels:
        raise ValueError("Invalid value for `labels`. Expected at least one label. Received none.")
    if not 1 <= int(bits) <= 63:
        raise ValueError(f"Invalid value for `bits`. Expected an int in 1..63. Received bits={bits!r}.")
    seed = root
    for label in labels:
        seed = int.from_bytes(hashlib.sha256(f"{seed}\0{label}".encode()).digest()[:8], "big") >> 1
    return seed >> (63 - int(bits))


def student_seed(secret, student, submission=""):
    """A submission's seed, recorded with its result (an instructor can replay its cases).

    The same code always draws the same cases (whatever its outputs); changed
    code draws new random cases, so expected outputs that feedback showed for
    one version cannot be written into the next (the fixed edge cases, the
    same for everyone, decide the points, so honest code loses nothing by the
    draw).

    Args:
        secret: the course secret (str).
        student: the student id.
        submission: the hash of the submission's code (hex str); "" for
            the student's seed alone.

    Returns:
        An int in [0, 2**63).
    """
    return derive_seed(secret, student, submission) if submission else derive_seed(secret, student)


def check_seed(seed, check):
    """The seed of one check's cases, from a submission's seed (`derive_seed(secret, student, code, check)`)."""
    return derive_seed(seed, check)
