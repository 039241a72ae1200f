"""Checks of the Keras models students build and train.

- `model_spec` turns any Keras model into a list of plain layer descriptions
  (a separate ReLU/Activation layer is folded into the layer before it, so
  `Conv1D(activation="relu")` and `Conv1D` -> `ReLU()` read the same).
- `check_model_spec` compares a student's model with a reference, layer by
  layer, and reports the first difference in plain words.
- `check_trained_model` evaluates a trained model on held-out recordings and
  scores it against the reference trained under the same budget.
- `check_improvement` scores the "improve it" exercise: how far an
  architecture, trained by the assignment's procedure, beats the spec CNN.
- `check_train_eval_mode` checks that prediction runs in inference mode.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np

from cnnkit.assignment import BUDGET, IMPROVEMENT, BudgetError, _leaf_layers, _splits, check_budget, subclassed_model
from cnnkit.checks.functions import reference_used
from cnnkit.checks.report import CheckResult, Mistake, case_seed
from cnnkit.quiet import silenced

__all__ = ["OversizedModel", "SubclassedModel", "UnsafeModel", "budget_steps", "check_improvement",
           "check_model_spec", "check_train_eval_mode", "check_trained_model", "improvement_verdict",
           "load_model_safely", "mode_verdict", "model_spec", "probe_model", "spec_verdict", "trained_verdict"]

CHANCE_BAND = 0.05
TRAINED_MARGIN = 0.03  # accuracy below the reference still worth full marks, unless a check says otherwise
NEVER_TRAINED = "model never trained"  # the misconception of a model at chance level
_SETTINGS = ("filters", "kernel_size", "strides", "padding", "dilation_rate", "pool_size",
             "units", "rate", "activation")
EVIDENCE_DIR = "cnnkit_evidence"


def model_spec(model, input_shape=None):
    """Plain description of a Keras model's layers, activations folded in.

    Judged by what the layers compute, not how they are grouped or named: a
    nested model's layers count in its place (a `Sequential` of features and
    one of the head), a `ReLU` or `Activation` layer folds into the layer
    before it, `Reshape((-1,))` reads as `Flatten`, and a convolution whose
    kernel covers its whole input, then `Flatten`, reads as `Flatten` then
    `Dense` (LeNet-5's C5 as the paper writes it: each of its kernels is a
    dense unit over the whole map).

    Args:
        model: a `keras.Model`.
        input_shape: tuple without the batch axis, used to build a model that
            was never built (e.g. a Sequential without `keras.Input`).

    Returns:
        A list of dicts with keys `layer` (class name), `input_shape`,
        `output_shape`, `params`, and the layer's settings among filters, kernel_size,
        strides, padding, dilation_rate, pool_size, units, rate, activation.
    """
    if not model.built and input_shape is not None:
        model.build((None,) + tuple(input_shape))
    spec, dense_convolutions = [], {}  # index in spec -> inputs, of a convolution whose kernel covers its whole input
    for layer in _leaf_layers(model):
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        activation = _activation_of(layer)
        shape = tuple(layer.output.shape[1:])
        if kind == "Reshape" and len(shape) == 1:
            kind = "Flatten"  # the same computation
        if kind in ("ReLU", "Activation") and spec and spec[-1].get("activation") in ("linear", None):
            spec[-1].update(activation=activation, output_shape=shape)
            continue
        if kind == "Flatten" and spec and spec[-1]["layer"].startswith("Global") and spec[-1]["output_shape"][:1] == (1,):
            spec[-1]["output_shape"] = shape  # global pooling with keepdims=True, then Flatten: the same output
            continue
        if kind == "Flatten" and len(spec) - 1 in dense_convolutions:
            convolution = spec.pop()
            spec += [{"layer": "Flatten", "input_shape": convolution["input_shape"],
                      "output_shape": (dense_convolutions[len(spec)],), "params": 0},
                     {"layer": "Dense", "input_shape": (dense_convolutions[len(spec)],), "output_shape": shape,
                      "params": convolution["params"],
                      "units": convolution["filters"], "activation": convolution.get("activation") or "linear"}]
            continue
        entry = {"layer": kind, "input_shape": _input_shape(layer), "output_shape": shape,
                 "params": int(layer.count_params())}
        for key in _SETTINGS:
            if key == "activation":
                if activation is not None:
                    entry[key] = activation
            elif hasattr(layer, key):
                value = getattr(layer, key)
                entry[key] = tuple(value) if isinstance(value, (list, tuple)) else value
        if _covers_its_whole_input(layer, kind):
            dense_convolutions[len(spec)] = int(np.prod(layer.input.shape[1:]))
        spec.append(entry)
    return spec


def _input_shape(layer):
    """A layer's input shape without the batch axis (a tuple of them for a layer that joins several)."""
    inputs = layer.input
    if isinstance(inputs, (list, tuple)):
        return tuple(tuple(tensor.shape[1:]) for tensor in inputs)
    return tuple(inputs.shape[1:])


def _covers_its_whole_input(layer, kind):
    """Whether a layer is a convolution whose kernel, undilated, spans its whole input: one output position."""
    if kind not in ("Conv1D", "Conv2D", "Conv3D") or any(rate != 1 for rate in layer.dilation_rate):
        return False
    return tuple(layer.kernel_size) == tuple(layer.input.shape[1:-1]) and set(layer.output.shape[1:-1]) == {1}


def check_model_spec(model, reference, *, points=1.0):
    """Compares a student's Keras model with a reference model, layer by layer.

    Args:
        model: the student's `keras.Model`, or better the function that
            builds it (then its warnings are kept off the cell's stderr).
        reference: the reference `keras.Model` (e.g. `cnnkit.reference.models.spec_cnn()`).
        points: float, the most this check gives.

    Returns:
        The score, a Python float: one criterion per reference layer (same
        class, settings and output shape) and one for the total parameter
        count. The feedback names the first difference.
    """
    borrowed = callable(model) and not hasattr(model, "layers") and reference_used(model)
    if borrowed:
        result = CheckResult("model_spec:" + reference.name, float(points), total=1)
        result.messages.append(f"builds the model with cnnkit's reference ({borrowed}): no credit, flagged for review")
        result.evidence["flag"] = f"calls {borrowed}"
        return result.emit()
    with silenced():
        try:
            if callable(model) and not hasattr(model, "layers"):
                model = model()
        except Exception as error:  # the builder is broken or still a stub
            model = error
        result = spec_verdict(model, reference, points=points)
    return result.emit()


def spec_verdict(model, reference, *, points=1.0):
    """Compares a built model with a reference, layer by layer (no emitting).

    Args:
        model: a `keras.Model`, or the exception its builder raised.
        reference: the reference `keras.Model`.
        points: float, the most the check gives.

    Returns:
        A `CheckResult`: one criterion per reference layer and one for the
        parameter count; the first difference named.
    """
    result = CheckResult("model_spec:" + reference.name, float(points))
    want = model_spec(reference)
    try:
        if isinstance(model, BaseException):
            raise model
        got = model_spec(model, input_shape=reference.input_shape[1:])
        params = int(model.count_params())
    except Exception as error:  # not a model, or cannot be built on this input
        result.total = len(want) + 1
        result.messages.append(f"could not inspect the model: {type(error).__name__}: {error}")
        return result
    result.total = max(len(want), len(got)) + 1  # extra layers cost points too
    for index, expected, found in _paired(want, got):
        problem = (f"an extra {found['layer']} after layer {index}" if expected is None else
                   _layer_difference(index, expected, found))
        if problem is None:
            result.passed += 1
        elif len(result.messages) < 2:
            result.messages.append(problem)
    expected_params = int(reference.count_params())
    if params == expected_params:
        result.passed += 1
    else:
        result.messages.append(f"the model has {params:,} parameters; the spec has {expected_params:,}")
    if not result.messages:
        result.messages.append("follows the spec: same layers, settings, shapes and parameter count")
    else:
        result.messages.insert(0, Mistake("model does not follow the spec", result.messages.pop(0)))
    result.evidence = {"spec": _jsonable(got), "params": params}
    return result


def check_trained_model(model, data, reference_accuracy, *, points=1.0, name="trained_model", margin=TRAINED_MARGIN):
    """Scores a trained model by its accuracy on held-out data.

    Full marks at `reference_accuracy - margin` or better; none at chance
    level or below; linear in between. A model near chance is reported as
    probably never trained. The model is saved as evidence for the verifier.

    Args:
        model: the student's trained `keras.Model`.
        data: a `cnnkit.data.Part` the student never had (held-out
            recordings), or None under `cnnkit grade` (the grader scores).
        reference_accuracy: float, the reference model's accuracy on `data`
            after training under the same budget, or None likewise.
        points: float, the most this check gives.
        name: str, the check's name (and the evidence file's).
        margin: float, accuracy below the reference still worth full marks.

    Returns:
        The score, a Python float in [0, points].
    """
    path, unsaved = None, ""
    with silenced():
        try:
            scores = np.asarray(model.predict(data.x, batch_size=256, verbose=0)) if data is not None else None
        except Exception as error:
            result = CheckResult(name, float(points), total=1)
            result.messages.append(f"the model could not predict on (rows, 178, 1) inputs: {type(error).__name__}: {error}")
            return result.emit()
        path = Path(EVIDENCE_DIR) / f"{name}.keras"
        path.parent.mkdir(exist_ok=True)
        try:
            model.save(path)
        except Exception as error:  # evidence is best effort; the score stands
            path, unsaved = None, f"(the model could not be saved as evidence: {error})"
    if data is None or reference_accuracy is None:  # under `cnnkit grade`: the grader evaluates
        result = CheckResult(name, float(points), total=1, show_counts=False)
        result.messages.append("the grader scores this model on held-out recordings you never see, against the "
                               "reference trained under the same budget")
    else:
        result = trained_verdict(scores, data.y, reference_accuracy, points=points, name=name, margin=margin)
    if unsaved:
        result.messages.append(unsaved)
    result.evidence["model_path"] = None if path is None else str(path)
    return result.emit()


def trained_verdict(scores, labels, reference_accuracy, *, points=1.0, name="trained_model", margin=TRAINED_MARGIN):
    """Scores a trained model's outputs on held-out rows (no emitting).

    Full marks at `reference_accuracy - margin` or better; none at chance
    level (the majority class's share, plus `CHANCE_BAND`) or below; linear
    in between.

    Args:
        scores: float array (rows, classes), the model's outputs.
        labels: int array (rows,), the true classes.
        reference_accuracy: float, the reference's accuracy on these rows.
        points: float, the most the check gives.
        name: the check's name.
        margin: float, accuracy below the reference still worth full marks.

    Returns:
        A `CheckResult` whose evidence holds the accuracy.
    """
    result = CheckResult(name, float(points), total=1000, show_counts=False)
    labels = np.asarray(labels)
    classes = int(np.max(labels)) + 1
    chance = float(np.max(np.bincount(labels)) / len(labels))
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != len(labels):
        result.messages.append(f"the model's output has shape {scores.shape}; expected (rows, {classes}) class scores")
        return result
    predictions = np.argmax(scores, axis=-1)
    accuracy = float(np.mean(predictions == labels))
    floor = chance + CHANCE_BAND  # within a few points of chance, a model has learnt nothing
    full = max(reference_accuracy - margin, floor + 1e-6)
    fraction = float(np.clip((accuracy - floor) / (full - floor), 0.0, 1.0))
    result.passed = int(round(fraction * result.total))
    result.messages.insert(0, f"accuracy {accuracy:.1%} on held-out recordings; full marks from {full:.1%} "
                              f"(the reference reaches {reference_accuracy:.1%} under the same budget; "
                              f"chance is {chance:.1%})")
    if accuracy <= floor:
        kinds = len(np.unique(predictions))
        result.messages.insert(0, Mistake(NEVER_TRAINED, "accuracy is at chance level"
                                          + (f" and it predicts only {kinds} of {classes} classes" if kinds < classes
                                             else "") + "; did `fit` run on this model?"))
    result.evidence = {"accuracy": accuracy, "reference_accuracy": reference_accuracy, "rows": int(len(labels))}
    return result


def check_improvement(model, build_fn, data, reference_accuracy, *, points=1.0, error_cut=None, seeds=None,
                      reference_seeds=None):
    """Scores the "improve it" exercise in the kernel (plain nbgrader).

    The architecture must fit the budget (`cnnkit.assignment.check_budget`)
    and the trained model must not have been trained past it. Its accuracy on
    held-out recordings is then compared with the spec CNN's, trained by the
    same procedure (see `improvement_verdict`). Under `cnnkit grade` this
    cell claims nothing: the grader retrains the architecture on its own
    seeds and scores that.

    Args:
        model: the student's trained `keras.Model`.
        build_fn: the student's builder of the architecture.
        data: a `cnnkit.data.Part` of held-out recordings, or None under
            `cnnkit grade`.
        reference_accuracy: float, the spec CNN's accuracy on `data`, or None.
        points: float, the most this check gives.
        error_cut: float, the relative cut in error worth full marks
            (default: `cnnkit.assignment.IMPROVEMENT["error_cut"]`).
        seeds: int, the trainings of the architecture the grader averages
            (default `IMPROVEMENT["seeds"]`, 2). More seeds, less luck in the
            points, and more retraining (`benchmarks/bench_improve_noise.py`
            measures both); the kernel scores its one trained model.
        reference_seeds: int, the spec CNN's trainings (default
            `IMPROVEMENT["reference_seeds"]`, 6).

    Returns:
        The score, a Python float in [0, points].
    """
    borrowed = reference_used(build_fn)
    if borrowed:
        result = CheckResult("improvement", float(points), total=1)
        result.messages.append(f"builds the model with cnnkit's reference ({borrowed}): no credit, flagged for review")
        result.evidence["flag"] = f"calls {borrowed}"
        return result.emit()
    with silenced():
        try:
            check_budget(build_fn())
            problem = ""
        except BudgetError as error:
            problem = str(error)
        except Exception as error:
            problem = f"the architecture could not be built: {type(error).__name__}: {str(error)[:200]}"
        if problem:
            result = CheckResult("improvement", float(points), total=1)
            result.messages.append(f"0: {problem}")
            return result.emit()
        if data is None or reference_accuracy is None:  # under `cnnkit grade`: the grader retrains and scores
            result = CheckResult("improvement", float(points), total=1, show_counts=False)
            result.messages.append("the grader retrains this architecture under the budget on its own seeds and "
                                   "compares it with the spec CNN trained the same way")
            return result.emit()
        steps = _steps_trained(model)
        try:
            scores = np.asarray(model.predict(data.x, batch_size=256, verbose=0))
            accuracy = float(np.mean(np.argmax(scores, axis=-1) == data.y))
        except Exception as error:
            result = CheckResult("improvement", float(points), total=1)
            result.messages.append(f"the model could not predict on (rows, 178, 1) inputs: {type(error).__name__}")
            return result.emit()
    result = improvement_verdict([accuracy], [reference_accuracy], points=points, error_cut=error_cut)
    if steps is not None and steps > budget_steps():
        result.passed = 0
        result.messages.insert(0, f"0: the model was trained for {steps:,} steps; the budget allows {budget_steps():,} "
                                  f"({BUDGET['epochs']} epochs of {BUDGET['batch_size']} rows): train it with "
                                  "cnnkit.assignment.train_under_budget")
    return result.emit()


def improvement_verdict(accuracies, references, *, points=1.0, error_cut=None):
    """Scores an architecture's held-out accuracies against the spec CNN's (no emitting).

    No credit at the spec CNN's error or above, full credit for an error
    `error_cut` lower (relative: 0.12 turns 31% into 27.3%), linear in
    between, on the means over the seeds (the same seeds train both).

    Args:
        accuracies: list of floats, the architecture's accuracy per seed.
        references: list of floats, the spec CNN's accuracy per seed.
        points: float, the most the check gives.
        error_cut: float, the relative cut in error worth full marks
            (default: `cnnkit.assignment.IMPROVEMENT["error_cut"]`).

    Returns:
        A `CheckResult` whose evidence holds the accuracies and the cut.
    """
    from cnnkit.improvement import improvement_share

    error_cut = IMPROVEMENT["error_cut"] if error_cut is None else float(error_cut)
    result = CheckResult("improvement", float(points), total=1000, show_counts=False)
    error, reference_error = 1 - float(np.mean(accuracies)), 1 - float(np.mean(references))
    cut = 1 - error / reference_error if reference_error > 0 else 0.0
    result.passed = int(round(improvement_share(accuracies, references, error_cut) * result.total))
    seeds = len(accuracies)
    trained = (f"trained under the budget on {seeds} seeds: " + ", ".join(f"{a:.1%}" for a in accuracies)
               if seeds > 1 else "as trained")
    target = 1 - reference_error * (1 - error_cut)
    result.messages.append(f"held-out accuracy {np.mean(accuracies):.1%} ({trained}); the spec CNN trained the same "
                           f"way reaches {np.mean(references):.1%}: your error is " +
                           ("about the same" if round(abs(cut), 2) == 0 else
                            f"{abs(cut):.0%} {'lower' if cut > 0 else 'higher'}"))
    result.messages.append(f"full marks from {target:.1%} (an error {error_cut:.0%} below the spec CNN's)")
    if cut <= 0:
        result.messages.insert(0, Mistake("no better than the spec CNN", "under the same budget this architecture's "
                                          "error is not below the spec CNN's; change the architecture (wider early "
                                          "kernels, batch normalisation, more blocks, global average pooling, ...)"))
    result.evidence = {"accuracies": [float(a) for a in accuracies], "references": [float(r) for r in references],
                       "error_cut": cut}
    return result


def _steps_trained(model):
    try:
        return int(model.optimizer.iterations.numpy() if hasattr(model.optimizer.iterations, "numpy")
                   else model.optimizer.iterations)
    except Exception:  # never compiled, or no optimizer state
        return None


class UnsafeModel(ValueError):
    """A model file that may not be loaded: it holds code or unknown layers."""


class SubclassedModel(UnsafeModel):
    """A model file of a `keras.Model` subclass: not loadable without its code, and not an attack either."""


class OversizedModel(UnsafeModel):
    """A model file whose architecture is far larger than any of the course's: not built, and not an attack either."""


MAX_CONFIG_BYTES = 2 * 1000**2  # a course model's config is tens of kB
MAX_CONFIG_DEPTH = 48  # a model nested in a model nested in ... stays far below
MAX_CONFIG_OBJECTS = 4000  # layers, initialisers, regularisers and the like, together
# Building a model allocates its weights before anything else can be checked: a config of a few kB can declare
# billions. The budget allows 250,000 parameters; 20 million (80 MB of float32) leaves room for an instructor's
# larger models and keeps the verifier far inside its memory.
MAX_MODEL_PARAMETERS = 20_000_000
# The weights file unpacks to about 4 bytes per parameter, 12 with Adam's two slots: more than 32 per declared
# parameter, plus room for the file's own structure, is not a saved model but a zip bomb.
WEIGHT_BYTES_PER_PARAMETER = 32
WEIGHT_FILE_OVERHEAD = 32 * 1000**2
MAX_METADATA_BYTES = 64 * 1000
MAX_ASSETS_BYTES = 16 * 1000**2
_UNSAFE_CLASSES = {"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"}
_MODEL_FILES = {"config.json", "metadata.json", "model.weights.h5"}


def load_model_safely(path):
    """Loads a `.keras` file without running any code it carries.

    The architecture in `config.json` is read first, as data: every object
    must be one of Keras' own (module `keras...`), and none may hold code
    (`Lambda` and wrappers of other frameworks' modules); its parameters are
    counted without allocating them, and the sizes the archive declares
    for its files must fit those of such a model. Only then is the file
    loaded, in Keras' safe mode and without compiling it.

    Args:
        path: a `.keras` file (a zip).

    Returns:
        `(model, notes)`: the `keras.Model` and a dict of what the file says
        about its training: `from_logits` (the loss's setting, or None) and
        `steps` (the optimizer's count of gradient steps, or None when the
        file holds no optimizer state).

    Raises:
        UnsafeModel: naming what was refused (`SubclassedModel` and
            `OversizedModel` for models that are not attacks).
    """
    import json
    import zipfile

    import keras

    try:
        with zipfile.ZipFile(path) as archive:
            sizes = {info.filename: info.file_size for info in archive.infolist()}
            names = set(sizes)
            if archive.getinfo("config.json").file_size > MAX_CONFIG_BYTES:
                raise UnsafeModel(f"the model's config is over {MAX_CONFIG_BYTES // 1000**2} MB: not a model of "
                                  "this course's size")
            config = json.loads(archive.read("config.json"))
    except UnsafeModel:
        raise
    except RecursionError:
        raise UnsafeModel(f"the model's config is nested more than {MAX_CONFIG_DEPTH} deep") from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise UnsafeModel(f"not a Keras model file ({type(error).__name__}: {error})") from None
    depth, objects = _shape_of(config)
    if depth > MAX_CONFIG_DEPTH or objects > MAX_CONFIG_OBJECTS:
        raise UnsafeModel(f"the model's config is nested {depth} deep with {objects} objects (at most "
                          f"{MAX_CONFIG_DEPTH} and {MAX_CONFIG_OBJECTS}): not a model of this course's size")
    top, module = config.get("class_name"), str(config.get("module") or "")
    if top and not module.startswith("keras") and top not in _UNSAFE_CLASSES:  # a class of the student's own
        raise SubclassedModel(subclassed_model(top))
    extra = sorted(n for n in names - _MODEL_FILES if not n.startswith("assets/"))
    if extra:
        raise UnsafeModel(f"the model file holds unexpected files: {', '.join(extra[:3])}")
    for node in _objects(config.get("config", {})):
        kind, module, registered = node.get("class_name"), node.get("module"), node.get("registered_name")
        if registered and not str(module or "").startswith("keras"):
            raise UnsafeModel(f"the model holds the custom object `{registered}`, not a Keras layer: custom layers "
                              "cannot be graded")
        if kind in _UNSAFE_CLASSES:
            raise UnsafeModel(f"the model holds a `{kind}` layer, which runs arbitrary code: use Keras' built-in "
                              "layers only")
        if module is not None and module != "keras" and not str(module).startswith("keras."):
            raise UnsafeModel(f"the model holds `{kind}` from module `{module}`, not a Keras layer: custom layers "
                              "cannot be graded")
    _check_declared_sizes(sizes, _declared_parameters(config))
    try:
        with silenced():
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:
        raise UnsafeModel(f"the model could not be loaded safely: {type(error).__name__}: {str(error)[:200]}") from None
    loss = (config.get("compile_config") or {}).get("loss")
    from_logits = (loss.get("config", {}).get("from_logits") if isinstance(loss, dict)
                   else False if isinstance(loss, str) and "crossentropy" in loss else None)  # a name: Keras' default
    return model, {"from_logits": from_logits, "steps": _steps_recorded(path)}


def _steps_recorded(path):
    """The gradient steps a saved optimizer counted (its first variable, `iterations`), or None."""
    import io
    import zipfile

    import h5py

    try:
        with zipfile.ZipFile(path) as archive:
            weights = archive.read("model.weights.h5")
        with h5py.File(io.BytesIO(weights), "r") as handle:
            iterations = handle.get("optimizer/vars/0")
            return int(iterations[()]) if iterations is not None and iterations.shape == () else None
    except Exception:  # no optimizer state, or one this reader does not know: nothing to say
        return None


def budget_steps(path=None):
    """The gradient steps the budget allows on the assignment's training rows.

    Args:
        path: the seizure data (as `cnnkit.assignment.seizure_data`).

    Returns:
        `BUDGET["epochs"]` times the batches of `BUDGET["batch_size"]` rows in one epoch.
    """
    rows = len(_splits(path, announce=False).train.y)
    return BUDGET["epochs"] * -(-rows // BUDGET["batch_size"])


def _declared_parameters(config):
    """The parameters a model's config declares, counted without allocating them (None where it cannot be built:
    Keras' own loading then says why)."""
    import keras

    try:
        from keras.src.backend.common import global_state

        pending = list(global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True))
    except Exception:  # a Keras without deferred variables: the verifier's memory limit is the only bound
        return None
    architecture = {key: value for key, value in config.items() if key != "compile_config"}  # the optimiser aside
    try:  # variables made in a stateless scope that does not initialise them hold a shape, no memory
        with silenced(), keras.StatelessScope(initialize_variables=False):
            model = keras.saving.deserialize_keras_object(architecture, safe_mode=True)
            return int(sum(np.prod(variable.shape, dtype=np.int64) for variable in model.weights))
    except Exception:
        return None
    finally:  # no later scope may initialise them
        global_state.set_global_attribute("uninitialized_variables", pending)


def _check_declared_sizes(sizes, parameters):
    """Raises `UnsafeModel` where the archive's declared file sizes (name -> bytes) or the config's parameters
    are beyond any model of the course: checked before anything is unpacked or built."""
    if parameters is not None and parameters > MAX_MODEL_PARAMETERS:
        raise OversizedModel(f"the model declares {parameters:,} parameters; the grader builds models of at most "
                             f"{MAX_MODEL_PARAMETERS:,} (the budget allows {BUDGET['max_parameters']:,})")
    weights = WEIGHT_BYTES_PER_PARAMETER * (MAX_MODEL_PARAMETERS if parameters is None else parameters)
    limits = {"model.weights.h5": weights + WEIGHT_FILE_OVERHEAD, "metadata.json": MAX_METADATA_BYTES}
    for name, limit in limits.items():
        if sizes.get(name, 0) > limit:
            raise UnsafeModel(f"the model file's {name} unpacks to {sizes[name]:,} bytes, far more than its model "
                              f"needs (at most {limit:,}): a zip bomb?")
    assets = sum(size for name, size in sizes.items() if name.startswith("assets/"))
    if assets > MAX_ASSETS_BYTES:
        raise UnsafeModel(f"the model file's assets unpack to {assets:,} bytes (at most {MAX_ASSETS_BYTES:,}): "
                          "a zip bomb?")


def _shape_of(tree):
    """(depth, objects) of a nested config, read without recursion (stops counting past the limits)."""
    deepest, objects, stack = 0, 0, [(tree, 1)]
    while stack and deepest <= MAX_CONFIG_DEPTH and objects <= MAX_CONFIG_OBJECTS:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            objects += "class_name" in node
            stack += [(child, depth + 1) for child in node.values() if isinstance(child, (dict, list))]
        elif isinstance(node, list):
            stack += [(child, depth + 1) for child in node if isinstance(child, (dict, list))]
    return deepest, objects


def _objects(tree):
    """Every dict in a nested config that names a class."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "class_name" in node:
                yield node
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node


def check_train_eval_mode(predict_fn, *, points=1.0, seed=None):
    """Checks that a prediction function runs a model in inference mode.

    A probe model with dropout and batch normalisation (whose moving
    statistics differ from any batch's) is passed to `predict_fn(model, x)`.
    In inference mode (`training=False`, as `model.predict` does) dropout is
    off and batch normalisation uses its moving statistics, so predictions
    are repeatable and equal the reference's.

    Args:
        predict_fn: the student's `predict_classes(model, x)`, returning
            class indices of shape (rows,).
        points: float, the most this check gives.
        seed: int seed of the probe, or None for a fresh one.

    Returns:
        The score, a Python float: a third each for the shape, for repeatable
        predictions, and for equal predictions.
    """
    import keras

    seed = case_seed("train_eval_mode", seed)
    with silenced():
        model, x = _probe(keras, seed)
        expected = np.argmax(keras.ops.convert_to_numpy(model(x, training=False)), axis=-1)
        outputs = []
        for _ in range(2):
            try:
                outputs.append(np.asarray(predict_fn(model, x)))
            except Exception as error:
                outputs.append(f"predict_classes raised {type(error).__name__}: {error}")
    result = mode_verdict(outputs[0], outputs[1], expected, points=points)
    result.evidence["seed"] = seed
    return result.emit()


def mode_verdict(first, second, expected, *, points=1.0):
    """Judges two calls of a prediction function on the probe model (no emitting).

    Args:
        first, second: the two outputs (arrays), or the error of a call (str).
        expected: the class indices in inference mode.
        points: float, the most the check gives.

    Returns:
        A `CheckResult`: a third each for the shape, for repeatable
        predictions, and for predictions equal to inference mode's (the
        last two only judged on one class index per row).
    """
    result = CheckResult("train_eval_mode", float(points), total=3)
    for output in (first, second):
        if isinstance(output, str):
            result.messages.append(output)
            return result
    first, second = (_one_per_row(o) for o in (first, second))
    if first.shape != expected.shape:  # nothing else can be judged on outputs that are not one class per row
        if first.ndim == 2 and first.shape[0] == expected.shape[0]:
            result.messages.append(Mistake("scores instead of classes", f"predict_classes returned an array of shape "
                                           f"{first.shape}, one score per class; the class of each row is the index "
                                           "of its largest score, np.argmax(scores, axis=-1), shape "
                                           f"{expected.shape}."))
        else:
            result.messages.append(f"expected one class index per row, shape {expected.shape}; got {first.shape}")
        return result
    result.passed += 1
    repeatable = np.array_equal(first, second)
    if repeatable:
        result.passed += 1
    else:
        result.messages.insert(0, Mistake("dropout left on at evaluation", "predictions change from one call to the "
                                          "next; call the model with training=False (or use model.predict)."))
    if np.array_equal(first, expected):
        result.passed += 1
    elif repeatable:
        result.messages.append("predictions differ from the model in inference mode: batch normalisation must use "
                               "its moving statistics (training=False), and the class is the argmax of the outputs")
    if result.passed == 3:
        result.messages.append("predictions run in inference mode")
    result.evidence["outputs"] = [int(v) for v in first[:64]] if first.ndim == 1 else []
    return result


def _one_per_row(output):
    """An output as a flat array when it holds one value per row (a column of shape (rows, 1) too: `keepdims`)."""
    array = np.asarray(output)
    return array.reshape(-1) if array.ndim <= 1 or (array.ndim == 2 and array.shape[1] == 1) else array


def probe_model(seed):
    """The model and inputs that `check_train_eval_mode` hands a prediction
    function: dropout and batch normalisation whose train and eval modes disagree.

    Args:
        seed: int.

    Returns:
        `(model, x)`: a `keras.Model` and a float32 array (64, 178, 1).
    """
    import keras

    return _probe(keras, seed)


def _probe(keras, seed):
    """A small trained-looking model whose train and eval modes disagree."""
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((178, 1)), keras.layers.Conv1D(8, 5, activation="relu"),
        keras.layers.BatchNormalization(), keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dropout(0.5), keras.layers.Dense(5)])
    batch_norm = model.layers[1]
    gamma, beta, _, _ = batch_norm.get_weights()
    batch_norm.set_weights([gamma, beta, rng.uniform(-1, 1, gamma.shape), rng.uniform(0.5, 2, gamma.shape)])
    return model, rng.standard_normal((64, 178, 1)).astype("float32")


def _activation_of(layer):
    kind = type(layer).__name__
    if kind == "ReLU":
        return "relu"
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) if activation is not None else None


def _paired(want, got):
    """The spec's layers beside the model's, as `(index, expected, found)`: position by position when the model
    has as many layers as the spec, else aligned on each layer's kind and settings, so that one layer missing or
    added costs one criterion rather than every layer after it. `found` is None for a layer the model lacks;
    `expected` is None for one it adds, and `index` then counts the spec's layers before it."""
    if len(want) == len(got):
        return [(index, expected, found) for index, (expected, found) in enumerate(zip(want, got))]

    def signature(layer):
        return (layer["layer"],) + tuple((key, layer[key]) for key in _SETTINGS if key in layer)

    pairs = []
    matcher = difflib.SequenceMatcher(None, [signature(x) for x in want], [signature(x) for x in got], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        common = i2 - i1 if tag == "equal" else min(i2 - i1, j2 - j1) if tag == "replace" else 0
        pairs += [(i1 + k, want[i1 + k], got[j1 + k]) for k in range(common)]
        pairs += [(i, want[i], None) for i in range(i1 + common, i2)]
        pairs += [(i2, None, got[j]) for j in range(j1 + common, j2)]
    return pairs


def _layer_difference(index, expected, found):
    where = f"layer {index + 1}"
    if found is None:
        return f"{where}: expected {expected['layer']}, missing from the model"
    if found["layer"] != expected["layer"]:
        return f"{where}: expected {expected['layer']}, found {found['layer']}"
    keys = [key for key in _SETTINGS if key in expected]  # causes before effects
    if index == 0 or found.get("input_shape") == expected.get("input_shape"):
        keys.append("output_shape")  # a shape an earlier layer changed is that layer's mistake, counted there
    for key in keys:
        value = expected[key]
        if found.get(key) != value:
            return f"{where} ({expected['layer']}): {key} is {found.get(key)!r}, expected {value!r}"
    return None


def _jsonable(spec):
    return [{k: (list(v) if isinstance(v, tuple) else v) for k, v in layer.items()} for layer in spec]
