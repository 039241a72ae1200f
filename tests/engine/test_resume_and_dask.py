"""A grader killed mid-batch resumes without grading anything twice, and a
real Dask cluster on loopback gives the grades a local run gives."""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder import grade
from autograder.sandbox.limits import Limits

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

LIMITS = Limits(timeout=60, cell_timeout=20, memory=1024**3)
STUDENTS = {
    "s1": {}, "s2": {"add": "def add(a, b):\n    return a - b"}, "s3": {"work": "import time\ntime.sleep(1)"},
    "s4": {"add": "def add(a, b):\n    return 3"}, "s5": {}, "s6": {"work": "raise ValueError('oops')"},
}


def _fill(course):
    for student, answers in STUDENTS.items():
        course.submit(student, **answers)


def _scores(results):
    return {student: (r.status, r.score, tuple((c.grade_id, c.score) for c in r.cells)) for student, r in results.items()}


def _lines(course):
    path = course.root / "reports" / "mini" / "results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_killed_grader_resumes_and_grades_each_submission_once(mini_template, tmp_path):
    from tests.engine.conftest import MiniCourse
    import shutil

    reference, killed = (MiniCourse(shutil.copytree(mini_template, tmp_path / name)) for name in ("reference", "killed"))
    for course in (reference, killed):
        _fill(course)
    expected = _scores(grade("mini", course=reference.root, limits=LIMITS, workers=1, progress=False,
                             echo=lambda line: None).results)

    command = [sys.executable, "-m", "autograder", "grade", "mini", "--course", str(killed.root), "--workers", "1",
               "--no-progress", "--memory", "1GiB", "--cell-timeout", "20"]
    scratch = set(Path(tempfile.gettempdir()).glob("cnnkit-*"))
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 240
    while len(_lines(killed)) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = {line["student"] for line in _lines(killed)}
    assert 2 <= len(done_before) < len(STUDENTS), "the kill should land mid-batch"
    left = set(Path(tempfile.gettempdir()).glob("cnnkit-*")) - scratch
    assert any(path.name.startswith("cnnkit-grading-") for path in left), left

    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    lines = _lines(killed)
    assert sorted(line["student"] for line in lines) == sorted(STUDENTS), "each submission exactly once"
    assert f"{len(done_before)} unchanged and kept" in again.stdout
    assert not [path for path in left if path.exists()], "the killed run's temporary folders are removed"
    removed = re.search(r"removed (\d+) temporary folder\(s\) that killed runs left in", again.stdout)
    assert removed and int(removed.group(1)) >= len(left), again.stdout
    assert _scores(grade("mini", course=killed.root, limits=LIMITS, progress=False, echo=lambda line: None).results) == expected
    assert len(_lines(killed)) == len(STUDENTS), "an unchanged batch grades nothing again"


def test_a_changed_submission_is_graded_again_and_force_grades_all(mini_course):
    _fill(mini_course)
    first = grade("mini", course=mini_course.root, limits=LIMITS, progress=False, echo=lambda line: None)
    assert sorted(first.graded) == sorted(STUDENTS)
    mini_course.submit("s2")  # fixed
    second = grade("mini", course=mini_course.root, limits=LIMITS, progress=False, echo=lambda line: None)
    assert second.graded == ["s2"] and second.results["s2"].score == 2
    forced = grade("mini", course=mini_course.root, limits=LIMITS, force=True, progress=False, echo=lambda line: None)
    assert sorted(forced.graded) == sorted(STUDENTS)


def test_a_fault_of_the_verifier_is_this_submissions_alone_and_graded_again_next_run(mini_course, monkeypatch):
    from autograder.pipeline.trusted import TrustedWorker, TrustedWorkerError

    _fill(mini_course)
    call = TrustedWorker.call

    def failing_for_s1(self, method, *args, **kwargs):  # as the verifier's process reports an error of its own
        if method == "verify" and args[0].student == "s1":
            raise TrustedWorkerError("MemoryError: the reference could not be trained")
        return call(self, method, *args, **kwargs)

    monkeypatch.setattr(TrustedWorker, "call", failing_for_s1)
    first = grade("mini", course=mini_course.root, limits=LIMITS, progress=False, echo=lambda line: None)
    spoilt = first.results["s1"]
    assert spoilt.status == "crashed" and spoilt.score == 0
    assert spoilt.flags == ("grader error: the grader could not verify it (MemoryError: the reference could not be "
                            "trained)",)
    assert first.results["s5"].score == 2, "the other submissions are graded as usual"
    monkeypatch.setattr(TrustedWorker, "call", call)
    second = grade("mini", course=mini_course.root, limits=LIMITS, progress=False, echo=lambda line: None)
    assert second.graded == ["s1"], "only the spoilt result is graded again; the others are kept"
    assert second.results["s1"].status == "graded" and second.results["s1"].score == 2


def test_a_dask_local_cluster_gives_the_same_grades(mini_course):
    from distributed import LocalCluster

    _fill(mini_course)
    mini_course.submit("killer", "import os, signal\nos.kill(-1, signal.SIGKILL)")
    local = _scores(grade("mini", course=mini_course.root, limits=LIMITS, workers=2, progress=False,
                          echo=lambda line: None).results)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        lines = []
        run = grade("mini", course=mini_course.root, limits=LIMITS, scheduler=cluster.scheduler_address, force=True,
                    progress=False, echo=lines.append)
        assert len(cluster.scheduler.workers) == 2, "a submission took a Dask worker down"
    assert any("Dask cluster at tcp://127.0.0.1" in line for line in lines)
    assert _scores(run.results) == local
    assert {r.worker for r in run.results.values()} <= {f"dask:{i}" for i in range(2)}
    assert run.results["killer"].status == "crashed"


def test_the_first_sandbox_starts_before_the_class_is_prepared(mini_course, monkeypatch):
    """Each slot prepares the submission it takes, so that a class of hundreds does not wait on the grader's
    preparing them all before the first sandbox runs; each is prepared once, before its own sandbox."""
    import autograder.engine
    import autograder.pipeline.grading

    _fill(mini_course)
    events = []
    prepare, execute = autograder.engine.prepare, autograder.pipeline.grading.execute

    def preparing(submission, *args, **kwargs):
        events.append(("prepare", submission.student))
        return prepare(submission, *args, **kwargs)

    def executing(prepared, *args, **kwargs):
        events.append(("execute", prepared.student))
        return execute(prepared, *args, **kwargs)

    monkeypatch.setattr(autograder.engine, "prepare", preparing)
    monkeypatch.setattr(autograder.pipeline.grading, "execute", executing)
    run = grade("mini", course=mini_course.root, limits=LIMITS, workers=1, progress=False, echo=lambda line: None)
    assert sorted(run.graded) == sorted(STUDENTS)
    prepared = [student for event, student in events if event == "prepare"]
    assert sorted(prepared) == sorted(STUDENTS), "each submission prepared once"
    assert events.index(("execute", prepared[0])) < events.index(("prepare", prepared[-1]))
    assert all(events.index(("prepare", s)) < events.index(("execute", s)) for s in STUDENTS)
    assert run.results["s2"].score == 0 and run.results["s1"].score == 2
