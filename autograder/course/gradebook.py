"""The nbgrader gradebook: opened without relying on `PATH`, and written one
submission at a time.

nbgrader stamps a new gradebook with the schema version that it asks the
`alembic` program for, run by bare name (`nbgrader.api.get_alembic_version`).
That works only when the virtual environment's `bin/` is on `PATH`, so a
fresh clone driven as `.venv/bin/cnnkit ...` from a plain shell failed. The
version is the head of nbgrader's own migration scripts: `alembic_head` reads
it with alembic's Python API, and importing this module makes nbgrader use it.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timezone

import nbgrader.api
from nbgrader.api import Gradebook, MissingEntry

__all__ = ["alembic_head", "open_gradebook", "record_submission"]


def alembic_head():
    """The newest revision of nbgrader's gradebook schema, read in-process.

    Returns:
        The alembic revision id, a str.
    """
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


nbgrader.api.get_alembic_version = alembic_head


def open_gradebook(db_url):
    """An `nbgrader.api.Gradebook` (a context manager), created if missing.

    Args:
        db_url: any SQLAlchemy URL nbgrader accepts.

    Returns:
        The open `Gradebook`.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not in session.*")
        return Gradebook(db_url)


def record_submission(db_url, assignment, student, notebooks, *, timestamp=None, lms_user_id=None):
    """Writes one submission's automatic scores into the gradebook.

    The scores are committed at once; writing the same
    submission again replaces its automatic scores (nothing is counted twice).
    Manual scores a grader entered are kept.

    Args:
        db_url: the gradebook's SQLAlchemy URL.
        assignment: the assignment id (registered by the generate step).
        student: the student id (added if new).
        notebooks: dict of notebook name (no `.ipynb`) -> dict of grade id ->
            score (float); a graded cell left out scores 0.
        timestamp: when the submission was made (default: now).
        lms_user_id: the student's id in the LMS (Canvas' user id), written
            to nbgrader's `lms_user_id`; None keeps what is there.
    """
    with open_gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own SQLAlchemy use
        gradebook.update_or_create_student(student, **({"lms_user_id": lms_user_id} if lms_user_id else {}))
        try:  # the submission's structure (a grade per graded cell) is nbgrader's
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            submission = gradebook.add_submission(assignment, student)
        submission.timestamp = timestamp or datetime.now(timezone.utc).replace(tzinfo=None)
        for submitted in submission.notebooks:
            cells = notebooks.get(submitted.name, {})
            for grade in submitted.grades:
                grade.auto_score = float(cells.get(grade.name, 0.0))
                grade.needs_manual_grade = grade.manual_score is not None
            for comment in submitted.comments:
                comment.auto_comment = None
        gradebook.db.commit()
