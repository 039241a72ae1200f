"""The strict UCI CSV loader: accepted layouts, and every error with its place."""

import numpy as np
import pytest

from cnnkit.data import DataFormatError, load_csv, write_csv

HEADER = "," + ",".join(f"X{i}" for i in range(1, 179)) + ",y"


def _row(row_id, values=None, label=3):
    values = values if values is not None else [str(i % 7 - 3) for i in range(178)]
    return ",".join(([row_id] if row_id is not None else []) + list(values) + [str(label)])


def _write(tmp_path, lines, name="t.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_round_trip_of_the_published_layout(tmp_path, small_table):
    path = write_csv(small_table, tmp_path / "t.csv")
    table = load_csv(path)
    assert path.read_text().splitlines()[0] == HEADER
    np.testing.assert_array_equal(table.signals, small_table.signals)
    np.testing.assert_array_equal(table.labels, small_table.labels)
    np.testing.assert_array_equal(table.ids, small_table.ids)
    assert table.synthetic  # the stand-in's ids name syn... recordings


def test_published_id_style_and_quoted_header(tmp_path):
    quoted = ",".join(f'"{n}"' for n in HEADER.split(","))
    table = load_csv(_write(tmp_path, [quoted, _row("X21.V1.791", label=1), _row("X8.V1.1", label=5)]))
    assert list(table.recordings) == ["V1.791", "V1.1"]
    assert list(table.labels) == [1, 5]


def test_without_id_column(tmp_path):
    table = load_csv(_write(tmp_path, [HEADER[1:], _row(None), _row(None, label=1)]))
    assert table.ids is None and table.recordings is None
    assert table.signals.shape == (2, 178) and table.signals.dtype == np.float32


def test_without_header(tmp_path):
    table = load_csv(_write(tmp_path, [_row("X1.Z001"), _row("X2.Z001")]))
    assert len(table) == 2


@pytest.mark.parametrize(
    "lines, message",
    [
        ([HEADER, _row("X1.Z001", values=["1"] * 177)], r"line 2: expected 180 columns like the header, found 179"),
        ([",X1,X2,y", "X1.Z001,1,2,3"], r"line 1: expected 179 columns \(X1..X178, y\) or 180 with a leading id column; found 4"),
        ([HEADER.replace("X17,", "X71,"), _row("X1.Z001")], r"line 1, column 18: expected header 'X17', found 'X71'"),
        ([HEADER, _row("X1.Z001"), _row("X2.Z001", values=["1"] * 100 + ["abc"] + ["1"] * 77)],
         r"line 3, column 102 \(X101\): not a number: 'abc'"),
        ([HEADER, _row("X1.Z001", values=["1"] * 5 + [""] + ["1"] * 172)], r"line 2, column 7 \(X6\): missing value"),
        ([HEADER, _row("X1.Z001", values=["nan"] + ["1"] * 177)], r"line 2, column 2 \(X1\): not a finite number"),
        ([HEADER, _row("X1.Z001", label=6)], r"line 2, column 180 \(y\): label must be an integer in 1..5; found '6'"),
        ([HEADER, _row("X1.Z001", label=0)], r"label must be an integer in 1..5; found '0'"),
        ([HEADER, _row("X1.Z001", label="2.5")], r"label must be an integer in 1..5; found '2.5'"),
        ([HEADER, _row("X1.Z001", label="seizure")], r"line 2, column 180 \(y\): not a number: 'seizure'"),
        ([HEADER, _row("Z001")], r"line 2, column 1 \(id\): expected an id like 'X21.V1.791' or 'X21.O080'"),
        ([HEADER], r"has a header but no data rows"),
    ],
)
def test_malformed_csv_is_reported_with_file_line_and_column(tmp_path, lines, message):
    path = _write(tmp_path, lines)
    with pytest.raises(DataFormatError, match=message) as error:
        load_csv(path)
    assert str(error.value).startswith(str(path))


def test_empty_file(tmp_path):
    path = _write(tmp_path, [""])
    with pytest.raises(DataFormatError, match=r"t.csv: the file is empty"):
        load_csv(path)


def test_binary_file_is_not_a_csv(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(DataFormatError, match=r"data.csv: not a CSV text file"):
        load_csv(path)


def test_non_utf8_text_is_not_a_csv(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"\xff\xfe,X1\n")
    with pytest.raises(DataFormatError, match=r"not a CSV text file \(byte 0 is not UTF-8\)"):
        load_csv(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope.csv: no such data file"):
        load_csv(tmp_path / "nope.csv")


def test_write_csv_never_leaves_a_partial_file(tmp_path, small_table):
    target = tmp_path / "t.csv"
    target.write_text("previous content")
    write_csv(small_table, target)
    assert not (tmp_path / "t.csv.part").exists()
    assert len(load_csv(target)) == len(small_table)
