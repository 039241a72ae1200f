"""What `run_autograder` runs on Gradescope, for one submission.

`python -m autograder.frontends.gradescope_run ROOT ASSIGNMENT` grades the notebooks
under `ROOT/submission` as one student (Gradescope's user id from
`ROOT/submission_metadata.json`, which also seeds the student's cases) with
the engine in a private copy of the bundled course, and writes
`ROOT/results/results.json`. Whatever happens, a `results.json` is written: a
submission that cannot be graded gets 0 and a sentence saying why. The lines
saying which limits are in force (Gradescope's container may lack some of the
sandbox's mechanisms) go to stdout, which only course staff see, and into
`extra_data`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = ["main", "run_gradescope"]


def run_gradescope(root, assignment):
    """Grades `root/submission` and writes `root/results/results.json`.

    Args:
        root: the Gradescope root (`/autograder`, or a stand-in in tests).
        assignment: the assignment id the bundle grades.

    Returns:
        The dict written as `results.json`.
    """
    from autograder.exports.gradescope import results_json

    root = Path(root)
    course = root / "source" / "course"
    _restrict(course)
    lines = []
    try:
        result, lines = _grade(root, course, assignment)
        settings = _settings(course)
        results = results_json(result, visibility=settings.get("visibility", "visible"), later=settings.get("later"))
        results["extra_data"]["sandbox"] = lines
    except Exception as error:  # a results.json in every case; the cause for staff on stdout
        lines = lines or _limits_lines()
        print(*lines, sep="\n")
        print(f"cnnkit: could not grade the submission: {type(error).__name__}: {error}")
        results = {"score": 0.0, "output": f"This submission could not be graded: {error}",
                   "tests": [], "extra_data": {"error": f"{type(error).__name__}: {error}", "sandbox": lines}}
    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    return results


def main(argv=None):
    """`run_autograder`'s entry point: ROOT ASSIGNMENT.

    Returns:
        0 (Gradescope reads the result from `results.json`).
    """
    root, assignment = (sys.argv[1:] if argv is None else argv)[:2]
    results = run_gradescope(root, assignment)
    print(f"score: {results['score']:g}")
    return 0


def _grade(root, course, assignment):
    from autograder.pipeline.collect import safe_name
    from autograder.course.course import Course
    from autograder.engine import grade
    from autograder.frontends.selfcheck import find_release
    from cnnkit.assignment import CACHE_ENV
    from cnnkit.data import DATA_ENV

    submitter = _student_id(root)
    student = submitter if submitter and safe_name(submitter) else "submission"
    submission = (root / "submission").resolve()
    # Plain files inside the submission only: a symlink (say, to the bundled solutions) is not the student's work.
    notebooks = sorted(path for path in submission.rglob("*.ipynb")
                       if not path.is_symlink() and path.is_file() and path.resolve().is_relative_to(submission))
    if not notebooks:
        raise ValueError("no .ipynb file was submitted: upload your notebooks")
    os.environ[CACHE_ENV] = str(course / "cache")
    data = sorted((course / "data").glob("*")) if (course / "data").is_dir() else []
    if data:
        os.environ[DATA_ENV] = str(data[0])
    with tempfile.TemporaryDirectory(prefix="cnnkit-gradescope-") as scratch:
        work = Path(scratch) / "course"
        shutil.copytree(course, work, ignore=shutil.ignore_patterns("cache", "data"))
        folder = work / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for path in notebooks:  # each under its released name, recognised by name or by its graded cells
            released = find_release(path.read_bytes(), path.name, work / "assignments" / assignment)
            if released is not None and not (folder / released.name).exists():
                shutil.copy(path, folder / released.name)
        if not any(folder.iterdir()):
            names = ", ".join(path.name for path in notebooks)
            raise ValueError(f"none of the submitted notebooks ({names}) is one of {assignment}'s")
        lines = []
        run = grade(assignment, course=Course(work).root, workers=1, progress=False,
                    echo=lambda line: (lines.append(line), print(line)))
    return run.results[student], lines


def _settings(course):
    """The bundle's settings (`settings.json`), or none."""
    try:
        settings = json.loads((course / "settings.json").read_text())
    except (OSError, ValueError):
        return {}
    return settings if isinstance(settings, dict) else {}


def _limits_lines():
    """The limits line a grading run would print, for a submission that never reached grading."""
    from autograder.sandbox.limits import Limits
    from autograder.sandbox.isolation import detect

    try:
        return ["limits: " + Limits().describe(), detect().line(Limits())]
    except Exception as error:  # the probe itself failed: say so rather than nothing
        return [f"sandbox: could not be probed ({type(error).__name__}: {error})"]


def _student_id(root):
    """Gradescope's id of the (first) submitter, else None."""
    try:
        users = json.loads((root / "submission_metadata.json").read_text())["users"]
        return str(users[0].get("id") or users[0].get("email"))
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None


def _restrict(course):
    """Makes the bundled course (hidden tests, secret) readable by its owner only."""
    if course.exists():
        os.chmod(course, 0o700)


if __name__ == "__main__":
    sys.exit(main())
