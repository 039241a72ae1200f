"""The `cnnkit` command line, run as a user runs it."""

import os
import subprocess
import sys

import pytest

from cnnkit.data import DATA_ENV, load_csv
from tests.conftest import REPO


def cnnkit(*args, env=None):
    environ = {k: v for k, v in os.environ.items() if k != DATA_ENV}
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True,
                          env=environ, cwd=REPO, timeout=600)


def test_version_is_one_line_and_exit_0():
    import cnnkit as kit

    done = cnnkit("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"cnnkit {kit.__version__}"


@pytest.mark.parametrize("option, value", [("--workers", "-2"), ("--timeout", "0"), ("--memory", "4XB"),
                                           ("--processes", "many")])
def test_a_bad_grading_option_is_refused_at_once_and_writes_nothing(tmp_path, option, value):
    out = subprocess.run([sys.executable, "-m", "autograder", "grade", "cnn", "--course", str(tmp_path), option, value],
                         capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 2 and f"argument {option}: expected a positive" in out.stderr.splitlines()[-1], out.stderr
    assert list(tmp_path.iterdir()) == [], "no gradebook, no folder: nothing ran"


def test_finding_no_submission_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "download").mkdir()
    out = cnnkit("grade", "cnn", "--course", str(REPO), "--submissions", str(tmp_path / "download"), "--db",
                 f"sqlite:///{tmp_path / 'gradebook.db'}", "--no-progress")
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr.strip().splitlines()[-1] == (f"cnnkit grade: error: no notebook of assignment 'cnn' found in "
                                                   f"{tmp_path / 'download'}"), out.stderr


def test_data_info_on_the_stand_in_says_synthetic():
    out = cnnkit("data", "info")
    assert out.returncode == 0, out.stderr
    assert "SYNTHETIC stand-in" in out.stdout and "11500 rows x 178 samples, 500 recordings" in out.stdout


def test_data_convert_then_info(tmp_path):
    target = tmp_path / "syn.csv"
    out = cnnkit("data", "convert", "synthetic", str(target))
    assert out.returncode == 0 and "(SYNTHETIC)" in out.stdout
    assert len(load_csv(target)) == 11_500
    info = cnnkit("data", "info", env={DATA_ENV: str(target)})
    assert "SYNTHETIC stand-in (not real EEG)" in info.stdout and str(target) in info.stdout


def test_bad_data_path_is_one_line_on_stderr_and_exit_1(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(",X1,y\n")
    out = cnnkit("data", "info", "--data", str(bad))
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0
    assert out.stderr.startswith(f"cnnkit data: error: {bad}, line 1: expected 179 columns")


@pytest.mark.slow
def test_train_prints_metrics_and_saves_model_and_plots(tmp_path):
    data = tmp_path / "small.csv"
    from cnnkit.data import make_synthetic, write_csv

    write_csv(make_synthetic(seed=2, recordings_per_class=10), data)
    out = cnnkit("train", "--data", str(data), "--epochs", "2", "--split", "recording", "--out", str(tmp_path / "runs"))
    assert out.returncode == 0, out.stderr
    assert "running on CPU" in out.stdout
    assert "accuracy" in out.stdout and "recall: seizure" in out.stdout and "2 epochs in" in out.stdout
    run = tmp_path / "runs" / "spec-multiclass-recording-seed0"
    assert {p.name for p in run.iterdir()} == {"model.keras", "learning_curves.png", "confusion.png"}


def test_a_second_run_on_the_same_course_is_refused_while_the_first_runs(tmp_path):
    from autograder.engine import _only_run

    with _only_run(tmp_path / "reports" / "cnn"):  # a run of cnn in this course holds the lock
        out = cnnkit("grade", "cnn", "--course", str(tmp_path), "--no-progress")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        f"cnnkit grade: error: another `cnnkit grade` is grading cnn in this course now (process {os.getpid()}); "
        "wait for it to end, or stop it with Ctrl-C"), out.stderr


def test_course_dir_is_spelt_as_nbgrader_spells_it():
    from autograder.frontends.cli import _parser

    for command in ("grade cnn", "export cnn", "gradescope cnn", "release", "demo"):
        args = _parser().parse_args(command.split() + ["--course-dir", "/somewhere"])
        assert args.course == "/somewhere", command


def test_tensorflows_start_up_lines_never_reach_the_terminal():
    out = cnnkit("compare", "--cases", "1")
    assert out.returncode == 0, out.stderr
    assert "absl" not in out.stderr and "oneDNN" not in out.stderr and "port.cc" not in out.stderr, out.stderr
