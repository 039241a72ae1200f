"""One `cnnkit demo` run (about 6 minutes on 2 cores) shared by every
end-to-end test: release, grading of the examples, exports."""

import os
import shutil
import subprocess
import sys

import pytest

from autograder.course.course import ASSIGNMENT, REPO, Course
from autograder.frontends.examples import EXAMPLES
from autograder.pipeline.record import ResultsLog


E2E_SECRET = "e2e-course-secret"  # one secret for every demo run, so that the backends draw the same cases


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    course = root / "course"
    for folder in ("solutions", "assignments"):
        shutil.copytree(REPO / folder, course / folder)
    shutil.copy(REPO / "nbgrader_config.py", course)
    env = {k: v for k, v in os.environ.items() if k not in ("CNNKIT_DATA", "CNNKIT_CHECK_SEED")}
    env.update(CNNKIT_CACHE=str(root / "cache"), CNNKIT_COURSE_SECRET=E2E_SECRET)
    out = subprocess.run([sys.executable, "-m", "autograder", "demo", "--course", str(course), "--workdir", str(root / "work")],
                         capture_output=True, text=True, env=env, timeout=1500, cwd=REPO)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    work = Course(root / "work")
    return {"stdout": out.stdout, "stderr": out.stderr, "work": work, "env": env, "root": root,
            "scores": {e.student: work.scores(e.student) for e in EXAMPLES},
            "results": ResultsLog(root / "work" / "reports" / ASSIGNMENT / "results.jsonl").latest()}
