"""A prediction function that must run a model in inference mode.

The hidden test calls `cnnkit.checks.check_train_eval_mode(predict_fn)`. The
verifier makes a probe model whose dropout and batch normalisation disagree
between training and inference (seeded per student), has the probe call the
student's function on it twice, and compares the classes with the model's
inference-mode classes it computes itself (`cnnkit.checks.models.mode_verdict`).
"""

from __future__ import annotations

import base64
import functools
import tempfile
from pathlib import Path

import numpy as np

from cnnkit.checks.models import check_train_eval_mode, mode_verdict, probe_model

from autograder.sandbox.contracts import encode_value
from autograder.verifier.kinds.base import Check, Kind, Verdict
from autograder.verifier.kinds.function import output_of

__all__ = ["Mode"]


class Mode(Kind):
    """`check_train_eval_mode(predict_fn)`: predictions in inference mode."""

    name = "mode"
    check = staticmethod(check_train_eval_mode)
    target = "predict_fn"
    action = "predict"
    scanned = True

    def read(self, call, grade_id, points, stubs):
        return Check(grade_id, points, self.name, call.name("predict_fn"), "train_eval_mode")

    def request(self, check, verifier, student):
        model_bytes, x, _ = _probe(verifier.seed(student, check.name) % 2**31)
        return {"function": check.target, "model": base64.b64encode(model_bytes).decode(), "x": encode_value(x)}

    def verdict(self, check, reported, context):
        _, _, expected = _probe(context.verifier.seed(context.student, check.name) % 2**31)
        outputs = reported.get("outputs") if isinstance(reported.get("outputs"), list) else []
        got = []
        for item in (outputs + [{}, {}])[:2]:
            value, error = output_of(item if isinstance(item, dict) else {})
            got.append(error or ("predict_classes returned no array" if value is None else value))
        return Verdict.of(mode_verdict(got[0], got[1], expected, points=check.points))


@functools.lru_cache(maxsize=4)
def _probe(seed):
    """The probe model (as `.keras` bytes), its inputs and inference-mode classes."""
    import keras

    model, x = probe_model(seed)
    expected = np.argmax(keras.ops.convert_to_numpy(model(x, training=False)), axis=-1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "probe.keras"
        model.save(path)
        return path.read_bytes(), x, expected
