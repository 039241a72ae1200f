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
| `answer` | `check_model_answer` | `answer` | the student's number against the grader's from their built model |
| `nbgrader` | no cnnkit check | none | the cell's own outputs, as nbgrader scores them |

A new kind is a module with a `Kind` subclass, registered here (or with
`register` at run time). The plan finds a cell's kind by the name of the
check its hidden test calls (`kind_called`); everything else asks
`kind_of(check)`.
"""

from __future__ import annotations

from autograder.verifier.kinds.answer import Answer
from autograder.verifier.kinds.base import (BoundCall, Check, Context, Kind, ModelProblem, ReferenceModel,
                                            ReferenceTraining, Submitter, Verdict, load_model, zero)
from autograder.verifier.kinds.block import Block
from autograder.verifier.kinds.function import Function
from autograder.verifier.kinds.improvement import Improvement
from autograder.verifier.kinds.invariance import Invariance
from autograder.verifier.kinds.mode import Mode
from autograder.verifier.kinds.outputs import FromOutputs
from autograder.verifier.kinds.registry import KINDS, kind_called, kind_of, register, registered
from autograder.verifier.kinds.spec import Spec
from autograder.verifier.kinds.trained import Trained

__all__ = ["FROM_OUTPUTS", "KINDS", "BoundCall", "Check", "Context", "Kind", "ModelProblem", "ReferenceModel",
           "ReferenceTraining", "Submitter", "Verdict",
           "kind_called", "kind_of", "load_model", "register", "registered", "zero"]

FROM_OUTPUTS = FromOutputs.name  # the kind of a graded cell that calls no cnnkit check

for _kind in (Function(), Spec(), Trained(), Mode(), Block(), Invariance(), Improvement(), Answer(), FromOutputs()):
    register(_kind)
