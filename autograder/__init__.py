"""autograder: the grading engine on top of nbgrader.

Its subpackages are its roles:

- `pipeline`: the stages, each with a typed result: `collect` finds
  submissions and hashes them (`Collection`); `prepare` checks and sanitises
  them (`Prepared`); `execute` runs each in its own sandbox (`Execution`), on
  local workers or a Dask cluster (`dispatch`); `record` writes the gradebook
  and `results.jsonl`, one submission at a time (`SubmissionResult`);
- `sandbox`: the trust boundary (isolation, limits, the runner and the probe
  that run inside, the JSON contracts that cross the wall);
- `verifier`: decides the points of each graded cell in the trusted grader,
  one kind of check per module (`verifier.kinds`);
- `course`: the course directory and nbgrader's gradebook;
- `exports`: grades, Gradescope results, feedback pages, the class report;
- `frontends`: the `cnnkit` command, the demo, the release proof, the
  self-check and the Gradescope bundle.

`engine.grade` runs the stages. Names are loaded on first use, so that the
sandbox's own helpers (`autograder.sandbox.launch`, `autograder.sandbox.runner`)
start without importing nbgrader.
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
