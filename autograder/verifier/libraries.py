"""Which libraries a student's graded code may reach.

- cnnkit's **reference** (its ops, models and checks) is the grader's: a
  graded function, builder or predictor that reaches it scores 0. Only the
  modules in `STUDENT_CNNKIT` are the student's tools (data, the budget and
  its training procedure, device set-up, training helpers).
- **Frameworks** are off limits in NumPy exercises.
"""

__all__ = ["FRAMEWORKS", "STUDENT_CNNKIT", "is_reference"]

STUDENT_CNNKIT = ("cnnkit.assignment", "cnnkit.data", "cnnkit.devices", "cnnkit.training")
FRAMEWORKS = ("keras", "tensorflow", "torch", "jax")


def is_reference(qualified):
    """Whether a qualified name (`cnnkit.reference.conv.conv2d`) is part of cnnkit's reference.

    Args:
        qualified: a dotted name.

    Returns:
        True for names inside `cnnkit` but outside `STUDENT_CNNKIT` (the bare
        package name does not count).
    """
    return qualified.startswith("cnnkit.") and not qualified.startswith(STUDENT_CNNKIT)
