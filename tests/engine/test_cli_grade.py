"""`cnnkit grade` from a plain shell: nothing on PATH but the system's, no
gradebook yet (nbgrader would have run `alembic` by name to make one)."""

import json
import shutil
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_grade_works_on_a_fresh_course_with_a_system_path_only(mini_course, tmp_path):
    (mini_course.root / "gradebook.db").unlink()
    mini_course.submit("ann")
    mini_course.submit("bob", add="def add(a, b):\n    return 5 if a == -1 else a + b")  # fails the hidden test
    system_path = "/usr/sbin:/usr/bin:/sbin:/bin"
    assert shutil.which("alembic", path=system_path) is None
    out = subprocess.run([sys.executable, "-m", "autograder", "grade", "mini", "--course", str(mini_course.root),
                          "--workers", "2", "--timeout", "120", "--cell-timeout", "30", "--memory", "1GiB",
                          "--max-output", "1MB"],
                         capture_output=True, text=True, timeout=300, env={"PATH": system_path, "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stdout + out.stderr
    first = out.stdout.splitlines()[:5]
    assert first[0].startswith("grading mini in ") and "student ids: folder names" in first[0]
    assert first[1].startswith("limits: timeout 120 s per submission, 30 s per cell; memory 1GiB; output 1MB")
    assert first[2].startswith("sandbox: bubblewrap namespaces") and "cgroup v" in first[2]
    assert first[3].startswith("workers: 2 worker(s) x 1 thread(s)")
    assert "graded 2 submission(s)" in out.stdout and "by status: graded 2" in out.stdout
    lines = [json.loads(line) for line in (mini_course.root / "reports" / "mini" / "results.jsonl").read_text().splitlines()]
    assert {line["student"]: line["score"] for line in lines} == {"ann": 2.0, "bob": 1.0}
    assert (mini_course.root / "gradebook.db").is_file()
    from cnnkit import __version__

    assert all(line["grader_version"] == __version__ and line["graded_at"].endswith("+00:00") for line in lines)

    # one student graded again, and only that one
    again = subprocess.run([sys.executable, "-m", "autograder", "grade", "mini", "--course", str(mini_course.root),
                            "--student", "bob", "--force", "--no-progress", "--verbose"],
                           capture_output=True, text=True, timeout=300, env={"PATH": system_path, "HOME": str(tmp_path)})
    assert again.returncode == 0, again.stdout + again.stderr
    assert "graded 1 submission(s)" in again.stdout and "recorded bob: graded 1/2" in again.stdout
    quiet = subprocess.run([sys.executable, "-m", "autograder", "grade", "mini", "--course", str(mini_course.root),
                            "--quiet"], capture_output=True, text=True, timeout=300,
                           env={"PATH": system_path, "HOME": str(tmp_path)})
    assert quiet.returncode == 0 and quiet.stdout.splitlines()[0].startswith("graded 0 submission(s)"), quiet.stdout
    assert "grading mini in" not in quiet.stdout and "2 unchanged and kept" in quiet.stdout
    lines = [json.loads(line) for line in (mini_course.root / "reports" / "mini" / "results.jsonl").read_text().splitlines()]
    assert [line["student"] for line in lines] == ["ann", "bob", "bob"] or \
        [line["student"] for line in lines] == ["bob", "ann", "bob"]
    missing = subprocess.run([sys.executable, "-m", "autograder", "grade", "mini", "--course", str(mini_course.root),
                              "--student", "zed", "--no-progress"], capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1 and "no submission of zed found (students with one: ann, bob)" in missing.stderr


def test_bad_options_are_one_clear_line(mini_course):
    out = subprocess.run([sys.executable, "-m", "autograder", "grade", "mini", "--course", str(mini_course.root),
                          "--memory", "lots"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == ("cnnkit grade: error: argument --memory: expected a positive size "
                                                   "such as 4GiB, 20MB or 512k, got 'lots'")
    out = subprocess.run([sys.executable, "-m", "autograder", "grade", "nope", "--course", str(mini_course.root)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "no notebooks in" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_results_line_edited_by_hand_is_said_and_no_grade_after_it_is_lost(mini_course):
    from autograder import grade

    mini_course.submit("ann")
    mini_course.submit("bob")
    grade("mini", course=mini_course.root, workers=2, progress=False, echo=lambda line: None)
    log = mini_course.root / "reports" / "mini" / "results.jsonl"
    first, second = log.read_text().splitlines(keepends=True)
    log.write_text(first + '{"student": "ann", "score": "lots"}\n' + second)
    lines = []
    run = grade("mini", course=mini_course.root, workers=2, progress=False, echo=lines.append)
    assert any(line.endswith("line(s) 2 are not grading results: skipped, and left in the file") for line in lines)
    assert sorted(run.skipped) == ["ann", "bob"], "both results still read: nothing graded again"
    assert len(log.read_text().splitlines()) == 3
