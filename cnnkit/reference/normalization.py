"""Reference batch normalisation and dropout in NumPy: the two layers whose
output depends on the mode, training or inference.

- `batch_norm` is the forward pass of `keras.layers.BatchNormalization`: in
  training it normalises each channel with the statistics of the batch in
  hand (so a row's output depends on the other rows of its batch); in
  inference with the moving averages the layer has kept, row by row.
- `dropout` is the forward pass of `keras.layers.Dropout` ("inverted"
  dropout): in training it zeroes each unit whose noise falls below `rate`
  and scales the others by `1 / (1 - rate)`, so the expected output is the
  input; in inference it is the identity. The noise is an argument, so that
  the output is a function of its inputs and can be compared.
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnkit._validation import check_array

__all__ = ["batch_norm", "dropout"]


def batch_norm(x, gamma, beta, moving_mean, moving_var, training, epsilon=1e-3):
    """Forward pass of `keras.layers.BatchNormalization` (channels last).

    `y = gamma * (x - mean) / sqrt(var + epsilon) + beta`, per channel, where
    `mean` and `var` are the batch's (over every axis but the last, biased
    variance) in training and `moving_mean`, `moving_var` in inference.

    Args:
        x: float array of shape (batch, ..., channels).
        gamma, beta: float arrays of shape (channels,), the learnt scale and shift.
        moving_mean, moving_var: float arrays of shape (channels,), the
            moving averages of the statistics (variances >= 0).
        training: bool, the mode.
        epsilon: float > 0 added to the variance (Keras' default 1e-3).

    Returns:
        Float array of the shape of `x`.

    Raises:
        ValueError: if a per-channel array does not have `channels` entries,
            a variance is negative, `epsilon` is not positive, or an array is
            empty or non-finite.
        TypeError: if an array does not hold real numbers or `training` is
            not a bool.
    """
    x = check_array(x, name="x")
    if x.ndim < 2:
        raise ValueError(f"Argument `x` must be at least 2-D, (batch, ..., channels); received shape {x.shape}.")
    channels = x.shape[-1]
    gamma, beta, moving_mean, moving_var = (
        _per_channel(value, name, channels)
        for value, name in ((gamma, "gamma"), (beta, "beta"), (moving_mean, "moving_mean"), (moving_var, "moving_var")))
    if np.any(moving_var < 0):
        raise ValueError(f"Argument `moving_var` must hold variances (>= 0); received {moving_var}.")
    training = _check_mode(training)
    if not isinstance(epsilon, numbers.Real) or isinstance(epsilon, bool) or not epsilon > 0:
        raise ValueError(f"Invalid value for argument `epsilon`. Expected a positive number. Received epsilon={epsilon!r}.")
    if training:
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    else:
        mean, var = moving_mean, moving_var
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta


def dropout(x, rate, training, noise):
    """Forward pass of `keras.layers.Dropout`, with the randomness given.

    Args:
        x: float array of any shape.
        rate: float in [0, 1), the share of units to drop.
        training: bool, the mode.
        noise: float array of the shape of `x`, uniform in [0, 1): a unit is
            dropped where its noise is below `rate`.

    Returns:
        Float array of the shape of `x`: in training `x / (1 - rate)` where
        `noise >= rate` and 0 elsewhere; in inference `x` itself.

    Raises:
        ValueError: if `rate` is not in [0, 1) or `noise` does not have the
            shape of `x`.
        TypeError: if an array does not hold real numbers or `training` is
            not a bool.
    """
    x = check_array(x, name="x")
    noise = check_array(noise, name="noise")
    if noise.shape != x.shape:
        raise ValueError(f"Argument `noise` must have the shape of `x`, {x.shape}; received shape {noise.shape}.")
    if not isinstance(rate, numbers.Real) or isinstance(rate, bool) or not 0 <= rate < 1:
        raise ValueError(f"Invalid value for argument `rate`. Expected a number in [0, 1). Received rate={rate!r}.")
    if not _check_mode(training):
        return x
    return np.where(noise >= rate, x / (1.0 - rate), 0.0).astype(x.dtype)


def _per_channel(value, name, channels):
    array = check_array(value, name=name, ndim=1, layout="(channels,)")
    if array.shape[0] != channels:
        raise ValueError(f"Argument `{name}` must have one entry per channel ({channels}); received shape {array.shape}.")
    return array


def _check_mode(training):
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"Argument `training` must be a bool; received {training!r}.")
    return bool(training)
