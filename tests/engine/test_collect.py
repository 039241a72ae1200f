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


@pytest.mark.parametrize("name", ["ann", "s1234567", "jane.doe@uni.edu", "a-b_c", "Ann Lee", "José García",
                                  "Zoë O'Brien", "李华", "Nguyễn Văn An", "Ольга", "ज्योति", "garcíajosé_1001_5002"])
def test_usual_ids_are_safe(name):
    assert safe_name(name)


@pytest.mark.parametrize("name", ["..", "../x", "a/b", ".hidden", "a..b", "", "x" * 200, "a\\b", "tab\tid",
                                  "+1+2", "@SUM(A1 A2)", "-2+3",  # formulas in a spreadsheet
                                  "Eve\u202egpj.exe", "a\u200bb", "'quoted", "\u0301accent first", "x;rm -rf",
                                  "李" * 67])  # a right-to-left override, a zero-width space; over 200 bytes
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


def test_nbgrader_submission_times_are_read_from_timestamp_txt_else_the_files_time(tmp_path):
    import os
    from datetime import datetime, timezone

    file_time = datetime(2026, 11, 29, 9, 30, tzinfo=timezone.utc)
    for student, stamp in (("ann", "2026-11-30 17:05:09.123456 UTC"), ("bob", None), ("cat", "not a time")):
        folder = tmp_path / "submitted" / student / "cnn"
        folder.mkdir(parents=True)
        (folder / "01_convolution.ipynb").write_bytes(_nb("correlate2d"))
        os.utime(folder / "01_convolution.ipynb", (file_time.timestamp(), file_time.timestamp()))
        if stamp:
            (folder / "timestamp.txt").write_text(stamp + "\n")
    times = {s.student: s.submitted_at for s in collect(tmp_path, "cnn", EXPECTED).submissions}
    assert times == {"ann": datetime(2026, 11, 30, 17, 5, 9, 123456), "bob": datetime(2026, 11, 29, 9, 30),
                     "cat": datetime(2026, 11, 29, 9, 30)}


def test_an_lms_zips_submission_time_is_its_latest_entrys_time(tmp_path):
    from datetime import datetime

    with zipfile.ZipFile(tmp_path / "download.zip", "w") as archive:
        for name, when in (("ann_1001_5002_01_convolution.ipynb", (2026, 11, 30, 17, 5, 8)),
                           ("ann_1001_5003_02_pooling.ipynb", (2026, 11, 30, 19, 0, 0)),
                           ("late_bob_1002_5004_01_convolution.ipynb", (2026, 12, 1, 8, 0, 0))):
            archive.writestr(zipfile.ZipInfo(f"submissions/{name}", when), _nb("correlate2d" if "conv" in name
                                                                                 else "pool2d"))
    found = {s.student: s for s in collect(tmp_path, "cnn", EXPECTED, tmp_path / "download.zip").submissions}
    assert found["ann"].submitted_at == datetime(2026, 11, 30, 19, 0) and not found["ann"].late
    assert found["bob"].submitted_at == datetime(2026, 12, 1, 8, 0) and found["bob"].late


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


def test_many_files_claiming_one_notebook_are_named_in_one_short_line(tmp_path):
    """A student's zip of thousands of copies of one notebook: before, a line per copy, each listing every copy
    (megabytes a line, gigabytes in all); now one line."""
    copies = {f"v{i}/01_convolution.ipynb": _nb("correlate2d", f"draft-{i}") for i in range(2000)}  # all differ
    found = collect(tmp_path, "cnn", EXPECTED, _zip(tmp_path / "d.zip", {"ann.zip": _zipped(copies),
                                                                         "bob/01_convolution.ipynb": _nb("correlate2d")}))
    (line,) = [r.line() for r in found.refused]
    assert line.startswith("refused ann.zip/v0/01_convolution.ipynb and 1,999 more: 2,000 files claim "
                           "01_convolution.ipynb of student ann (") and "and 1,997 more): all refused" in line, line


def test_a_notebook_handed_in_twice_unchanged_is_graded_once(tmp_path):
    """Canvas renames a second attachment of the same file `-1`; the same bytes twice is no ambiguity: the copy
    with the latest time is graded and the other named in one line. Copies that differ stay refused (below)."""
    path = tmp_path / "canvas.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, when in [("annlee_123_456_01_convolution.ipynb", (2026, 3, 1, 10, 0, 0)),
                           ("annlee_123_456_01_convolution-1.ipynb", (2026, 3, 1, 11, 0, 0))]:
            archive.writestr(zipfile.ZipInfo(name, when), _nb("correlate2d"))
    found = collect(tmp_path, "cnn", EXPECTED, path)
    (submission,) = found.submissions
    assert submission.student == "annlee" and submission.submitted_at.hour == 11
    assert [r.line() for r in found.refused] == [
        "skipped annlee_123_456_01_convolution.ipynb: the same bytes as annlee_123_456_01_convolution-1.ipynb, "
        "which is graded"]


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


def test_a_wrapper_folder_of_canvas_files_is_a_class_not_one_student(tmp_path):
    lms = tmp_path / "download" / "submissions"
    lms.mkdir(parents=True)
    for login, user in (("alice", 1001), ("bob", 1002), ("carol", 1003)):
        (lms / f"{login}_{user}_5002_01_convolution.ipynb").write_bytes(_nb("correlate2d"))
    (lms / "late_dave_1004_5003_01_convolution.ipynb").write_bytes(_nb("correlate2d"))
    (lms / "erin_1005_5007_01_convolution-1.ipynb").write_bytes(_nb("correlate2d"))  # a resubmission
    found = collect(tmp_path, "cnn", EXPECTED, tmp_path / "download")
    assert [s.student for s in found.submissions] == ["alice", "bob", "carol", "dave", "erin"]
    assert [s.late for s in found.submissions] == [False, False, False, True, False]
    assert "Canvas" in found.ids_from and found.refused == ()


def test_a_students_own_folder_is_never_taken_for_a_wrapper(tmp_path):
    (tmp_path / "lms" / "ann").mkdir(parents=True)
    (tmp_path / "lms" / "ann" / "01_convolution.ipynb").write_bytes(_nb("correlate2d"))
    found = collect(tmp_path, "cnn", EXPECTED, tmp_path / "lms")
    assert [s.student for s in found.submissions] == ["ann"]


def test_moodle_and_blackboard_names_give_the_student(tmp_path):
    lms = tmp_path / "lms"
    (lms / "Ann Lee_4411_assignsubmission_file_").mkdir(parents=True)
    (lms / "Ann Lee_4411_assignsubmission_file_" / "01_convolution.ipynb").write_bytes(_nb("correlate2d"))
    (lms / "cnn_jdoe_attempt_2026-11-30-10-15-00_01_convolution.ipynb").write_bytes(_nb("correlate2d"))
    found = collect(tmp_path, "cnn", EXPECTED, lms)
    assert [s.student for s in found.submissions] == ["Ann_Lee", "jdoe"]


def test_moodles_download_without_folders_gives_the_student_and_the_notebook(tmp_path):
    """Moodle names each file `<name>_<id>_assignsubmission_file_<the student's file name>` when its download has
    no folder per student (before: the id was `Ann Lee_4411_assignsubmission_file`, or held the file's name)."""
    archive = tmp_path / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("Ann Lee_4411_assignsubmission_file_01_convolution.ipynb", _nb("correlate2d"))
        handle.writestr("Ann Lee_4411_assignsubmission_file_02_pooling (1).ipynb", _nb("pool2d"))
        handle.writestr("José García_4413_assignsubmission_file_my work.ipynb", _nb("correlate2d", "convolve2d"))
    found = collect(tmp_path, "cnn", EXPECTED, archive)
    assert [(s.student, sorted(s.notebooks)) for s in found.submissions] == [
        ("Ann_Lee", ["01_convolution.ipynb", "02_pooling.ipynb"]), ("José_García", ["01_convolution.ipynb"])]
    assert found.refused == (), found.refused


def test_names_in_any_script_give_the_student_in_one_spelling_however_the_zip_wrote_them(tmp_path):
    """Moodle names folders for people (accents, apostrophes, other scripts: before, all refused as unsafe);
    macOS decomposes `é` into `e` and an accent; some tools write UTF-8 names without the zip's UTF-8 flag."""
    import unicodedata

    archive = tmp_path / "download.zip"
    placeholder, real = b"garcXXajosYY", "garcíajosé".encode()  # the same length: patched in after writing
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("CNN/José García_4413_assignsubmission_file_/01_convolution.ipynb", _nb("correlate2d"))
        handle.writestr(unicodedata.normalize("NFD", "CNN/Zoë O'Brien_4415_assignsubmission_file_/02_pooling.ipynb"),
                        _nb("pool2d"))
        handle.writestr("CNN/Zoë O'Brien_4415_assignsubmission_file_/01_convolution.ipynb", _nb("correlate2d"))
        handle.writestr("CNN/李华_4414_assignsubmission_file_/01_convolution.ipynb", _nb("correlate2d"))
    moodle = collect(tmp_path, "cnn", EXPECTED, archive)
    assert [s.student for s in moodle.submissions] == ["José_García", "Zoë_O'Brien", "李华"], moodle.refused
    assert sorted(moodle.submissions[1].notebooks) == ["01_convolution.ipynb", "02_pooling.ipynb"], "one Zoë"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr(f"submissions/{placeholder.decode()}_1001_5002_01_convolution.ipynb", _nb("correlate2d"))
    archive.write_bytes(archive.read_bytes().replace(placeholder, real))  # UTF-8 bytes, no UTF-8 flag
    canvas = collect(tmp_path, "cnn", EXPECTED, archive)
    assert [s.student for s in canvas.submissions] == ["garcíajosé"], canvas.refused


def test_brightspace_names_give_the_student_and_one_users_latest_submission_is_graded(tmp_path):
    """Brightspace names a folder (or each file) `<id>-<user id> - <name> - <date>`: before, the comma in the date
    refused every submission as unsafe. Of one user's submissions the latest copy of each notebook is graded;
    two users with the same name stay two students."""
    top = "CNN Download Dec 5, 2026 152 PM/"
    archive = _zip(tmp_path / "brightspace.zip", {
        top + "index.html": b"<html>",
        top + "39786-640693 - Aiden Rodriguez - Oct 10, 2025 1022 AM/01_convolution.ipynb": _nb("correlate2d"),
        top + "39790-640693 - Aiden Rodriguez - Oct 12, 2025 902 AM/01_convolution.ipynb":
            _nb("correlate2d", "convolve2d"),
        top + "39787-640694 - José García - Oct 11, 2025 1130 AM/my work.ipynb": _nb("pool2d"),
        top + "39788-640695 - Ann Lee- Oct 11, 2025 1130 AM - 01_convolution.ipynb": _nb("correlate2d"),
        top + "39789-640696 - Ann Lee- Oct 11, 2025 1131 AM - 02_pooling (1).ipynb": _nb("pool2d")})
    found = collect(tmp_path, "cnn", EXPECTED, archive)
    assert [(s.student, sorted(s.notebooks), s.lms_user_id) for s in found.submissions] == [
        ("Aiden_Rodriguez", ["01_convolution.ipynb"], "640693"), ("Ann_Lee_640695", ["01_convolution.ipynb"], "640695"),
        ("Ann_Lee_640696", ["02_pooling.ipynb"], "640696"), ("José_García", ["02_pooling.ipynb"], "640694")]
    assert len(json.loads(found.submissions[0].notebooks["01_convolution.ipynb"])["cells"]) == 2, "the latest"
    lines = [r.line() for r in found.refused]
    assert any(line.startswith("skipped 39786-640693 - Aiden Rodriguez - Oct 10, 2025 1022 AM/01_convolution.ipynb: "
                               "an earlier submission") for line in lines), lines
    assert len(lines) == 2 and "index.html" in lines[0], lines
    assert "Brightspace" in found.ids_from


def _zipped(entries):
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as handle:
        for name, content in entries.items():
            handle.writestr(name, content)
    return buffer.getvalue()


def test_a_zip_a_student_handed_in_is_opened_and_named_as_a_file_would_be(tmp_path):
    """Students often zip their notebooks: before, `not a notebook (.zip)` and nothing graded. One level is
    opened, in a download (Canvas' file name gives the login) and in a folder per student; a zip inside it, a
    broken zip and a bomb inside it are that file's lines alone."""
    bomb = zipfile.ZipInfo("02_pooling.ipynb")
    bomb.compress_type = zipfile.ZIP_DEFLATED
    inner_bomb = __import__("io").BytesIO()
    with zipfile.ZipFile(inner_bomb, "w", zipfile.ZIP_DEFLATED) as handle:
        handle.writestr(bomb, b"{" + b" " * 5_000_000 + b"}")
    archive = _zip(tmp_path / "download.zip", {
        "submissions/alice_1001_5002_hw3.zip": _zipped({"hw3/01_convolution.ipynb": _nb("correlate2d"),
                                                        "hw3/02_pooling.ipynb": _nb("pool2d"),
                                                        "__MACOSX/hw3/._01_convolution.ipynb": b"junk",
                                                        "hw3/old.zip": b"PK", "hw3/notes.txt": b"x"}),
        "submissions/bob_1002_5003_work.zip": b"not a zip at all",
        "submissions/carol_1003_5004_hw3.zip": inner_bomb.getvalue()})
    found = collect(tmp_path, "cnn", EXPECTED, archive)
    assert [(s.student, sorted(s.notebooks), s.lms_user_id) for s in found.submissions] == [
        ("alice", ["01_convolution.ipynb", "02_pooling.ipynb"], "1001")]
    lines = [r.line() for r in found.refused]
    assert any("bob_1002_5003_work.zip: not a readable zip" in line for line in lines), lines
    assert any("carol_1003_5004_hw3.zip:02_pooling.ipynb: compressed" in line for line in lines), lines
    assert any(line.startswith("skipped ") and "hw3/old.zip: not a notebook (.zip)" in line for line in lines), lines
    assert "a zip per student" in found.ids_from

    flood = {f"f{i}.txt": b"" for i in range(30)}
    crowd = {f"f{i}": b"" for i in range(10_001)}
    lines = [r.line() for r in collect(tmp_path, "cnn", EXPECTED, _zip(tmp_path / "more.zip", {
        "frank.zip": _zipped({**flood, "01_convolution.ipynb": _nb("correlate2d")}),
        "gus.zip": _zipped(crowd)})).refused]
    assert sum("frank.zip:f" in line for line in lines) == 20 and "skipped more.zip:frank.zip: 10 more of its files " \
        "not collected" in lines, "a zip's lines are bounded"
    assert "refused more.zip:gus.zip: a zip of 10,001 entries and 0 MB of notebooks (more than 10,000 or 500 MB): " \
        "not opened" in lines

    (tmp_path / "lms" / "dave").mkdir(parents=True)
    (tmp_path / "lms" / "dave" / "my work.zip").write_bytes(_zipped({"01_convolution.ipynb": _nb("correlate2d")}))
    (tmp_path / "lms" / "erin.zip").write_bytes(_zipped({"01_convolution.ipynb": _nb("correlate2d")}))
    assert [(s.student, sorted(s.notebooks)) for s in collect(tmp_path, "cnn", EXPECTED, tmp_path / "lms").submissions] \
        == [("dave", ["01_convolution.ipynb"]), ("erin", ["01_convolution.ipynb"])]


def test_a_folder_named_last_comma_first_is_the_students(tmp_path):
    (tmp_path / "lms" / "Lee, Ann").mkdir(parents=True)
    (tmp_path / "lms" / "Lee, Ann" / "01_convolution.ipynb").write_bytes(_nb("correlate2d"))
    assert [s.student for s in collect(tmp_path, "cnn", EXPECTED, tmp_path / "lms").submissions] == ["Lee, Ann"]


def test_every_file_left_out_gets_a_line_with_its_reason(tmp_path):
    lms = tmp_path / "lms"
    (lms / "ann").mkdir(parents=True)
    (lms / "ann" / "01_convolution.ipynb").write_bytes(_nb("correlate2d"))
    (lms / "ann" / "report.pdf").write_bytes(b"%PDF")
    (lms / "ann" / "helpers.py").write_text("x = 1")
    (lms / "ann" / "notes.ipynb").write_bytes(_nb("something-else"))
    lines = [r.line() for r in collect(tmp_path, "cnn", EXPECTED, lms).refused]
    assert "skipped ann/report.pdf: not a notebook (.pdf): only .ipynb files are graded" in lines
    assert "skipped ann/helpers.py: not a notebook (.py): only .ipynb files are graded" in lines
    assert any(line.startswith("skipped ann/notes.ipynb: not one of the assignment's notebooks") for line in lines)


def test_in_nbgrader_layout_a_renamed_notebook_is_recognised_and_the_rest_gets_a_line(tmp_path):
    folder = tmp_path / "submitted" / "ann" / "cnn"
    folder.mkdir(parents=True)
    (folder / "01_convolution-Copy1.ipynb").write_bytes(_nb("correlate2d", "convolve2d"))  # renamed by Jupyter
    (folder / "02_pooling.ipynb").write_bytes(_nb("pool2d"))
    (folder / "02_pooling-Copy1.ipynb").write_bytes(_nb("pool2d"))  # a copy beside the original
    (folder / "answers.txt").write_text("42")
    (folder / "timestamp.txt").write_text("2026-11-30 10:00:00.000000 UTC")
    found = collect(tmp_path, "cnn", EXPECTED)
    assert set(found.submissions[0].notebooks) == {"01_convolution.ipynb", "02_pooling.ipynb"}
    lines = [r.line() for r in found.refused]
    assert "renamed ann/cnn/01_convolution-Copy1.ipynb: graded as 01_convolution.ipynb (recognised by its graded " \
           "cells)" in lines
    assert any(line.startswith("skipped ann/cnn/02_pooling-Copy1.ipynb: another copy of 02_pooling.ipynb")
               for line in lines)
    assert "skipped ann/cnn/answers.txt: not a notebook (.txt): only .ipynb files are graded" in lines
    assert not any("timestamp.txt" in line for line in lines)


@pytest.mark.parametrize("layout", ["empty folder", "mistyped assignment", "nothing submitted"])
def test_finding_nothing_is_an_error_that_names_where_it_looked(tmp_path, layout):
    if layout == "empty folder":
        (tmp_path / "lms").mkdir()
        where, call = str(tmp_path / "lms"), lambda: collect(tmp_path, "cnn", EXPECTED, tmp_path / "lms")
    elif layout == "mistyped assignment":
        (tmp_path / "submitted" / "ann" / "cnn").mkdir(parents=True)
        (tmp_path / "submitted" / "ann" / "cnn" / "01_convolution.ipynb").write_bytes(_nb("correlate2d"))
        where, call = "submitted/<student>/cnm/*.ipynb", lambda: collect(tmp_path, "cnm", EXPECTED)
    else:
        where, call = "submitted/<student>/cnn/*.ipynb", lambda: collect(tmp_path, "cnn", EXPECTED)
    with pytest.raises(FileNotFoundError, match="no notebook of assignment") as error:
        call()
    assert where in str(error.value)


def test_with_a_due_date_nbgrader_sees_on_time_students_on_time_and_late_ones_late(tmp_path):
    from datetime import datetime

    from nbgrader.api import Gradebook

    from autograder.course.gradebook import record_submission

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        gradebook.add_assignment("cnn", duedate=datetime(2026, 11, 30, 18, 0, 0))
    for student, stamp in (("ann", "2026-11-30 17:05:09.000000 UTC"), ("bob", "2026-11-30 20:00:00.000000 UTC")):
        folder = tmp_path / "submitted" / student / "cnn"
        folder.mkdir(parents=True)
        (folder / "01_convolution.ipynb").write_bytes(_nb("correlate2d"))
        (folder / "timestamp.txt").write_text(stamp)
    for submission in collect(tmp_path, "cnn", EXPECTED).submissions:  # graded now, hours after the due date
        record_submission(url, "cnn", submission.student, {"01_convolution": {}}, timestamp=submission.submitted_at)
    with Gradebook(url) as gradebook:
        late = {s: gradebook.find_submission("cnn", s).total_seconds_late for s in ("ann", "bob")}
    assert late == {"ann": 0, "bob": 2 * 3600}


def test_a_notebook_renamed_inside_canvas_name_is_the_students_and_recognised_by_its_cells(tmp_path):
    lms = tmp_path / "lms"
    lms.mkdir()
    (lms / "carol_1003_5010_my work.ipynb").write_bytes(_nb("pool2d"))
    found = collect(tmp_path, "cnn", EXPECTED, lms)
    assert [(s.student, list(s.notebooks)) for s in found.submissions] == [("carol", ["02_pooling.ipynb"])]


def test_student_ids_given_with_commas_are_split_unless_one_id_holds_the_comma():
    from autograder.engine import _named_students

    known = {"ann", "bob", "Lee, Ann"}
    assert _named_students(["ann,bob", "Lee, Ann"], known) == ["ann", "bob", "Lee, Ann"]
    assert _named_students([" ann , zed"], known) == ["ann", "zed"], "an unknown id is kept, to be reported"
