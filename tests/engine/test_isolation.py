"""Adversarial: real submissions that break limits or reach for what they must
not, graded in one batch with real kernels and real OS limits, next to an
honest submission whose grade must come out untouched."""

import json
import os
import socket
import threading
import zipfile

import pytest

from autograder import grade
from autograder.sandbox.limits import Limits

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

LIMITS = Limits(timeout=90, cell_timeout=10, memory=768 * 1024**2, max_output=200_000, processes=48,
                disk=64 * 1024**2)
DAEMON_MARK = "cnnkit-daemon-3141"

PROBE = """
import json, os, socket
report = {{}}
for label, path in {reads!r}.items():
    try:
        with open(path, "rb") as handle:
            handle.read(100)
        report[label] = "read"
    except Exception as error:
        report[label] = type(error).__name__
for label, path in {writes!r}.items():
    try:
        with open(path, "w") as handle:
            handle.write("x")
        report[label] = "wrote"
    except Exception as error:
        report[label] = type(error).__name__
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3)
    report["loopback"] = "connected"
except Exception as error:
    report["loopback"] = type(error).__name__
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3)
    report["internet"] = "connected"
except Exception as error:
    report["internet"] = type(error).__name__
report["cpus"] = sorted(os.sched_getaffinity(0))
report["threads"] = os.environ.get("OMP_NUM_THREADS")
report["uid"] = os.getuid()
report["secret_env"] = [key for key in os.environ if "CNNKIT_TEST" in key]
print("REPORT" + json.dumps(report))
"""

ATTACKS = {
    "looper": "while True:\n    pass",
    "hog": "import numpy as np\nhoard = []\nwhile True:\n    hoard.append(np.ones(10**7))",
    "forker": ("import subprocess\nchildren = []\ntry:\n    for _ in range(200):\n"
               "        children.append(subprocess.Popen(['sleep', '30']))\nexcept OSError as error:\n"
               "    print('spawn refused after', len(children), type(error).__name__)"),
    "talker": "while True:\n    print('x' * 1000)",
    "quitter": "import os\nos._exit(3)",
    "filler": ("try:\n    with open('big.bin', 'wb') as handle:\n        for _ in range(200):\n"
               "            handle.write(b'0' * 1024**2)\nexcept OSError as error:\n    print('disk refused:', error)"),
    "killer": "import os, signal\nos.kill(-1, signal.SIGKILL)",
    # the grader's results folder is a host folder: bytes and inodes there would fill the grader's disk
    "out-filler": ("import os\nfor i in range(100):\n    with open(f'/out/fill{i}.bin', 'wb') as handle:\n"
                   "        for _ in range(10):\n            handle.write(b'0' * 1024**2)"),
    "out-inodes": "import os\nos.makedirs('/out/many', exist_ok=True)\nfor i in range(30_000):\n"
                  "    open(f'/out/many/{i}', 'w').close()",
    "daemon": (f"import os, subprocess\nif os.fork() == 0:\n    os.setsid()\n"
               f"    subprocess.Popen(['sleep', '3600', '{DAEMON_MARK}'], start_new_session=True)\n    os._exit(0)\n"
               "import time\ntime.sleep(1)"),
}


@pytest.fixture(scope="module")
def batch(mini_template, tmp_path_factory):
    from tests.engine.conftest import MiniCourse
    import shutil

    root = tmp_path_factory.mktemp("isolation") / "course"
    shutil.copytree(mini_template, root)
    course = MiniCourse(root)
    outside = root.parent / "outside.txt"
    outside.write_text("host file")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    connections = []
    threading.Thread(target=lambda: connections.append(listener.accept()), daemon=True).start()
    course.submit("honest")
    course.submit("other")
    for student, code in ATTACKS.items():
        course.submit(student, code)
    reads = {"solutions": str(root / "solutions" / "mini" / "mini.ipynb"), "gradebook": str(root / "gradebook.db"),
             "other_student": str(root / "submitted" / "other" / "mini" / "mini.ipynb"),
             "host_file": str(outside), "config": str(root / "nbgrader_config.py")}
    writes = {"course_dir": str(root / "planted.txt"), "host_tmp": str(root.parent / "planted.txt")}
    course.submit("prober", PROBE.format(reads=reads, writes=writes, port=listener.getsockname()[1]))
    good = course.notebook()
    course.submit_text("broken", '{"cells": [')
    twins = course.notebook()
    twins.cells[1].id = twins.cells[0].id  # some editors repeat a cell id: Jupyter gives it a new one, so does the grader
    course.submit_text("twins", json.dumps(twins))
    heading = json.loads(json.dumps(course.notebook()))
    heading["cells"][1]["cell_type"] = "heading"  # nbformat 3's, gone from nbformat 4
    course.submit_text("heading", json.dumps(heading))
    future = dict(course.notebook())
    future["nbformat_minor"] = 99
    course.submit_text("future", json.dumps(future))
    os.environ["CNNKIT_TEST_SECRET"] = "grader-only"
    try:
        (root / "submitted" / "..evil").mkdir()
        (root / "submitted" / "..evil" / "mini.ipynb").write_text(json.dumps(good))
        (root / "submitted" / "linked").symlink_to(root / "submitted" / "honest")
        run = grade("mini", course=root, limits=LIMITS, workers=2, progress=False, echo=lambda line: None)
    finally:
        os.environ.pop("CNNKIT_TEST_SECRET")
        listener.close()
    return {"course": course, "run": run, "results": run.results, "connections": connections, "root": root}


def test_honest_submissions_are_graded_in_full_beside_the_attacks(batch):
    for student in ("honest", "other", "twins"):
        result = batch["results"][student]
        assert (result.status, result.score, result.max_score) == ("graded", 2.0, 2.0), result


@pytest.mark.parametrize("student, status", [
    ("looper", "timeout"), ("hog", "memory"), ("talker", "output-limit"), ("quitter", "crashed"),
    ("killer", "crashed"), ("broken", "malformed"), ("heading", "malformed"), ("future", "malformed"),
])
def test_each_limit_or_fault_is_recorded_with_its_status(batch, student, status):
    result = batch["results"][student]
    assert result.status == status, result
    assert result.reason, "every outcome carries its reason"
    after = {cell.grade_id: cell for cell in result.cells}["after_tests"]
    assert after.score == 0


def test_work_before_a_crash_or_timeout_still_counts(batch):
    for student in ("looper", "hog", "quitter"):
        cells = {cell.grade_id: cell for cell in batch["results"][student].cells}
        assert cells["add_tests"].score == 1, (student, cells)
        assert "did not run" in cells["after_tests"].feedback


def test_malformed_notebooks_say_what_is_wrong(batch):
    results = batch["results"]
    assert "broken JSON" in results["broken"].reason
    assert "cell 2 is not a code, markdown or raw cell ('heading')" in results["heading"].reason
    assert "nbformat 4.99" in results["future"].reason


def test_the_process_and_disk_limits_hold(batch):
    forker, filler = batch["results"]["forker"], batch["results"]["filler"]
    assert "processes" in forker.limits_hit and "48 processes" in forker.reason
    printed = batch["course"].outputs("forker")
    spawned = int(printed.split("spawn refused after ")[1].split()[0])
    assert spawned < 48
    assert "No space left on device" in batch["course"].outputs("filler") or "File too large" in batch["course"].outputs("filler")
    assert filler.status == "graded" and filler.score == 2


@pytest.mark.parametrize("student", ["out-filler", "out-inodes"])
def test_writing_past_the_disk_limit_into_the_results_folder_stops_the_run_and_is_flagged(batch, student):
    """`/out` is a folder on the grader's disk (the executed notebooks come back through it): the grader watches
    it and stops the submission past the disk limit (64 MiB here, 1 GB of files tried) or 10,000 files (30,000
    tried), instead of letting one submission fill the disk the whole run writes to."""
    result = batch["results"][student]
    assert result.status == "output-limit" and "onto the grader's disk" in result.reason, result
    assert "disk" in result.limits_hit, result.limits_hit
    assert any("onto the grader's disk (where only the grader's runner writes results)" in flag
               for flag in result.flags), result.flags


def test_the_sandbox_cannot_read_write_or_reach_the_network(batch):
    printed = batch["course"].outputs("prober")
    report = json.loads(printed.split("REPORT", 1)[1].splitlines()[0])
    for label in ("solutions", "gradebook", "other_student", "host_file", "config"):
        assert report[label] in ("FileNotFoundError", "PermissionError"), (label, report)
    for label in ("course_dir", "host_tmp"):
        assert report[label] in ("FileNotFoundError", "PermissionError", "OSError"), (label, report)
    assert not (batch["root"] / "planted.txt").exists() and not (batch["root"].parent / "planted.txt").exists()
    assert report["loopback"] != "connected" and report["internet"] != "connected"
    assert batch["connections"] == [], "a connection reached the host's loopback"
    assert report["uid"] != 0 and report["secret_env"] == []
    assert len(report["cpus"]) == 1 and report["threads"] == "1"  # two workers on two cores: one each


def test_nothing_outlives_its_grading(batch):
    leftovers = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if DAEMON_MARK.encode() in handle.read():
                        leftovers.append(pid)
            except OSError:
                pass
    assert leftovers == []
    assert batch["results"]["daemon"].status == "graded"


def test_unsafe_ids_are_refused_and_nothing_else_is_touched(batch):
    refused = " ".join(batch["run"].refused)
    assert "..evil" in refused and "linked" in refused
    assert "..evil" not in batch["results"] and "linked" not in batch["results"]
    assert not (batch["root"] / "autograded" / "linked").exists()


def test_the_gradebook_holds_every_graded_submission(batch):
    from autograder.course.gradebook import open_gradebook

    with open_gradebook(batch["course"].course.db_url) as gradebook:
        for student, result in batch["results"].items():
            submission = gradebook.find_submission("mini", student)
            assert submission.score == pytest.approx(result.score), student


def test_a_zip_with_paths_outside_is_refused_entry_by_entry(mini_course, tmp_path):
    archive = tmp_path / "lms.zip"
    good = mini_course.notebook().dumps() if hasattr(mini_course.notebook(), "dumps") else json.dumps(mini_course.notebook())
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("ann/mini.ipynb", good)
        handle.writestr("../escape.ipynb", good)
        handle.writestr("/abs/mini.ipynb", good)
        handle.writestr("bob/../../up.ipynb", good)
    run = grade("mini", course=mini_course.root, submissions=archive, limits=LIMITS, workers=1, progress=False,
                echo=lambda line: None)
    assert set(run.results) == {"ann"} and run.results["ann"].score == 2
    assert len(run.refused) == 3
    assert not (tmp_path / "escape.ipynb").exists() and not (tmp_path.parent / "up.ipynb").exists()


def test_a_submission_stopped_at_its_total_time_keeps_the_notebook_as_far_as_it_ran(mini_course):
    """Cells each within their time that together pass the submission's: the sandbox is killed mid-notebook, so the
    notebook the grader reads is the one the runner saved after the last cell that finished (not its final save)."""
    mini_course.submit("slow", "print('before the wait', flush=True)\nimport time\nfor _ in range(200):\n"
                               "    time.sleep(1)")
    limits = Limits(timeout=20, cell_timeout=300, memory=768 * 1024**2, max_output=200_000, processes=48,
                    disk=64 * 1024**2)
    run = grade("mini", course=mini_course.root, limits=limits, workers=1, progress=False, echo=lambda line: None)
    result = run.results["slow"]
    assert result.status == "timeout" and "longer than 20 s in total" in result.reason, result
    cells = {cell.grade_id: cell for cell in result.cells}
    assert (cells["add_tests"].score, cells["after_tests"].score) == (1, 0), cells
    executed = mini_course.executed("slow")  # what ran before the kill, readable by nbformat
    ran = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in executed.cells}
    assert ran["add_tests"].execution_count is not None and not ran["add_tests"].outputs
    assert ran["after_tests"].execution_count is None
