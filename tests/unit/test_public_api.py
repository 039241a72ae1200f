"""The public surface is exactly the intended names, and the examples in the
docstrings run as written."""

import doctest
import importlib
import subprocess
import sys

import pytest

import cnnkit
import cnnkit.reference

PUBLIC = {
    "ParameterCounts", "average_pool1d", "average_pool2d", "compare_with_dense", "conv1d",
    "conv2d", "conv_multiply_adds", "conv_parameter_count", "convolve2d", "correlate2d", "dense_parameter_count",
    "max_pool1d", "max_pool2d", "output_length", "receptive_field", "batch_norm", "dropout",
    "locally_connected_parameter_count", "invariant_shifts", "step_costs", "in_seed_spreads",
}


def test_reference_names_are_exactly_the_intended_ones():
    assert set(cnnkit.reference.__all__) == PUBLIC
    for name in cnnkit.reference.__all__:
        assert getattr(cnnkit.reference, name).__doc__, f"cnnkit.reference.{name} has no docstring"


def test_the_student_package_exports_no_reference():
    assert not PUBLIC & set(dir(cnnkit))


def test_importing_cnnkit_does_not_import_keras():
    code = "import sys, cnnkit.reference; print('keras' in sys.modules or 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("module", ["cnnkit.reference.conv", "cnnkit.reference.pooling", "cnnkit.reference.architecture",
                                    "cnnkit.reference.timing", "cnnkit.reference.noise"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 or module == "cnnkit.reference.pooling"
    assert result.failed == 0
