"""What a sandbox may read beyond its notebooks, and its environment.

With `CNNKIT_DATA` set, the sandbox gets a copy of the seizure table without
its test recordings (mounted read-only at `/data/seizure.csv`); without it,
the notebooks generate the stand-in themselves. Nothing else of the grader's
(reference cache, course secret, held-out rows) goes in.
"""

from __future__ import annotations

import os

__all__ = ["sandbox_inputs"]

SANDBOX_DATA = "/data/seizure.csv"
_PASSED_ON = ("CNNKIT_CHECK_SEED", "KERAS_BACKEND")


def sandbox_inputs(scratch, *, retrained=(), untrained_before=()):
    """The files and environment a submission's sandbox gets.

    Args:
        scratch: a folder of the grader's where the student's copy of the
            data may be written (it lives as long as the grading run).
        retrained: names of the student's builders whose models the grader
            retrains itself: `train_under_budget` does not fit them in the
            kernel (see `cnnkit.assignment.UNGRADED_TRAINING_ENV`).
        untrained_before: the grade ids of those checks' test cells: Keras'
            `fit` does nothing in the cells that lead up to them, so that a
            student who trains with `fit` directly is not trained either (see
            `autograder.sandbox.contracts.Job.untrained_before`).

    Returns:
        A dict with `env` (variables for the kernels), `binds` (pairs of
        host path and sandbox path, shown read-only) and `untrained_before`,
        the keyword arguments of `autograder.pipeline.execute.execute`.
    """
    from cnnkit.assignment import GRADING_ENV, UNGRADED_TRAINING_ENV, WITHOUT_TEST_ENV, write_student_data
    from cnnkit.data import DATA_ENV

    env, binds = {GRADING_ENV: "1"}, []
    if retrained:
        env[UNGRADED_TRAINING_ENV] = ",".join(retrained)
    if os.environ.get(DATA_ENV):
        student_data = scratch / "student-data.csv"
        write_student_data(student_data)
        binds.append((str(student_data), SANDBOX_DATA))
        env[DATA_ENV] = SANDBOX_DATA
        env[WITHOUT_TEST_ENV] = "1"  # so that its split takes no test part from what is left
    for name in _PASSED_ON:
        if os.environ.get(name):
            env[name] = os.environ[name]
    return {"env": env, "binds": tuple(binds), "untrained_before": tuple(untrained_before)}
