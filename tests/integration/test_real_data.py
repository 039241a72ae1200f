"""The loaders on the real files in ../shared/data (CI has them)."""

import numpy as np

from cnnkit.data import load_bonn, load_csv, load_table, split
from tests.conftest import REAL_CSV, REAL_ZIP, requires_shared_data


@requires_shared_data(REAL_CSV.name, REAL_ZIP.name)
def test_csv_and_zip_hold_the_same_11500_rows():
    csv, bonn = load_csv(REAL_CSV), load_bonn(REAL_ZIP)
    assert len(csv) == len(bonn) == 11_500
    a, b = np.argsort(csv.ids), np.argsort(bonn.ids)
    np.testing.assert_array_equal(csv.ids[a], bonn.ids[b])
    np.testing.assert_array_equal(csv.signals[a], bonn.signals[b])
    np.testing.assert_array_equal(csv.labels[a], bonn.labels[b])
    assert len(set(csv.recordings)) == 500


@requires_shared_data(REAL_CSV.name)
def test_spot_checked_rows_of_the_readme():
    table = load_table(REAL_CSV)
    assert not table.synthetic
    labels = dict(zip(table.ids, table.labels))
    assert labels["X21.O080"] == 4 and labels["X15.S093"] == 1 and labels["X8.Z002"] == 5


@requires_shared_data(REAL_CSV.name)
def test_real_split_by_recording_keeps_recordings_whole():
    s = split(load_csv(REAL_CSV), by="recording")
    rec = lambda p: {i.split(".", 1)[1] for i in p.ids}  # noqa: E731
    assert not rec(s.train) & rec(s.test) and not rec(s.validation) & rec(s.test)
    assert len(rec(s.test)) == 75  # 15% of 100 recordings in each of 5 classes


@requires_shared_data(REAL_CSV.name)
def test_the_assignments_split_of_the_real_table_gives_every_class_15_recordings_in_validation_and_test():
    from cnnkit.assignment import _sides

    table = load_csv(REAL_CSV)
    sides = _sides(table, without_test=False)
    for label in range(1, 6):
        mine = table.labels == label
        counts = {side: len(set(table.recordings[mine & (sides == side)])) for side in ("train", "validation", "test")}
        assert counts == {"train": 70, "validation": 15, "test": 15}, (label, counts)
        assert np.sum(mine & (sides == "validation")) == np.sum(mine & (sides == "test")) == 15 * 23
