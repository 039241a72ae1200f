"""`cnnkit check NOTEBOOK`: real notebooks of the assignment, run as the
grader runs them (sandbox, public tests only); each verdict in one line and
the exit status 0 only for a notebook ready to submit."""

import subprocess
import sys

import nbformat
import pytest

from autograder.course.course import ASSIGNMENT, REPO, Course
from autograder.frontends.examples import EXAMPLES, build_submission
from autograder.frontends.release import secret_lines
from autograder.frontends.selfcheck import SELF_CHECK_ENV, check_notebook

pytestmark = [pytest.mark.notebook, pytest.mark.slow]
NAME = "01_convolution.ipynb"


def _solution():
    solution = next(example for example in EXAMPLES if example.student == "solution")
    return build_submission(solution, Course(REPO))[NAME]


def _release():
    return nbformat.read(REPO / "assignments" / ASSIGNMENT / NAME, as_version=4)


def _cell(notebook, grade_id):
    return next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _half_done():
    notebook = _solution()
    _cell(notebook, "convolve2d").source = _cell(_release(), "convolve2d").source
    return notebook


def _deleted_cell():
    notebook = _solution()
    notebook.cells = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") != "code-05"]
    return notebook


def _start_cli(notebook, folder):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / NAME)
    return subprocess.Popen([sys.executable, "-m", "autograder", "check", str(folder / NAME)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=folder)


CASES = {"stub": (_release, 1, "cell 'correlate2d' still raises NotImplementedError"),
         "half-done": (_half_done, 1, "cell 'convolve2d' still raises NotImplementedError"),
         "deleted-cell": (_deleted_cell, 1, "cell 'code-05' (a locked cell of the release) was deleted"),
         "correct": (_solution, 0, "READY: 01_convolution.ipynb ran as the grader runs it")}


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """`cnnkit check` on each of CASES' notebooks, run side by side: case -> (exit status, stdout, stderr)."""
    root = tmp_path_factory.mktemp("check")
    started = {case: _start_cli(make(), root / case) for case, (make, _, _) in CASES.items()}
    finished = {}
    for case, process in started.items():
        stdout, stderr = process.communicate(timeout=600)
        finished[case] = (process.returncode, stdout, stderr)
    return finished


@pytest.mark.parametrize("case", list(CASES))
def test_check_tells_notebooks_apart_with_one_line_and_an_exit_status(case, checked):
    _, status, words = CASES[case]
    returncode, stdout, stderr = checked[case]
    first = stdout.splitlines()[0]
    assert returncode == status, stdout + stderr
    assert words in first, first
    assert first.startswith("READY" if status == 0 else "NOT READY")


def test_half_done_names_only_what_is_left(tmp_path):
    path = tmp_path / NAME
    nbformat.write(_half_done(), path)
    report = check_notebook(path)
    problems = [f.message for f in report.findings if f.blocking]
    assert any("'convolve2d' still raises" in p for p in problems)
    assert not any("'correlate2d'" in p for p in problems), problems
    assert report.status == "graded"


def test_cells_saved_with_windows_line_ends_are_not_edits(tmp_path):
    notebook = _solution()
    for cell in notebook.cells:
        cell.source = cell.source.replace("\n", "\r\n")
    path = tmp_path / NAME
    nbformat.write(notebook, path)
    report = check_notebook(path)
    assert not any("was edited" in f.message for f in report.findings), [f.message for f in report.findings]


def test_edited_locked_cells_and_changed_points_are_problems(tmp_path):
    notebook = _solution()
    _cell(notebook, "code-05").source += "\nprint('I changed the public test')"
    _cell(notebook, "convolve2d_tests").metadata["nbgrader"]["points"] = 20
    path = tmp_path / NAME
    nbformat.write(notebook, path)
    report = check_notebook(path)
    problems = " ".join(f.message for f in report.findings if f.blocking)
    assert "cell 'code-05' is locked but was edited" in problems
    assert "metadata of cell 'convolve2d_tests' was changed (points)" in problems
    assert not report.ready


def test_a_notebook_over_the_limits_will_not_grade(tmp_path):
    from autograder.sandbox.limits import Limits

    notebook = _solution()
    _cell(notebook, "correlate2d").source += "\nimport time\ntime.sleep(30)"
    path = tmp_path / NAME
    nbformat.write(notebook, path)
    report = check_notebook(path, limits=Limits(timeout=120, cell_timeout=5))
    assert not report.ready and report.status == "timeout"
    assert "it would stop the grader (timeout)" in report.reason()


@pytest.mark.parametrize("case", list(CASES))
def test_check_never_shows_hidden_tests(case, checked):
    _, stdout, stderr = checked[case]
    hidden = secret_lines(REPO / "solutions", regions=("HIDDEN TESTS",))
    assert hidden and not [line for line in hidden if line in stdout + stderr]


def test_malformed_and_foreign_files_get_one_clear_line(tmp_path):
    broken = tmp_path / NAME
    broken.write_text('{"cells": [')
    report = check_notebook(broken)
    assert not report.ready and "the grader cannot read it: not a notebook: broken JSON" in report.reason()
    out = subprocess.run([sys.executable, "-m", "autograder", "check", str(tmp_path / "nope.ipynb")],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "no such file" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_an_environment_whose_sandbox_cannot_find_the_kernel_is_named_not_blamed_on_the_notebook(tmp_path,
                                                                                                monkeypatch):
    from autograder.sandbox import preflight

    path = tmp_path / NAME
    nbformat.write(_solution(), path)
    monkeypatch.setitem(preflight.NEEDED, "keras", preflight.NEEDED["keras"] + ("cnnkit_kernel_that_is_not_there",))
    report = check_notebook(path)
    assert not report.ready and report.status == "not run"
    assert report.reason().startswith(f"NOT READY: {NAME}: cannot run it as the grader does here: the sandbox "
                                      "(keras world) cannot find cnnkit_kernel_that_is_not_there")


def test_inside_the_checked_run_check_does_nothing(tmp_path, monkeypatch):
    path = tmp_path / NAME
    nbformat.write(_solution(), path)
    monkeypatch.setenv(SELF_CHECK_ENV, "1")
    report = check_notebook(path)
    assert report.status == "not run" and report.findings[0].message.startswith("not checked again")


def test_check_says_what_the_grader_repairs_and_how_to_fix_it():
    import copy

    from autograder.frontends.selfcheck import _repairs

    notebook = _solution()
    notebook.cells.append(copy.deepcopy(_cell(notebook, "correlate2d")))  # Jupyter's copy keeps the grade id
    findings = _repairs(notebook, _release(), NAME)
    assert len(findings) == 1 and not findings[0].blocking
    assert "repeats grade id 'correlate2d'" in findings[0].message and "to fix it, delete that cell" in \
        findings[0].message
    assert _repairs(_solution(), _release(), NAME) == []


def test_a_helper_left_unwritten_and_unused_is_a_note_but_an_unwritten_function_in_use_is_a_problem():
    from autograder.frontends.selfcheck import _unfinished

    name = "02_pooling_lenet.ipynb"
    solution = next(example for example in EXAMPLES if example.student == "solution")
    notebook = build_submission(solution, Course(REPO))[name]
    pooling = _cell(notebook, "pool2d")
    pooling.source = '''def pool_windows(x, pool_size, stride, padding, fill):
    raise NotImplementedError()


def _windows(x, size, stride):
    return np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]


def max_pool2d(x, pool_size, stride, padding):
    raise NotImplementedError()


def average_pool2d(x, pool_size, stride, padding):
    return _windows(np.asarray(x, float), pool_size, stride).mean(axis=(-2, -1))'''
    findings = _unfinished(notebook)
    assert [f.blocking for f in findings] == [True], "max_pool2d is what the public tests call"
    pooling.source = pooling.source.replace("def max_pool2d(x, pool_size, stride, padding):\n    raise "
                                            "NotImplementedError()",
                                            "def max_pool2d(x, pool_size, stride, padding):\n    return _windows("
                                            "np.asarray(x, float), pool_size, stride).max(axis=(-2, -1))")
    findings = _unfinished(notebook)
    assert len(findings) == 1 and not findings[0].blocking, findings
    assert "pool_windows still raise(s) NotImplementedError, but nothing calls it" in findings[0].message
    _cell(notebook, "max_pool1d").source += "\n\n\ndef _unused():\n    return pool_windows"  # passed on: in use
    assert [f.blocking for f in _unfinished(notebook)] == [True]


SEIZURE = "03_seizure_classifier.ipynb"


def _seizure(improved_source=None):
    solution = next(example for example in EXAMPLES if example.student == "solution")
    notebook = build_submission(solution, Course(REPO))[SEIZURE]
    if improved_source is not None:
        _cell(notebook, "build_improved_model").source = improved_source
    return notebook


def _expected_points(text):
    import re

    found = re.search(r"expected points: (\d+\.\d\d) of 3 \(each seed alone: (\d+\.\d\d), (\d+\.\d\d)\)", text)
    assert found, text
    return [float(value) for value in found.groups()]


def test_improve_prints_the_graders_rule_on_validation_after_the_verdict_from_the_terminal(tmp_path):
    folder = tmp_path / "solution"
    folder.mkdir()
    nbformat.write(_seizure(), folder / SEIZURE)
    out = subprocess.run([sys.executable, "-m", "autograder", "check", "--improve", str(folder / SEIZURE)],
                         capture_output=True, text=True, cwd=folder, timeout=1500)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("READY") and "improve it, estimated on your validation rows" in out.stdout
    assert "(mean of 6 seeds)" in out.stdout and "(seeds 0, 1)" in out.stdout, out.stdout
    points, *per_seed = _expected_points(out.stdout)
    assert points > 0, out.stdout
    assert min(per_seed) - 0.01 <= points <= max(per_seed) + 0.01, "the rule on the means lies between the seeds'"


def test_improve_is_refused_before_running_on_a_notebook_without_the_exercise(tmp_path):
    path = tmp_path / NAME
    nbformat.write(_solution(), path)
    refused = check_notebook(path, improve=True)
    assert not refused.ready and "has no \"improve it\" exercise" in refused.reason()
    assert refused.status == "not run"
