"""Property tests: every layer-shaped reference op equals its Keras layer given
the same weights, over hundreds of random shapes, strides, paddings and
dilations, to float32 tolerance."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnkit.reference.parity import OPS, keras_forward, reference_as_keras

pytestmark = pytest.mark.keras

# 100 examples per op under the default backend; the other backends' runs (tests/backends) ask for fewer.
SETTINGS = settings(max_examples=int(os.environ.get("CNNKIT_PARITY_EXAMPLES", "100")), deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
RTOL, ATOL = 1e-5, 1e-5


@st.composite
def cases(draw, op):
    rank = 2 if op.endswith("2d") else 1
    conv = op.startswith("conv")
    window = tuple(draw(st.integers(1, 6)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    dilation = (1,) * rank
    if conv and draw(st.booleans()):  # Keras allows dilation only with unit strides
        strides, dilation = (1,) * rank, tuple(draw(st.integers(1, 4)) for _ in range(rank))
    span = [d * (k - 1) + 1 for k, d in zip(window, dilation)]
    sizes = tuple(s + draw(st.integers(0, 9)) for s in span)  # odd and even, down to the span
    channels = draw(st.integers(1, 4))
    paddings = ["valid", "same"] + (["causal"] if op == "conv1d" else [])
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    case = {
        "x": rng.standard_normal((draw(st.integers(1, 3)),) + sizes + (channels,)).astype("float32"),
        "strides": strides if rank == 2 else strides[0],
        "padding": draw(st.sampled_from(paddings)),
    }
    if conv:
        filters = draw(st.integers(1, 5))
        case["kernel"] = rng.standard_normal(window + (channels, filters)).astype("float32")
        case["bias"] = rng.standard_normal(filters).astype("float32") if draw(st.booleans()) else None
        case["dilation_rate"] = dilation if rank == 2 else dilation[0]
    else:
        case["pool_size"] = window if rank == 2 else window[0]
    return case


def _assert_matches_keras(op, case):
    got = reference_as_keras(op, **case)  # NaN where a backend is documented to differ
    expected = keras_forward(op, **case)
    compared = ~np.isnan(got)
    got, expected = np.where(compared, got, 0.0).astype(got.dtype), np.where(compared, expected, 0.0)
    assert got.shape == expected.shape, f"{op}: shape {got.shape} != Keras {expected.shape}"
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.slow
@pytest.mark.parametrize("op", list(OPS))
def test_reference_matches_keras_layer(op):
    @SETTINGS
    @given(cases(op))
    def check(case):
        _assert_matches_keras(op, case)

    check()


# The edges of 'same' padding, named: even windows (padding split unevenly),
# strides that do not divide the input, inputs exactly as long as the window.
EDGES = [
    ("conv2d", dict(kernel=(2, 2), size=(5, 6), strides=(1, 1), padding="same")),
    ("conv2d", dict(kernel=(4, 3), size=(7, 8), strides=(3, 2), padding="same")),
    ("conv2d", dict(kernel=(3, 3), size=(3, 3), strides=(1, 1), padding="valid")),
    ("conv2d", dict(kernel=(5, 5), size=(2, 3), strides=(2, 2), padding="same")),
    ("conv1d", dict(kernel=(4,), size=(9,), strides=2, padding="same")),
    ("conv1d", dict(kernel=(3,), size=(3,), strides=1, padding="causal", dilation_rate=1)),
    ("max_pool2d", dict(pool_size=(2, 2), size=(5, 5), strides=(2, 2), padding="same")),
    ("max_pool2d", dict(pool_size=(3, 2), size=(4, 7), strides=(1, 3), padding="same")),
    ("average_pool2d", dict(pool_size=(2, 3), size=(5, 7), strides=(2, 2), padding="same")),
    ("average_pool2d", dict(pool_size=(4, 4), size=(4, 4), strides=(1, 1), padding="valid")),
    ("max_pool1d", dict(pool_size=4, size=(10,), strides=3, padding="same")),
    ("average_pool1d", dict(pool_size=2, size=(11,), strides=2, padding="same")),
]


@pytest.mark.parametrize("op, spec", EDGES, ids=[f"{op}-{i}" for i, (op, _) in enumerate(EDGES)])
def test_reference_matches_keras_on_same_padding_edges(op, spec):
    rng = np.random.default_rng(7)
    spec = dict(spec)
    size = spec.pop("size")
    case = {"x": rng.standard_normal((2,) + size + (3,)).astype("float32"), **spec}
    if op.startswith("conv"):
        case["kernel"] = rng.standard_normal(spec["kernel"] + (3, 2)).astype("float32")
        case["bias"] = rng.standard_normal(2).astype("float32")
    _assert_matches_keras(op, case)
