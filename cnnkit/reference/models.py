"""Reference Keras models: the assignment's spec CNN and its variants (a
global-average-pooling head, a wider CNN, batch normalisation, residual
blocks), a stronger CNN, an MLP baseline for the seizure task, and LeNet-5
for 32x32 images.

Every builder returns an uncompiled `keras.Model` whose last layer outputs
logits (no softmax): train with `from_logits=True` losses, as
`cnnkit.training.train` does.
"""

from __future__ import annotations

import math

from cnnkit._validation import check_positive_ints
from cnnkit.explorations import _sizes, mlp_baseline, wider_cnn

__all__ = ["MODELS", "bn_cnn", "build", "gap_cnn", "lenet5", "mlp_baseline", "receptive_field_of", "residual_block",
           "residual_cnn", "spec_cnn", "strong_cnn", "wider_cnn"]


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


def bn_cnn(input_length=178, num_classes=5):
    """The spec CNN with batch normalisation after each convolution.

    Layers: [Conv1D(6, 5, no bias) -> BatchNormalization -> ReLU ->
    MaxPooling1D(2)], then the same with 16 filters, Flatten -> Dense(128)
    -> ReLU -> Dense(num_classes). The batch normalisations' momentum is
    0.9 (Keras' default is 0.99), so that their moving averages, which
    evaluation uses, catch up within a short training.

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
    for filters in (6, 16):
        blocks += [layers.Conv1D(filters, 5, use_bias=False), layers.BatchNormalization(momentum=0.9), layers.ReLU(),
                   layers.MaxPooling1D(2)]
    return keras.Sequential(
        [keras.Input((length, 1)), *blocks, layers.Flatten(),
         layers.Dense(128, activation="relu"), layers.Dense(classes)],
        name="bn_cnn",
    )


def gap_cnn(input_length=178, num_classes=5):
    """The spec CNN with a global-average-pooling head instead of Flatten.

    Layers: Conv1D(6, 5) -> ReLU -> MaxPooling1D(2) -> Conv1D(16, 5) -> ReLU
    -> MaxPooling1D(2) -> GlobalAveragePooling1D -> Dense(128) -> ReLU ->
    Dense(num_classes). Averaging over positions makes the head blind to
    where in the row a pattern lies (and cuts the parameters from 85,273
    to 3,353 for 178 samples and 5 classes).

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
         layers.Conv1D(6, 5, activation="relu"), layers.MaxPooling1D(2),
         layers.Conv1D(16, 5, activation="relu"), layers.MaxPooling1D(2),
         layers.GlobalAveragePooling1D(),
         layers.Dense(128, activation="relu"),
         layers.Dense(classes)],
        name="gap_cnn",
    )






def residual_block(x, filters, kernel_size=3, momentum=0.99):
    """A residual block on a Keras tensor (functional API).

    `ReLU(main(x) + shortcut(x))`, where the main path is Conv1D(same) ->
    BatchNormalization -> ReLU -> Conv1D(same) -> BatchNormalization and the
    shortcut is `x` itself, or a 1x1 Conv1D (a projection) when the number of
    channels changes.

    Args:
        x: a Keras tensor of shape (batch, steps, channels).
        filters: int, channels of the output.
        kernel_size: int, width of the main path's kernels.
        momentum: float, the batch normalisations' momentum (Keras' default
            0.99; lower follows the batch statistics faster).

    Returns:
        A Keras tensor of shape (batch, steps, filters).

    Raises:
        ValueError: if a size is not a positive int.
    """
    from keras import layers

    (filters,) = check_positive_ints(filters, name="filters", n=1)
    (kernel_size,) = check_positive_ints(kernel_size, name="kernel_size", n=1)
    shortcut = x if x.shape[-1] == filters else layers.Conv1D(filters, 1)(x)
    y = layers.Conv1D(filters, kernel_size, padding="same")(x)
    y = layers.BatchNormalization(momentum=momentum)(y)
    y = layers.ReLU()(y)
    y = layers.Conv1D(filters, kernel_size, padding="same")(y)
    y = layers.BatchNormalization(momentum=momentum)(y)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def residual_cnn(input_length=178, num_classes=5):
    """A small residual network: a stem, two residual blocks with pooling,
    global average pooling.

    Layers: Conv1D(16, 7) -> ReLU -> MaxPooling1D(2) -> residual_block(16)
    -> MaxPooling1D(2) -> residual_block(32) -> GlobalAveragePooling1D ->
    Dense(num_classes); batch normalisation momentum 0.9, as in `bn_cnn`.

    Args:
        input_length: int, samples per row.
        num_classes: int, outputs (logits).

    Returns:
        An uncompiled functional `keras.Model` mapping (batch, input_length, 1)
        to logits.

    Raises:
        ValueError: if a size is not a positive int.
    """
    import keras
    from keras import layers

    length, classes = _sizes(input_length, num_classes)
    inputs = keras.Input((length, 1))
    x = layers.MaxPooling1D(2)(layers.Conv1D(16, 7, padding="same", activation="relu")(inputs))
    x = layers.MaxPooling1D(2)(residual_block(x, 16, momentum=0.9))
    x = layers.GlobalAveragePooling1D()(residual_block(x, 32, momentum=0.9))
    return keras.Model(inputs, layers.Dense(classes)(x), name="residual_cnn")


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


def receptive_field_of(model, *, strides=True):
    """Receptive field, in input steps, of a model's last feature map.

    Follows the model's graph from its input: a layer with a window along
    the steps (Conv1D and its separable and depthwise kinds, 1-D pooling)
    widens the field by `(span - 1) * jump`, as `cnnkit.reference.receptive_field`
    does; layers that act on each step alone (activations, normalisation,
    dropout, a `Dense` on the channels) leave it as it is; an upsampling
    divides the step of the windows after it; where paths meet
    (an `Add`, a `Concatenate`) the widest counts; a recurrent or attention
    layer sees the whole row; a nested model is followed inside. The field
    returned is the widest of any output that still has a steps axis: what
    one unit of the last convolution or pooling sees, before the head
    (a global pooling or `Flatten`) reads every position.

    Args:
        model: a built `keras.Model` (Sequential or functional) on
            (batch, steps, channels) inputs.
        strides: bool; False counts every stride as 1 (the field a
            reader who ignores strides would compute).

    Returns:
        An int (1 when no layer has a window).

    Raises:
        ValueError: if `model` is not a built Keras model with one input.
    """
    inputs = getattr(model, "inputs", None)
    if not hasattr(model, "layers") or not inputs or len(inputs) != 1 or len(inputs[0].shape) != 3:
        raise ValueError(f"Argument `model` must be a built keras.Model with one (batch, steps, channels) input; "
                         f"received {type(model).__name__}.")
    widest = [1]
    _fields_of(model, (1, 1), inputs[0].shape[1] or 0, widest, strides)
    return math.ceil(widest[0] - 1e-9)


_WHOLE_ROW = ("LSTM", "GRU", "SimpleRNN", "Bidirectional", "RNN", "MultiHeadAttention", "Attention",
              "AdditiveAttention")


def _fields_of(model, start, length, widest, strides):
    """The (field, jump) of each output of `model` whose input has `start`, recording the widest field with a
    steps axis in `widest[0]`."""
    states = {}

    def state_of(tensor):
        key = id(tensor)
        if key not in states:
            history = tensor._keras_history
            layer = history.operation
            node = layer._inbound_nodes[history.node_index]
            parents = [state_of(t) for t in node.input_tensors] if node.input_tensors else [start]
            field, jump = max(parents)
            outputs = _step(layer, (field, jump), length, widest, strides)
            states[key] = outputs
            if len(tensor.shape) == 3:
                widest[0] = max(widest[0], outputs[0])
        return states[key]

    for tensor in model.inputs:
        states[id(tensor)] = start
    return [state_of(tensor) for tensor in model.outputs]


def _step(layer, state, length, widest, strides):
    """(field, jump) after one layer, from (field, jump) before it."""
    field, jump = state
    stride = (lambda value: value[0]) if strides else (lambda value: 1)
    kind = type(layer).__name__
    if hasattr(layer, "layers") and getattr(layer, "inputs", None):  # a nested model: follow its own graph
        return max(_fields_of(layer, state, length, widest, strides))
    if kind in ("Conv1D", "SeparableConv1D", "DepthwiseConv1D"):
        return field + layer.dilation_rate[0] * (layer.kernel_size[0] - 1) * jump, jump * stride(layer.strides)
    if kind in ("MaxPooling1D", "AveragePooling1D"):
        return field + (layer.pool_size[0] - 1) * jump, jump * stride(layer.strides)
    if kind == "UpSampling1D":  # each step repeated: later windows step through the input more finely
        return field, jump / layer.size
    if kind in _WHOLE_ROW:
        return max(field, length), jump
    return field, jump


MODELS = {"spec": spec_cnn, "gap": gap_cnn, "wider": wider_cnn, "bn": bn_cnn, "residual": residual_cnn,
          "strong": strong_cnn, "mlp": mlp_baseline}


def build(name, num_classes=5, input_length=178):
    """Builds a seizure model by its short name (a key of `MODELS`: `"spec"`,
    `"gap"`, `"wider"`, `"bn"`, `"residual"`, `"strong"`, `"mlp"`).

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
