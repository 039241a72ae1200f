"""The grader's reference implementations: convolution, pooling,
normalisation, parameter counts, receptive fields, the shifts a
global average ignores, a training step's costs, a difference in seed spreads
and the graded models.

Only the grader imports this package: it is absent from every sandbox
where student code runs and from the student's kit, so that nothing but a
student's own code can compute a graded answer. The operations are NumPy
only; importing it does not import Keras.
"""

from cnnkit.reference.architecture import (
    ParameterCounts,
    compare_with_dense,
    conv_multiply_adds,
    conv_parameter_count,
    dense_parameter_count,
    invariant_shifts,
    locally_connected_parameter_count,
    receptive_field,
)
from cnnkit.reference.conv import conv1d, conv2d, convolve2d, correlate2d, output_length
from cnnkit.reference.noise import in_seed_spreads
from cnnkit.reference.normalization import batch_norm, dropout
from cnnkit.reference.pooling import average_pool1d, average_pool2d, max_pool1d, max_pool2d
from cnnkit.reference.timing import step_costs

__all__ = [
    "ParameterCounts",
    "average_pool1d",
    "average_pool2d",
    "batch_norm",
    "compare_with_dense",
    "conv1d",
    "conv2d",
    "conv_multiply_adds",
    "conv_parameter_count",
    "convolve2d",
    "correlate2d",
    "dense_parameter_count",
    "dropout",
    "in_seed_spreads",
    "invariant_shifts",
    "locally_connected_parameter_count",
    "max_pool1d",
    "max_pool2d",
    "output_length",
    "receptive_field",
    "step_costs",
]
