"""autograder: the grading engine on top of nbgrader (isolation, limits,
trusted verification, parallel runs, exports). Filled in by later issues."""

__all__ = []
