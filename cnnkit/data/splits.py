"""Train/validation/test splits of the seizure table, ready for a Conv1D.

Two ways to split: `"random"` (stratified by class, row by row) and
`"recording"` (whole recordings go to one side only, stratified by class).
Rows of one recording are strongly correlated, so a random split leaks: the
test part then measures memory of a recording as much as generalisation.

Signals are standardised with a mean and standard deviation computed on the
training part alone, then reshaped to `(rows, 178, 1)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnkit._validation import check_choice
from cnnkit.data.table import CLASS_NAMES

__all__ = ["Part", "Splits", "split"]

TASKS = ("multiclass", "binary")
SPLITS = ("random", "recording")


@dataclass(frozen=True, eq=False)
class Part:
    """One part of a split.

    Attributes:
        x: float32 array of shape (rows, 178, 1), standardised.
        y: int64 array of shape (rows,), class indices (see `Splits.class_names`).
        ids: str array of shape (rows,) of row ids, or None.
    """

    x: np.ndarray
    y: np.ndarray
    ids: np.ndarray | None

    def __len__(self):
        return len(self.y)


@dataclass(frozen=True, eq=False)
class Splits:
    """Train, validation and test parts, with what was done to make them.

    Attributes:
        train, validation, test: the three `Part`s.
        task: `"multiclass"` (index = UCI label - 1) or `"binary"`
            (1 = seizure, 0 = anything else).
        by: `"random"` or `"recording"`.
        mean, std: the standardisation, fitted on `train` only.
        synthetic: whether the rows come from the synthetic stand-in.
    """

    train: Part
    validation: Part
    test: Part
    task: str
    by: str
    mean: float
    std: float
    synthetic: bool

    @property
    def class_names(self):
        """Names of the class indices, in order."""
        return CLASS_NAMES if self.task == "multiclass" else ("not seizure", "seizure")

    @property
    def num_classes(self):
        """How many classes the task has."""
        return len(self.class_names)


def split(table, *, by="random", task="multiclass", validation=0.15, test=0.15, seed=0):
    """Splits a seizure table into standardised train/validation/test parts.

    Args:
        table: a `SeizureTable`.
        by: `"random"` (stratified rows) or `"recording"` (no recording on
            two sides; needs row ids).
        task: `"multiclass"` (5 classes) or `"binary"` (seizure or not).
        validation: float in (0, 1), the share for validation.
        test: float in (0, 1), the share for test; `validation + test < 1`.
        seed: int, seed of the shuffling.

    Returns:
        A `Splits`.

    Raises:
        ValueError: if `by` or `task` is unknown, the shares are out of
            range, or `by="recording"` on a table without row ids.
    """
    by = check_choice(by, allowed=SPLITS, name="by")
    task = check_choice(task, allowed=TASKS, name="task")
    for name, share in (("validation", validation), ("test", test)):
        if not 0 < share < 1:
            raise ValueError(f"Invalid value for argument `{name}`. Expected a share in (0, 1). Received {name}={share!r}.")
    if validation + test >= 1:
        raise ValueError(f"Arguments `validation` + `test` must leave rows for training; received {validation} + {test}.")
    rng = np.random.default_rng(seed)
    if by == "random":
        groups = np.arange(len(table))
    else:
        if table.ids is None:
            raise ValueError("Argument `by`='recording' needs row ids naming recordings; this table has none.")
        _, groups = np.unique(table.recordings, return_inverse=True)
    sides = _stratified_sides(groups, table.labels, validation, test, rng)
    train_x = table.signals[sides == 0]
    mean, std = float(train_x.mean()), float(train_x.std())
    y = table.labels - 1 if task == "multiclass" else (table.labels == 1).astype(np.int64)

    def part(side):
        rows = np.flatnonzero(sides == side)
        rows = rows[rng.permutation(rows.size)]
        x = ((table.signals[rows] - mean) / std).astype(np.float32)[:, :, None]
        return Part(x, y[rows].astype(np.int64), None if table.ids is None else table.ids[rows])

    return Splits(part(0), part(1), part(2), task, by, mean, std, table.synthetic)


def _stratified_sides(groups, labels, validation, test, rng):
    """Assigns each group (row or recording) to train 0 / validation 1 / test 2,
    class by class, so that every class keeps its share on every side."""
    group_ids, first = np.unique(groups, return_index=True)
    group_label = labels[first]
    side_of_group = np.zeros(group_ids.size, dtype=np.int64)
    for label in np.unique(group_label):
        members = rng.permutation(np.flatnonzero(group_label == label))
        n_test = int(round(test * members.size))
        n_val = int(round(validation * members.size))
        side_of_group[members[:n_test]] = 2
        side_of_group[members[n_test:n_test + n_val]] = 1
    return side_of_group[np.searchsorted(group_ids, groups)]
