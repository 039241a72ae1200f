"""The course secret: what makes each student's cases unpredictable.

Read from `CNNKIT_COURSE_SECRET`, else from `COURSE/.cnnkit/secret`, made
on first use (random, readable by its owner only). It never enters a
sandbox: sandboxes see neither the course folder nor the grader's
environment. Keep it out of version control (`.cnnkit/` is ignored); a
course that regrades on another machine copies it along.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["SECRET_ENV", "course_secret"]

SECRET_ENV = "CNNKIT_COURSE_SECRET"


def course_secret(course_root):
    """The course's secret, made if there is none.

    Args:
        course_root: the course directory.

    Returns:
        The secret, a str.
    """
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = Path(course_root) / ".cnnkit" / "secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()
