"""The seizure assignment's data and training budget, shared by the notebook
(what students get) and its hidden tests (what they are graded on).

Students get the training and validation recordings only; the test
recordings are held out for grading. Each recording's side is fixed by a
hash of its id (15% test, 15% validation, the rest training), so a data file
without the test recordings (what `cnnkit grade` hands the sandbox) gives the
same training and validation rows as the whole table.

Under `cnnkit grade` (`CNNKIT_GRADING=1` in the sandbox) nothing here hands
out held-out rows or trains a reference: the trusted grader evaluates the
saved models on recordings the sandbox never had (`grading_data`), real test
recordings or, for the stand-in, recordings generated from the course's
secret. The reference accuracy that a trained
model is compared with is the reference model's, trained under the same
budget on the same data; it is computed once per data set and cached.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["BUDGET", "GRADING_ENV", "SEED", "StudentData", "grading_data", "held_out", "reference_accuracy",
           "reference_result_file", "seizure_data", "write_student_data"]

SEED = 2026
BUDGET = {"epochs": 5, "batch_size": 64, "learning_rate": 1e-3}
CACHE_ENV = "CNNKIT_CACHE"
GRADING_ENV = "CNNKIT_GRADING"
SHARES = {"test": 0.15, "validation": 0.15}
SECRET_RECORDINGS_PER_CLASS = 20


@dataclass(frozen=True, eq=False)
class StudentData:
    """What the notebook hands a student: raw signals, split by recording.

    Attributes:
        train_signals, validation_signals: float32 arrays of shape (rows, 178).
        train_labels, validation_labels: int64 arrays of class indices 0..4.
        mean, std: floats, the training part's statistics.
        class_names: tuple of the 5 class names.
        synthetic: whether the rows come from the synthetic stand-in.
    """

    train_signals: np.ndarray
    train_labels: np.ndarray
    validation_signals: np.ndarray
    validation_labels: np.ndarray
    mean: float
    std: float
    class_names: tuple
    synthetic: bool


def seizure_data(path=None):
    """The training and validation recordings of the assignment (test withheld).

    Args:
        path: the data file, else `$CNNKIT_DATA`, else the synthetic stand-in
            (announced with a banner).

    Returns:
        A `StudentData`.
    """
    splits = _splits(path)
    raw = lambda part: (part.x[:, :, 0] * splits.std + splits.mean).astype(np.float32)  # noqa: E731
    return StudentData(raw(splits.train), splits.train.y, raw(splits.validation), splits.validation.y,
                       splits.mean, splits.std, tuple(splits.class_names), splits.synthetic)


def held_out(path=None):
    """The test recordings, standardised with the training statistics.

    For hidden tests under plain nbgrader. Under `cnnkit grade` the sandbox
    has no test recordings, and this returns None: the grader evaluates.

    Args:
        path: as `seizure_data`.

    Returns:
        A `cnnkit.data.Part` with x of shape (rows, 178, 1), or None.
    """
    if grading():
        return None
    return _splits(path, announce=False).test


def grading():
    """Whether this runs in a sandbox of `cnnkit grade`."""
    return os.environ.get(GRADING_ENV, "") == "1"


def reference_accuracy(model="spec", path=None):
    """Held-out accuracy of a reference model trained under `BUDGET`.

    Computed once per (data, model, budget, backend) and cached as JSON in
    `$CNNKIT_CACHE` (default `~/.cache/cnnkit`). Never computed in a graded
    kernel: under `cnnkit grade` it returns None.

    Args:
        model: `"spec"` or `"strong"` (see `cnnkit.models.build`).
        path: as `seizure_data`.

    Returns:
        The accuracy, a float, or None under `cnnkit grade`.
    """
    if grading():
        return None
    return float(json.loads(reference_result_file(model, path).read_text())["accuracy"])


def reference_result_file(model="spec", path=None, test=None):
    """The cached JSON file holding a reference model's accuracy on the test
    recordings, trained (once) if missing.

    Args:
        model: `"spec"` or `"strong"` (see `cnnkit.models.build`).
        path: as `seizure_data`.
        test: a `cnnkit.data.Part` to evaluate on instead of the table's own
            test recordings (the grader's held-out rows).

    Returns:
        The `pathlib.Path` of the file, named by a key of the data, model,
        budget and backend (the same key wherever it is computed).

    Raises:
        RuntimeError: under `cnnkit grade`, in the sandbox.
    """
    import keras

    if grading():
        raise RuntimeError("the reference model is never trained in a graded kernel")
    splits = _splits(path, announce=False)
    if test is not None:
        splits = dataclasses.replace(splits, test=test)
    key = hashlib.sha1(json.dumps([_fingerprint(splits), model, BUDGET, SEED, keras.backend.backend()]).encode()).hexdigest()
    cache = Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "cnnkit")) / f"reference-{key[:16]}.json"
    if cache.is_file():
        return cache
    from cnnkit import models
    from cnnkit.checks.report import silenced
    from cnnkit.training import train

    with silenced():
        result = train(lambda: models.build(model, splits.num_classes), splits, epochs=BUDGET["epochs"],
                       batch_size=BUDGET["batch_size"], learning_rate=BUDGET["learning_rate"],
                       patience=BUDGET["epochs"], seed=SEED, progress=False)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(f".{os.getpid()}.part")
    partial.write_text(json.dumps({"accuracy": result.test.accuracy, "model": model, "budget": BUDGET}))
    partial.replace(cache)
    return cache


def grading_data(secret, path=None):
    """The held-out rows the grader scores trained models on (trusted side only).

    Args:
        secret: the course's secret, a str.
        path: as `seizure_data` (the whole table, test recordings included).

    Returns:
        A `cnnkit.data.Part`, standardised with the training statistics: the
        test recordings of a real table, or, for the stand-in, recordings
        generated from a seed derived from `secret` (never from a public seed).
    """
    from cnnkit.data import make_synthetic

    splits = _splits(path, announce=False)
    if not splits.synthetic:
        return splits.test
    seed = int.from_bytes(hashlib.sha256(f"{secret}:held-out".encode()).digest()[:8], "big")
    table = make_synthetic(seed=seed, recordings_per_class=SECRET_RECORDINGS_PER_CLASS)
    return _part(table, np.ones(len(table), dtype=bool), splits.mean, splits.std)


def write_student_data(destination, path=None):
    """Writes the table without its test recordings, for the sandbox.

    Args:
        destination: the CSV file to write.
        path: as `seizure_data`.

    Returns:
        The number of rows written.
    """
    from cnnkit.data import load_table, write_csv

    table = load_table(path, announce=False)
    keep = _sides(table) != "test"
    write_csv(dataclasses.replace(table, signals=table.signals[keep], labels=table.labels[keep],
                                  ids=None if table.ids is None else table.ids[keep]), destination)
    return int(keep.sum())


_SPLITS = {}


def _splits(path, announce=True):
    """Train, validation and test parts of the assignment's table, cached per source."""
    from cnnkit.data import DATA_ENV, load_table
    from cnnkit.data.splits import Splits

    source = str(path or os.environ.get(DATA_ENV) or "synthetic")
    if source not in _SPLITS:
        table = load_table(path, announce=announce)
        sides = _sides(table)
        train = sides == "train"
        mean, std = float(table.signals[train].mean()), float(table.signals[train].std())
        parts = [_part(table, sides == side, mean, std) for side in ("train", "validation", "test")]
        _SPLITS[source] = Splits(*parts, task="multiclass", by="recording", mean=mean, std=std,
                                 synthetic=table.synthetic)
    return _SPLITS[source]


def _sides(table):
    """Each row's side, `train`, `validation` or `test`, from a hash of its recording."""
    if table.ids is None:
        raise ValueError("the assignment's data needs row ids that name recordings (the UCI layout has them)")
    recordings, rows = np.unique(table.recordings, return_inverse=True)
    share = np.array([int.from_bytes(hashlib.sha256(f"{SEED}:{r}".encode()).digest()[:8], "big") / 2**64
                      for r in recordings])
    side = np.where(share < SHARES["test"], "test",
                    np.where(share < SHARES["test"] + SHARES["validation"], "validation", "train"))
    return side[rows]


def _part(table, rows, mean, std):
    from cnnkit.data import Part

    index = np.flatnonzero(rows)
    x = ((table.signals[index] - mean) / std).astype(np.float32)[:, :, None]
    return Part(x, (table.labels[index] - 1).astype(np.int64), None if table.ids is None else table.ids[index])


def _fingerprint(splits):
    digest = hashlib.sha1()
    for part in (splits.train, splits.validation, splits.test):
        digest.update(part.x.tobytes())
        digest.update(part.y.tobytes())
    return digest.hexdigest()
