"""Checks of model *pieces* students build with Keras: a residual block
(functional API), and a head that does not care where a pattern lies.

Both are judged twice, by structure and by numbers, on models that hold no
student code (the grader loads them from `.keras` files in safe mode):

- **structure**: the layer graph, read from the model's config as data and
  walked from the output back to the input. Keras' spellings of the same
  thing read the same: `ReLU()`, `Activation("relu")`, `keras.ops.relu`, a
  convolution's `activation="relu"`; `layers.Add()`, `layers.add` and `+`; a
  nested `Sequential` is read layer by layer.
- **numbers**: the model's weights are replaced by random ones drawn from
  the check's seed, and its output (in inference mode) is compared with what
  NumPy's reference ops (`cnnkit.reference.conv1d`, `cnnkit.reference.batch_norm`) compute from
  those same weights, or, for the head, with its own output on shifted rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from cnnkit.checks.report import CheckResult, Mistake, case_seed
from cnnkit.quiet import silenced

__all__ = ["RESIDUAL_CASES", "check_residual_block", "check_shift_invariance", "invariance_verdict",
           "residual_models", "residual_verdict"]

# (input shape without the batch axis, filters, kernel_size): channels kept, channels changed, a wider kernel.
RESIDUAL_CASES = (((24, 8), 8, 3), ((24, 4), 8, 3), ((20, 6), 6, 5))
SHIFT_ROWS = 4
BURST = 16


# ------------------------------------------------------------ reading a graph


@dataclass
class _Node:
    name: str
    kind: str
    config: dict
    inputs: list
    operation: object = None


@dataclass
class _Step:
    """One step of a path, in words the checks compare: `conv`, `bn`, `relu`, or a class name."""

    kind: str
    settings: dict = field(default_factory=dict)
    operation: object = None
    node: str = ""

    def words(self):
        if self.kind == "conv" and self.settings.get("dense"):
            return f"Dense({self.settings['filters']})"
        if self.kind == "conv":
            s = self.settings
            extra = "".join(f", {k}={s[k]!r}" for k in ("strides", "dilation_rate") if s[k] != 1)
            return f"Conv1D({s['filters']}, {s['kernel_size']}, padding={s['padding']!r}{extra})"
        return {"bn": "BatchNormalization", "relu": "ReLU"}.get(self.kind, self.kind)


def _graph(model):
    """(nodes by name, input name, output name) of a functional model's config."""
    config = model.get_config()
    operations = {op.name: op for op in getattr(model, "operations", [])}
    nodes = {}
    for layer in config.get("layers", []):
        name = layer["config"]["name"]
        nodes[name] = _Node(name, layer["class_name"], layer["config"], _inbound(layer.get("inbound_nodes", [])),
                            operations.get(name))

    def first(entry):
        return entry[0] if isinstance(entry[0], str) else entry[0][0]

    return nodes, first(config["input_layers"]), first(config["output_layers"])


def _inbound(tree):
    """Names of the layers whose outputs a layer takes, in order."""
    names = []
    if isinstance(tree, dict):
        history = tree.get("config", {}).get("keras_history") if tree.get("class_name") == "__keras_tensor__" else None
        if history:
            return [history[0]]
        for value in tree.values():
            names += _inbound(value)
    elif isinstance(tree, (list, tuple)):
        for value in tree:
            names += _inbound(value)
    return names


def _steps(node):
    """A node as steps, each knowing its node; a nested Sequential as its layers' steps."""
    if node.kind == "Sequential" and node.operation is not None:
        steps = [step for layer in node.operation.layers for step in _layer_steps(type(layer).__name__, layer.get_config(), layer)]
    else:
        steps = _layer_steps(node.kind, node.config, node.operation)
    for step in steps:
        step.node = node.name
    return steps


def _layer_steps(kind, config, operation):
    if kind == "InputLayer":
        return []
    if kind == "Conv1D":
        settings = {key: (config[key][0] if isinstance(config[key], (list, tuple)) else config[key])
                    for key in ("filters", "kernel_size", "strides", "padding", "dilation_rate")}
        settings["padding"] = "same" if settings["kernel_size"] == 1 and settings["padding"] == "valid" else settings["padding"]
        steps = [_Step("conv", settings, operation)]
        activation = _activation_name(config.get("activation"))
        return steps + ([] if activation == "linear" else [_Step("relu" if activation == "relu" else f"activation {activation}")])
    if kind == "Dense":  # on (batch, steps, channels) a Dense acts on the channels: a 1x1 convolution
        settings = {"filters": config["units"], "kernel_size": 1, "strides": 1, "padding": "same", "dilation_rate": 1,
                    "dense": True}
        activation = _activation_name(config.get("activation"))
        return [_Step("conv", settings, operation)] + \
            ([] if activation == "linear" else [_Step("relu" if activation == "relu" else f"activation {activation}")])
    if kind == "BatchNormalization":
        return [_Step("bn", {"axis": config.get("axis"), "epsilon": config.get("epsilon")}, operation)]
    if kind == "ReLU" and not config.get("max_value") and not config.get("negative_slope") and not config.get("threshold"):
        return [_Step("relu")]
    if kind == "Relu" or (kind == "Activation" and _activation_name(config.get("activation")) == "relu"):
        return [_Step("relu")]
    if kind == "Dropout":
        return [_Step("Dropout", operation=operation)]
    return [_Step(kind, operation=operation)]


def _activation_name(activation):
    if isinstance(activation, dict):
        activation = activation.get("config", {}).get("name", activation.get("class_name"))
    return str(activation or "linear")


def _path_back(nodes, name, stop):
    """The steps from `stop` to `name` along single-input nodes, and the multi-input node met first (or None)."""
    steps = []
    while name != stop:
        node = nodes[name]
        if len(node.inputs) != 1:
            return steps, node
        steps = _steps(node) + steps
        name = node.inputs[0]
    return steps, None


# ------------------------------------------------------------- residual block


def residual_models(block_fn):
    """The models a residual-block function builds, one per case of `RESIDUAL_CASES`.

    Args:
        block_fn: the student's `residual_block(x, filters, kernel_size)`.

    Returns:
        A list with, per case, a `keras.Model` from `keras.Input(shape)` to
        the block's output, or the text of the error that building it raised.
    """
    import keras

    models = []
    for shape, filters, kernel_size in RESIDUAL_CASES:
        try:
            inputs = keras.Input(shape)
            models.append(keras.Model(inputs, block_fn(inputs, filters, kernel_size)))
        except Exception as error:  # a stub, or a block Keras cannot build
            models.append(f"{type(error).__name__}: {str(error)[:300]}")
    return models


def check_residual_block(block_fn, *, points=1.0, seed=None):
    """Checks a residual block written with Keras' functional API.

    Args:
        block_fn: the student's `residual_block(x, filters, kernel_size)`
            returning a Keras tensor.
        points: float, the most this check gives.
        seed: int seed of the random weights and inputs, or None.

    Returns:
        The score, a Python float: per case of `RESIDUAL_CASES`, half for the
        structure and half for the output.
    """
    seed = case_seed("residual_block", seed)
    with silenced():
        result = residual_verdict(residual_models(block_fn), points=points, seed=seed)
    result.evidence["seed"] = seed
    return result.emit()


def residual_verdict(models, *, points=1.0, seed=0):
    """Judges the models of `residual_models` (no emitting; runs no student code).

    Args:
        models: list, per case of `RESIDUAL_CASES`, of a `keras.Model` or
            the error its building raised (a str).
        points: float, the most the check gives.
        seed: int seed of the random weights and inputs.

    Returns:
        A `CheckResult` with four criteria per case: the main path, the
        shortcut, the ReLU after the addition, and the output (the block's
        output equals the reference block computed from its own weights).
    """
    result = CheckResult("residual_block", float(points), total=4 * len(RESIDUAL_CASES))
    mistakes, problems = {}, []
    for index, ((shape, filters, kernel_size), model) in enumerate(zip(RESIDUAL_CASES, models)):
        where = f"{shape[1]} -> {filters} channels, kernel {kernel_size}"
        if isinstance(model, str):
            name, message = _build_mistake(model, shape[1], filters)
            if name:
                mistakes[name] = message
            problems.append(f"{where}: the block could not be built ({model[:160]})")
            continue
        try:
            paths = _residual_paths(model)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        verdicts = [_main_problem(paths, filters, kernel_size), _shortcut_problem(paths, shape[1], filters),
                    _after_problem(paths)]
        for problem, mistake in verdicts:
            if mistake:
                mistakes[mistake[0]] = mistake[1]
            if problem:
                problems.append(f"{where}: {problem}")
        result.passed += sum(not problem for problem, _ in verdicts)
        if all(not problem for problem, _ in verdicts):
            problem = _output_problem(model, paths, shape, np.random.default_rng(seed + index))
            result.passed += not problem
            problems += [f"{where}: {problem}"] if problem else []
    result.messages = [Mistake(name, message) for name, message in mistakes.items()]
    result.messages += problems[:3] if problems else ["builds the block right and computes ReLU(main(x) + shortcut(x))"]
    return result


@dataclass
class _ResidualPaths:
    main: list
    shortcut: list
    after: list


def _residual_paths(model):
    nodes, start, end = _graph(model)
    after, merge = _path_back(nodes, end, start)
    if merge is None or merge.kind not in ("Add",) or len(merge.inputs) != 2:
        found = "no addition" if merge is None else f"a {merge.kind} layer where the paths meet"
        raise ValueError(f"the block has {found}: a residual block adds the shortcut to the main path (layers.Add())")
    branches = []
    for name in merge.inputs:
        steps, other = _path_back(nodes, name, start)
        if other is not None:
            raise ValueError(f"the block has more than one merge ({other.kind}); expected one addition of two paths")
        branches.append(steps)
    convs = [sum(step.kind == "conv" for step in branch) for branch in branches]
    main, shortcut = (branches[0], branches[1]) if convs[0] >= convs[1] else (branches[1], branches[0])
    return _ResidualPaths(main, shortcut, after)


_MAIN = ("conv", "bn", "relu", "conv", "bn")


def _main_problem(paths, filters, kernel_size):
    """(problem in words or "", (misconception name, message) or None) of the main path."""
    main = [step.kind for step in paths.main]
    described = " -> ".join(step.words() for step in paths.main) or "nothing"
    if main == list(_MAIN) + ["relu"] and not paths.after:
        return ("the ReLU comes before the addition",
                ("ReLU before the addition", "the last ReLU comes *after* the addition, ReLU(main(x) + shortcut(x)); "
                 "before it, the block could never output less than its shortcut."))
    if main != list(_MAIN):
        mistake = None
        after = [step.kind for step in paths.after]
        if main == list(_MAIN[:-1]) and after[:1] == ["bn"]:
            mistake = ("batch normalisation after the addition", "the second BatchNormalization belongs to the main "
                       "path, before the addition (conv -> BN -> ReLU -> conv -> BN, then add the shortcut, then "
                       "ReLU): after the addition it normalises the shortcut too, so the block no longer adds its "
                       "input back unchanged.")
        elif main[:3] == ["conv", "relu", "bn"]:
            mistake = ("ReLU before batch normalisation", "the order is conv -> BN -> ReLU: normalise first, then "
                       "apply the non-linearity.")
        elif main.count("bn") < 2 and [k for k in main if k != "bn"] == ["conv", "relu", "conv"]:
            mistake = ("batch normalisation missing", "each convolution of the main path is followed by "
                       "BatchNormalization (conv -> BN -> ReLU -> conv -> BN).")
        return (f"the main path is {described}; expected Conv1D -> BatchNormalization -> ReLU -> Conv1D -> "
                "BatchNormalization", mistake)
    want = {"filters": filters, "kernel_size": kernel_size, "strides": 1, "padding": "same", "dilation_rate": 1}
    for step in (s for s in paths.main if s.kind == "conv"):
        if {k: v for k, v in step.settings.items() if k != "dense"} != want:
            return (f"a convolution of the main path is {step.words()}; expected "
                    f"Conv1D({filters}, {kernel_size}, padding='same')", None)
    return "", None


def _shortcut_problem(paths, channels, filters):
    shortcut = [step.kind for step in paths.shortcut]
    described = " -> ".join(s.words() for s in paths.shortcut) or "the input itself"
    shared = {step.node for step in paths.shortcut} & {step.node for step in paths.main}
    if shared:
        return (f"the shortcut is taken from the main path ({described}), not from the block's input",
                ("shortcut taken from the main path", "the shortcut carries the block's *input* x around its layers: "
                 "add x itself (or its 1x1 projection when the channels change) to the main path's output, not a "
                 "tensor from inside the main path."))
    if channels == filters:
        if shortcut:
            return (f"the shortcut is {described}",
                    ("projection where none is needed", "when the channels do not change the shortcut is the input "
                     "itself (an identity shortcut, no parameters); project only when they change."))
        return "", None
    projection = paths.shortcut[0] if paths.shortcut else None
    if shortcut not in (["conv"], ["conv", "bn"]) or projection.settings["kernel_size"] != 1 \
            or projection.settings["filters"] != filters or projection.settings["strides"] != 1:
        return f"the shortcut is {described}; expected a 1x1 Conv1D({filters}, 1) projection", None
    return "", None


def _after_problem(paths):
    if [step.kind for step in paths.after] == ["relu"]:
        return "", None
    if not paths.after:
        if paths.main and paths.main[-1].kind == "relu":
            return "nothing follows the addition", None  # named with the main path: ReLU before the addition
        return ("nothing follows the addition",
                ("no ReLU after the addition", "the block ends with ReLU(main(x) + shortcut(x))."))
    return "after the addition: " + " -> ".join(s.words() for s in paths.after) + "; expected a ReLU", None


def _build_mistake(error, channels, filters):
    """(misconception name, message) that a build error shows, or (None, None)."""
    shapes = [tuple(int(n) for n in found.split(",") if n.strip())
              for found in re.findall(r"\(((?:\s*\d+\s*,)+\s*\d+\s*)\)", error)]
    if "incompatible shapes" in error.lower() and len(shapes) >= 2 and len(shapes[0]) == len(shapes[1]) == 2:
        (length, width), (other_length, other_width) = shapes[:2]
        if length == other_length and width != other_width:
            return _no_projection(channels, filters)
        if max(length, other_length) >= 1.5 * min(length, other_length):
            return ("stride in the main path only", f"the paths have lengths {length} and {other_length}: a stride in "
                    "the main path shortens it, and the shortcut must shorten the same way (a 1x1 Conv1D with the "
                    "same strides) for Add to work. This exercise's block keeps the length: stride 1 everywhere.")
        return ("padding", "the two paths must have the same length to be added: use padding='same' in the "
                "main path's convolutions.")
    text = error.lower()
    if channels != filters and ("add" in text or "shape" in text) and str(channels) in error and str(filters) in error:
        return _no_projection(channels, filters)
    if "shape" in text and ("add" in text or "incompatible" in text):
        return ("padding", "the two paths must have the same length to be added: use padding='same' in the "
                "main path's convolutions.")
    return None, None


def _no_projection(channels, filters):
    return ("residual without projection", f"the shortcut has {channels} channels and the main path {filters}: "
            "Add needs equal shapes, so when the channels change the shortcut goes through a 1x1 Conv1D "
            "(a projection) first.")


def _output_problem(model, paths, shape, rng):
    """"" when the model's output equals the reference block computed from its own (randomised) weights."""
    import keras

    try:
        _randomise(model, rng)
        x = rng.normal(size=(2,) + tuple(shape)).astype("float32")
        got = np.asarray(keras.ops.convert_to_numpy(model(x, training=False)), dtype=np.float64)
        expected = _run(paths.after, _run(paths.main, x) + _run(paths.shortcut, x))
    except Exception as error:  # e.g. a batch normalisation over another axis than the channels
        return f"the output could not be compared with the reference ({type(error).__name__}: {str(error)[:120]})"
    if got.shape != expected.shape:
        return f"output shape {got.shape[1:]}, expected {expected.shape[1:]}"
    if not np.allclose(got, expected, rtol=1e-3, atol=1e-3):
        return (f"the output differs from ReLU(main(x) + shortcut(x)) computed from the block's own weights "
                f"(largest difference {np.max(np.abs(got - expected)):.3g})")
    return ""


def _run(steps, x):
    """The steps' forward pass in NumPy (inference mode), from each layer's own weights."""
    import cnnkit.reference

    x = np.asarray(x, dtype=np.float64)
    for step in steps:
        if step.kind == "conv":
            weights = [np.asarray(w) for w in step.operation.get_weights()]
            weights[0] = weights[0][None] if weights[0].ndim == 2 else weights[0]  # a Dense's (in, units) kernel
            s = step.settings
            x = cnnkit.reference.conv1d(x, weights[0], weights[1] if len(weights) > 1 else None, strides=s["strides"],
                              padding=s["padding"], dilation_rate=s["dilation_rate"])
        elif step.kind == "bn":
            layer = step.operation
            values = {v.path.split("/")[-1]: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in layer.weights}
            channels = x.shape[-1]
            x = cnnkit.reference.batch_norm(x, values.get("gamma", np.ones(channels)), values.get("beta", np.zeros(channels)),
                                  values["moving_mean"], values["moving_variance"], False, float(step.settings["epsilon"]))
        elif step.kind == "relu":
            x = np.maximum(x, 0.0)
    return x


def _randomise(model, rng):
    """Replaces every weight with a random value (positive where a variance or a scale must be)."""
    values = []
    for variable in model.weights:
        name, shape = variable.path.split("/")[-1], tuple(variable.shape)
        if name in ("moving_variance", "gamma"):
            values.append(rng.uniform(0.5, 1.5, shape))
        else:
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 4
            values.append(rng.normal(0, 1 / np.sqrt(fan_in), shape))
    model.set_weights([v.astype("float32") for v in values])


# ------------------------------------------------------------ shift invariance


def check_shift_invariance(build_fn, *, points=1.0, seed=None, input_length=178):
    """Checks that a model's prediction ignores where in the row a pattern lies.

    Args:
        build_fn: the student's builder, returning a `keras.Model` on
            (batch, input_length, 1) rows.
        points: float, the most this check gives.
        seed: int seed of the random weights and rows, or None.
        input_length: int, samples per row.

    Returns:
        The score, a Python float: the share of shifts after which the
        output is unchanged.
    """
    seed = case_seed("shift_invariance", seed)
    with silenced():
        try:
            model = build_fn()
            if not model.built:
                model.build((None, input_length, 1))
        except Exception as error:
            model = f"{type(error).__name__}: {str(error)[:300]}"
        result = invariance_verdict(model, points=points, seed=seed, input_length=input_length)
    result.evidence["seed"] = seed
    return result.emit()


def invariance_verdict(model, *, points=1.0, seed=0, input_length=178):
    """Judges a model's invariance to shifts (no emitting; runs no student code).

    Rows are zeros but for a random burst in the middle; the burst is moved
    by multiples of the model's total stride (the product of its
    convolutions' and poolings' strides), so that its feature maps move
    exactly. A head that pools over positions gives the same output; a
    Flatten head, whose weights belong to positions, does not.

    Args:
        model: a `keras.Model`, or the error its builder raised (a str).
        points: float, the most the check gives.
        seed: int seed of the random weights and bursts.
        input_length: int, samples per row.

    Returns:
        A `CheckResult` with one criterion per shift; none passes if the
        output does not depend on the input at all (a model that ignores its
        rows is invariant, and useless).
    """
    import keras

    stride = _total_stride(model) if not isinstance(model, str) else 1
    shifts = [stride, 2 * stride, -stride, -2 * stride]
    result = CheckResult("shift_invariance", float(points), total=len(shifts))
    if isinstance(model, str):
        result.messages.append(f"the model could not be built: {model[:200]}")
        return result
    rng = np.random.default_rng(seed)
    try:
        _randomise(model, rng)
        rows = np.zeros((SHIFT_ROWS, input_length, 1), dtype="float32")
        start = (input_length - BURST) // 2
        rows[:, start:start + BURST, 0] = rng.normal(0, 2, (SHIFT_ROWS, BURST))
        base = np.asarray(keras.ops.convert_to_numpy(model(rows, training=False)), dtype=np.float64)
        others = rows.copy()
        others[:, start:start + BURST, 0] = rng.normal(0, 2, (SHIFT_ROWS, BURST))
        other = np.asarray(keras.ops.convert_to_numpy(model(others, training=False)), dtype=np.float64)
        scale = max(float(np.max(np.abs(base))), 1e-6)
        changes = {}
        for shift in shifts:
            moved = np.asarray(keras.ops.convert_to_numpy(model(np.roll(rows, shift, axis=1), training=False)))
            changes[shift] = float(np.max(np.abs(moved - base))) / scale
    except Exception as error:
        result.messages.append(f"the model could not be run on (rows, {input_length}, 1) inputs: "
                               f"{type(error).__name__}: {str(error)[:160]}")
        return result
    failing = [shift for shift, change in changes.items() if change > 1e-3]
    result.passed = len(shifts) - len(failing)
    if float(np.max(np.abs(other - base))) / scale <= 1e-3:
        result.passed = 0
        result.messages.append("the prediction does not depend on the row at all (other patterns give the same "
                               "output), so it says nothing about where a pattern lies")
    elif failing:
        worst = max(changes.values())
        result.messages.append(Mistake("a Flatten head on shifted rows", "the prediction changes when the pattern "
                                       f"moves by {abs(failing[0])} samples (by up to {worst:.0%} of its size). "
                                       "Flatten gives every position its own weights in the next layer; "
                                       "GlobalAveragePooling1D averages each feature map over positions, so the "
                                       "head sees the same numbers wherever the pattern is."))
    else:
        result.messages.append(f"the prediction is the same wherever the pattern lies (shifts of {stride} and "
                               f"{2 * stride} samples, both ways)")
    result.evidence = {"changes": {str(k): v for k, v in changes.items()}, "stride": stride}
    return result


def _total_stride(model):
    stride = 1
    for layer in _all_layers(model):
        kind = type(layer).__name__
        if kind in ("Conv1D", "MaxPooling1D", "AveragePooling1D"):
            value = layer.strides
            stride *= int(value[0] if isinstance(value, (list, tuple)) else value)
    return stride


def _all_layers(model):
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
        else:
            yield layer
