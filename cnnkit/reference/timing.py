"""What a training step costs: a fixed part per step and a part per row.

An epoch of `rows` rows in batches of `b` takes `ceil(rows / b)` steps (the
last one partial). Modelling each step as a fixed cost (launching the
step's work, Python, copying the batch) plus a cost per row (the arithmetic),

    seconds(b) = ceil(rows / b) * per_step + rows * per_row,

two epochs timed at two batch sizes give two equations in the two costs.
"""

from __future__ import annotations

import math

import numpy as np

from cnnkit._validation import check_positive_ints

__all__ = ["step_costs"]


def step_costs(rows, batch_sizes, seconds):
    """The fixed cost per step and the cost per row, from two timed epochs.

    Args:
        rows: int, the rows of one epoch.
        batch_sizes: two ints, the batch size of each timed epoch.
        seconds: two floats, each epoch's time in seconds.

    Returns:
        `(per_step, per_row)`, two Python floats in seconds.

    Raises:
        ValueError: if `rows` or a batch size is not a positive int, the two
            batch sizes give as many steps as each other, or `seconds` is
            not two finite numbers.

    Example:

    >>> per_step, per_row = step_costs(2048, (32, 512), (0.72, 0.12))  # 64 and 4 steps
    >>> print(f"{per_step * 1e3:.1f} ms per step, {per_row * 1e6:.1f} us per row")
    10.0 ms per step, 39.1 us per row
    """
    (rows,) = check_positive_ints(rows, name="rows", n=1)
    small, large = check_positive_ints(batch_sizes, name="batch_sizes", n=2)
    times = np.asarray(seconds, dtype=float)
    if times.shape != (2,) or not np.all(np.isfinite(times)):
        raise ValueError(f"Invalid value for argument `seconds`. Expected two finite numbers. Received {seconds!r}.")
    steps = (math.ceil(rows / small), math.ceil(rows / large))
    if steps[0] == steps[1]:
        raise ValueError(f"Invalid value for argument `batch_sizes`. Expected two batch sizes that give different "
                         f"numbers of steps over {rows} rows. Received {batch_sizes!r}.")
    per_step = float((times[0] - times[1]) / (steps[0] - steps[1]))
    return per_step, float((times[1] - steps[1] * per_step) / rows)
