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


def results_json(result, *, visibility="visible", later=None):
    """One submission in Gradescope's format.

    Args:
        result: an `autograder.pipeline.results.SubmissionResult`.
        visibility: when students see the tests: `visible`, `after_due_date`,
            `after_published` or `hidden`.
        later: dict of grade id -> a visibility for the tests students see
            later than the others (the retrained "improve it" cells), the
            later of the two applying (default: none).

    Returns:
        A JSON-ready dict.
    """
    later = later or {}
    tests = [{"name": f"{cell.notebook}: {cell.grade_id}", "number": str(number),
              "score": cell.score, "max_score": cell.max_score,
              "status": "passed" if cell.score >= cell.max_score else "failed",
              "output": cell.feedback, "output_format": "text",
              "visibility": max(visibility, later.get(cell.grade_id, visibility), key=VISIBILITIES.index)}
             for number, cell in enumerate(result.cells, start=1)]
    held = [cell for cell, test in zip(result.cells, tests) if test["visibility"] != visibility]
    return {"score": result.score, "execution_time": int(round(result.seconds)), "output": _summary(result, held),
            "output_format": "text", "visibility": visibility, "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"status": result.status, "flags": list(result.flags), "hash": result.hash,
                           "max_score": result.max_score}}


def write_results(result, path, *, visibility="visible", later=None):
    """Writes `results_json(result)` to `path` (atomically).

    Returns:
        The path written.
    """
    from autograder.pipeline.files import replace_file

    return replace_file(path, json.dumps(results_json(result, visibility=visibility, later=later), indent=2) + "\n")


def _summary(result, held=()):
    """The text above the tests; with tests shown later than the others (`held`), a score without them, so that
    the text does not tell what they give."""
    if held:
        later = {cell.grade_id for cell in held}
        shown = [cell for cell in result.cells if cell.grade_id not in later]
        lines = [f"Verified score of the tests shown now: {format_points(sum(c.score for c in shown))} / "
                 f"{format_points(sum(c.max_score for c in shown))}; {', '.join(sorted(later))} "
                 f"({format_points(sum(c.max_score for c in held))} points) will be shown later: an \"improve it\" "
                 "score is held back so that resubmitting cannot pick the luckiest architecture on the hidden test "
                 "recordings."]
    else:
        lines = [f"Verified score: {format_points(result.score)} / {format_points(result.max_score)}."]
    if result.status != "graded":
        lines.append(f"Status: {result.status}: {result.reason}")
    lines += [f"{name}: {state}" for name, state in result.notebooks.items() if state != "ran"]
    return "\n".join(lines)
