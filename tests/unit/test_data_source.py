"""Where data comes from (path, environment, stand-in) and the synthetic stand-in."""

import numpy as np
import pytest

from cnnkit.data import DATA_ENV, SeizureTable, load_table, make_synthetic, write_csv


def test_no_data_configured_uses_the_stand_in_and_says_so(monkeypatch, capsys):
    monkeypatch.delenv(DATA_ENV, raising=False)
    table = load_table()
    assert table.synthetic
    assert "SYNTHETIC stand-in" in capsys.readouterr().out
    assert "SYNTHETIC" in table.describe() and "not real EEG" in table.source


def test_explicit_path_wins_over_environment(tmp_path, monkeypatch, small_table):
    path = write_csv(small_table, tmp_path / "t.csv")
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "elsewhere.csv"))
    assert len(load_table(path)) == len(small_table)


def test_environment_variable_is_used(tmp_path, monkeypatch, small_table, capsys):
    real_style = SeizureTable(small_table.signals, small_table.labels,
                              np.char.replace(small_table.ids, ".syn", "."), "test rows")
    monkeypatch.setenv(DATA_ENV, str(write_csv(real_style, tmp_path / "t.csv")))
    table = load_table()
    assert not table.synthetic and len(table) == len(small_table)
    assert "SYNTHETIC" not in capsys.readouterr().out


def test_a_converted_stand_in_stays_labelled_synthetic(tmp_path, monkeypatch, small_table):
    monkeypatch.setenv(DATA_ENV, str(write_csv(small_table, tmp_path / "t.csv")))
    assert load_table().synthetic


def test_missing_configured_file_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "gone.csv"))
    with pytest.raises(FileNotFoundError, match=rf"gone.csv \(from \${DATA_ENV}\): no such data file"):
        load_table()


def test_stand_in_has_the_shape_and_classes_of_the_real_table():
    table = make_synthetic(seed=0)
    assert table.signals.shape == (11_500, 178)
    assert np.bincount(table.labels).tolist() == [0] + [2300] * 5
    _, chunks = np.unique(table.recordings, return_counts=True)
    assert len(chunks) == 500 and set(chunks) == {23}
    assert all(r.startswith("syn") for r in table.recordings)
    assert np.array_equal(table.signals, np.round(table.signals))  # integer samples, as recorded


def test_stand_in_is_deterministic_by_seed():
    a, b, c = make_synthetic(1, 4), make_synthetic(1, 4), make_synthetic(2, 4)
    np.testing.assert_array_equal(a.signals, b.signals)
    np.testing.assert_array_equal(a.ids, b.ids)
    assert not np.array_equal(a.signals, c.signals)


def test_stand_in_classes_look_like_their_eeg():
    table = make_synthetic(seed=0, recordings_per_class=20)
    std = {c: table.signals[table.labels == c].std(axis=1).mean() for c in range(1, 6)}
    assert std[1] > 3 * max(std[c] for c in range(2, 6))  # seizures are large
    spectrum = np.abs(np.fft.rfft(table.signals[table.labels == 4], axis=1)).mean(axis=0)
    freqs = np.fft.rfftfreq(178, 1 / 173.61)
    assert 7.5 <= freqs[spectrum[1:].argmax() + 1] <= 12.5  # eyes closed: alpha peak
