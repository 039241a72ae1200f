"""Split properties: no leaks by recording, class balance, training-only statistics."""

import numpy as np
import pytest

from cnnkit.data import SeizureTable, split


def test_split_by_recording_never_shares_a_recording(small_table):
    s = split(small_table, by="recording", seed=4)
    sides = [set(np.char.partition(p.ids.astype(str), ".")[:, 2]) for p in (s.train, s.validation, s.test)]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])
    assert sum(len(p) for p in (s.train, s.validation, s.test)) == len(small_table)


def test_random_split_does_share_recordings(small_table):
    s = split(small_table, by="random", seed=4)
    rec = lambda p: set(np.char.partition(p.ids.astype(str), ".")[:, 2])  # noqa: E731
    assert rec(s.train) & rec(s.test)  # why the split by recording exists


@pytest.mark.parametrize("by", ["random", "recording"])
def test_class_balance_is_kept_on_every_side(small_table, by):
    s = split(small_table, by=by, validation=0.2, test=0.2, seed=1)
    for part in (s.train, s.validation, s.test):
        counts = np.bincount(part.y, minlength=5)
        assert counts.max() - counts.min() <= (23 if by == "recording" else 1)
    assert len(s.test) == pytest.approx(0.2 * len(small_table), abs=5 * 23)


def test_standardisation_uses_training_rows_only(small_table):
    s = split(small_table, seed=2)
    train_rows = np.isin(small_table.ids, s.train.ids)
    raw = small_table.signals[train_rows]
    assert s.mean == pytest.approx(raw.mean(), rel=1e-5) and s.std == pytest.approx(raw.std(), rel=1e-5)
    assert abs(s.train.x.mean()) < 1e-3 and s.train.x.std() == pytest.approx(1, abs=1e-3)
    # Changing test rows changes nothing about the statistics.
    spoiled = small_table.signals.copy()
    spoiled[~train_rows] *= 100
    s2 = split(SeizureTable(spoiled, small_table.labels, small_table.ids, "spoiled"), seed=2)
    assert (s2.mean, s2.std) == (s.mean, s.std)


def test_shapes_dtypes_and_labels(small_table):
    s = split(small_table)
    assert s.train.x.shape == (len(s.train), 178, 1) and s.train.x.dtype == np.float32
    assert set(s.train.y) == {0, 1, 2, 3, 4} and s.num_classes == 5
    b = split(small_table, task="binary")
    label_of = dict(zip(small_table.ids, small_table.labels))
    seizure = [int(label_of[i] == 1) for i in b.test.ids]
    assert b.test.y.tolist() == seizure and b.class_names == ("not seizure", "seizure")


def test_same_seed_same_split(small_table):
    a, b = split(small_table, seed=9), split(small_table, seed=9)
    np.testing.assert_array_equal(a.test.ids, b.test.ids)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"by": "patient"}, r"argument `by`. Expected one of 'random', 'recording'"),
     ({"task": "regression"}, r"argument `task`"),
     ({"test": 0}, r"argument `test`. Expected a share in \(0, 1\)"),
     ({"validation": 0.6, "test": 0.5}, r"`validation` \+ `test` must leave rows for training")],
)
def test_invalid_split_arguments(small_table, kwargs, message):
    with pytest.raises(ValueError, match=message):
        split(small_table, **kwargs)


def test_split_by_recording_needs_ids(small_table):
    no_ids = SeizureTable(small_table.signals, small_table.labels, None, "no ids")
    with pytest.raises(ValueError, match=r"needs row ids naming recordings"):
        split(no_ids, by="recording")
