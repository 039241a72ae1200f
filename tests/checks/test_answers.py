"""A number about the student's own model, judged against the grader's computation from that model."""

import numpy as np
import pytest

from cnnkit.checks.answers import answer_verdict, check_model_answer
from cnnkit.reference import models

pytestmark = pytest.mark.keras
MS = 1000 / 173.61  # one sample
STRONG = 1 + 6 + 1 + 2 * 4 + 2 + 4 * 4 + 4 + 8 * 2 + 8  # strong_cnn's field, samples


def _names(result):
    return [mistake.name for mistake in result.misconceptions]


@pytest.mark.parametrize("answer", [STRONG * MS, round(STRONG * MS), np.float32(STRONG * MS), np.array(STRONG * MS),
                                    [STRONG * MS], STRONG * MS + 0.45 * MS, STRONG * MS - 0.45 * MS])
def test_the_field_in_ms_in_any_numeric_style_is_right(answer):
    result = answer_verdict("receptive_field_ms", answer, models.strong_cnn(), points=2)
    assert result.score == 2 and not result.misconceptions, result.feedback()


def test_an_answer_more_than_half_a_sample_off_loses_the_point():
    result = answer_verdict("receptive_field_ms", (STRONG + 0.6) * MS, models.strong_cnn())
    assert result.score == 0 and not result.misconceptions, result.feedback()
    assert f"{STRONG * MS:.1f}" in result.feedback(), "the feedback says what the grader computed"


@pytest.mark.parametrize("model, answer, name", [
    (models.strong_cnn, STRONG, "samples, not milliseconds"),
    (models.strong_cnn, STRONG / 173.61, "seconds, not milliseconds"),
    (models.strong_cnn, (1 + 6 + 1 + 4 + 1 + 4 + 1 + 2 + 1) * MS, "strides ignored"),
    (models.strong_cnn, (STRONG - 1) * MS, "one sample short"),
    (models.strong_cnn, STRONG * 1000 / 178, "a row read as one second"),
    (models.residual_cnn, 16 * MS, "the spec CNN's field"),
])
def test_each_slip_is_named_when_the_answer_is_its_value(model, answer, name):
    result = answer_verdict("receptive_field_ms", answer, model())
    assert result.score == 0 and _names(result) == [name], result.feedback()


def test_a_slip_that_gives_the_right_value_is_no_slip():
    # the spec CNN's field is the spec CNN's own answer, and its strides ignored would give 12 samples, not 16
    assert answer_verdict("receptive_field_ms", 16 * MS, models.spec_cnn()).score == 1
    flat = models.mlp_baseline()  # no window: 1 sample, and "one sample short" would be 0 ms
    assert answer_verdict("receptive_field_ms", MS, flat).score == 1
    # 0 ms is one sample short and (within half a sample) the field in seconds: two explanations, so neither
    wrong = answer_verdict("receptive_field_ms", 0.0, flat)
    assert wrong.score == 0 and _names(wrong) == [], wrong.feedback()
    # the residual network's 34 samples: 33 samples at 173.61 Hz and 34 at 178 Hz lie 0.9 ms apart
    close = answer_verdict("receptive_field_ms", 33 * MS, models.residual_cnn())
    assert close.score == 0 and _names(close) == [], close.feedback()


@pytest.mark.parametrize("answer", [None, "392 ms", "391.7", True, [1.0, 2.0], float("nan"), {"ms": 392}])
def test_what_is_not_one_number_scores_zero_with_a_reason(answer):
    result = answer_verdict("receptive_field_ms", answer, models.strong_cnn())
    assert result.score == 0 and "should be one number" in result.feedback()


def test_a_builder_that_failed_scores_zero_and_says_so():
    result = answer_verdict("receptive_field_ms", 100.0, "ValueError: bad kernel")
    assert result.score == 0 and "no model of yours" in result.feedback() and "bad kernel" in result.feedback()


def test_the_check_builds_the_students_model_and_names_an_unknown_quantity():
    assert check_model_answer("receptive_field_ms", STRONG * MS, models.strong_cnn, points=1) == 1
    assert check_model_answer("receptive_field_ms", STRONG * MS, models.spec_cnn, points=1) == 0
    with pytest.raises(ValueError, match="Invalid value for argument `quantity`"):
        answer_verdict("field_of_view", 1.0, models.spec_cnn())
