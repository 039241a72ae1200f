"""How far apart two trainings land by chance: a difference in seed spreads.

Training the same network on the same rows with another seed (another
initialisation, another order of batches) moves its accuracy a little. A
difference between two runs says something only when it is large against
that movement, measured by the sample standard deviation of the accuracies
of several seeds,

    s = sqrt(sum_i (a_i - mean(a))^2 / (n - 1)),

so a difference `d` is `d / s` seed spreads. The difference of two single
runs, each off by about one spread, is itself off by about sqrt(2) spreads:
a ratio below about 3 is within chance.
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnkit._validation import check_array

__all__ = ["in_seed_spreads"]


def in_seed_spreads(difference, accuracies):
    """A difference of accuracies in units of the spread over training seeds.

    Args:
        difference: float, a difference of two accuracies (fractions: 0.031
            is 3.1 points), signed: negative when the first scored lower.
        accuracies: 1-D array-like of at least two accuracies (fractions) of
            one network trained with different seeds, not all equal.

    Returns:
        `difference / s`, a Python float, where `s` is the accuracies' sample
        standard deviation (`n - 1` in the denominator).

    Raises:
        TypeError: if `difference` is not a real number.
        ValueError: if `difference` is not finite, or `accuracies` is not
            1-D, has fewer than two values, or has no spread.

    Example:

    >>> round(in_seed_spreads(0.03, [0.70, 0.69, 0.71]), 6)  # 3 points against a spread of 1 point
    3.0
    """
    if isinstance(difference, bool) or not isinstance(difference, numbers.Real):
        raise TypeError(f"Argument `difference` must be a real number; received {difference!r}.")
    if not np.isfinite(difference):
        raise ValueError(f"Argument `difference` must be finite; received {difference!r}.")
    values = check_array(accuracies, name="accuracies", ndim=1, layout="(seeds,)").astype(np.float64)
    if values.size < 2 or np.ptp(values) == 0:
        raise ValueError(f"Argument `accuracies` must hold at least two accuracies that differ (a spread to "
                         f"measure against); received {np.asarray(accuracies).tolist()!r}.")
    return float(difference) / float(np.std(values, ddof=1))
