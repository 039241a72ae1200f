"""Stage 4, record: write each result, one submission at a time, so that a
grader killed at any moment loses nothing already graded.

Per submission, in this order: the gradebook (one commit), the executed
notebooks under `autograded/<student>/<assignment>/` and, beside them in
`cnnkit_submitted/`, the notebooks as they went into the sandbox (the
trusted copy that feedback quotes the student's code from; each file
replaced atomically), then one line in `reports/<assignment>/results.jsonl`, written
with a single `write` and `fsync`. That line is the commit record: a
submission without one is graded again by the next run, and writing its
gradebook entry again replaces it (nothing is counted twice). A line torn by
a kill is ignored and cut off on the next run.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

from autograder.pipeline.files import replace_file
from autograder.course.gradebook import record_submission
from autograder.pipeline.results import SubmissionResult

__all__ = ["SUBMITTED_DIR", "ResultsLog", "record"]

SUBMITTED_DIR = "cnnkit_submitted"


class ResultsLog:
    """`results.jsonl`: one JSON line per graded submission, newest last.

    Args:
        path: the file (created with its folder when first written).
    """

    def __init__(self, path):
        self.path = Path(path)
        self.skipped_lines = ()

    def latest(self):
        """The newest result of each student.

        A torn last line (a write the grader did not finish: it has no line
        end) is cut off; a whole line that is not a result (edited by hand,
        written by another version) is left in the file and skipped, and its
        number is kept in `skipped_lines`: no recorded grade is ever removed.

        Returns:
            Dict of student id -> `SubmissionResult`.
        """
        self.skipped_lines = ()
        if not self.path.exists():
            return {}
        data = self.path.read_bytes()
        results, good_end, skipped = {}, 0, []
        for number, line in enumerate(data.splitlines(keepends=True), 1):
            if not line.endswith(b"\n"):
                break
            good_end += len(line)
            try:
                result = SubmissionResult.from_json(line)
            except (ValueError, KeyError, TypeError, AttributeError):
                if line.strip():
                    skipped.append(number)
                continue
            results[result.student] = result
        if good_end < len(data):
            with open(self.path, "r+b") as handle:
                handle.truncate(good_end)
        self.skipped_lines = tuple(skipped)
        return results

    def append(self, result):
        """Appends one result durably.

        Args:
            result: a `SubmissionResult`.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (result.to_json() + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def record(result, *, assignment, db_url, log, autograded_dir, execution=None, prepared=None, submitted_at=None,
           lms_user_id=None):
    """Writes one submission's result everywhere it belongs.

    Args:
        result: the `SubmissionResult`.
        assignment: the assignment id.
        db_url: the gradebook's SQLAlchemy URL.
        log: the `ResultsLog`.
        autograded_dir: nbgrader's `autograded/` folder of the course.
        execution: the `Execution` whose notebooks and evidence to keep, if any.
        prepared: the `autograder.pipeline.prepare.Prepared` that went into the
            sandbox, if any.
        submitted_at: when the student submitted (naive UTC), for the
            gradebook's lateness; None records the grading time.
        lms_user_id: the LMS's id of the student (Canvas' user id), kept in
            the gradebook's student record for the LMS export; None keeps
            what the gradebook has.

    Returns:
        The result as recorded: stamped with when it was graded and the
        grader's version.
    """
    from cnnkit import __version__

    result = dataclasses.replace(result, graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                 grader_version=__version__)
    record_submission(db_url, assignment, result.student, result.by_notebook(), timestamp=submitted_at,
                      lms_user_id=lms_user_id)
    folder = Path(autograded_dir) / result.student / assignment
    if execution is not None:
        _write_notebooks(folder, execution)
    if prepared is not None:
        _write_folder(folder / SUBMITTED_DIR, {name: text.encode() for name, text in prepared.notebooks.items()})
    log.append(result)
    return result


def _write_notebooks(folder, execution):
    """The executed notebooks, and as evidence for a person: what the kernels left in `cnnkit_evidence/` and the
    models the probes saved (`<notebook>-<grade id>.keras`), the ones the verifier judged."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in execution.notebooks.items():
        replace_file(folder / name, text.encode())
    models = {f"{notebook[:-len('.ipynb')]}-{name}": content for notebook, files in execution.probes.items()
              for name, content in files.items() if name.endswith(".keras")}
    _write_folder(folder / "cnnkit_evidence", {**execution.evidence, **models})


def _write_folder(folder, files):
    """Replaces `folder` by one holding `files` (name -> bytes); none: no folder."""
    if folder.exists():
        shutil.rmtree(folder)
    for name, content in files.items():
        folder.mkdir(parents=True, exist_ok=True)
        replace_file(folder / name, content)
