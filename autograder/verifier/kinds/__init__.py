"""The kinds of check the verifier knows, one module each, and their registry.

| kind | the hidden test calls | probe action | verdict |
| --- | --- | --- | --- |
| `function` | `check_function` | `call` | outputs on the grader's cases against the reference |
| `spec` | `check_model_spec` | `build` | the built model against the reference, layer by layer |
| `trained` | `check_trained_model` | `save` | held-out accuracy against the reference trained under the budget |
| `mode` | `check_train_eval_mode` | `predict` | classes on the grader's probe model in inference mode |
| `block` | `check_residual_block` | `block` | the block's graph, and its output recomputed with NumPy |
| `invariance` | `check_shift_invariance` | `build` | the output on a pattern moved along the row |
| `improvement` | `check_improvement` | `build` | the architecture retrained here against the spec CNN |
| `nbgrader` | no cnnkit check | none | the cell's own outputs, as nbgrader scores them |

A new kind is a module with a `Kind` subclass, registered here (or with
`register` at run time). The plan finds a cell's kind by the name of the
check its hidden test calls (`kind_called`); everything else asks
`kind_of(check)`.
"""

from __future__ import annotations

import contextlib

from autograder.verifier.kinds.base import (BoundCall, Check, Context, Kind, ModelProblem, ReferenceModel,
                                            ReferenceTraining, Verdict, load_model, zero)
from autograder.verifier.kinds.block import Block
from autograder.verifier.kinds.function import Function
from autograder.verifier.kinds.improvement import Improvement
from autograder.verifier.kinds.invariance import Invariance
from autograder.verifier.kinds.mode import Mode
from autograder.verifier.kinds.outputs import FromOutputs
from autograder.verifier.kinds.spec import Spec
from autograder.verifier.kinds.trained import Trained

__all__ = ["FROM_OUTPUTS", "KINDS", "BoundCall", "Check", "Context", "Kind", "ModelProblem", "ReferenceModel",
           "ReferenceTraining", "Verdict",
           "kind_called", "kind_of", "load_model", "register", "registered", "zero"]

KINDS = {}
FROM_OUTPUTS = FromOutputs.name  # the kind of a graded cell that calls no cnnkit check


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


for _kind in (Function(), Spec(), Trained(), Mode(), Block(), Invariance(), Improvement(), FromOutputs()):
    register(_kind)
