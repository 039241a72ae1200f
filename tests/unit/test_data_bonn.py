"""Building the table from Bonn recordings (a folder or zip made here)."""

import zipfile

import numpy as np
import pytest

from cnnkit.data import DataFormatError, load_bonn


def _make_sets(root, per_set=2, length=4097):
    rng = np.random.default_rng(0)
    recordings = {}
    for letter in "ZONFS":
        folder = root / ("z/Z" if letter == "Z" else letter)
        folder.mkdir(parents=True)
        for k in range(1, per_set + 1):
            samples = rng.integers(-500, 500, size=length)
            name = f"{letter}{k:03d}" + (".TXT" if letter == "N" else ".txt")
            (folder / name).write_text("\n".join(map(str, samples)) + "\n")
            recordings[f"{letter}{k:03d}"] = samples
    junk = root / "z" / "__MACOSX" / "Z"
    junk.mkdir(parents=True)
    (junk / "._Z001.txt").write_bytes(b"\x00\x05\x16\x07 mac metadata")
    return recordings


def test_folder_is_cut_into_23_chunks_per_recording(tmp_path):
    recordings = _make_sets(tmp_path)
    table = load_bonn(tmp_path)
    assert len(table) == 10 * 23
    row = list(table.ids).index("X21.O002")
    np.testing.assert_array_equal(table.signals[row], recordings["O002"][20 * 178:21 * 178])
    assert table.labels[row] == 4
    assert {table.labels[list(table.ids).index(f"X1.{s}001")] for s in "SFNOZ"} == {1, 2, 3, 4, 5}


def test_zip_equals_folder(tmp_path):
    _make_sets(tmp_path / "sets")
    archive = tmp_path / "sets.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in (tmp_path / "sets").rglob("*"):
            z.write(path, path.relative_to(tmp_path))
    a, b = load_bonn(tmp_path / "sets"), load_bonn(archive)
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.signals, b.signals)


def test_missing_set_is_named(tmp_path):
    _make_sets(tmp_path)
    for f in (tmp_path / "S").iterdir():
        f.unlink()
    with pytest.raises(DataFormatError, match=r"found no recordings of set\(s\) S"):
        load_bonn(tmp_path)


def test_short_recording_names_the_file(tmp_path):
    _make_sets(tmp_path)
    (tmp_path / "F" / "F002.txt").write_text("1\n2\n3\n")
    with pytest.raises(DataFormatError, match=r"F/F002.txt: 3 samples; a recording needs at least 4094"):
        load_bonn(tmp_path)


def test_non_number_names_file_and_line(tmp_path):
    _make_sets(tmp_path)
    path = tmp_path / "O" / "O001.txt"
    lines = path.read_text().splitlines()
    lines[41] = "4x2"
    path.write_text("\n".join(lines))
    with pytest.raises(DataFormatError, match=r"O/O001.txt, line 42: not a number: '4x2'"):
        load_bonn(tmp_path)


def test_not_a_zip(tmp_path):
    path = tmp_path / "sets.zip"
    path.write_text("hello")
    with pytest.raises(DataFormatError, match=r"not a zip archive or folder"):
        load_bonn(path)
