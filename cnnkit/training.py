"""Seeded, repeatable training of the seizure models, metrics and plots.

`train` seeds every source of randomness (Python, NumPy, the backend) and
asks TensorFlow for deterministic kernels, so one seed, one data set, one
backend and one device give the same weights. It stops early on the
validation loss and keeps the best weights.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Metrics", "TrainingResult", "classification_metrics", "compare_architectures", "deterministic_kernels",
           "evaluate", "plot_comparison", "plot_confusion", "plot_history", "steady_input_pipeline", "train"]


@dataclass(frozen=True, eq=False)
class Metrics:
    """How well predictions match labels.

    Attributes:
        accuracy: share of rows predicted right.
        macro_f1: mean over classes of the F1 score (classes weigh equally).
        per_class_recall: tuple, for each class the share of its rows found.
        confusion: int array of shape (classes, classes); rows are true
            classes, columns predicted ones.
        class_names: tuple of class names, in index order.
    """

    accuracy: float
    macro_f1: float
    per_class_recall: tuple
    confusion: np.ndarray
    class_names: tuple

    def rows(self):
        """(name, value) pairs for a table of metrics."""
        rows = [("accuracy", self.accuracy), ("macro F1", self.macro_f1)]
        rows += [(f"recall: {name}", r) for name, r in zip(self.class_names, self.per_class_recall)]
        return rows


def classification_metrics(y_true, y_pred, class_names):
    """Accuracy, macro-F1, per-class recall and confusion matrix.

    Args:
        y_true: int array of shape (rows,), true class indices.
        y_pred: int array of shape (rows,), predicted class indices.
        class_names: sequence of class names; its length is the class count.

    Returns:
        A `Metrics`.
    """
    k = len(class_names)
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    confusion = np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)
    hits = np.diag(confusion).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.nan_to_num(hits / confusion.sum(axis=1))
        precision = np.nan_to_num(hits / confusion.sum(axis=0))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return Metrics(float(hits.sum() / max(len(y_true), 1)), float(f1.mean()),
                   tuple(float(r) for r in recall), confusion, tuple(class_names))


def evaluate(model, part, class_names, batch_size=256):
    """Evaluates a model (in inference mode) on one part of a split.

    Args:
        model: a `keras.Model` that outputs one score per class.
        part: a `cnnkit.data.Part`.
        class_names: sequence of class names.
        batch_size: int, rows per prediction batch.

    Returns:
        A `Metrics`.
    """
    scores = model.predict(part.x, batch_size=batch_size, verbose=0)
    return classification_metrics(part.y, np.argmax(scores, axis=-1), class_names)


@dataclass(eq=False)
class TrainingResult:
    """What `train` returns.

    Attributes:
        model: the trained `keras.Model` (best validation-loss weights).
        history: dict of per-epoch lists (`loss`, `accuracy`, `val_loss`, ...).
        validation: `Metrics` on the validation part.
        test: `Metrics` on the test part.
        seconds: wall time of `fit`.
        epochs: epochs run (early stopping may end before the limit).
        device: the device line of `cnnkit.devices`.
    """

    model: object
    history: dict
    validation: Metrics
    test: Metrics
    seconds: float
    epochs: int
    device: str = field(default="")


def train(model, splits, *, epochs=30, batch_size=64, learning_rate=1e-3, patience=5,
          seed=0, progress=True):
    """Trains a model on `splits.train`, early-stopped on `splits.validation`.

    Args:
        model: a callable that builds a fresh `keras.Model` (called after
            seeding, so initial weights are repeatable; e.g.
            `lambda: cnnkit.reference.models.build("spec")`), or a built model.
        splits: a `cnnkit.data.Splits`.
        epochs: int, most epochs to run.
        batch_size: int, rows per gradient step.
        learning_rate: float, Adam's step size.
        patience: int, epochs without a better validation loss before
            stopping; after half as many, the learning rate is halved.
        seed: int, seeds Python, NumPy and the backend.
        progress: whether to show a progress bar (one line per run, on stdout).

    Returns:
        A `TrainingResult`.
    """
    import keras

    from cnnkit.devices import configure

    device = configure()
    keras.utils.set_random_seed(seed)
    deterministic_kernels()
    steady_input_pipeline()
    if callable(model) and not isinstance(model, keras.Model):
        model = model()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    callbacks = [
        keras.callbacks.ReduceLROnPlateau("val_loss", factor=0.5, patience=max(patience // 2, 1)),
        keras.callbacks.EarlyStopping("val_loss", patience=patience, restore_best_weights=True),
    ]
    if progress:
        callbacks.append(_epoch_bar(epochs))
    start = time.perf_counter()
    history = model.fit(
        splits.train.x, splits.train.y,
        validation_data=(splits.validation.x, splits.validation.y),
        epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0, callbacks=callbacks,
    )
    seconds = time.perf_counter() - start
    names = splits.class_names
    return TrainingResult(
        model, {k: [float(v) for v in vals] for k, vals in history.history.items()},
        evaluate(model, splits.validation, names), evaluate(model, splits.test, names),
        seconds, len(history.history["loss"]), device.line(),
    )


def compare_architectures(builders, x, y, validation_data, *, seeds=(0, 1, 2), epochs=3, batch_size=128,
                          learning_rate=2e-3):
    """Trains several architectures the same way, on several seeds, and tabulates them.

    Every (architecture, seed) gets a fresh model, Adam with a cosine-decayed
    learning rate over `epochs` epochs, and the same rows, so the table
    compares architectures, not training luck (the spread over seeds shows
    how much luck there is).

    Args:
        builders: dict of name -> function of no arguments building an
            uncompiled `keras.Model` that outputs logits.
        x, y: training inputs (rows, ...) and int labels (rows,).
        validation_data: `(x_val, y_val)`, where accuracy is measured.
        seeds: ints, one training per seed.
        epochs: int, epochs per training.
        batch_size: int.
        learning_rate: float, the starting learning rate.

    Returns:
        A `pandas.DataFrame` indexed by name with columns `parameters`,
        `accuracy` (mean over seeds), `accuracy_std`, `seconds_per_epoch`.
    """
    import keras
    import pandas as pd

    from cnnkit.quiet import silenced

    x_val, y_val = validation_data
    rows = []
    for name, build in builders.items():
        accuracies, seconds = [], []
        for seed in seeds:
            keras.utils.set_random_seed(int(seed))
            model = build()
            steps = epochs * -(-len(y) // batch_size)
            model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps)),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            start = time.perf_counter()
            model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
            seconds.append((time.perf_counter() - start) / epochs)
            with silenced():  # TensorFlow warns about retracing when several models predict in turn
                predictions = np.argmax(model.predict(x_val, batch_size=512, verbose=0), axis=-1)
            accuracies.append(float(np.mean(predictions == np.asarray(y_val))))
        rows.append({"model": name, "parameters": int(model.count_params()), "accuracy": float(np.mean(accuracies)),
                     "accuracy_std": float(np.std(accuracies)), "seconds_per_epoch": float(np.median(seconds))})
    return pd.DataFrame(rows).set_index("model")


def plot_comparison(table, ax=None):
    """Plots a `compare_architectures` table: parameters against accuracy,
    error bars over seeds, marker area by time per epoch.

    Args:
        table: the `pandas.DataFrame` of `compare_architectures`.
        ax: a matplotlib Axes, or None for a new figure.

    Returns:
        The Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    area = 400 * table["seconds_per_epoch"] / table["seconds_per_epoch"].max()
    ax.errorbar(table["parameters"], table["accuracy"], yerr=table["accuracy_std"], fmt="none", ecolor="grey",
                capsize=4)
    ax.scatter(table["parameters"], table["accuracy"], s=area, alpha=0.6)
    for name, row in table.iterrows():
        ax.annotate(f"{name}\n{row['seconds_per_epoch']:.2f} s/epoch", (row["parameters"], row["accuracy"]),
                    textcoords="offset points", xytext=(8, -4), fontsize=8)
    ax.set(xscale="log", xlabel="parameters (log scale)", ylabel="validation accuracy",
           title="architectures: accuracy (mean, std over seeds), marker area = time per epoch")
    return ax


def plot_history(history, path):
    """Saves learning curves (loss and accuracy, train and validation) as a PNG.

    Args:
        history: dict of per-epoch lists, as in `TrainingResult.history`.
        path: str or Path of the PNG to write.

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for prefix, label in (("", "train"), ("val_", "validation")):
            values = history.get(prefix + metric)
            if values:
                ax.plot(range(1, len(values) + 1), values, marker=".", label=label)
        ax.set(title=metric, xlabel="epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_confusion(metrics, path):
    """Saves the confusion matrix of a `Metrics` as a PNG.

    Args:
        metrics: a `Metrics`.
        path: str or Path of the PNG to write.

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(metrics.class_names)
    fig, ax = plt.subplots(figsize=(1.2 * k + 2, 1.2 * k + 1))
    ax.imshow(metrics.confusion, cmap="Blues")
    dark = metrics.confusion.max() / 2
    for (i, j), count in np.ndenumerate(metrics.confusion):
        ax.text(j, i, int(count), ha="center", va="center", color="white" if count > dark else "black")
    ax.set_xticks(range(k), metrics.class_names, rotation=30, ha="right")
    ax.set_yticks(range(k), metrics.class_names)
    ax.set(xlabel="predicted", ylabel="true", title=f"accuracy {metrics.accuracy:.1%}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def deterministic_kernels():
    """Asks the backend for deterministic kernels (TensorFlow's op determinism;
    JAX and PyTorch on the CPU are deterministic already)."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def steady_input_pipeline():
    """Turns off tf.data's autotuning in the pipelines Keras builds from arrays (TensorFlow backend only).

    `fit` on arrays feeds each epoch through a tf.data pipeline that tunes
    itself from a background thread. In a process held to one core (a
    grading worker, a sandboxed kernel) that thread ends every epoch with a
    timed wait while the core idles: about 0.2 s an epoch, 35-40% of the
    budget's training time. Autotuning only sizes buffers and parallel
    calls; which rows come in which batch is decided by the seeded shuffle,
    so the trained weights are the same bit for bit with or without it.
    Idempotent; does nothing on other backends or where Keras' array
    adapter is not where it is expected.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return
    try:
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    except ImportError:  # another Keras layout: autotuning stays on, only slower on one core
        return
    if getattr(ArrayDataAdapter.get_tf_dataset, "_cnnkit_steady", False):
        return
    built = ArrayDataAdapter.get_tf_dataset

    def get_tf_dataset(self, *args, **kwargs):
        import tensorflow as tf

        options = tf.data.Options()
        options.autotune.enabled = False
        return built(self, *args, **kwargs).with_options(options)

    get_tf_dataset._cnnkit_steady = True
    ArrayDataAdapter.get_tf_dataset = get_tf_dataset


def _epoch_bar(epochs):
    """A Keras callback showing a tqdm bar over epochs on stdout (imports kept
    here so that `import cnnkit.training` stays light)."""
    import keras
    from tqdm.auto import tqdm

    class EpochBar(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bar = tqdm(total=epochs, unit="epoch", file=sys.stdout, leave=True)

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            self.bar.set_postfix(loss=f"{logs.get('loss', 0):.3f}", val_loss=f"{logs.get('val_loss', 0):.3f}",
                                 val_acc=f"{logs.get('val_accuracy', 0):.3f}")
            self.bar.update(1)

        def on_train_end(self, logs=None):
            self.bar.close()

    return EpochBar()
