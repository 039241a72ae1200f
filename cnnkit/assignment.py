"""The seizure assignment's data, training budget and training procedure,
shared by the notebook (what students get), its hidden tests, and the
grader (what students are graded on).

Students get the training and validation recordings only; the test
recordings are held out for grading. Each recording's side is fixed by the
rank of a hash of its id within its class (15% of every class test, 15%
validation, the rest training), so every class keeps its share on every side,
and a data file without the test recordings (what `cnnkit grade` hands the
sandbox, marked by `CNNKIT_DATA_WITHOUT_TEST=1`) gives the same training and
validation rows as the whole table.

Under `cnnkit grade` (`CNNKIT_GRADING=1` in the sandbox) nothing here hands
out held-out rows or trains a reference: the trusted grader evaluates the
saved models on recordings the sandbox never had (`grading_data`), real test
recordings or, for the stand-in, recordings generated from the course's
secret. The reference accuracy that a trained model is compared with is the
reference model's, trained by the same procedure (`train_under_budget`) on
the same data; it is computed once per data set and seed, and cached.

The budget is fixed and enforced: `train_under_budget` trains for exactly
`BUDGET["epochs"]` epochs, and refuses a model over the budget's size
(parameters, multiply-adds and activations per row, see `model_cost`). The
"improve it" exercise is graded on the student's *architecture*, retrained
by the grader with this procedure on the grader's seeds, so a model trained
longer earns nothing for the extra.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnkit.seeds import derive_seed

__all__ = ["BUDGET", "GRADING_ENV", "IMPROVEMENT", "SEED", "BudgetError", "Cost", "StudentData", "TrainingFailed",
           "architecture_key", "budget_accuracy", "budget_optimizer", "check_budget", "exploring", "grading_data",
           "held_out", "improvement_seeds", "model_cost", "recorded_accuracy", "reference_accuracy",
           "reference_result_file", "seizure_data", "train_under_budget", "training_key", "training_setup",
           "write_student_data", "subclassed_model"]

SEED = 2026
# The training budget: Adam whose learning rate decays from `learning_rate` to 0 along a cosine over exactly
# `epochs` epochs of `batch_size` rows, and a ceiling on the model's size (see `model_cost`).
BUDGET = {"epochs": 12, "batch_size": 128, "learning_rate": 2e-3,
          "max_parameters": 250_000, "max_multiply_adds": 6_000_000, "max_activations": 150_000}
# "Improve it": no credit at the spec CNN's held-out error, full credit for an error `error_cut` lower (12%
# lower: on the real data from about 31% to 27%), on the mean over `seeds` trainings of the architecture
# against the mean over `reference_seeds` trainings of the spec CNN (the grader's seeds, the same for every
# student of a course; the first `seeds` of them shared). One training's accuracy varies by about a point from
# seed to seed: the spec CNN's level, which moves every student's points, is measured over more seeds.
# Calibrated on the real data (benchmarks/bench_improve_noise.py, 24 trainings of each idea): one of the notebook's
# ideas applied alone earns up to about 2 of 3 points on average (residual blocks 2.1, batch normalisation 1.8),
# two combined about 2.6 and full marks with some seeds, the solution full marks with every seed. A hidden test may
# ask for more trainings than `seeds` and `reference_seeds` (check_improvement's keywords): less luck, more work.
IMPROVEMENT = {"error_cut": 0.12, "seeds": 2, "reference_seeds": 6}
CACHE_ENV = "CNNKIT_CACHE"
GRADING_ENV = "CNNKIT_GRADING"
# Under `cnnkit grade`: the builders whose models the grader retrains itself (comma-separated names), so that
# training them in the kernel would change no grade.
UNGRADED_TRAINING_ENV = "CNNKIT_UNGRADED_TRAINING"
SHARES = {"test": 0.15, "validation": 0.15}
# Set in a sandbox whose data file has no test recordings (`write_student_data`'s), so that its split keeps them out.
WITHOUT_TEST_ENV = "CNNKIT_DATA_WITHOUT_TEST"
SECRET_RECORDINGS_PER_CLASS = 20


@dataclass(frozen=True, eq=False)
class StudentData:
    """What the notebook hands a student: raw signals, split by recording.

    Attributes:
        train_signals, validation_signals: float32 arrays of shape (rows, 178).
        train_labels, validation_labels: int64 arrays of class indices 0..4.
        mean, std: floats, the training part's statistics.
        class_names: tuple of the 5 class names.
        synthetic: whether the rows come from the synthetic stand-in.
    """

    train_signals: np.ndarray
    train_labels: np.ndarray
    validation_signals: np.ndarray
    validation_labels: np.ndarray
    mean: float
    std: float
    class_names: tuple
    synthetic: bool


class BudgetError(ValueError):
    """A model over the assignment's budget; the message says which limit and by how much."""


class TrainingFailed(RuntimeError):
    """A training under the budget that gave no model to score (its loss became NaN or infinite); recorded
    like a result, so that it is not tried again."""


@dataclass(frozen=True)
class Cost:
    """What a model costs, per row of 178 samples.

    Attributes:
        parameters: int, the model's weights (trainable or not).
        multiply_adds: int, summed over every layer: a weighted layer's weights
            times the positions they are applied at (a convolution's kernel at
            every output step), a pooling layer's outputs times its window,
            any other layer one per number in and out.
        activations: int, the numbers every layer outputs, summed.
    """

    parameters: int
    multiply_adds: int
    activations: int

    def problems(self):
        """The limits of `BUDGET` this cost exceeds, one line each."""
        limits = (("parameters", self.parameters, "max_parameters"),
                  ("multiply-adds per row", self.multiply_adds, "max_multiply_adds"),
                  ("activations per row", self.activations, "max_activations"))
        return [f"{value:,} {what}, over the budget's {BUDGET[key]:,}" for what, value, key in limits
                if value > BUDGET[key]]


# How each kind of layer costs, per row. Weighted layers: their weights times the positions they are applied at.
_WEIGHTED = {"Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D",
             "DepthwiseConv2D", "Conv1DTranspose", "Conv2DTranspose", "Dense", "EinsumDense", "BatchNormalization",
             "LayerNormalization", "GroupNormalization", "PReLU"}
_RECURRENT = {"LSTM", "GRU", "SimpleRNN", "Bidirectional"}  # weights times the input's steps
_POOLING = {"MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D"}  # outputs times the window
# Everything else that is counted: about one operation per number in and out.
_ELEMENTWISE = {"ReLU", "LeakyReLU", "ELU", "Softmax", "Activation", "Dropout", "SpatialDropout1D",
                "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
                "Flatten", "Reshape", "Permute", "RepeatVector", "Identity", "Rescaling", "UpSampling1D",
                "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D",
                "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
                "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "UnitNormalization"}


def model_cost(model):
    """The cost of a built Keras model (see `Cost`).

    Every layer counts: a weighted layer its weights times the positions it
    is applied at, a pooling layer its outputs times its window, any other
    layer of Keras' own one operation per number in and out.

    Args:
        model: a built `keras.Model`.

    Returns:
        A `Cost`.

    Raises:
        BudgetError: for a layer whose cost cannot be counted (say, `Dot`,
            `Attention`, a custom or `Lambda` layer).
    """
    multiply_adds = activations = 0
    for layer in _leaf_layers(model):
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        shape = tuple(d or 1 for d in layer.output.shape[1:])
        activations += int(np.prod(shape))
        multiply_adds += _layer_cost(layer, kind, shape)
    return Cost(int(model.count_params()), multiply_adds, activations)


def _layer_cost(layer, kind, shape):
    outputs, positions = int(np.prod(shape)), int(np.prod(shape[:-1]))
    if kind in _WEIGHTED:
        return int(layer.count_params()) * positions
    if kind in _RECURRENT:
        steps = int(np.prod([d or 1 for d in layer.input.shape[1:-1]]))
        return int(layer.count_params()) * steps
    if kind in _POOLING:
        return outputs * int(np.prod(layer.pool_size))
    if kind in _ELEMENTWISE:
        inputs = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
        return outputs + sum(int(np.prod([d or 1 for d in tensor.shape[1:]])) for tensor in inputs)
    raise BudgetError(f"the grader cannot count what a {kind} layer costs: build the model from Keras' "
                      "convolution, pooling, normalisation, dropout, merge and dense layers")


def subclassed_model(name):
    """Why a model written as a subclass of `keras.Model` cannot be graded, and what to do instead.

    Args:
        name: the subclass's name.

    Returns:
        A str.
    """
    return (f"the model is a subclass of keras.Model ({name}), whose layers the grader cannot read without running "
            "your code: build it with keras.Sequential or the functional API (keras.Input, then layers, then "
            "keras.Model(inputs, outputs))")


def check_budget(model, input_length=178, num_classes=5):
    """Checks that a model fits the assignment: its input, its logits, its cost.

    Args:
        model: a `keras.Model` (built on (batch, input_length, 1), or buildable).
        input_length: int, samples per row.
        num_classes: int, the classes it must score.

    Returns:
        The model's `Cost`.

    Raises:
        BudgetError: naming what does not fit (a subclassed model, whose
            layers cannot be read, among them).
    """
    if not type(model).__module__.startswith("keras"):
        raise BudgetError(subclassed_model(type(model).__name__))
    try:
        if not model.built:
            model.build((None, input_length, 1))
        inputs, outputs = tuple(model.input_shape), tuple(model.output_shape)
    except Exception as error:
        raise BudgetError(f"the model cannot be built on (batch, {input_length}, 1) inputs: "
                          f"{type(error).__name__}: {str(error)[:200]}") from None
    if inputs != (None, input_length, 1):
        raise BudgetError(f"the model takes inputs of shape {inputs}; the rows are (batch, {input_length}, 1)")
    if outputs != (None, num_classes):
        raise BudgetError(f"the model outputs shape {outputs}; it must give (batch, {num_classes}) class scores")
    last = _leaf_layers(model)[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "linear")
    if activation != "linear" or type(last).__name__ in ("Softmax", "Activation"):
        raise BudgetError(f"the model ends in a {activation if activation != 'linear' else type(last).__name__} "
                          "activation; it must output logits (a Dense layer without activation): the loss applies "
                          "the softmax itself")
    cost = model_cost(model)
    problems = cost.problems()
    if problems:
        raise BudgetError("the model is over the budget: " + "; ".join(problems))
    return cost


def architecture_key(model):
    """A stable name of a model's architecture, for caching what training it gives.

    Layer names that do not wire the graph (a Sequential's) are left out, so
    the same layers built in another session give the same key. A functional
    model whose layers form one chain (each called once, on the one before)
    has the key of the Sequential model of the same layers: the two train
    alike, weight for weight, so the spec CNN written either way is the spec.

    Args:
        model: a `keras.Model`.

    Returns:
        A hex str.
    """
    model = _as_sequential(model)
    config = model.get_config()
    if type(model).__name__ == "Sequential":
        config = {k: v for k, v in config.items() if k != "name"}
        config["layers"] = [{**layer, "config": {k: v for k, v in layer["config"].items() if k != "name"}}
                            for layer in config.get("layers", [])]
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def _as_sequential(model):
    """The Sequential model of a functional model's layers when they form one chain, else the model itself."""
    try:
        config = model.get_config()
        layers = config.get("layers") if type(model).__name__ != "Sequential" else None
        if not layers or len(model.inputs) != 1 or len(model.outputs) != 1 or layers[0]["class_name"] != "InputLayer":
            return model
        before = layers[0]["name"]
        for layer in layers[1:]:
            (node,) = layer["inbound_nodes"]
            (tensor,) = node["args"]
            if node.get("kwargs") or tensor.get("class_name") != "__keras_tensor__" or \
                    tensor["config"]["keras_history"][0] != before:
                return model
            before = layer["name"]
        output = config["output_layers"]
        if (output[0] if isinstance(output[0], list) else output)[0] != before:
            return model
        import keras

        given = layers[0]["config"]
        copies = [type(model.get_layer(layer["name"])).from_config(model.get_layer(layer["name"]).get_config())
                  for layer in layers[1:]]
        return keras.Sequential([keras.Input(batch_shape=tuple(given["batch_shape"]), dtype=given["dtype"])] + copies)
    except Exception:  # a branch, a layer called twice, a config Keras cannot copy: keyed as it is
        return model


def budget_optimizer(rows):
    """The budget's optimiser: Adam, its learning rate decaying from
    `BUDGET["learning_rate"]` to 0 along a cosine over the budget's steps.

    Decaying to 0 means the weights settle by the last epoch, so the model a
    budget gives does not depend on where in its last steps training stopped.

    Args:
        rows: int, the training rows (the steps are `epochs * ceil(rows / batch_size)`).

    Returns:
        A `keras.optimizers.Adam`.

    Raises:
        ValueError: if `rows` is not a positive int.
    """
    import keras

    from cnnkit._validation import check_positive_ints

    (rows,) = check_positive_ints(rows, name="rows", n=1)
    steps = BUDGET["epochs"] * -(-rows // BUDGET["batch_size"])
    return keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(BUDGET["learning_rate"], steps))


def train_under_budget(build, x, y, validation_data=None, *, seed=0, verbose=0):
    """Trains a model by the assignment's one procedure, within `BUDGET`.

    Seeds Python, NumPy and the backend with `seed` (and asks TensorFlow for
    deterministic kernels), builds the model, checks it against the budget
    (`check_budget`), compiles it with `budget_optimizer(len(x))` and
    `SparseCategoricalCrossentropy(from_logits=True)`, and fits it for
    exactly `BUDGET["epochs"]` epochs of `BUDGET["batch_size"]` rows. The
    reference models and the grader's retraining use this function too.

    Under `cnnkit grade`, a builder the grader retrains itself (named in
    `CNNKIT_UNGRADED_TRAINING`: the "improve it" architecture) is built,
    checked and compiled but not fitted: its trained weights would change no
    grade, and fitting it is most of a graded notebook's time.

    Args:
        build: a function of no arguments returning a fresh `keras.Model`
            (called after seeding, so the initial weights follow the seed).
        x: float32 array (rows, 178, 1), standardised training rows.
        y: int array (rows,), class indices.
        validation_data: optional `(x_val, y_val)`, reported per epoch.
        seed: int.
        verbose: Keras' `fit` verbosity (2: one line per epoch).

    Returns:
        `(model, history)`: the trained model and the dict of per-epoch lists.

    Raises:
        BudgetError: if the model does not fit the budget.
        ValueError: if `build` is not callable.
    """
    import keras

    from cnnkit.training import deterministic_kernels, steady_input_pipeline

    if not callable(build) or isinstance(build, keras.Model):
        raise ValueError("Argument `build` must be a function that builds the model (e.g. build_improved_model, "
                         f"without parentheses); received {type(build).__name__}.")
    keras.utils.set_random_seed(int(seed))
    deterministic_kernels()
    steady_input_pipeline()
    model = build()
    check_budget(model)
    model.compile(optimizer=budget_optimizer(len(y)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    if grading() and getattr(build, "__name__", None) in _ungraded_training():
        print(f"(not trained while grading: the grader retrains {build.__name__}'s architecture itself)")
        return model, {}
    history = model.fit(x, y, validation_data=validation_data, epochs=BUDGET["epochs"],
                        batch_size=BUDGET["batch_size"], shuffle=True, verbose=verbose)
    return model, {key: [float(v) for v in values] for key, values in history.history.items()}


def improvement_seeds(secret=None, *, reference=False, count=None):
    """The seeds the grader trains "improve it" with.

    Args:
        secret: the course secret (a str), or None for the public seeds that
            the students' estimate and the benchmarks use.
        reference: False for the seeds an architecture is trained with,
            True for the spec CNN's (more of them, the first ones the same:
            the spec CNN is trained once per course, and its level decides
            every student's points, so it is measured more closely).
        count: int, how many (default `IMPROVEMENT["seeds"]`, or
            `IMPROVEMENT["reference_seeds"]`); a longer list begins with a
            shorter one's seeds.

    Returns:
        A tuple of `count` ints, the same for every student.

    Raises:
        ValueError: if `count` is not a positive int.
    """
    from cnnkit._validation import check_positive_ints

    if count is None:
        count = IMPROVEMENT["reference_seeds" if reference else "seeds"]
    (count,) = check_positive_ints(count, name="count", n=1)
    if secret is None:
        return tuple(range(count))
    return tuple(derive_seed(secret, ":improve", i, bits=31) for i in range(count))


def seizure_data(path=None):
    """The training and validation recordings of the assignment (test withheld).

    Args:
        path: the data file, else `$CNNKIT_DATA`, else the synthetic stand-in
            (announced with a banner).

    Returns:
        A `StudentData`.
    """
    splits = _splits(path)
    raw = lambda part: (part.x[:, :, 0] * splits.std + splits.mean).astype(np.float32)  # noqa: E731
    return StudentData(raw(splits.train), splits.train.y, raw(splits.validation), splits.validation.y,
                       splits.mean, splits.std, tuple(splits.class_names), splits.synthetic)


def held_out(path=None):
    """The test recordings, standardised with the training statistics.

    For hidden tests under plain nbgrader. Under `cnnkit grade` the sandbox
    has no test recordings, and this returns None: the grader evaluates.

    Args:
        path: as `seizure_data`.

    Returns:
        A `cnnkit.data.Part` with x of shape (rows, 178, 1), or None.
    """
    if grading():
        return None
    return _splits(path, announce=False).test


def grading():
    """Whether this runs in a sandbox of `cnnkit grade`."""
    return os.environ.get(GRADING_ENV, "") == "1"


def _ungraded_training():
    return {name.strip() for name in os.environ.get(UNGRADED_TRAINING_ENV, "").split(",") if name.strip()}


def exploring():
    """Whether the notebook's exploration cells should run: always, except
    under `cnnkit grade` (and `cnnkit check`), where they change no grade and
    only cost time.

    Returns:
        A bool.
    """
    if grading():
        print("(skipped while grading: this exploration changes no grade)")
        return False
    return True


def reference_accuracy(model="spec", path=None):
    """Held-out accuracy of a reference model trained under `BUDGET`.

    Computed once per (data, model, budget, backend) and cached as JSON in
    `$CNNKIT_CACHE` (default `~/.cache/cnnkit`). Never computed in a graded
    kernel: under `cnnkit grade` it returns None.

    Args:
        model: `"spec"` or `"strong"` (see `cnnkit.reference.models.build`).
        path: as `seizure_data`.

    Returns:
        The accuracy, a float, or None under `cnnkit grade`.
    """
    if grading():
        return None
    return recorded_accuracy(reference_result_file(model, path))


def reference_result_file(model="spec", path=None, test=None, seed=SEED, announce=None, wait=True):
    """The cached JSON file holding a reference model's accuracy on the test
    recordings, trained (once) with `train_under_budget` if missing.

    Args:
        model: a reference model's short name (see `cnnkit.reference.models.build`).
        path: as `seizure_data`.
        test: a `cnnkit.data.Part` to evaluate on instead of the table's own
            test recordings (the grader's held-out rows).
        seed: int, the training seed.
        announce: called with no arguments just before a training starts
            (not when the result is read from the cache).
        wait: whether to wait while another process trains the same key;
            if False, return None then (the caller does other work first).

    Returns:
        The `pathlib.Path` of the file (None: another process is training it
        and `wait` is False), named by a key of what decides the
        result (see `training_key`): the same key wherever it is computed,
        for any model with the same architecture. The backend and device
        that trained it are recorded in the file, not in the key: the first
        result recorded decides for every later run that reads the same
        cache (a course's regrade on another backend or a GPU keeps its
        scores).

    Raises:
        RuntimeError: under `cnnkit grade`, in the sandbox.
    """
    from cnnkit.reference import models

    return _accuracy_file(lambda: models.build(model), seed, path, test, announce, wait)


def budget_accuracy(build, seed, path=None, test=None, announce=None, wait=True):
    """Held-out accuracy of a model trained with `train_under_budget` (cached).

    The cache is keyed by the model's architecture (`architecture_key`),
    not its weights or layer names: the same
    architecture, wherever it was built, is trained once per seed.

    Args:
        build: a function of no arguments returning a fresh `keras.Model`.
        seed: int, the training seed.
        path: as `seizure_data`.
        test: as `reference_result_file`.
        announce: as `reference_result_file`.
        wait: as `reference_result_file`.

    Returns:
        The accuracy, a float (None: another process is training the same
        key and `wait` is False).

    Raises:
        BudgetError: if the model does not fit the budget.
        RuntimeError: under `cnnkit grade`, in the sandbox.
    """
    recorded = _accuracy_file(build, seed, path, test, announce, wait)
    return None if recorded is None else recorded_accuracy(recorded)


def recorded_accuracy(path):
    """The accuracy a training's record holds.

    Args:
        path: a record made by `reference_result_file` or `budget_accuracy`.

    Returns:
        The accuracy, a float.

    Raises:
        TrainingFailed: if the record is of a training that failed.
    """
    record = json.loads(path.read_text())
    if record.get("failed"):
        raise TrainingFailed(record["failed"])
    return float(record["accuracy"])


def training_setup():
    """The settings of this process that decide what a training under the
    budget gives, beside the data, the architecture, the budget and the seed.

    Returns:
        A dict: `threads` (the numeric libraries' threads: `OMP_NUM_THREADS`,
        else the CPUs this process may use; a sum's order, so the last digits
        of every weight, depends on it) and `deterministic` (op determinism,
        always asked for by `train_under_budget`).
    """
    threads = os.environ.get("OMP_NUM_THREADS", "")
    return {"threads": int(threads) if threads.isdigit() else len(os.sched_getaffinity(0)), "deterministic": True}


def training_key(build, seed, path=None, test=None):
    """The key of a training under the budget: everything that decides its result.

    Args:
        build, seed, path, test: as `budget_accuracy`.

    Returns:
        A hex str: a hash of the training and held-out rows, the architecture
        (`architecture_key`), `BUDGET`, the seed and `training_setup()`.
    """
    splits = _held_out_splits(path, test)
    parts = [_fingerprint(splits), architecture_key(build()), BUDGET, int(seed), training_setup()]
    return hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:20]


def _held_out_splits(path, test):
    splits = _splits(path, announce=False)
    return splits if test is None else dataclasses.replace(splits, test=test)


def _accuracy_file(build, seed, path, test, announce=None, wait=True):
    """The recorded result of a training under the budget, trained (once) if missing.

    Processes that want the same key wait for the one that trains it (a file
    lock), so a class whose students share an architecture trains it once; a
    process that would rather not wait (`wait=False`) gets None instead.
    """
    if grading():
        raise RuntimeError("the reference model is never trained in a graded kernel")
    folder = Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "cnnkit"))
    cache = folder / f"trained-{training_key(build, seed, path, test)}.json"
    if cache.is_file():
        return cache
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(cache.with_suffix(".lock"), wait) as held:
        if not held:  # another process is training it
            return None
        if cache.is_file():  # trained by another process while this one waited
            return cache
        if announce is not None:
            announce()
        splits = _held_out_splits(path, test)
        from cnnkit.quiet import silenced

        with silenced():
            model, history = train_under_budget(build, splits.train.x, splits.train.y, seed=seed)
            scores = model.predict(splits.test.x, batch_size=512, verbose=0)
        losses = history.get("loss", [])
        bad = next((epoch for epoch, loss in enumerate(losses, start=1) if not np.isfinite(loss)), None)
        outcome = ({"failed": f"the loss became {losses[bad - 1]} in epoch {bad} of {len(losses)} (an output that "
                              "overflows?)"} if bad is not None
                   else {"accuracy": float(np.mean(np.argmax(scores, axis=-1) == splits.test.y))})
        import keras

        partial = cache.with_suffix(f".{os.getpid()}.part")
        partial.write_text(json.dumps({**outcome, "architecture": architecture_key(build()), "seed": int(seed),
                                       "budget": BUDGET, "setup": training_setup(),
                                       "backend": keras.backend.backend(), "keras": keras.__version__}))
        partial.replace(cache)
    return cache


@contextlib.contextmanager
def _locked(path, wait=True):
    """An exclusive lock on `path` (created if missing) for the length of a `with` block.

    Yields whether it is held: always when `wait`, else only if no other
    process held it.
    """
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def grading_data(secret, path=None):
    """The held-out rows the grader scores trained models on (trusted side only).

    Args:
        secret: the course's secret, a str.
        path: as `seizure_data` (the whole table, test recordings included).

    Returns:
        A `cnnkit.data.Part`, standardised with the training statistics: the
        test recordings of a real table, or, for the stand-in, recordings
        generated from a seed derived from `secret` (never from a public seed).
    """
    from cnnkit.data import make_synthetic

    splits = _splits(path, announce=False)
    if not splits.synthetic:
        return splits.test
    table = make_synthetic(seed=derive_seed(secret, ":held-out"), recordings_per_class=SECRET_RECORDINGS_PER_CLASS)
    return _part(table, np.ones(len(table), dtype=bool), splits.mean, splits.std)


def write_student_data(destination, path=None):
    """Writes the table without its test recordings, for the sandbox.

    Args:
        destination: the CSV file to write.
        path: as `seizure_data`.

    Returns:
        The number of rows written.
    """
    from cnnkit.data import load_table, write_csv

    table = load_table(path, announce=False)
    keep = _sides(table, without_test=False) != "test"
    write_csv(dataclasses.replace(table, signals=table.signals[keep], labels=table.labels[keep],
                                  ids=None if table.ids is None else table.ids[keep]), destination)
    return int(keep.sum())


_SPLITS = {}


def _splits(path, announce=True):
    """Train, validation and test parts of the assignment's table, cached per source."""
    from cnnkit.data import DATA_ENV, load_table
    from cnnkit.data.splits import Splits

    without_test = os.environ.get(WITHOUT_TEST_ENV, "") == "1"
    source = (str(path or os.environ.get(DATA_ENV) or "synthetic"), without_test)
    if source not in _SPLITS:
        table = load_table(path, announce=announce)
        sides = _sides(table, without_test)
        train = sides == "train"
        mean, std = float(table.signals[train].mean()), float(table.signals[train].std())
        parts = [_part(table, sides == side, mean, std) for side in ("train", "validation", "test")]
        _SPLITS[source] = Splits(*parts, task="multiclass", by="recording", mean=mean, std=std,
                                 synthetic=table.synthetic)
    return _SPLITS[source]


def _sides(table, without_test=None):
    """Each row's side, `train`, `validation` or `test`, stratified by class.

    Within each class, recordings are ranked by a hash of their id: the first
    `SHARES["test"]` of them go to test, then the same number's share of what
    is left (`SHARES["validation"] / (1 - SHARES["test"])`) to validation, the
    rest to training. A file without its test recordings (the sandbox's, see
    `write_student_data`; `without_test` defaults to `$CNNKIT_DATA_WITHOUT_TEST`)
    ranks what is left the same way and takes no test part, so its validation
    and training rows are the whole table's.
    """
    if table.ids is None:
        raise ValueError("the assignment's data needs row ids that name recordings (the UCI layout has them)")
    if without_test is None:
        without_test = os.environ.get(WITHOUT_TEST_ENV, "") == "1"
    recordings, first, rows = np.unique(table.recordings, return_index=True, return_inverse=True)
    rank_key = np.array([hashlib.sha256(f"{SEED}:{r}".encode()).hexdigest() for r in recordings])
    labels = table.labels[first]
    side = np.full(recordings.size, "train", dtype="<U10")
    for label in np.unique(labels):
        ranked = np.flatnonzero(labels == label)
        ranked = ranked[np.argsort(rank_key[ranked], kind="stable")]
        tests = 0 if without_test else int(round(SHARES["test"] * ranked.size))
        validations = int(round(SHARES["validation"] / (1 - SHARES["test"]) * (ranked.size - tests)))
        side[ranked[:tests]] = "test"
        side[ranked[tests:tests + validations]] = "validation"
    return side[rows]


def _part(table, rows, mean, std):
    from cnnkit.data import Part

    index = np.flatnonzero(rows)
    x = ((table.signals[index] - mean) / std).astype(np.float32)[:, :, None]
    return Part(x, (table.labels[index] - 1).astype(np.int64), None if table.ids is None else table.ids[index])


def _leaf_layers(model):
    """The model's layers, nested models' layers in their place."""
    found = []
    for layer in model.layers:
        found += _leaf_layers(layer) if hasattr(layer, "layers") else [layer]
    return found


def _fingerprint(splits):
    digest = hashlib.sha1()
    for part in (splits.train, splits.validation, splits.test):
        digest.update(part.x.tobytes())
        digest.update(part.y.tobytes())
    return digest.hexdigest()
