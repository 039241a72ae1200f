"""Reference Keras models: the assignment's spec CNN, a stronger CNN, an MLP
baseline for the seizure task, and LeNet-5 for 32x32 images.

Every builder returns an uncompiled `keras.Model` whose last layer outputs
logits (no softmax): train with `from_logits=True` losses, as
`cnnkit.training.train` does.
"""

from __future__ import annotations

from cnnkit._validation import check_positive_ints

__all__ = ["MODELS", "build", "lenet5", "mlp_baseline", "spec_cnn", "strong_cnn"]


def spec_cnn(input_length=178, num_classes=5):
    """The assignment's spec: two Conv1D -> ReLU -> MaxPooling1D(2) blocks.

    Layers: Conv1D(6, 5) -> ReLU -> MaxPooling1D(2) -> Conv1D(16, 5) -> ReLU
    -> MaxPooling1D(2) -> Flatten -> Dense(128) -> ReLU -> Dense(num_classes).
    For 178 samples and 5 classes it has 85,273 parameters.

    Args:
        input_length: int, samples per row.
        num_classes: int, outputs (logits).

    Returns:
        An uncompiled `keras.Model` mapping (batch, input_length, 1) to
        (batch, num_classes) logits.

    Raises:
        ValueError: if a size is not a positive int.
    """
    import keras
    from keras import layers

    length, classes = _sizes(input_length, num_classes)
    return keras.Sequential(
        [
            keras.Input((length, 1)),
            layers.Conv1D(6, 5, activation="relu"),
            layers.MaxPooling1D(2),
            layers.Conv1D(16, 5, activation="relu"),
            layers.MaxPooling1D(2),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(classes),
        ],
        name="spec_cnn",
    )


def strong_cnn(input_length=178, num_classes=5):
    """A stronger reference: four conv blocks with batch normalisation,
    a global average pool and dropout.

    Each block is Conv1D(same) -> BatchNormalization -> ReLU -> MaxPooling1D(2),
    widening 32 -> 64 -> 96 -> 128 filters with kernel widths 7, 5, 5, 3, so
    the last block sees about half a second of EEG. Global average pooling
    keeps the head small (and robust to where in the chunk a pattern falls);
    dropout regularises it.

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
    blocks = []
    for filters, width in ((32, 7), (64, 5), (96, 5), (128, 3)):
        blocks += [
            layers.Conv1D(filters, width, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.MaxPooling1D(2),
        ]
    return keras.Sequential(
        [keras.Input((length, 1)), *blocks,
         layers.GlobalAveragePooling1D(),
         layers.Dropout(0.3),
         layers.Dense(64, activation="relu"),
         layers.Dropout(0.3),
         layers.Dense(classes)],
        name="strong_cnn",
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


def lenet5(input_shape=(32, 32, 1), num_classes=10):
    """LeNet-5 (LeCun et al., 1998) as usually rebuilt in Keras.

    C1 Conv2D(6, 5x5, tanh) -> S2 AveragePooling2D(2) -> C3 Conv2D(16, 5x5,
    tanh) -> S4 AveragePooling2D(2) -> Flatten -> F5 Dense(120, tanh) ->
    F6 Dense(84, tanh) -> Dense(num_classes). For a 32x32x1 input and 10
    classes it has 61,706 parameters.

    Args:
        input_shape: tuple (height, width, channels).
        num_classes: int, outputs (logits).

    Returns:
        An uncompiled `keras.Model`.

    Raises:
        ValueError: if a size is not a positive int, or the input is smaller
            than 32x32 in height or width (its conv/pool stack needs that).
    """
    import keras
    from keras import layers

    shape = check_positive_ints(input_shape, name="input_shape", n=3)
    (classes,) = check_positive_ints(num_classes, name="num_classes", n=1)
    if min(shape[:2]) < 32:
        raise ValueError(f"Argument `input_shape` must be at least 32x32; received input_shape={input_shape!r}.")
    return keras.Sequential(
        [keras.Input(shape),
         layers.Conv2D(6, 5, activation="tanh", name="C1"),
         layers.AveragePooling2D(2, name="S2"),
         layers.Conv2D(16, 5, activation="tanh", name="C3"),
         layers.AveragePooling2D(2, name="S4"),
         layers.Flatten(),
         layers.Dense(120, activation="tanh", name="F5"),
         layers.Dense(84, activation="tanh", name="F6"),
         layers.Dense(classes, name="output")],
        name="lenet5",
    )


def _sizes(input_length, num_classes):
    (length,) = check_positive_ints(input_length, name="input_length", n=1)
    (classes,) = check_positive_ints(num_classes, name="num_classes", n=1)
    return length, classes


MODELS = {"spec": spec_cnn, "strong": strong_cnn, "mlp": mlp_baseline}


def build(name, num_classes=5, input_length=178):
    """Builds a seizure model by its short name (`"spec"`, `"strong"`, `"mlp"`).

    Args:
        name: a key of `MODELS`.
        num_classes: int, outputs (logits).
        input_length: int, samples per row.

    Returns:
        An uncompiled `keras.Model`.

    Raises:
        ValueError: if `name` is unknown.
    """
    if name not in MODELS:
        raise ValueError(f"Invalid value for argument `name`. Expected one of {', '.join(map(repr, MODELS))}. Received name={name!r}.")
    return MODELS[name](input_length=input_length, num_classes=num_classes)
