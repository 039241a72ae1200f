"""`cnnkit grade` on downloads laid out as Canvas, Moodle, Blackboard and Brightspace give them. Canvas', re-zipped inside a
wrapper folder: the right students (resubmission suffixes, the late mark and a
renamed notebook read right), the right submission times and Canvas user ids
in the gradebook, a line for every file that is not graded, and the totals in
the layout Canvas' gradebook imports."""

import zipfile
from datetime import datetime

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import grade
from autograder.exports.canvas_csv import POINTS_ROW, canvas_table
from autograder.exports.classroom import load_class

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _answers(mini_course):
    """A right notebook (2 points) and one that special-cases a test (1 point), as text."""
    return tuple(nbformat.writes(mini_course.notebook(add=code)) for code in
                 ("def add(a, b):\n    return a + b", "def add(a, b):\n    return 5 if a == -1 else a + b"))


def test_a_canvas_download_grades_the_right_students_with_the_right_times(mini_course, tmp_path):
    good, wrong = _answers(mini_course)
    entries = {"alice_1001_5002_mini.ipynb": (good, (2026, 11, 30, 17, 0, 0)),
               "bob_1002_5003_mini-1.ipynb": (wrong, (2026, 11, 30, 17, 30, 0)),  # a resubmission
               "late_dave_1004_5005_mini.ipynb": (good, (2026, 12, 1, 9, 0, 0)),
               "erin_late_1005_5007_mini.ipynb": (wrong, (2026, 12, 1, 10, 0, 0)),  # the mark after the login
               "carol_1003_5004_mini copy.ipynb": (good, (2026, 11, 30, 16, 0, 0)),  # renamed by the student
               "bob_1002_5006_report.pdf": ("%PDF-1.4", (2026, 11, 30, 17, 30, 0))}
    download = tmp_path / "download.zip"
    with zipfile.ZipFile(download, "w") as archive:
        for name, (text, when) in entries.items():
            archive.writestr(zipfile.ZipInfo(f"submissions/{name}", when), text)
    lines = []
    run = grade("mini", course=mini_course.root, submissions=download, workers=2, progress=False, echo=lines.append)
    assert {student: result.score for student, result in run.results.items()} == \
        {"alice": 2.0, "bob": 1.0, "carol": 2.0, "dave": 2.0, "erin": 1.0}
    assert any("Canvas file names" in line for line in lines)
    assert "skipped download.zip:submissions/bob_1002_5006_report.pdf: not a notebook (.pdf): only .ipynb files are " \
        "graded" in lines
    for student in ("dave", "erin"):
        assert any("late mark" in flag for flag in run.results[student].flags), run.results[student].flags
    assert not any("late" in flag for flag in run.results["alice"].flags)
    with Gradebook(mini_course.course.db_url) as gradebook:
        times = {student: gradebook.find_submission("mini", student).timestamp for student in run.results}
        lms_ids = {student: gradebook.find_student(student).lms_user_id for student in run.results}
    assert times == {"alice": datetime(2026, 11, 30, 17), "bob": datetime(2026, 11, 30, 17, 30),
                     "carol": datetime(2026, 11, 30, 16), "dave": datetime(2026, 12, 1, 9),
                     "erin": datetime(2026, 12, 1, 10)}
    assert lms_ids == {"alice": "1001", "bob": "1002", "carol": "1003", "dave": "1004", "erin": "1005"}
    table = canvas_table(load_class("mini", course=mini_course.root))
    assert table.iloc[0]["Student"] == POINTS_ROW and table.iloc[0]["mini"] == "2"
    rows = table.iloc[1:].set_index("SIS Login ID")
    assert rows.loc["bob", "ID"] == "1002" and rows.loc["bob", "mini"] == "1", "Canvas matches the row by its user id"


def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for name, (text, when) in entries.items():
            archive.writestr(zipfile.ZipInfo(name, when), text)
    return path


def test_a_moodle_download_grades_each_students_folder_with_its_time(mini_course, tmp_path):
    good, wrong = _answers(mini_course)
    download = _zip(tmp_path / "moodle.zip", {  # Moodle: a folder per submission, named for the student
        "CNN-12345/Ann Lee_4411_assignsubmission_file_/mini.ipynb": (good, (2026, 11, 30, 15, 0, 0)),
        "CNN-12345/Ann Lee_4411_assignsubmission_file_/notes.pdf": ("%PDF-1.4", (2026, 11, 30, 15, 0, 0)),
        "CNN-12345/Bo Chen_4412_assignsubmission_file_/mini (1).ipynb": (wrong, (2026, 11, 30, 18, 45, 0)),
        "CNN-12345/Zoë O'Brien_4413_assignsubmission_file_/mini.ipynb": (good, (2026, 11, 30, 19, 0, 0))})
    lines = []
    run = grade("mini", course=mini_course.root, submissions=download, workers=2, progress=False, echo=lines.append)
    assert {student: result.score for student, result in run.results.items()} == \
        {"Ann_Lee": 2.0, "Bo_Chen": 1.0, "Zoë_O'Brien": 2.0}, lines
    assert any("Moodle folder names" in line for line in lines), lines
    assert any(line.startswith("skipped ") and "notes.pdf: not a notebook (.pdf)" in line for line in lines), lines
    with Gradebook(mini_course.course.db_url) as gradebook:
        times = {student: gradebook.find_submission("mini", student).timestamp for student in run.results}
    assert times == {"Ann_Lee": datetime(2026, 11, 30, 15), "Bo_Chen": datetime(2026, 11, 30, 18, 45),
                     "Zoë_O'Brien": datetime(2026, 11, 30, 19)}


def test_a_blackboard_download_grades_each_login_and_skips_its_receipts(mini_course, tmp_path):
    good, wrong = _answers(mini_course)
    attempt = "CNN_{login}_attempt_2026-11-30-{hour}-00-00"
    download = _zip(tmp_path / "gradebook_cnn.zip", {
        attempt.format(login="jdoe", hour=10) + "_mini.ipynb": (good, (2026, 11, 30, 10, 0, 0)),
        attempt.format(login="jdoe", hour=10) + ".txt": ("Name: Jane Doe (jdoe)", (2026, 11, 30, 10, 0, 0)),
        attempt.format(login="kim", hour=11) + "_my work.ipynb": (wrong, (2026, 11, 30, 11, 0, 0))})  # renamed
    lines = []
    run = grade("mini", course=mini_course.root, submissions=download, workers=2, progress=False, echo=lines.append)
    assert {student: result.score for student, result in run.results.items()} == {"jdoe": 2.0, "kim": 1.0}
    assert any("Blackboard file names" in line for line in lines), lines
    receipt = attempt.format(login="jdoe", hour=10) + ".txt"
    assert any(line.startswith("skipped ") and receipt in line for line in lines), lines
    with Gradebook(mini_course.course.db_url) as gradebook:
        times = {student: gradebook.find_submission("mini", student).timestamp for student in run.results}
    assert times == {"jdoe": datetime(2026, 11, 30, 10), "kim": datetime(2026, 11, 30, 11)}


def test_a_brightspace_download_grades_each_users_latest_submission(mini_course, tmp_path):
    good, wrong = _answers(mini_course)
    folder = "CNN Download Dec 5, 2026 152 PM/{} - Oct {} 2026 {} PM/mini.ipynb"
    download = _zip(tmp_path / "brightspace.zip", {  # a folder per submission; Ann handed in twice
        folder.format("39786-640693 - Ann Lee", "10,", "1022"): (wrong, (2026, 10, 10, 22, 22, 0)),
        folder.format("39790-640693 - Ann Lee", "12,", "902"): (good, (2026, 10, 12, 21, 2, 0)),
        folder.format("39787-640694 - José García", "11,", "1130"): (wrong, (2026, 10, 11, 23, 30, 0)),
        "CNN Download Dec 5, 2026 152 PM/index.html": ("<html>", (2026, 12, 5, 13, 52, 0))})
    lines = []
    run = grade("mini", course=mini_course.root, submissions=download, workers=2, progress=False, echo=lines.append)
    assert {student: result.score for student, result in run.results.items()} == \
        {"Ann_Lee": 2.0, "José_García": 1.0}, lines
    assert any("Brightspace names" in line for line in lines), lines
    assert any(line.startswith("skipped 39786-640693 - Ann Lee") and "an earlier submission" in line
               for line in lines), lines
    with Gradebook(mini_course.course.db_url) as gradebook:
        assert gradebook.find_submission("mini", "Ann_Lee").timestamp == datetime(2026, 10, 12, 21, 2)
        assert gradebook.find_student("José_García").lms_user_id == "640694"


def test_a_zip_a_student_handed_in_is_graded_as_their_notebooks(mini_course, tmp_path):
    import io

    good, wrong = _answers(mini_course)
    handed_in = io.BytesIO()
    with zipfile.ZipFile(handed_in, "w") as archive:
        archive.writestr(zipfile.ZipInfo("hw/mini.ipynb", (2026, 11, 30, 16, 0, 0)), good)
    download = _zip(tmp_path / "download.zip", {
        "submissions/alice_1001_5002_hw.zip": (handed_in.getvalue(), (2026, 11, 30, 17, 0, 0)),
        "submissions/bob_1002_5003_mini.ipynb": (wrong, (2026, 11, 30, 17, 30, 0))})
    lines = []
    run = grade("mini", course=mini_course.root, submissions=download, workers=2, progress=False, echo=lines.append)
    assert {student: result.score for student, result in run.results.items()} == {"alice": 2.0, "bob": 1.0}, lines
    with Gradebook(mini_course.course.db_url) as gradebook:
        assert gradebook.find_student("alice").lms_user_id == "1001"
