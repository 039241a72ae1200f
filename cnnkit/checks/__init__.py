"""The helpers that public and hidden tests call.

Every check returns its score as a plain Python float in [0, points] (the
test cell's last value, nbgrader's partial credit), prints feedback that
names the likely misconception, keeps library warnings off stderr, and
leaves evidence for the trusted verifier in a display bundle of MIME type
`application/vnd.cnnkit.evidence+json`.
"""

from cnnkit.checks.answers import check_model_answer
from cnnkit.checks.blocks import check_residual_block, check_shift_invariance
from cnnkit.checks.functions import GRADED, check_function
from cnnkit.checks.models import (check_improvement, check_model_spec, check_train_eval_mode, check_trained_model,
                                  model_spec)
from cnnkit.checks.report import EVIDENCE_MIME, CheckResult, Mistake, decode_array, encode_array
from cnnkit.quiet import silenced

__all__ = [
    "EVIDENCE_MIME",
    "GRADED",
    "CheckResult",
    "Mistake",
    "check_function",
    "check_improvement",
    "check_model_answer",
    "check_model_spec",
    "check_residual_block",
    "check_shift_invariance",
    "check_train_eval_mode",
    "check_trained_model",
    "decode_array",
    "encode_array",
    "model_spec",
    "silenced",
]
