"""The trusted worker reads models that submissions made, so it runs within
limits of its own: in control groups where the machine has them, and under a
per-process memory limit where it has none (the kernel itself enforces it:
read back from /proc)."""

import time

import pytest

from autograder.pipeline.trusted import VERIFIER_LIMITS, TrustedWorker, VerifierSetup
from autograder.sandbox.isolation import detect

pytestmark = [pytest.mark.slow]


@pytest.fixture
def no_cgroups(monkeypatch):
    monkeypatch.setenv("CNNKIT_CGROUPS", "none")
    detect.cache_clear()
    yield
    detect.cache_clear()


def _data_limit(pid, timeout=10):
    """The 'Max data size' soft limit of a process in bytes, once its launcher has set it (None: still unlimited
    after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/limits") as handle:
            soft = next(line for line in handle if line.startswith("Max data size")).split()[3]
        if soft != "unlimited":
            return int(soft)
        time.sleep(0.05)
    return None


def test_without_cgroups_the_verifier_runs_under_a_memory_limit_of_its_own(no_cgroups, tmp_path):
    worker = TrustedWorker(VerifierSetup(tmp_path, tmp_path, "s", tmp_path))
    worker._start()
    try:
        assert worker.groups is None
        assert _data_limit(worker.process.pid) == VERIFIER_LIMITS.memory
    finally:
        worker.close()
