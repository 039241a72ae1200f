"""cnnkit: reference implementations and checks for a course on convolutional networks.

The reference operations are NumPy only; importing `cnnkit` does not import
Keras. Data loading, models, training and checks live in their own modules.
"""

from cnnkit.architecture import (
    ParameterCounts,
    compare_with_dense,
    conv_parameter_count,
    dense_parameter_count,
    locally_connected_parameter_count,
    receptive_field,
)
from cnnkit.conv import conv1d, conv2d, convolve2d, correlate2d, output_length
from cnnkit.normalization import batch_norm, dropout
from cnnkit.pooling import average_pool1d, average_pool2d, max_pool1d, max_pool2d

__version__ = "0.1.0"

__all__ = [
    "ParameterCounts",
    "average_pool1d",
    "average_pool2d",
    "batch_norm",
    "compare_with_dense",
    "conv1d",
    "conv2d",
    "conv_parameter_count",
    "convolve2d",
    "correlate2d",
    "dense_parameter_count",
    "dropout",
    "locally_connected_parameter_count",
    "max_pool1d",
    "max_pool2d",
    "output_length",
    "receptive_field",
]
