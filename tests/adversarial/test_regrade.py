"""End to end: a regrade of the same submissions gives identical scores and
feedback, and two students with the same code get different cases."""

import pytest

from autograder import grade
from autograder.course.course import Course
from autograder.frontends.examples import EXAMPLES, build_submission
from autograder.sandbox.limits import Limits

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_regrades_repeat_and_students_get_their_own_cases(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNKIT_CACHE", str(tmp_path / "cache"))
    work = Course.working_copy(tmp_path / "course")
    mistake = {e.student: e for e in EXAMPLES}["stride-ignored"]
    for student in ("ann", "bob"):
        work.submit(student, build_submission(mistake, work))
    options = dict(limits=Limits(cell_timeout=60, timeout=300), workers=2, progress=False, echo=lambda line: None)
    first = grade("cnn", course=work.root, **options).results
    again = grade("cnn", course=work.root, force=True, **options).results
    for student in ("ann", "bob"):
        assert [(c.grade_id, c.score, c.feedback) for c in first[student].cells] == \
               [(c.grade_id, c.score, c.feedback) for c in again[student].cells]
    assert first["ann"].seed != first["bob"].seed
    # Only the convolution notebook was submitted: the verifier trained no reference model for the seizure one.
    assert not list((tmp_path / "cache").glob("trained-*.json"))
    layer = {s: next(c for c in first[s].cells if c.grade_id == "conv2d_layer_tests") for s in ("ann", "bob")}
    assert layer["ann"].score == layer["bob"].score < 4  # the same kinds of case fail for both
    assert "Likely mistake (stride ignored)" in layer["ann"].feedback
