"""Trainings under the budget are recorded once: a process killed mid-training
leaves no record (nor a held lock), the next one trains and records it, and
every later one reads the record without training."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.keras]
TRAIN = """
import sys
from cnnkit.assignment import budget_accuracy
from cnnkit.reference.models import gap_cnn

trained = []
accuracy = budget_accuracy(gap_cnn, 7, announce=lambda: (trained.append(1), print("training", flush=True)))
print("accuracy", accuracy, "trained" if trained else "read", flush=True)
"""


def _train(cache):
    env = {**os.environ, "CNNKIT_CACHE": str(cache), "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("CNNKIT_DATA", None)
    return subprocess.Popen([sys.executable, "-c", TRAIN], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env)


def test_a_training_killed_half_way_is_trained_again_once_then_only_read(tmp_path):
    killed = _train(tmp_path)
    assert killed.stdout.readline().strip() == "training"
    time.sleep(2)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert list(tmp_path.glob("trained-*.json")) == [], "nothing recorded half-way"

    first = _train(tmp_path)
    out, _ = first.communicate(timeout=600)
    assert first.returncode == 0 and out.splitlines()[0] == "training" and out.strip().endswith("trained")
    records = list(tmp_path.glob("trained-*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    assert record["setup"] == {"threads": 1, "deterministic": True} and record["seed"] == 7

    again = _train(tmp_path)
    out, _ = again.communicate(timeout=600)
    assert out.splitlines() == [f"accuracy {record['accuracy']} read"], "read from the record, not trained"


def test_a_worker_that_will_not_wait_gets_none_while_another_process_trains_the_same_key(tmp_path, monkeypatch):
    from cnnkit.assignment import budget_accuracy
    from cnnkit.reference.models import gap_cnn

    monkeypatch.setenv("CNNKIT_CACHE", str(tmp_path))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the same key as the child's
    monkeypatch.delenv("CNNKIT_DATA", raising=False)
    busy = _train(tmp_path)
    try:
        assert busy.stdout.readline().strip() == "training"
        started = []
        assert budget_accuracy(gap_cnn, 7, announce=lambda: started.append(1), wait=False) is None
        assert started == [] and list(tmp_path.glob("trained-*.json")) == [], "it neither trained nor waited"
    finally:
        busy.kill()
        busy.wait()


def test_free_first_trains_what_nobody_else_is_training_and_waits_only_when_all_of_it_is_elsewhere():
    from autograder.verifier.verifier import Verifier

    elsewhere, calls = {"a", "c"}, []

    def training(name):
        def run(wait):
            calls.append((name, wait))
            if name in elsewhere and not wait:
                return None
            elsewhere.discard(name)  # waited for it: the other process has recorded it
            return name.upper()
        return run

    assert Verifier.free_first([training(name) for name in "abc"]) == ["A", "B", "C"]
    # b first (a and c are being trained elsewhere), then a wait for a only, then c is tried again before waiting
    assert calls == [("a", False), ("b", False), ("c", False), ("a", False), ("c", False),
                     ("a", True), ("c", False), ("c", True)]
