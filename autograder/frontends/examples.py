"""Example submissions shipped with the kit: the solution, the untouched stub,
a correct but noisy solution, and realistic mistakes, one per misconception.

Each example is built from the released notebooks, as a student would fill
them in: every solution cell gets the solution's code (its markers removed),
except the cells the example answers differently. An example that targets one
mistake submits only the notebook holding it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

import nbformat

from autograder.course.course import ASSIGNMENT, REPO

__all__ = ["EXAMPLES", "Example", "build_submission", "graded_from"]

NB1, NB2, NB3 = "01_convolution.ipynb", "02_pooling_lenet.ipynb", "03_seizure_classifier.ipynb"
UNTRAINED = "improved_model = build_improved_model()  # to be trained later"


@dataclass(frozen=True)
class Example:
    """One example student.

    Attributes:
        student: the student id (names the mistake).
        description: what the student did, in words.
        notebooks: the notebooks this student submits.
        answers: grade id of a solution cell -> the student's code for it.
        edits: grade id of a solution cell -> (old, new) pairs: the student's
            code is the solution's with these lines changed.
        skip: grade ids of solution cells the student left as released (not
            done yet).
        stub: submit the released notebooks untouched.
        expect: grade id of a test cell -> (outcome, words the feedback must
            hold): outcome is "full", "zero" or "partial". Other test cells of
            the submitted notebooks are expected to get full marks (none for a stub).
        raw: notebook file name -> the file's text, submitted as it is (a
            broken file, say) instead of a built notebook.
        status: the grading status the example should get.
    """

    student: str
    description: str
    notebooks: tuple = (NB1, NB2, NB3)
    answers: dict = field(default_factory=dict)
    edits: dict = field(default_factory=dict)
    skip: tuple = ()
    stub: bool = False
    expect: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)
    status: str = "graded"


def build_submission(example, course):
    """The notebooks an example student submits.

    Args:
        example: an `Example`.
        course: the `autograder.course.course.Course` holding solutions and release.

    Returns:
        Dict of notebook file name -> `nbformat.NotebookNode`, or -> str for
        a notebook submitted as raw text.
    """
    submission = {}
    for name in example.notebooks:
        if name in example.raw:
            submission[name] = example.raw[name]
            continue
        released = nbformat.read(course.root / "assignments" / ASSIGNMENT / name, as_version=4)
        if not example.stub:
            solutions = _solution_code(nbformat.read(course.root / "solutions" / ASSIGNMENT / name, as_version=4))
            for cell in released.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if cell.metadata.get("nbgrader", {}).get("solution") and grade_id not in example.skip:
                    cell.source = example.answers.get(grade_id, solutions[grade_id]).strip("\n")
                    for old, new in example.edits.get(grade_id, ()):
                        if old not in cell.source:
                            raise ValueError(f"example {example.student!r}: {old!r} is not in the solution of {grade_id!r}")
                        cell.source = cell.source.replace(old, new)
        submission[name] = released
    return submission


@functools.lru_cache(maxsize=None)
def _graded_cells(notebook):
    """The grade ids of a notebook's graded test cells, in order, read from the kit's own source."""
    cells = json.loads((REPO / "solutions" / ASSIGNMENT / notebook).read_text())["cells"]
    return tuple(meta["grade_id"] for meta in (cell.get("metadata", {}).get("nbgrader", {}) for cell in cells)
                 if meta.get("grade"))


def graded_from(notebook, first, outcome, words=""):
    """Expectations for a graded cell and every graded cell after it in a notebook.

    What a stopped kernel or a broken file costs depends on where the stop
    falls, so it is derived from the notebook itself: adding a graded cell
    to the source changes these expectations with it.

    Args:
        notebook: the notebook's file name.
        first: the grade id of the first test cell concerned, or None for all.
        outcome: `"full"`, `"zero"` or `"partial"`.
        words: what each cell's feedback must hold.

    Returns:
        A dict of grade id -> (outcome, words), for `Example.expect`.
    """
    cells = _graded_cells(notebook)
    start = 0 if first is None else cells.index(first)
    return {grade_id: (outcome, words) for grade_id in cells[start:]}


def _solution_code(notebook):
    """Grade id -> the solution cell's code without nbgrader's markers."""
    code = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = [line for line in cell.source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
            code[meta["grade_id"]] = "\n".join(lines)
    return code


EXAMPLES = (
    Example("solution", "the instructor's solution, submitted as a student would"),
    Example("stub", "the released notebooks, untouched", stub=True),
    Example("noisy-but-correct", "correct code that prints to stderr and raises Keras and Python warnings",
            notebooks=(NB1, NB2),
            edits={"conv2d_layer": [("def conv2d_layer(", "import sys, warnings\n\n\ndef conv2d_layer("),
                                    ("    return y + bias", "    print('debug: conv done', file=sys.stderr)\n"
                                                          "    warnings.warn('this loop is slow')\n    return y + bias")],
                   "build_lenet5": [("keras.Input((32, 32, 1)),\n", ""),  # Keras warns about input_shape=
                                    ('layers.Conv2D(6, 5, activation="tanh")',
                                     'layers.Conv2D(6, 5, activation="tanh", input_shape=(32, 32, 1))'),
                                    ("    return keras.Sequential([", "    import sys\n"
                                     "    print('building LeNet', file=sys.stderr)\n    return keras.Sequential([")]},
            expect={"conv2d_layer_tests": ("full", "matches the reference"), "lenet5_tests": ("full", "follows the spec")}),
    Example("kernel-not-flipped", "convolve2d slides the kernel without flipping it", notebooks=(NB1,),
            edits={"convolve2d": [("correlate2d(image, np.asarray(kernel)[::-1, ::-1])", "correlate2d(image, kernel)")]},
            # conv1d_signal reuses the student's convolve2d, so the mistake shows there too
            expect={"convolve2d_tests": ("partial", "kernel not flipped"),
                    "conv1d_signal_tests": ("partial", "kernel not flipped")}),
    Example("padding-off-by-one", "'same' padding puts the larger half before the input", notebooks=(NB1,),
            edits={"conv2d_layer": [("(pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)",
                                     "(pad_h - pad_h // 2, pad_h // 2), (pad_w - pad_w // 2, pad_w // 2)")]},
            expect={"conv2d_layer_tests": ("partial", "padding off by one")}),
    Example("stride-ignored", "the conv layer always moves one pixel", notebooks=(NB1,),
            edits={"conv2d_layer": [("output_length(x.shape[1], kh, stride, padding)", "output_length(x.shape[1], kh, 1, padding)"),
                                    ("output_length(x.shape[2], kw, stride, padding)", "output_length(x.shape[2], kw, 1, padding)"),
                                    ("x[:, m:m + (out_h - 1) * stride + 1:stride, n:n + (out_w - 1) * stride + 1:stride, :]",
                                     "x[:, m:m + out_h, n:n + out_w, :]")]},
            expect={"conv2d_layer_tests": ("partial", "stride ignored")}),
    Example("channels-first", "the conv layer returns (batch, filters, height, width)", notebooks=(NB1,),
            edits={"conv2d_layer": [("np.zeros((x.shape[0], out_h, out_w, kernel.shape[3]))",
                                     "np.zeros((x.shape[0], kernel.shape[3], out_h, out_w))"),
                                    ("y += patch @ kernel[m, n]", "y += np.moveaxis(patch @ kernel[m, n], -1, 1)"),
                                    ("return y + bias", "return y + bias[:, None, None]")]},
            expect={"conv2d_layer_tests": ("zero", "channels-first layout")}),
    Example("gradient-not-summed", "conv1d_kernel_gradient keeps the first position's term instead of summing them all",
            notebooks=(NB1,),
            edits={"conv1d_kernel_gradient": [("np.array([np.dot(grad_y, x[m:m + len(grad_y)]) for m in range(kernel_size)])",
                                               "grad_y[0] * x[:kernel_size]")]},
            expect={"conv1d_kernel_gradient_tests": ("partial", "gradients not summed over positions")}),
    Example("learnt-with-convolution", "learn_kernel's forward pass convolves while its gradient is a correlation's",
            notebooks=(NB1,),
            edits={"learn_kernel": [("residual = correlate2d(image, kernel) - target",
                                     "residual = convolve2d(image, kernel) - target")]},
            expect={"learn_kernel_tests": ("partial", "forward pass convolves")}),
    Example("macs-from-input-size", "conv_macs counts a dot product per input pixel instead of per output position",
            notebooks=(NB1,),
            edits={"conv_macs": [("return out_h * out_w * kernel_size", "return height * width * kernel_size")]},
            expect={"conv_macs_tests": ("zero", "output size from the input")}),
    Example("average-instead-of-max", "max_pool2d averages each window", notebooks=(NB2,),
            edits={"pool2d": [("return np.max(pool_windows(x, pool_size, stride, padding, -np.inf), axis=0)",
                               "return np.mean(pool_windows(x, pool_size, stride, padding, 0.0), axis=0)")]},
            expect={"max_pool2d_tests": ("partial", "average instead of max")}),
    Example("bn-batch-statistics-at-eval", "batchnorm_forward normalises with the batch's statistics in both modes",
            notebooks=(NB2,),
            edits={"batchnorm_forward": [("    if training:\n        axes", "    if True:  # the mode never matters?\n        axes")]},
            expect={"batchnorm_forward_tests": ("partial", "batch statistics at evaluation")}),
    Example("dropout-not-scaled", "dropout_forward zeroes units but does not scale the survivors", notebooks=(NB2,),
            edits={"dropout_forward": [("x / (1 - rate), 0.0)", "x, 0.0)")]},
            expect={"dropout_forward_tests": ("partial", "dropout not scaled")}),
    Example("residual-without-projection", "residual_block adds the input as it is, even when the channels change",
            notebooks=(NB2,),
            edits={"residual_block": [("    if x.shape[-1] != filters:\n        shortcut = layers.Conv1D(filters, 1)(x)\n", "")]},
            expect={"residual_block_tests": ("partial", "residual without projection")}),
    Example("flatten-head", "build_gap_cnn keeps the spec CNN's Flatten head, and invariant_shifts takes a global "
            "average to ignore every shift", notebooks=(NB2,),
            edits={"build_gap_cnn": [("layers.GlobalAveragePooling1D(),", "layers.Flatten(),")],
                   "invariant_shifts": [("return list(range(total, max_shift + 1, total))",
                                         "return list(range(1, max_shift + 1))  # a global average forgets where")]},
            expect={"gap_cnn_tests": ("partial", "model does not follow the spec"),
                    "gap_invariance_tests": ("zero", "Flatten head on shifted rows"),
                    "invariant_shifts_tests": ("partial", "every shift")}),
    # The seizure notebook's mistakes below have built their improved model but not trained it yet: the grader
    # scores the architecture (retrained on its own seeds), so "improve it" gets full marks all the same.
    # Two mistakes of section 6 in one student (one notebook run less in the demo).
    Example("dropout-on-at-eval", "predict_classes calls the model with training=True, and within_method_share "
            "counts the correct predictions too (it trains the spec CNN with train_under_budget: full marks for it)",
            notebooks=(NB3,),
            answers={"train_spec": "spec_model, _ = train_under_budget(build_spec_cnn, x_train, y_train, "
                                   "validation_data=(x_val, y_val), seed=0)", "train_improved": UNTRAINED},
            edits={"predict_classes": [("np.argmax(model.predict(x, verbose=0), axis=-1)",
                                        "np.argmax(keras.ops.convert_to_numpy(model(x, training=True)), axis=-1)")],
                   "within_method_share": [("return float(mistakes[same].sum() / mistakes.sum()) if mistakes.sum() > 0 "
                                            "else 0.0", "return float(confusion[same].sum() / confusion.sum())")]},
            expect={"train_eval_mode_tests": ("partial", "dropout left on at evaluation"),
                    "within_method_share_tests": ("partial", "correct predictions counted")}),
    Example("untrained-model", "the spec model is fitted for 0 epochs (a budget variable left at 0), and step_costs "
            "counts the steps of an epoch rounded down", notebooks=(NB3,),
            answers={"train_improved": UNTRAINED},
            edits={"train_spec": [("spec_model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=BUDGET[\"epochs\"],",
                                   "spec_model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=0,")],
                   "step_costs": [("steps = [-(-rows // b) for b in batch_sizes]", "steps = [rows // b for b in batch_sizes]")]},
            expect={"spec_trained_tests": ("zero", "model never trained"),
                    "step_costs_tests": ("partial", "steps rounded down")}),
    Example("not-the-spec", "the spec CNN with 8 filters of width 3 first and a Dense(64) head, and the improved "
            "model's receptive field given in samples", notebooks=(NB3,),
            answers={"train_improved": UNTRAINED},
            edits={"build_spec_cnn": [("layers.Conv1D(6, 5, activation=\"relu\")", "layers.Conv1D(8, 3, activation=\"relu\")"),
                                      ("layers.Dense(128, activation=\"relu\")", "layers.Dense(64, activation=\"relu\")")],
                   "improved_receptive_field": [("improved_receptive_field_ms = 1000 * field / 173.61",
                                                 "improved_receptive_field_ms = field")]},
            expect={"spec_cnn_tests": ("partial", "model does not follow the spec"),
                    "improved_receptive_field_tests": ("zero", "samples, not milliseconds")}),
    Example("spec-as-improvement", "build_improved_model returns the spec CNN unchanged (and trains it for 30 epochs); "
            "its receptive field, the spec CNN's own, is right; in_seed_spreads takes NumPy's default standard "
            "deviation (n in the denominator)", notebooks=(NB3,),
            edits={"in_seed_spreads": [("np.std(np.asarray(accuracies, dtype=float), ddof=1)", "np.std(accuracies)")]},
            answers={"build_improved_model": "def build_improved_model():\n    return build_spec_cnn()",
                     "improved_receptive_field": "improved_receptive_field_ms = 1000 * 16 / 173.61",
                     "train_improved": "keras.utils.set_random_seed(0)\nimproved_model = build_improved_model()\n"
                                       "improved_model.compile(optimizer='adam', loss=keras.losses.SparseCategoricalCrossentropy("
                                       "from_logits=True))\nimproved_model.fit(x_train, y_train, epochs=30, batch_size=256, verbose=0)"},
            expect={"improved_trained_tests": ("zero", "no better than the spec CNN"),
                    "in_seed_spreads_tests": ("partial", "population standard deviation")}),
    # Outcomes other than a grade: each stopped by a limit (or refused) while the batch goes on.
    # It submits the pooling notebook too, as most students submit everything: the grader goes on to it after the
    # stopped notebook (and a submission this size is dispatched early, so the demo does not end waiting on it).
    Example("infinite-loop", "convolve2d never returns (a while loop whose condition never changes); pooling done",
            notebooks=(NB1, NB2),
            edits={"convolve2d": [("    return correlate2d(", "    while True:\n        pass\n    return correlate2d(")]},
            expect={**graded_from(NB1, "output_length_tests", "zero", "is not defined"),
                    "correlate2d_tests": ("full", ""), "convolve2d_tests": ("zero", "did not return")},
            status="timeout"),
    Example("memory-hog", "keeps every intermediate array of a loop alive until memory runs out", notebooks=(NB1,),
            edits={"output_length": [('    if padding == "valid":',
                                      '    hoard = []\n    while True:\n        hoard.append(np.ones(10**7))\n'
                                      '    if padding == "valid":')]},
            expect={**graded_from(NB1, "output_length_tests", "zero"),
                    "correlate2d_tests": ("full", ""), "convolve2d_tests": ("full", "")},
            status="memory"),
    Example("exits-the-kernel", "calls os._exit() in the middle of the notebook", notebooks=(NB1,),
            edits={"conv1d_signal": [("def conv1d_signal(", "import os\nos._exit(3)\n\n\ndef conv1d_signal(")]},
            expect=graded_from(NB1, "conv1d_signal_tests", "zero", "is not defined"),
            status="crashed"),
    Example("huge-output", "prints every intermediate value of a long loop", notebooks=(NB1,),
            edits={"correlate2d": [("    return out", "    for step in range(10**7):\n        print('step', step, out.sum())\n"
                                                     "    return out")]},
            # the kernel stopped at correlate2d's public tests: what was defined by then is called (and never returns
            # within its time), what comes after was never defined
            expect={**graded_from(NB1, "output_length_tests", "zero", "is not defined"),
                    "correlate2d_tests": ("zero", "did not return"), "convolve2d_tests": ("zero", "did not return")},
            status="output-limit"),
    Example("malformed-notebook", "a notebook file cut short by a failed upload (broken JSON)", notebooks=(NB1,),
            raw={NB1: '{\n "cells": [\n  {\n   "cell_type": "code",\n   "source": ["def correlate2d(image, kern'},
            expect=graded_from(NB1, None, "zero", "broken JSON"),
            status="malformed"),
)
