"""The grader reads what a sandbox writes with bounds of its own: a flood on the
runner's report channel is read, counted and dropped past `MAX_STDOUT`, and the
grader's memory does not grow with it."""

import resource

import pytest

from autograder.sandbox.isolation import MAX_STDOUT, run_sandboxed
from autograder.sandbox.limits import Limits

pytestmark = [pytest.mark.slow]
FLOOD = 3 * MAX_STDOUT


def test_a_flood_on_the_report_channel_is_dropped_and_the_grader_stays_small(tmp_path):
    job, out = tmp_path / "job", tmp_path / "out"
    job.mkdir()
    out.mkdir()
    (job / "passwd").write_text("student:x:1000:1000:student:/home/student:/bin/sh\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    run = run_sandboxed(["python", "-c", f"import sys\nfor _ in range({FLOOD // 2**20}):\n"
                                         f"    sys.stdout.buffer.write(b'x' * 2**20)"],
                        job_dir=job, out_dir=out, limits=Limits(timeout=120).with_threads(1))
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert run.returncode == 0, run.stderr
    assert len(run.stdout) == MAX_STDOUT and run.stdout_dropped == (FLOOD // 2**20) * 2**20 - MAX_STDOUT
    assert grown < 2 * MAX_STDOUT, f"the grader grew by {grown / 1e6:.0f} MB reading a {FLOOD / 1e6:.0f} MB flood"
