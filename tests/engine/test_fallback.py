"""Grading where bubblewrap is missing or refused (some containers, e.g.
Gradescope's): the run says what is in force, still grades, and, as root,
runs student code as an unprivileged user that cannot read the grader's
private files."""

import os

import pytest

from autograder.engine import grade
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


@pytest.fixture
def no_namespaces(monkeypatch):
    monkeypatch.setenv("CNNKIT_SANDBOX", "none")
    detect.cache_clear()
    yield
    detect.cache_clear()


def test_without_namespaces_grading_goes_on_and_says_so(mini_course, no_namespaces, tmp_path):
    mini_course.submit("honest")
    lines = []
    run = grade("mini", course=mini_course.root, workers=1, progress=False, echo=lines.append,
                limits=Limits(timeout=120, cell_timeout=60))
    assert run.results["honest"].status == "graded" and run.results["honest"].score == 2
    sandbox = next(line for line in lines if line.startswith("sandbox: "))
    assert sandbox.startswith("sandbox: NO namespaces")


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
