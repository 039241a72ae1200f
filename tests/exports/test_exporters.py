"""Each exporter on hand-made results: column layout, Gradescope's schema,
escaping of student-controlled text, the missing student, clear errors."""

import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from autograder.exports.canvas_csv import COLUMNS, POINTS_ROW, canvas_table, write_canvas
from autograder.exports.classroom import MISSING, ClassResults, Student, load_class, misconceptions
from autograder.exports.feedback import AnsweredCell, feedback_html, student_code, write_feedback
from autograder.exports.gradescope import RESULT_FIELDS, TEST_FIELDS, results_json
from autograder.exports.grades_csv import grades_table, write_grades
from autograder.exports.render import points
from autograder.exports.report import report_html
from autograder.course.templates import NotebookTemplate
from autograder.pipeline.record import SUBMITTED_DIR
from autograder.pipeline.results import CellResult, SubmissionResult
from tests.engine.conftest import mini_source

TEMPLATES = (NotebookTemplate("a.ipynb", frozenset({"f", "f_tests", "g_tests"}), {"f_tests": 2.0, "g_tests": 1.0}),
             NotebookTemplate("b.ipynb", frozenset({"h_tests"}), {"h_tests": 3.0}))


def _result(student, scores, status="graded", flags=(), feedback="", mistakes=()):
    """Every cell names `mistakes` ((name, message) pairs), as data and, unless `feedback` is given, in its feedback."""
    feedback = feedback or "\n".join(f"- Likely mistake ({name}): {message}" for name, message in mistakes)
    cells = tuple(CellResult(nb, grade_id, score, points_, feedback, tuple(mistakes))
                  for (nb, grade_id, points_), score in zip([("a", "f_tests", 2.0), ("a", "g_tests", 1.0),
                                                             ("b", "h_tests", 3.0)], scores))
    return SubmissionResult(student, status, "" if status == "graded" else "stopped", cells, tuple(flags), seconds=4.4,
                            notebooks={"a": "ran", "b": "ran"})


def _classroom(tmp_path, results):
    from autograder.exports.classroom import _missing

    results = dict(results)
    results["zed"] = _missing("zed", TEMPLATES)
    students = {"ann": Student("Ann", "Lee", "1001"), "bob": Student(lms_user_id="1002")}
    return ClassResults("hw", Path(tmp_path), TEMPLATES, dict(sorted(results.items())), students)


@pytest.fixture
def classroom(tmp_path):
    return _classroom(tmp_path, {
        "ann": _result("ann", [2.0, 1.0, 3.0]),
        "bob": _result("bob", [0.5, 0.0, 3.0], flags=("edited a locked cell, see <here>",),
                       mistakes=[("kernel not flipped", "flip it")]),
        "cy": _result("cy", [0.0, 0.0, 0.0], status="timeout")})


def test_grades_table_layout_and_totals(classroom, tmp_path):
    table = grades_table(classroom)
    assert list(table.columns) == ["student", "status", "score", "max_score", "a", "b", "a/f_tests", "a/g_tests",
                                   "b/h_tests", "flags", "reason"]
    rows = table.set_index("student")
    assert rows.loc["bob", "score"] == 3.5 and rows.loc["bob", "a"] == 0.5 and rows.loc["bob", "b"] == 3.0
    assert rows.loc["zed", "status"] == MISSING and rows.loc["zed", "score"] == 0 and rows.loc["zed", "max_score"] == 6
    path = write_grades(classroom, tmp_path / "out" / "grades.csv")
    read = pd.read_csv(path)
    assert read["flags"][1] == "edited a locked cell, see <here>", "a comma or symbol in a flag survives the CSV"
    assert list(pd.read_csv(write_grades(classroom, tmp_path / "t.csv", totals_only=True)).columns) == ["student", "score"]


def test_canvas_import_has_canvas_columns_the_points_row_and_a_row_per_student(classroom, tmp_path):
    table = pd.read_csv(write_canvas(classroom, tmp_path / "canvas.csv"), dtype=str, keep_default_na=False)
    assert list(table.columns) == [*COLUMNS, "hw"]
    assert table.iloc[0]["Student"] == POINTS_ROW and table.iloc[0]["hw"] == "6"
    rows = table.iloc[1:].set_index("SIS Login ID")
    assert list(rows.index) == ["ann", "bob", "cy", "zed"]
    assert rows.loc["ann", "Student"] == "Lee, Ann" and rows.loc["ann", "ID"] == "1001" and rows.loc["ann", "hw"] == "6"
    assert rows.loc["bob", "Student"] == "bob" and rows.loc["bob", "ID"] == "1002" and rows.loc["bob", "hw"] == "3.5"
    assert rows.loc["cy", "hw"] == "0" and rows.loc["cy", "ID"] == "", "a stopped run scores its verified 0"
    assert rows.loc["zed", "hw"] == "", "nothing submitted: Canvas' missing policy decides"
    assert list(canvas_table(classroom, title="CNN (1234)").columns)[-1] == "CNN (1234)"


def test_gradescope_results_schema_and_scores(classroom):
    results = results_json(classroom.results["bob"])
    assert set(results) <= RESULT_FIELDS and all(set(test) <= TEST_FIELDS for test in results["tests"])
    assert results["score"] == 3.5 and [t["status"] for t in results["tests"]] == ["failed", "failed", "passed"]
    assert results["extra_data"]["flags"] == ["edited a locked cell, see <here>"]
    assert "edited a locked cell" not in results["output"], "flags are for course staff"
    stopped = results_json(classroom.results["cy"], visibility="after_due_date")
    assert "Status: timeout" in stopped["output"]
    assert {t["visibility"] for t in stopped["tests"]} == {"after_due_date"}
    json.dumps(results)


def test_gradescope_holds_back_the_improve_it_test_and_its_points():
    """A retrained "improve it" cell seen later than the others (the bundle's default): that test's visibility is the
    later of the two, and the text above the tests gives only the score of those shown now."""
    result = _result("ann", [2.0, 0.25, 3.0])  # f_tests 2/2, g_tests 0.25/1, h_tests 3/3
    held = results_json(result, visibility="visible", later={"h_tests": "after_due_date"})
    assert {t["name"]: t["visibility"] for t in held["tests"]} == {
        "a: f_tests": "visible", "a: g_tests": "visible", "b: h_tests": "after_due_date"}
    assert held["score"] == 5.25, "Gradescope records the whole grade"
    assert held["output"].startswith("Verified score of the tests shown now: 2.25 / 3; h_tests (3 points) will be "
                                     "shown later"), held["output"]
    stricter = results_json(result, visibility="hidden", later={"h_tests": "after_due_date"})
    assert {t["visibility"] for t in stricter["tests"]} == {"hidden"}, "never shown earlier than the rest"
    assert stricter["output"].startswith("Verified score: 5.25 / 6.")


def test_feedback_escapes_student_code_and_shows_scores():
    result = _result("ann", [2.0, 0.25, 3.0], feedback="value <b>was</b> wrong")
    page = feedback_html(result, "a", "hw", [AnsweredCell("f", "x = '<script>alert(1)</script>'")])
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>was</b>" not in page
    assert "a: 2.25 / 3" in page and "0.25 / 1" in page


def test_feedback_quotes_only_answer_cells_of_the_copy_taken_before_running(classroom, tmp_path):
    notebook = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell("def f():\n    return 1")
    answer.metadata["nbgrader"] = {"solution": True, "grade_id": "f", "grade": False, "locked": False}
    test = nbformat.v4.new_code_cell("assert f() == 1  # hidden-test-text")
    test.metadata["nbgrader"] = {"solution": False, "grade_id": "f_tests", "grade": True, "locked": True, "points": 2}
    notebook.cells = [answer, test]
    assert [(c.grade_id, c.source) for c in student_code(nbformat.writes(notebook))] == [("f", "def f():\n    return 1")]
    folder = tmp_path / "autograded" / "ann" / "hw" / SUBMITTED_DIR
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "a.ipynb")
    pages = write_feedback(classroom, tmp_path / "feedback")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in pages if "/ann/" in p.as_posix()) == [
        "feedback/ann/hw/a.html", "feedback/ann/hw/b.html"]
    page = (tmp_path / "feedback" / "ann" / "hw" / "a.html").read_text()
    assert "return 1" in page and "hidden-test-text" not in page
    assert not (tmp_path / "feedback" / "zed").exists(), "no page for a student who submitted nothing"


def test_report_embeds_five_plots_and_escapes_flags(classroom):
    page = report_html(classroom)
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) == 5
    assert "see &lt;here&gt;" in page and "<here>" not in page
    assert "4 students" in page and "3 submitted" in page and "1 missing" in page
    assert "kernel not flipped" in page and "timeout" in page


def test_misconceptions_are_counted_once_per_cell():
    result = _result("bob", [0, 0, 0], mistakes=[("a", "x"), ("a", "y"), ("b", "z")])
    assert misconceptions(result) == {"a": 3, "b": 3}


def test_points_are_written_as_people_write_them():
    assert [points(v) for v in (9.833333, 2.0, 0.5, 35)] == ["9.83", "2", "0.5", "35"]


def test_exporting_an_ungraded_assignment_says_what_to_do(tmp_path):
    """A course with a source notebook, never graded."""
    (tmp_path / "solutions" / "mini").mkdir(parents=True)
    nbformat.write(mini_source(), tmp_path / "solutions" / "mini" / "mini.ipynb")
    shutil.copy(Path(__file__).resolve().parents[2] / "nbgrader_config.py", tmp_path)
    with pytest.raises(FileNotFoundError, match="grade the assignment first"):
        load_class("mini", course=tmp_path)


def test_a_malformed_notebooks_page_says_nothing_ran_and_what_to_do():
    from dataclasses import replace

    result = replace(_result("ann", [0.0, 0.0, 3.0], status="malformed"),
                     reason="a: not a notebook: broken JSON at line 1, column 9", notebooks={"a": "malformed", "b": "ran"})
    broken, fine = feedback_html(result, "a", "hw"), feedback_html(result, "b", "hw")
    assert "none of it ran" in broken and "broken JSON at line 1" in broken and "hand it in again" in broken
    assert "still counts" not in broken
    assert "this one was graded as usual" in fine and "still counts" not in fine


def test_every_bar_of_the_reports_charts_is_named_and_valued(tmp_path, monkeypatch):
    """24 test cells and 12 misconceptions: each bar keeps its label (no locator thins them out) and its value;
    the histograms' bars carry their counts."""
    from autograder.course.templates import NotebookTemplate
    from autograder.exports import report

    cells = [("a", f"cell_{index:02d}_tests", 1.0) for index in range(24)]
    mistakes = [(f"mistake {index}", "message") for index in range(12)]
    results = {}
    for number, student in enumerate(("ann", "bob", "cy")):
        results[student] = SubmissionResult(
            student, "graded", "", tuple(CellResult("a", grade_id, float((index + number) % 2), points, "",
                                                    tuple(mistakes[:1 + (index % 12)]))
                                         for index, (_, grade_id, points) in enumerate(cells)),
            notebooks={"a": "ran"})
    templates = (NotebookTemplate("a.ipynb", frozenset(g for _, g, _ in cells), {g: p for _, g, p in cells}),)
    classroom = ClassResults("hw", Path(tmp_path), templates, results)
    drawn = []
    real_png = report._png

    def recording(figure):
        axes = figure.axes[0]
        labels = [t.get_text() for t in axes.get_yticklabels() + axes.get_xticklabels()]
        drawn.append((labels, [text.get_text() for text in axes.texts]))  # the values bar_label writes
        return real_png(figure)

    monkeypatch.setattr(report, "_png", recording)
    page = report.report_html(classroom)
    pass_rates, misconception_bars = drawn[1], drawn[2]
    assert all(f"a {grade_id}" in pass_rates[0] for _, grade_id, _ in cells), pass_rates[0]
    assert len(pass_rates[1]) == 24 and all(label.endswith("%") for label in pass_rates[1])
    assert all(f"mistake {index}" in misconception_bars[0] for index in range(12)), misconception_bars[0]
    assert len(misconception_bars[1]) == 12
    scores, times = drawn[0], drawn[3]  # histograms: each non-empty bar's count, summing to the submissions
    for histogram in (scores, times):
        assert sum(int(count) for count in histogram[1] if count) == 3, histogram[1]
    for student in ("ann", "bob", "cy"):  # every student, linked to their feedback pages
        assert f'<a href="../../feedback/{student}/hw/a.html">a</a>' in page
