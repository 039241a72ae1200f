"""A course's own checks: `COURSE/cnnkit_checks.py`, if the course has one.

An instructor adds a graded function or a kind of check to the kit itself
(see docs/instructors.md), or, for one course only, in this file of the course
directory: it registers them the same way (`cnnkit.checks.GRADED[name] =
GradedFunction(...)`, `autograder.verifier.kinds.register(MyKind())`). It is
the instructor's code, trusted like `nbgrader_config.py`: the grader imports
it (the coordinator and every trusted worker), a sandbox never sees it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

__all__ = ["COURSE_CHECKS", "load_course_checks"]

COURSE_CHECKS = "cnnkit_checks.py"


def load_course_checks(course_root):
    """Imports the course's checks once per process, if it has any.

    Args:
        course_root: the course directory.

    Returns:
        The module, or None when the course has no `cnnkit_checks.py`.
    """
    path = Path(course_root).resolve() / COURSE_CHECKS
    if not path.is_file():
        return None
    name = f"cnnkit_course_checks_{abs(hash(str(path)))}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]
