"""Architectures for the seizure notebook's explorations: an MLP baseline
and a wider CNN.

None of them is a graded answer: they are what the notebook compares the
student's own spec CNN with (the wider CNN is also the first idea its
"improve it" lists, spelt out there layer by layer). Every builder returns an uncompiled
`keras.Model` whose last layer outputs logits (no softmax).
"""

from __future__ import annotations

from cnnkit._validation import check_positive_ints

__all__ = ["mlp_baseline", "wider_cnn"]


def wider_cnn(input_length=178, num_classes=5):
    """The spec CNN with four times the filters and wider early kernels.

    Layers: Conv1D(24, 9) -> ReLU -> MaxPooling1D(2) -> Conv1D(64, 5) ->
    ReLU -> MaxPooling1D(2) -> Flatten -> Dense(64) -> ReLU -> Dense(num_classes).

    Args:
        input_length: int, samples per row.
        num_classes: int, outputs (logits).

    Returns:
        An uncompiled `keras.Model` mapping (batch, input_length, 1) to logits.

    Raises:
        ValueError: if a size is not a positive int.
    """
    import keras
    from keras import layers

    length, classes = _sizes(input_length, num_classes)
    return keras.Sequential(
        [keras.Input((length, 1)),
         layers.Conv1D(24, 9, activation="relu"), layers.MaxPooling1D(2),
         layers.Conv1D(64, 5, activation="relu"), layers.MaxPooling1D(2),
         layers.Flatten(),
         layers.Dense(64, activation="relu"),
         layers.Dense(classes)],
        name="wider_cnn",
    )


def mlp_baseline(input_length=178, num_classes=5):
    """A dense baseline that ignores the order of samples: no convolution.

    Args:
        input_length: int, samples per row.
        num_classes: int, outputs (logits).

    Returns:
        An uncompiled `keras.Model` mapping (batch, input_length, 1) to logits.

    Raises:
        ValueError: if a size is not a positive int.
    """
    import keras
    from keras import layers

    length, classes = _sizes(input_length, num_classes)
    return keras.Sequential(
        [keras.Input((length, 1)), layers.Flatten(),
         layers.Dense(256, activation="relu"), layers.Dropout(0.3),
         layers.Dense(128, activation="relu"), layers.Dropout(0.3),
         layers.Dense(classes)],
        name="mlp_baseline",
    )


def _sizes(input_length, num_classes):
    (length,) = check_positive_ints(input_length, name="input_length", n=1)
    (classes,) = check_positive_ints(num_classes, name="num_classes", n=1)
    return length, classes
