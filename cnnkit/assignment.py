"""The seizure assignment's data and training budget, shared by the notebook
(what students get) and its hidden tests (what they are graded on).

Students get the training and validation recordings only; the test
recordings are held out for grading. The reference accuracy that a trained
model is compared with is the reference model's, trained under the same
budget on the same data; it is computed once per data set and cached.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["BUDGET", "SEED", "StudentData", "held_out", "reference_accuracy", "reference_result_file", "seizure_data"]

SEED = 2026
BUDGET = {"epochs": 5, "batch_size": 64, "learning_rate": 1e-3}
CACHE_ENV = "CNNKIT_CACHE"


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
    """The held-out test recordings, standardised with the training statistics.

    For hidden tests and the verifier only.

    Args:
        path: as `seizure_data`.

    Returns:
        A `cnnkit.data.Part` with x of shape (rows, 178, 1).
    """
    return _splits(path, announce=False).test


def reference_accuracy(model="spec", path=None):
    """Held-out accuracy of a reference model trained under `BUDGET`.

    Computed once per (data, model, budget, backend) and cached as JSON in
    `$CNNKIT_CACHE` (default `~/.cache/cnnkit`).

    Args:
        model: `"spec"` or `"strong"` (see `cnnkit.models.build`).
        path: as `seizure_data`.

    Returns:
        The accuracy, a float.
    """
    return float(json.loads(reference_result_file(model, path).read_text())["accuracy"])


def reference_result_file(model="spec", path=None):
    """The cached JSON file holding a reference model's held-out accuracy,
    trained (once) if missing.

    Args:
        model: `"spec"` or `"strong"` (see `cnnkit.models.build`).
        path: as `seizure_data`.

    Returns:
        The `pathlib.Path` of the file, named by a key of the data, model,
        budget and backend (the same key wherever it is computed).
    """
    import keras

    splits = _splits(path, announce=False)
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


_SPLITS = {}


def _splits(path, announce=True):
    from cnnkit.data import DATA_ENV, load_table, split

    source = str(path or os.environ.get(DATA_ENV) or "synthetic")
    if source not in _SPLITS:
        table = load_table(path, announce=announce)
        _SPLITS[source] = split(table, by="recording", task="multiclass", seed=SEED)
    return _SPLITS[source]


def _fingerprint(splits):
    digest = hashlib.sha1()
    for part in (splits.train, splits.validation, splits.test):
        digest.update(part.x.tobytes())
        digest.update(part.y.tobytes())
    return digest.hexdigest()
