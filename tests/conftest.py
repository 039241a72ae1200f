"""Shared fixtures and test set-up for cnnkit."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def small_table():
    """A small synthetic table: 10 recordings per class, 1,150 rows."""
    from cnnkit.data import make_synthetic

    return make_synthetic(seed=3, recordings_per_class=10)


def requires_shared_data(*names):
    """Skips a test when ../shared/data lacks a file (CI has them all)."""
    missing = [n for n in names if not (SHARED_DATA / n).is_file()]
    return pytest.mark.skipif(bool(missing), reason=f"../shared/data lacks {missing}")


REAL_CSV = SHARED_DATA / "epileptic_seizure_recognition.csv"
REAL_ZIP = SHARED_DATA / "bonn_eeg_sets_ZONFS.zip"
