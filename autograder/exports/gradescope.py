"""Gradescope's `results.json`, from a verified result.

Gradescope's autograder specification: a top-level `score`,
`execution_time` (seconds), `output` (text for the whole submission) and a
list of `tests`, each with `name`, `score`, `max_score`, `status`
(`passed`/`failed`), `output` and `visibility`. The text is the verifier's
feedback (it never contains hidden tests); the flags, which are for course
staff, go into `extra_data`, which students do not see.
"""

from __future__ import annotations

import json
from cnnkit.checks.report import format_points

__all__ = ["RESULT_FIELDS", "TEST_FIELDS", "VISIBILITIES", "results_json", "write_results"]

VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")

# The fields Gradescope's specification allows, at the top level and per test.
RESULT_FIELDS = frozenset({"score", "execution_time", "output", "output_format", "test_output_format",
                           "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
                           "leaderboard"})
TEST_FIELDS = frozenset({"score", "max_score", "status", "name", "name_format", "number", "output",
                         "output_format", "tags", "visibility", "extra_data"})


def results_json(result, *, visibility="visible"):
    """One submission in Gradescope's format.

    Args:
        result: an `autograder.pipeline.results.SubmissionResult`.
        visibility: when students see the tests: `visible`, `after_due_date`,
            `after_published` or `hidden`.

    Returns:
        A JSON-ready dict.
    """
    tests = [{"name": f"{cell.notebook}: {cell.grade_id}", "number": str(number),
              "score": cell.score, "max_score": cell.max_score,
              "status": "passed" if cell.score >= cell.max_score else "failed",
              "output": cell.feedback, "output_format": "text", "visibility": visibility}
             for number, cell in enumerate(result.cells, start=1)]
    return {"score": result.score, "execution_time": int(round(result.seconds)), "output": _summary(result),
            "output_format": "text", "visibility": visibility, "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"status": result.status, "flags": list(result.flags), "hash": result.hash,
                           "max_score": result.max_score}}


def write_results(result, path, *, visibility="visible"):
    """Writes `results_json(result)` to `path` (atomically).

    Returns:
        The path written.
    """
    from autograder.pipeline.files import replace_file

    return replace_file(path, json.dumps(results_json(result, visibility=visibility), indent=2) + "\n")


def _summary(result):
    lines = [f"Verified score: {format_points(result.score)} / {format_points(result.max_score)}."]
    if result.status != "graded":
        lines.append(f"Status: {result.status}: {result.reason}")
    lines += [f"{name}: {state}" for name, state in result.notebooks.items() if state != "ran"]
    return "\n".join(lines)
