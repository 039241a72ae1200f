"""End to end: after `cnnkit demo`, the four exports (grades.csv, Gradescope
results, feedback pages, class report) agree with the gradebook, follow
Gradescope's schema, show students nothing hidden and nothing of another
student's, and the report renders its plots in headless Chromium; the
Gradescope bundle grades in a simulated `/autograder`."""

import html
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from autograder.course.course import ASSIGNMENT, REPO
from autograder.frontends.demo import ABSENT_STUDENT
from autograder.frontends.examples import EXAMPLES
from autograder.exports.canvas_csv import POINTS_ROW
from autograder.exports.classroom import load_class
from autograder.exports.gradescope import RESULT_FIELDS, TEST_FIELDS, VISIBILITIES, results_json
from autograder.exports.report import PLOT_COLOUR
from autograder.frontends.release import MARKERS, secret_lines

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
STUDENTS = sorted([e.student for e in EXAMPLES] + [ABSENT_STUDENT])


@pytest.fixture(scope="module")
def reports(run):
    return run["work"].root / "reports" / ASSIGNMENT


def _student_files(run, tmp_path):
    """Every file a student may see: feedback pages and what Gradescope would show (its `results.json`)."""
    files = sorted((run["work"].root / "feedback").rglob("*.html"))
    for student, result in load_class(ASSIGNMENT, course=run["work"].root).results.items():
        path = tmp_path / "gradescope" / student / "results.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(results_json(result)))
        files.append(path)
    return files


def _owner(path):
    """The student a file is for: `feedback/<student>/...` or `gradescope/<student>/results.json`."""
    return path.parts[-3] if path.suffix == ".html" else path.parts[-2]


def _visible_text(path):
    """What a student reads in a file: an HTML page's text, or every string of a JSON file."""
    if path.suffix == ".html":
        return html.unescape(path.read_text())
    strings = []

    def walk(value):
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(path.read_text()))
    return "\n".join(strings)


def test_demo_ends_by_saying_where_the_report_and_exports_are(run, reports):
    tail = run["stdout"].strip().splitlines()[-4:]
    assert tail[0] == f"class report:  {reports / 'report.html'}"
    assert tail[1].startswith(f"grades:        {reports / 'grades.csv'}")
    for line in tail:
        path = line.split(":", 1)[1].strip().split(" ")[0].split("/<")[0]
        assert os.path.exists(path), line


def test_grades_csv_has_a_row_per_roster_student_and_the_gradebooks_totals(run, reports):
    table = pd.read_csv(reports / "grades.csv")
    assert sorted(table["student"]) == STUDENTS
    rows = table.set_index("student")
    for example in EXAMPLES:
        assert rows.loc[example.student, "score"] == pytest.approx(run["scores"][example.student].score, abs=1e-6)
        assert rows.loc[example.student, "status"] == example.status
    absent = rows.loc[ABSENT_STUDENT]
    assert absent["status"] == "missing" and absent["score"] == 0 and absent["max_score"] == 57
    cells = [column for column in table.columns if "/" in column]
    assert len(cells) == 31
    for notebook in ("01_convolution", "02_pooling_lenet", "03_seizure_classifier"):
        mine = [column for column in cells if column.startswith(notebook + "/")]
        assert np.allclose(table[notebook], table[mine].sum(axis=1))
    assert np.allclose(table["score"], table[cells].sum(axis=1))
    assert list(table.columns[:4]) == ["student", "status", "score", "max_score"]
    flagged = set(table.loc[table["flags"].notna(), "student"])
    assert "huge-output" not in flagged, "a stop the grader's own limit caused is no tampering"


def test_totals_only_writes_the_student_and_the_total(run, reports, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(run["work"].root, course, ignore=shutil.ignore_patterns("autograded", "feedback"))
    out = subprocess.run([sys.executable, "-m", "autograder", "export", ASSIGNMENT, "--course", str(course),
                          "--totals-only"], capture_output=True, text=True, env=run["env"], cwd=REPO)
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(course / "reports" / ASSIGNMENT / "grades.csv")
    assert list(table.columns) == ["student", "score"] and len(table) == len(STUDENTS)


def test_canvas_import_has_every_roster_student_and_the_verified_totals(run, reports):
    table = pd.read_csv(reports / "canvas.csv", dtype=str, keep_default_na=False)
    assert table.iloc[0]["Student"] == POINTS_ROW and table.iloc[0][ASSIGNMENT] == "57"
    rows = table.iloc[1:].set_index("SIS Login ID")
    assert sorted(rows.index) == STUDENTS and rows.loc[ABSENT_STUDENT, ASSIGNMENT] == ""
    for example in EXAMPLES:
        assert float(rows.loc[example.student, ASSIGNMENT]) == pytest.approx(run["scores"][example.student].score,
                                                                            abs=0.005)


@pytest.mark.parametrize("student", STUDENTS)
def test_gradescope_results_follow_the_published_schema(run, student):
    results = json.loads(json.dumps(results_json(load_class(ASSIGNMENT, course=run["work"].root).results[student])))
    assert set(results) <= RESULT_FIELDS, set(results) - RESULT_FIELDS
    assert isinstance(results["score"], float) and isinstance(results["execution_time"], int)
    assert isinstance(results["output"], str) and len(results["tests"]) == 31
    for test in results["tests"]:
        assert set(test) <= TEST_FIELDS, set(test) - TEST_FIELDS
        assert {"name", "score", "max_score", "output", "visibility", "status"} <= set(test)
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITIES
        assert 0 <= test["score"] <= test["max_score"]
        assert (test["status"] == "passed") == (test["score"] >= test["max_score"])
    assert results["score"] == pytest.approx(sum(test["score"] for test in results["tests"]))
    expected = 0.0 if student == ABSENT_STUDENT else run["scores"][student].score
    assert results["score"] == pytest.approx(expected, abs=1e-6)


def test_feedback_pages_follow_nbgraders_layout_with_each_cells_verified_score(run):
    feedback = run["work"].root / "feedback"
    for example in EXAMPLES:
        pages = sorted(path.name for path in (feedback / example.student / ASSIGNMENT).glob("*.html"))
        assert pages == sorted(name.replace(".ipynb", ".html") for name in example.notebooks), example.student
    assert not (feedback / ABSENT_STUDENT).exists()
    page = html.unescape((feedback / "kernel-not-flipped" / ASSIGNMENT / "01_convolution.html").read_text())
    result = run["results"]["kernel-not-flipped"]
    convolve = next(cell for cell in result.cells if cell.grade_id == "convolve2d_tests")
    assert convolve.feedback in page and "kernel not flipped" in page
    assert "def convolve2d(image, kernel):" in page, "the student's own code is shown"


def test_no_student_file_holds_hidden_tests_or_markers(run, tmp_path):
    hidden = secret_lines(REPO / "solutions", regions=("HIDDEN TESTS",))
    assert len(hidden) > 10
    files = _student_files(run, tmp_path)
    assert len(files) > 30
    for path in files:
        text = _visible_text(path)
        assert not MARKERS.search(text), path
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{path}: {leaked[:3]}"


def test_no_student_file_holds_another_students_cases(run, tmp_path):
    """A case line in exactly one student's feedback is that student's own (drawn from their seed)."""
    owners = {}
    for student, result in run["results"].items():
        for cell in result.cells:
            for line in cell.feedback.splitlines():
                if line.strip().startswith("- case with"):
                    owners.setdefault(line.strip(), set()).add(student)
    own = {line: students.pop() for line, students in owners.items() if len(students) == 1}
    assert len(own) >= 5, "the examples draw cases of their own"
    for path in _student_files(run, tmp_path):
        student = _owner(path)
        text = _visible_text(path)
        others = [line for line, owner in own.items() if owner != student and line in text]
        assert not others, f"{path} shows another student's case: {others[0]}"


def test_class_report_is_self_contained_and_names_flags_and_statuses(reports):
    text = (reports / "report.html").read_text()
    sources = re.findall(r'<img[^>]*src="([^"]+)"', text)
    assert len(sources) == 5 and all(source.startswith("data:image/png;base64,") for source in sources)
    assert not re.search(r'(src|href)="(https?:)?//', text), "nothing is fetched from outside"
    plain = html.unescape(text)
    for needed in (f"{len(EXAMPLES) + 1} students", f"{len(EXAMPLES)} submitted", "1 missing", "huge-output", "kernel not flipped",
                   "infinite-loop", "memory-hog", "Score distribution", "Pass rate per test cell",
                   "Most common misconceptions", "Run time per submission", "Statuses"):
        assert needed in plain, needed


def _screenshot(page, out):
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.geteuid() == 0:
            pytest.fail("chromium is missing: scripts/install.sh installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed and cannot be installed without root")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--user-data-dir={out.parent / 'profile'}", "--window-size=1400,2400",
                           f"--screenshot={out}", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert out.is_file(), done.stderr[-2000:]
    import matplotlib.image

    return matplotlib.image.imread(out)[..., :3]


def _plot_share(image):
    """Share of the screenshot's pixels in the plots' colour."""
    target = np.array([int(PLOT_COLOUR[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return float(np.mean(np.all(np.abs(image - target) < 0.03, axis=-1)))


def test_class_report_renders_its_plots_in_headless_chromium(reports, tmp_path):
    rendered = _screenshot(reports / "report.html", tmp_path / "report.png")
    assert rendered.shape[0] >= 2000 and rendered.shape[1] >= 1000
    broken = tmp_path / "broken.html"  # the same page with its images' data cut: what a failed render looks like
    broken.write_text(re.sub(r"base64,[^\"]+", "base64,AAAA", (reports / "report.html").read_text()))
    without = _screenshot(broken, tmp_path / "broken.png")
    assert _plot_share(without) < 0.001
    assert _plot_share(rendered) > 0.02, "the plots' bars are on the page"


def test_gradescope_bundle_grades_a_correct_and_a_wrong_notebook(run, tmp_path):
    zip_path = tmp_path / "autograder.zip"
    out = subprocess.run([sys.executable, "-m", "autograder", "gradescope", ASSIGNMENT, "--course",
                          str(run["work"].root), "--out", str(zip_path), "--visibility", "after_due_date",
                          "--improve-visibility", "hidden"],
                         capture_output=True, text=True, env=run["env"], cwd=REPO, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "tests' visibility: after_due_date; improved_trained_tests: hidden" in out.stdout, out.stdout
    assert "at least 6 GB of memory" in out.stdout
    from importlib.metadata import version

    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        pins = archive.read("kit/constraints.txt").decode().split()
        setup = archive.read("setup.sh").decode()
    assert f"keras=={version('keras')}" in pins and f"nbgrader=={version('nbgrader')}" in pins, pins
    assert "PIP_CONSTRAINT=/autograder/source/kit/constraints.txt" in setup
    assert f"sys.version_info[:2] < {sys.version_info[:2]}" in setup, "an older Python stops setup.sh with a reason"
    assert {"setup.sh", "run_autograder", "kit/pyproject.toml", "kit/scripts/install.sh", "course/.cnnkit/secret",
            f"course/solutions/{ASSIGNMENT}/01_convolution.ipynb"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert any(name.startswith("course/cache/trained-") for name in names), "reference accuracies travel along"

    nb1 = sum(cell.max_score for cell in run["results"]["solution"].cells if cell.notebook == "01_convolution")
    started, scores = {}, {}
    for index, student in enumerate(("solution", "kernel-not-flipped", "nothing", "symlink")):  # run side by side
        root = tmp_path / student
        (root / "submission").mkdir(parents=True)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root / "source")
        (root / "source" / "run_autograder").chmod(0o755)
        if student == "symlink":  # a link to the bundled solutions is not a submission
            (root / "submission" / "01_convolution.ipynb").symlink_to(
                root / "source" / "course" / "solutions" / ASSIGNMENT / "01_convolution.ipynb")
        elif student != "nothing":
            shutil.copy(run["work"].root / "submitted" / student / ASSIGNMENT / "01_convolution.ipynb",
                        root / "submission" / "my notebook.ipynb")  # renamed: recognised by its graded cells
        (root / "submission_metadata.json").write_text(json.dumps({"users": [{"id": 1000 + index}]}))
        env = {**run["env"], "CNNKIT_GRADESCOPE_ROOT": str(root), "CNNKIT_PYTHON": sys.executable}
        started[student] = subprocess.Popen([str(root / "source" / "run_autograder")], stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True, env=env)
    for student, expect in (("solution", nb1), ("kernel-not-flipped", None), ("nothing", 0.0), ("symlink", 0.0)):
        stdout, stderr = started[student].communicate(timeout=600)
        assert started[student].returncode == 0, stdout[-2000:] + stderr[-2000:]
        results = json.loads((tmp_path / student / "results" / "results.json").read_text())
        assert set(results) <= RESULT_FIELDS
        scores[student] = results
        if expect is not None:
            assert results["score"] == pytest.approx(expect), results["output"]
        assert "sandbox:" in stdout, "the run says which limits are in force"
    wrong = scores["kernel-not-flipped"]
    assert 0 < wrong["score"] < nb1
    convolve = next(test for test in wrong["tests"] if test["name"].endswith("convolve2d_tests"))
    assert convolve["status"] == "failed" and "kernel not flipped" in convolve["output"]
    assert all(test["status"] == "passed" for test in scores["solution"]["tests"] if test["name"].startswith("01_"))
    assert {test["name"]: test["visibility"] for test in scores["solution"]["tests"]
            if test["visibility"] != "after_due_date"} == {"03_seizure_classifier: improved_trained_tests": "hidden"}
    assert scores["solution"]["output"].startswith("Verified score of the tests shown now: ")
    assert "no .ipynb file was submitted" in scores["nothing"]["output"]
    assert "no .ipynb file was submitted" in scores["symlink"]["output"]
