"""Ctrl-C and SIGTERM stop `cnnkit grade` within seconds: what runs ends, what
waits is cancelled, nothing is recorded half-way, the exit status is 130, and
running the same command again resumes."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.engine.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
SLEEPER = "import time\ntime.sleep(15)\nwork = 'done'"


def _grade(root):
    env = {**os.environ, "CNNKIT_COURSE_SECRET": "interrupt"}
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade", "mini", "--course", str(root),
                             "--workers", "2", "--cell-timeout", "60", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env,
                            start_new_session=True)


def _lines(root):
    path = root / "reports" / "mini" / "results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _grader_processes():
    """The sandboxed runners and trusted workers alive now, by process id."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "autograder.sandbox.runner" in command or "autograder.pipeline.trusted" in command:
            found[pid] = command
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_run_within_seconds_and_the_rerun_resumes(mini_course, signum):
    for student in ("s1", "s2"):
        mini_course.submit(student, SLEEPER)
    for student in ("s3", "s4"):
        mini_course.submit(student)
    before = _grader_processes()
    process = _grade(mini_course.root)
    time.sleep(8)  # both workers are in a sleeper's cell; the quick ones wait
    sent = time.monotonic()
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - sent < 10, "stopped within 10 s"
    assert process.returncode == 130, out + err
    recorded = _lines(mini_course.root)
    assert f"interrupted: {len(recorded)} of 4 recorded; run the same command to resume" in out, out
    assert "Traceback" not in err, err
    assert len(recorded) < 4, "the run was stopped before it finished"
    time.sleep(1)
    left = {pid: command for pid, command in _grader_processes().items() if pid not in before}
    assert left == {}, "nothing the grader started outlives it"

    again = _grade(mini_course.root)
    out, err = again.communicate(timeout=180)
    assert again.returncode == 0, out + err
    lines = _lines(mini_course.root)
    assert sorted(line["student"] for line in lines) == ["s1", "s2", "s3", "s4"], "every result once"
    assert all(line["score"] == 2 for line in lines), lines
