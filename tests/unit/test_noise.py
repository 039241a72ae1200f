"""`cnnkit.reference.in_seed_spreads`: a difference of accuracies in sample
standard deviations over seeds, checked against the standard library's
`statistics.stdev`, with its sign, and refused where no spread exists."""

import statistics

import numpy as np
import pytest

from cnnkit.reference import in_seed_spreads


@pytest.mark.parametrize("difference, accuracies", [(0.031, [0.70, 0.69, 0.69, 0.71]), (-0.2, [0.55, 0.61]),
                                                    (0.004, [0.72, 0.73, 0.71, 0.72, 0.74, 0.70, 0.72, 0.73])])
def test_the_difference_is_measured_in_sample_standard_deviations(difference, accuracies):
    assert in_seed_spreads(difference, accuracies) == pytest.approx(difference / statistics.stdev(accuracies))


def test_the_sign_is_kept_and_a_list_an_array_and_float32_agree():
    accuracies = [0.70, 0.69, 0.72]
    gain = in_seed_spreads(0.012, accuracies)
    assert gain > 0 and in_seed_spreads(-0.012, accuracies) == pytest.approx(-gain)
    assert in_seed_spreads(np.float32(0.012), np.array(accuracies, dtype=np.float32)) == pytest.approx(gain, rel=1e-5)
    assert isinstance(gain, float)


def test_two_seeds_spread_by_their_distance_over_root_two():
    assert in_seed_spreads(0.01, [0.70, 0.71]) == pytest.approx(np.sqrt(2))


@pytest.mark.parametrize("accuracies, words", [([0.7], "at least two"), ([0.7, 0.7, 0.7], "at least two"),
                                               ([[0.7, 0.71]], "1-D"), ([0.7, np.nan], "finite")])
def test_no_spread_to_measure_against_is_refused_naming_the_argument(accuracies, words):
    with pytest.raises(ValueError, match="accuracies") as error:
        in_seed_spreads(0.01, accuracies)
    assert words in str(error.value) or words.replace("-D", "-D array") in str(error.value)


@pytest.mark.parametrize("difference, error", [("0.01", TypeError), (True, TypeError), (float("inf"), ValueError)])
def test_a_difference_that_is_not_one_finite_number_is_refused(difference, error):
    with pytest.raises(error, match="difference"):
        in_seed_spreads(difference, [0.70, 0.71])
