"""autograder: the grading engine on top of nbgrader.

Stages, one module each, each with a typed result:

1. `collect` finds submissions and hashes them (`Collection`);
2. `prepare` checks and sanitises them in the trusted grader (`Prepared`);
3. `execute` runs each in its own `sandbox` with operating-system limits
   (`Execution`), on local workers or a Dask cluster (`dispatch`);
4. `verify` decides the points of each graded cell in the trusted grader,
   from what the `probe` reported and what `scan` read (`SubmissionResult`);
5. `record` writes the gradebook and `results.jsonl`, one submission at a time.

`grade` runs them all; `release` and `demo` build on it. Names are loaded on
first use, so that the sandbox's own helpers (`autograder.sandbox.launch`,
`autograder.sandbox.runner`) start without importing nbgrader.
"""

import importlib

_EXPORTS = {
    "ASSIGNMENT": "autograder.course.course", "Course": "autograder.course.course", "SubmissionScore": "autograder.course.course",
    "demo": "autograder.frontends.demo", "format_table": "autograder.frontends.demo",
    "EXAMPLES": "autograder.frontends.examples", "Example": "autograder.frontends.examples", "build_submission": "autograder.frontends.examples",
    "GradingRun": "autograder.engine", "grade": "autograder.engine",
    "Limits": "autograder.sandbox.limits",
    "ReleaseReport": "autograder.frontends.release", "find_secrets": "autograder.frontends.release", "release": "autograder.frontends.release",
    "SubmissionResult": "autograder.pipeline.results", "CellResult": "autograder.pipeline.results", "STATUSES": "autograder.pipeline.results",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'autograder' has no attribute {name!r}")


def __dir__():
    return __all__
