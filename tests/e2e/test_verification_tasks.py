"""The verifier's trainings are tasks of trusted worker processes: never in the
coordinator (it does not even load Keras) nor in a sandbox; one training per
architecture and seed for the whole class (students who share an architecture
wait on one training); recorded in the course; and the same scores and feedback
whether the class is graded on one worker, two, or a Dask cluster, from cold
records each time; and a grader killed (SIGKILL) mid-training leaves nothing
running, and its rerun records each student once with the same scores.

The class: alice and bob hand in the solution's seizure notebook (one
"improve it" architecture for two students); carol's improved model is the
spec CNN itself, whose trainings on the grader's seeds are the references'.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from autograder.course.course import ASSIGNMENT, REPO, Course
from autograder.frontends.examples import NB3, UNTRAINED, Example, build_submission

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CLASS = (Example("alice", "the solution", notebooks=(NB3,)),
         Example("bob", "the solution", notebooks=(NB3,)),
         Example("carol", "the spec CNN as the improved model", notebooks=(NB3,),
                 answers={"build_improved_model": "def build_improved_model():\n    return build_spec_cnn()",
                          "train_improved": UNTRAINED}))
GRADE = """
import json, sys
from autograder.engine import grade
from autograder.pipeline.cluster import scheduler_for

course, where = sys.argv[1], sys.argv[2]
with scheduler_for("local" if where == "dask" else None) as scheduler:
    run = grade("cnn", course=course, workers=None if where == "dask" else int(where), scheduler=scheduler,
                progress=False, echo=lambda line: print(line, file=sys.stderr))
print(json.dumps({"keras": "keras" in sys.modules, "trainings": dict(run.trainings),
                  "cells": {s: [[c.grade_id, c.score, c.feedback] for c in r.cells] for s, r in run.results.items()},
                  "statuses": {s: r.status for s, r in run.results.items()}}))
"""


def _course(root, where):
    course = root / f"course-{where}"
    for folder in ("solutions", "assignments"):
        shutil.copytree(REPO / folder, course / folder)
    shutil.copy(REPO / "nbgrader_config.py", course)
    work = Course(course)
    for example in CLASS:
        work.submit(example.student, build_submission(example, work))
    return course


def _env():
    env = {key: value for key, value in os.environ.items()
           if key not in ("CNNKIT_DATA", "CNNKIT_CACHE", "CNNKIT_CHECK_SEED")}
    env["CNNKIT_COURSE_SECRET"] = "verification-tasks"
    return env


def _graded(root, where, course=None):
    course = course or _course(root, where)
    out = subprocess.run([sys.executable, "-c", GRADE, str(course), where], capture_output=True, text=True, env=_env(),
                         timeout=1500, cwd=REPO)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr, course


def _grader_processes():
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if "autograder.pipeline.trusted" in command or "autograder.sandbox" in command:
            found.add(pid)
    return found


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    return _graded(tmp_path_factory.mktemp("tasks"), "2")


def test_the_coordinator_never_trains_nor_loads_keras(two_workers):
    graded, _, _ = two_workers
    assert graded["keras"] is False
    assert set(graded["statuses"].values()) == {"graded"}


def test_one_training_per_architecture_and_seed_for_the_class(two_workers):
    graded, log, course = two_workers
    # the spec CNN on the assignment's seed and on the grader's six reference seeds, and the solution's architecture
    # on the first two of them: carol's spec CNN is the reference itself, bob's copy of alice's architecture reuses
    assert graded["trainings"]["trained"] == 9, log
    assert graded["trainings"]["reused"] >= 4, log
    announced = [line for line in log.splitlines() if "under the budget" in line and "training " in line]
    assert len(announced) == 9 and len({line.split(": ", 1)[1] for line in announced}) == 9, announced
    assert len(list((course / ".cnnkit" / "trained").glob("trained-*.json"))) == 9, "recorded in the course"
    carol = dict((grade_id, score) for grade_id, score, _ in graded["cells"]["carol"])
    assert carol["improved_trained_tests"] == 0, "the spec CNN is no improvement on itself"
    assert graded["cells"]["alice"] == [[c[0], c[1], c[2]] for c in graded["cells"]["bob"]]


def test_the_same_scores_and_feedback_on_a_dask_cluster_from_cold_records(two_workers, tmp_path):
    graded, _, _ = two_workers
    again, log, _ = _graded(tmp_path, "dask")
    assert again["cells"] == graded["cells"], log


def test_killed_mid_training_then_rerun_on_one_worker_from_cold_records_gives_each_result_once_the_same(
        two_workers, tmp_path):
    """SIGKILL of the grader while the verifier trains: nothing it started keeps running, nothing was recorded
    half-way; the rerun (`--workers 1`, from cold records: the killed run finished no training) records each
    student once, with the scores and feedback of the two-worker run that was never killed."""
    graded, _, _ = two_workers
    course, before = _course(tmp_path, "killed"), _grader_processes()
    process = subprocess.Popen([sys.executable, "-c", GRADE, str(course), "2"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=_env(), cwd=REPO)
    seen = []
    for line in process.stderr:  # the announcements: the kill comes once a verifier training has started
        seen.append(line)
        if "training " in line and "under the budget" in line:
            break
    process.kill()  # SIGKILL: no handler runs, nothing is cleaned up by the grader itself
    process.wait(timeout=30)
    assert any("under the budget" in line for line in seen), "".join(seen)
    time.sleep(3)
    assert _grader_processes() - before == set(), "the sandboxes and trusted workers end with the grader"
    assert not list((course / ".cnnkit" / "trained").glob("trained-*.json")), "no training finished: a cold rerun"
    log = course / "reports" / ASSIGNMENT / "results.jsonl"
    assert not log.exists() or len(log.read_text().splitlines()) < len(CLASS), "killed before the class was graded"

    _graded(tmp_path, "1", course)
    recorded = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(line["student"] for line in recorded) == sorted(e.student for e in CLASS), "every result once"
    expected = {student: {grade_id: [score, feedback] for grade_id, score, feedback in cells}
                for student, cells in graded["cells"].items()}
    assert {line["student"]: {key: [cell["score"], cell["feedback"]] for key, cell in line["cells"].items()}
            for line in recorded} == expected, "the same scores and feedback as the run that was never killed"
