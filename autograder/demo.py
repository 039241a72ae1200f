"""The demo grading run: release, then autograde the example submissions with
nbgrader and print a table of scores and feedback per student."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import REPO
from autograder.examples import EXAMPLES
from autograder.release import grade_example, release

__all__ = ["DemoResult", "demo", "format_table"]

DEMO_SEED = "cnnkit-demo"


@dataclass
class DemoResult:
    """The release report and every example's `SubmissionScore`, by student."""

    release: object
    scores: dict = field(default_factory=dict)
    workdir: Path = None


def demo(course_root=REPO, workdir="runs/demo", progress=print):
    """Releases the assignment and grades every example submission.

    Grading is repeatable: the checks' random cases are seeded from
    `CNNKIT_CHECK_SEED` (set here to a fixed value unless already set).

    Args:
        course_root: the course directory (default: this repository).
        workdir: folder for the grading copy of the course (emptied first).
        progress: callable taking one line of progress text.

    Returns:
        A `DemoResult`.
    """
    os.environ.setdefault("CNNKIT_CHECK_SEED", DEMO_SEED)
    progress("releasing: nbgrader generate_assignment, then grading the solution and the stub")
    report, course = release(course_root, workdir=workdir)
    result = DemoResult(report, {"solution": report.solution, "stub": report.stub}, course.root)
    for example in EXAMPLES:
        if example.student in result.scores:
            continue
        progress(f"autograding {example.student}: {example.description}")
        result.scores[example.student] = grade_example(course, example)
    return result


def format_table(result):
    """The scores and feedback of a `DemoResult`, as printable text (only the
    notebooks each student submitted count)."""
    rows = []
    for example in EXAMPLES:
        score = result.scores[example.student]
        submitted = [nb for nb in score.notebooks if f"{nb.name}.ipynb" in example.notebooks]
        short = [cell for nb in submitted for cell in nb.cells if cell.score < cell.max_score]
        mistakes = [re.sub(r"^- Likely mistake \((.*?)\):", r"\1:", line.strip())
                    for cell in short for line in cell.feedback.splitlines() if "Likely mistake" in line]
        if score.error:
            note = f"grading failed: {score.error.splitlines()[0]}"
        elif mistakes:
            note = mistakes[0]
        elif short and all(cell.score == 0 for nb in submitted for cell in nb.cells):
            note = "0 on every test cell"
        elif short:
            note = f"{len(short)} test cell(s) short of full marks"
        else:
            note = "full marks"
        rows.append({"student": example.student,
                     "notebooks": " ".join(nb.name[:2] for nb in submitted),
                     "score": f"{sum(nb.score for nb in submitted):5.2f} / {sum(nb.max_score for nb in submitted):g}",
                     "feedback": note if len(note) <= 100 else note[:97] + "..."})
    widths = {key: max(len(key), *(len(row[key]) for row in rows)) for key in rows[0]}
    lines = ["  ".join(key.ljust(width) for key, width in widths.items())]
    lines += ["  ".join(row[key].ljust(width) for key, width in widths.items()) for row in rows]
    return "\n".join(line.rstrip() for line in lines)
