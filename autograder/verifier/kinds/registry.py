"""The registry of kinds of check: which exist, by name, and which cnnkit check each reads.

It imports no kind, so that a kind may consult the registry (a trained model's
check looks for the check that builds its architecture) without an import circle;
`autograder.verifier.kinds` registers the built-in kinds here.
"""

from __future__ import annotations

import contextlib

__all__ = ["KINDS", "kind_called", "kind_of", "register", "registered"]

KINDS = {}


def register(kind):
    """Adds a kind to the registry (replacing one of the same name).

    Args:
        kind: a `Kind` instance with a `name` (and a `check` for the plan to
            find it by).

    Returns:
        The kind.

    Raises:
        ValueError: if the kind has no name.
    """
    if not kind.name:
        raise ValueError(f"Invalid kind. Expected a `Kind` with a name. Received {kind!r}.")
    KINDS[kind.name] = kind
    return kind


@contextlib.contextmanager
def registered(kind):
    """A kind in the registry for the length of a `with` block (tests, one-off courses)."""
    previous = KINDS.get(kind.name)
    register(kind)
    try:
        yield kind
    finally:
        if previous is None:
            del KINDS[kind.name]
        else:
            KINDS[kind.name] = previous


def kind_of(check):
    """The registered `Kind` of a `Check`.

    Raises:
        KeyError: if no kind of that name is registered.
    """
    return KINDS[check.kind]


def kind_called(function_name):
    """The kind whose cnnkit check has this name (`check_function` -> `function`), or None."""
    for kind in KINDS.values():
        if kind.check is not None and kind.check.__name__ == function_name:
            return kind
    return None
