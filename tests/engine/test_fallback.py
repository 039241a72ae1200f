"""Grading where bubblewrap is missing or refused (some containers, e.g.
Gradescope's): the run says what is in force, still grades, and, as root,
runs student code as an unprivileged user that cannot read the grader's
private files. Where control groups are missing, the trusted verifier (it
reads models that submissions made) runs under a per-process memory limit
of its own, read back from /proc."""

import os
import time

import pytest

from autograder.engine import grade
from autograder.pipeline.trusted import VERIFIER_LIMITS, TrustedWorker, VerifierSetup
from autograder.sandbox.limits import Limits
from autograder.sandbox.isolation import SANDBOX_UID, _unprivileged_python_works, detect

pytestmark = pytest.mark.slow

PROBE = """
import os
print("uid", os.getuid())
try:
    open({secret!r}).read()
    print("read the secret")
except OSError as error:
    print("secret refused", type(error).__name__)
work = "done"
"""


def _without(monkeypatch, variable):
    """The machine as `detect` sees it without one mechanism (`CNNKIT_SANDBOX` or `CNNKIT_CGROUPS` set to none)."""
    monkeypatch.setenv(variable, "none")
    detect.cache_clear()
    yield
    detect.cache_clear()


@pytest.fixture
def no_namespaces(monkeypatch):
    yield from _without(monkeypatch, "CNNKIT_SANDBOX")


@pytest.fixture
def no_cgroups(monkeypatch):
    yield from _without(monkeypatch, "CNNKIT_CGROUPS")


def test_without_namespaces_grading_goes_on_and_says_so(mini_course, no_namespaces, tmp_path):
    mini_course.submit("honest")
    lines = []
    run = grade("mini", course=mini_course.root, workers=1, progress=False, echo=lines.append,
                limits=Limits(timeout=120, cell_timeout=60))
    assert run.results["honest"].status == "graded" and run.results["honest"].score == 2
    sandbox = next(line for line in lines if line.startswith("sandbox: "))
    assert sandbox.startswith("sandbox: NO namespaces")


def test_without_namespaces_the_home_on_disk_is_watched_too(mini_course, no_namespaces, tmp_path):
    """Without bubblewrap the submission's home is a folder on the grader's disk: files past the disk limit there
    (RLIMIT_FSIZE caps one file only) stop the run, as in `/out`."""
    mini_course.submit("filler", work="for i in range(20):\n    with open(f'fill{i}.bin', 'wb') as handle:\n"
                                      "        handle.write(b'0' * 8 * 1024**2)")
    run = grade("mini", course=mini_course.root, workers=1, progress=False, echo=lambda line: None,
                limits=Limits(timeout=120, cell_timeout=60, disk=32 * 1024**2))
    result = run.results["filler"]
    assert result.status == "output-limit" and "onto the grader's disk" in result.reason, result


@pytest.mark.skipif(os.geteuid() != 0 or not _unprivileged_python_works(),
                    reason="needs root and a Python that an unprivileged user can run (CI's fresh clone has both)")
def test_as_root_without_namespaces_student_code_runs_unprivileged(mini_course, no_namespaces, tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "secret.txt").write_text("course secret")
    mini_course.submit("prober", work=PROBE.format(secret=str(private / "secret.txt")))
    lines = []
    run = grade("mini", course=mini_course.root, workers=1, progress=False, echo=lines.append,
                limits=Limits(timeout=120, cell_timeout=60))
    assert run.results["prober"].score == 2, run.results["prober"].reason
    printed = mini_course.outputs("prober")
    assert f"uid {SANDBOX_UID}" in printed and "secret refused PermissionError" in printed, printed
    assert f"runs as unprivileged uid {SANDBOX_UID}" in next(line for line in lines if line.startswith("sandbox: "))


def _data_limit(pid, timeout=10):
    """The 'Max data size' soft limit of a process in bytes, once its launcher has set it (None: still unlimited
    after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/limits") as handle:
            soft = next(line for line in handle if line.startswith("Max data size")).split()[3]
        if soft != "unlimited":
            return int(soft)
        time.sleep(0.05)
    return None


def test_without_cgroups_the_verifier_runs_under_a_memory_limit_of_its_own(no_cgroups, tmp_path):
    worker = TrustedWorker(VerifierSetup(tmp_path, tmp_path, "s", tmp_path))
    worker._start()
    try:
        assert worker.groups is None
        assert _data_limit(worker.process.pid) == VERIFIER_LIMITS.memory
    finally:
        worker.close()
