"""Stage 1: submissions found in nbgrader's layout and in LMS folders and zips;
unsafe names refused one by one, nothing written."""

import json
import zipfile

import pytest

from autograder.pipeline.collect import collect, content_hash, safe_name

EXPECTED = {"01_convolution.ipynb": {"correlate2d", "convolve2d"}, "02_pooling.ipynb": {"pool2d"}}


def _nb(*grade_ids):
    cells = [{"cell_type": "code", "source": "", "metadata": {"nbgrader": {"grade_id": g}}, "outputs": []}
             for g in grade_ids]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


@pytest.mark.parametrize("name", ["ann", "s1234567", "jane.doe@uni.edu", "a-b_c", "Ann Lee"])
def test_usual_ids_are_safe(name):
    assert safe_name(name)


@pytest.mark.parametrize("name", ["..", "../x", "a/b", ".hidden", "a..b", "", "x" * 200, "a\\b", "tab\tid"])
def test_ids_that_could_escape_are_not(name):
    assert not safe_name(name)


def test_nbgrader_layout(tmp_path):
    for student in ("ann", "bob"):
        folder = tmp_path / "submitted" / student / "cnn"
        folder.mkdir(parents=True)
        (folder / "01_convolution.ipynb").write_bytes(_nb("correlate2d"))
        (folder / "notes.txt").write_text("ignored")
    (tmp_path / "submitted" / "cat" / "other").mkdir(parents=True)  # another assignment
    found = collect(tmp_path, "cnn", EXPECTED)
    assert [s.student for s in found.submissions] == ["ann", "bob"]
    assert set(found.submissions[0].notebooks) == {"01_convolution.ipynb"}
    assert "folder names" in found.ids_from


def test_nbgrader_submission_times_are_read_from_timestamp_txt(tmp_path):
    from datetime import datetime

    for student, stamp in (("ann", "2026-11-30 17:05:09.123456 UTC"), ("bob", None), ("cat", "not a time")):
        folder = tmp_path / "submitted" / student / "cnn"
        folder.mkdir(parents=True)
        (folder / "01_convolution.ipynb").write_bytes(_nb("correlate2d"))
        if stamp:
            (folder / "timestamp.txt").write_text(stamp + "\n")
    times = {s.student: s.submitted_at for s in collect(tmp_path, "cnn", EXPECTED).submissions}
    assert times == {"ann": datetime(2026, 11, 30, 17, 5, 9, 123456), "bob": None, "cat": None}


def test_the_gradebook_records_when_the_student_submitted(tmp_path):
    from datetime import datetime

    from nbgrader.api import Gradebook

    from autograder.course.gradebook import record_submission

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        gradebook.add_assignment("cnn")
    when = datetime(2026, 11, 30, 17, 5, 9)
    record_submission(url, "cnn", "ann", {"01_convolution": {}}, timestamp=when)
    with Gradebook(url) as gradebook:
        assert gradebook.find_submission("cnn", "ann").timestamp == when


def test_a_folder_per_student_from_an_lms(tmp_path):
    (tmp_path / "lms" / "ann").mkdir(parents=True)
    (tmp_path / "lms" / "ann" / "01_convolution.ipynb").write_bytes(_nb("correlate2d"))
    (tmp_path / "lms" / "ann" / "my pooling work.ipynb").write_bytes(_nb("pool2d"))  # recognised by its cells
    found = collect(tmp_path, "cnn", EXPECTED, tmp_path / "lms")
    assert set(found.submissions[0].notebooks) == {"01_convolution.ipynb", "02_pooling.ipynb"}


def test_flat_files_named_by_student_and_canvas_style(tmp_path):
    lms = tmp_path / "lms"
    lms.mkdir()
    (lms / "ann_01_convolution.ipynb").write_bytes(_nb("correlate2d"))
    (lms / "doejohn_123_456_01_convolution.ipynb").write_bytes(_nb("correlate2d"))
    (lms / "late_doejohn_123_789_02_pooling.ipynb").write_bytes(_nb("pool2d"))
    found = collect(tmp_path, "cnn", EXPECTED, lms)
    by_id = {s.student: set(s.notebooks) for s in found.submissions}
    assert by_id == {"ann": {"01_convolution.ipynb"}, "doejohn": {"01_convolution.ipynb", "02_pooling.ipynb"}}
    assert "Canvas" in found.ids_from


def test_one_notebook_per_student_is_recognised_by_its_cells(tmp_path):
    lms = tmp_path / "lms"
    lms.mkdir()
    (lms / "s001.ipynb").write_bytes(_nb("pool2d", "extra-cell"))
    (lms / "s002.ipynb").write_bytes(b"not json")
    found = collect(tmp_path, "cnn", EXPECTED, lms)
    assert [(s.student, list(s.notebooks)) for s in found.submissions] == [("s001", ["02_pooling.ipynb"])]
    assert any("s002" in r.where and "not one of the assignment" in r.reason for r in found.refused)


def test_a_zip_is_read_without_extracting_and_bad_entries_are_refused(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("submissions/ann/01_convolution.ipynb", _nb("correlate2d"))
        handle.writestr("submissions/bob/01_convolution.ipynb", _nb("correlate2d"))
        handle.writestr("submissions/../../evil/01_convolution.ipynb", _nb("correlate2d"))
        handle.writestr("/etc/01_convolution.ipynb", _nb("correlate2d"))
        handle.writestr("__MACOSX/submissions/._ann", b"junk")
    found = collect(tmp_path, "cnn", EXPECTED, archive)
    assert [s.student for s in found.submissions] == ["ann", "bob"]
    assert len(found.refused) == 2 and all("outside the zip" in r.reason for r in found.refused)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["download.zip"]


def test_symlinks_and_unsafe_folders_are_refused(tmp_path):
    root = tmp_path / "submitted"
    (root / "ann" / "cnn").mkdir(parents=True)
    (root / "ann" / "cnn" / "01_convolution.ipynb").write_bytes(_nb("correlate2d"))
    (root / "mallory").symlink_to(tmp_path)
    (root / "a..b" / "cnn").mkdir(parents=True)
    found = collect(tmp_path, "cnn", EXPECTED)
    assert [s.student for s in found.submissions] == ["ann"]
    assert {r.where for r in found.refused} == {"mallory", "a..b"}


def test_the_hash_changes_with_the_content_only():
    a = content_hash({"x.ipynb": b"1", "y.ipynb": b"2"})
    assert a == content_hash({"y.ipynb": b"2", "x.ipynb": b"1"})
    assert a != content_hash({"x.ipynb": b"1", "y.ipynb": b"3"})


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder or zip"):
        collect(tmp_path, "cnn", EXPECTED, tmp_path / "nope.zip")


def _zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return path


def test_a_bad_crc_refuses_that_entry_and_the_rest_is_collected(tmp_path):
    path = _zip(tmp_path / "lms.zip", {"ann/01_convolution.ipynb": _nb("correlate2d"),
                                       "bob/01_convolution.ipynb": _nb("correlate2d", "convolve2d")})
    data = bytearray(path.read_bytes())
    offset = data.find(b"bob/01_convolution.ipynb") + len("bob/01_convolution.ipynb")  # bob's compressed bytes
    data[offset + 4] ^= 0xFF
    path.write_bytes(bytes(data))
    found = collect(tmp_path, "cnn", EXPECTED, path)
    assert [s.student for s in found.submissions] == ["ann"]
    assert any("bob" in r.where and ("unreadable" in r.reason or "Error" in r.reason) for r in found.refused), \
        found.refused


def test_a_zip_bomb_is_refused_before_it_is_read(tmp_path):
    bomb = _nb("correlate2d")[:-1] + b', "padding": "' + b"0" * 40_000_000 + b'"}'
    path = _zip(tmp_path / "lms.zip", {"ann/01_convolution.ipynb": _nb("correlate2d"),
                                       "eve/01_convolution.ipynb": bomb})
    assert path.stat().st_size < 200_000
    found = collect(tmp_path, "cnn", EXPECTED, path)
    assert [s.student for s in found.submissions] == ["ann"]
    assert any("eve" in r.where and "zip bomb" in r.reason for r in found.refused), found.refused


def test_no_file_can_take_another_students_identity(tmp_path):
    """A flat file named for a student and that student's own folder: both refused, and said so."""
    path = _zip(tmp_path / "lms.zip", {"victim/01_convolution.ipynb": _nb("correlate2d"),
                                       "victim_01_convolution.ipynb": _nb("correlate2d", "convolve2d"),
                                       "ann/01_convolution.ipynb": _nb("correlate2d")})
    found = collect(tmp_path, "cnn", EXPECTED, path)
    assert [s.student for s in found.submissions] == ["ann"]
    claims = [r for r in found.refused if "claim 01_convolution.ipynb of student victim" in r.reason]
    assert len(claims) == 2, found.refused


def test_a_deeply_nested_file_is_not_taken_for_a_notebook_and_stops_nothing(tmp_path):
    path = _zip(tmp_path / "lms.zip", {"ann/01_convolution.ipynb": _nb("correlate2d"),
                                       "ann/extra.ipynb": b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"})
    found = collect(tmp_path, "cnn", EXPECTED, path)
    assert set(found.submissions[0].notebooks) == {"01_convolution.ipynb"}
    assert [r.where for r in found.refused] == ["lms.zip:ann/extra.ipynb"]  # (compressed too well, too)
    flat = tmp_path / "flat"  # in a folder, no compression to give it away: not recognised as a notebook
    (flat / "ann").mkdir(parents=True)
    (flat / "ann" / "01_convolution.ipynb").write_bytes(_nb("correlate2d"))
    (flat / "ann" / "extra.ipynb").write_bytes(b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    found = collect(tmp_path, "cnn", EXPECTED, flat)
    assert any("not one of the assignment's notebooks" in r.reason for r in found.refused), found.refused
