"""autograder: the grading engine on top of nbgrader.

Stages so far: `Course` (an nbgrader course driven through nbgrader's API),
`release` (generate the student version and prove it sound) and `demo`
(grade the example submissions). Isolation, limits, the trusted verifier,
parallel and distributed runs, and exports come in later stages.
"""

from autograder.course import ASSIGNMENT, Course, SubmissionScore
from autograder.demo import demo, format_table
from autograder.examples import EXAMPLES, Example, build_submission
from autograder.release import ReleaseReport, find_secrets, release

__all__ = [
    "ASSIGNMENT",
    "Course",
    "EXAMPLES",
    "Example",
    "ReleaseReport",
    "SubmissionScore",
    "build_submission",
    "demo",
    "find_secrets",
    "format_table",
    "release",
]
