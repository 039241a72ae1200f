"""Keras' array pipelines without tf.data's autotuning: the same weights, bit for bit.

`steady_input_pipeline` changes Keras for the whole process, so each side of the
comparison trains in a fresh process of its own, held to one core as a grading
worker is."""

import json
import os
import subprocess
import sys

import pytest

from tests.engine.conftest import REPO

pytestmark = [pytest.mark.keras, pytest.mark.slow]

_TRAIN = """
import hashlib, json, sys
import keras
from cnnkit.data import make_synthetic, split
from cnnkit.reference import models
from cnnkit.training import steady_input_pipeline

if sys.argv[1] == "steady":
    steady_input_pipeline()
    steady_input_pipeline()  # a second call changes nothing
from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

parts = split(make_synthetic(seed=5, recordings_per_class=10), by="recording", seed=0)
keras.utils.set_random_seed(3)
model = models.build("spec")
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
history = model.fit(parts.train.x, parts.train.y, epochs=3, batch_size=32, shuffle=True, verbose=0)
dataset = ArrayDataAdapter(parts.train.x, parts.train.y, batch_size=32, shuffle=True).get_tf_dataset()
print(json.dumps({"weights": hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest(),
                  "loss": history.history["loss"], "autotune": dataset.options().autotune.enabled}))
"""


def _trained(mode):
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1",
           "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", _TRAIN, mode], capture_output=True, text=True, env=env, timeout=300,
                          preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}))
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_training_without_autotuning_gives_the_same_weights_bit_for_bit():
    tuned, steady = _trained("tuned"), _trained("steady")
    assert tuned["autotune"] is not False and steady["autotune"] is False  # the switch took effect, once asked
    assert steady["weights"] == tuned["weights"]
    assert steady["loss"] == tuned["loss"]
