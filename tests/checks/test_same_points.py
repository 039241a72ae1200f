"""Same code, same points: the fixed cases decide what a mistake costs, so
every student with that mistake loses the same points whatever the course
secret; and a misconception is named only when it explains the evidence, so
the name does not depend on the secret either.

Each mistake is real code: the solution's cell with the mistake edited in, as
the demo's example students are, run here (trusted test code) on the cases
50 course secrets would draw."""

import ast
from dataclasses import replace

import numpy as np
import pytest

from autograder.course.course import REPO, Course
from autograder.frontends.examples import EXAMPLES, NB1, NB2, NB3, Example, build_submission
from cnnkit.checks.functions import call_positionally, draw_cases, judge
from cnnkit.seeds import derive_seed

SECRETS = [f"course-secret-{i}" for i in range(50)]
BY_NAME = {example.student: example for example in EXAMPLES}
# The demo's NumPy mistakes, and the graded function each one breaks.
EXAMPLE_MISTAKES = {"kernel-not-flipped": "convolve2d", "gradient-not-summed": "conv1d_kernel_gradient",
                    "learnt-with-convolution": "learn_kernel", "macs-from-input-size": "conv_macs",
                    "dropout-on-at-eval": "within_method_share", "flatten-head": "invariant_shifts",
                    "untrained-model": "step_costs",
                    "padding-off-by-one": "conv2d_layer",
                    "stride-ignored": "conv2d_layer", "channels-first": "conv2d_layer",
                    "average-instead-of-max": "max_pool2d", "bn-batch-statistics-at-eval": "batchnorm_forward",
                    "dropout-not-scaled": "dropout_forward", "spec-as-improvement": "in_seed_spreads"}
# More mistakes students make, each an edit of the solution, and the name its feedback gives.
NAMES = {"dropout-times-keep": "survivors multiplied by the keep rate", "dropout-shared-mask": "one mask for the whole batch",
         "bn-epsilon-hard-coded": "epsilon hard-coded", "bn-batch-axis-only": "statistics over the batch axis only",
         "receptive-field-off-by-one": "field starts at 0", "max-pool-zero-padding": "zero padding in max pooling",
         "kernel-not-flipped": "kernel not flipped", "padding-off-by-one": "padding off by one",
         "stride-ignored": "stride ignored", "channels-first": "channels-first layout",
         "average-instead-of-max": "average instead of max", "dropout-not-scaled": "dropout not scaled",
         "bn-batch-statistics-at-eval": "batch statistics at evaluation",
         "flips-rows-only": "kernel flipped along one axis only",
         "correlation-full-mode": "'full' mode instead of 'valid'", "same-rounded-down": "'same' rounded down",
         "length-not-floored": "division not rounded down", "same-padding-ignored": "padding ignored",
         "signal-same-mode": "'same' mode instead of 'valid'", "conv-bias-per-input": "a bias per input channel",
         "dense-bias-per-input": "a bias per input", "bn-moving-in-training": "moving averages used in training",
         "bn-momentum-reversed": "momentum reversed", "gradient-not-summed": "gradients not summed over positions",
         "gradient-averaged": "gradients averaged over positions", "gradient-reversed": "gradient reversed",
         "gradient-convolved": "upstream gradient flipped (np.convolve)",
         "gradient-upstream-ignored": "upstream gradient ignored", "learnt-with-convolution": "forward pass convolves",
         "learn-uphill": "gradient ascent", "learn-averaged": "gradient averaged over positions",
         "learn-extra-step": "one step too many or too few", "macs-from-input-size": "output size from the input",
         "macs-stride-ignored": "stride ignored", "macs-one-position": "one output position only",
         "macs-bias-counted": "bias counted as a multiply-add", "macs-channels-ignored": "input channels ignored",
         "dropout-on-at-eval": "correct predictions counted", "within-over-every-row": "share of every row, not of "
         "the mistakes", "within-crossing": "the share that crosses methods",
         "within-in-percent": "a percentage, not a share",
         "flatten-head": "every shift", "shifts-last-stride": "last stride only", "shifts-strides-added": "strides added",
         "shifts-receptive-field": "multiples of the receptive field", "shifts-max-left-out": "max_shift left out",
         "shifts-zero-counted": "shift 0 counted", "untrained-model": "steps rounded down",
         "costs-steps-not-rounded": "steps not rounded", "costs-each-alone": "each timing read alone",
         "costs-swapped": "costs swapped", "spec-as-improvement": "population standard deviation",
         "spreads-variance": "variance instead of standard deviation",
         "spreads-standard-error": "standard error instead of the spread of one run",
         "spreads-range": "range instead of standard deviation",
         "spreads-difference-of-two": "the spread of a difference of two runs",
         "spreads-in-points": "difference in points, spread in fractions", "spreads-sign-dropped": "sign dropped",
         "spreads-accuracies-in-points": "spread in points, difference in fractions"}
_GRADIENT = "np.array([np.dot(grad_y, x[m:m + len(grad_y)]) for m in range(kernel_size)])"
_MACS = "out_h * out_w * kernel_size * kernel_size * in_channels * filters"
_WITHIN = "return float(mistakes[same].sum() / mistakes.sum()) if mistakes.sum() > 0 else 0.0"
_SHIFTS = "    total = 1\n    for _, stride in layers:\n        total *= stride"
_RANGE = "return list(range(total, max_shift + 1, total))"
_STEPS = "steps = [-(-rows // b) for b in batch_sizes]"
_COSTS = "return per_step, (seconds[1] - steps[1] * per_step) / rows"
_SPREAD = "np.std(np.asarray(accuracies, dtype=float), ddof=1)"
MORE_MISTAKES = {
    "spreads-variance": ("in_seed_spreads", NB3, "in_seed_spreads", _SPREAD, "np.var(accuracies, ddof=1)"),
    "spreads-standard-error": ("in_seed_spreads", NB3, "in_seed_spreads", _SPREAD,
                               "(np.std(accuracies, ddof=1) / np.sqrt(len(accuracies)))"),
    "spreads-range": ("in_seed_spreads", NB3, "in_seed_spreads", _SPREAD, "(max(accuracies) - min(accuracies))"),
    "spreads-difference-of-two": ("in_seed_spreads", NB3, "in_seed_spreads", _SPREAD,
                                  "(np.sqrt(2) * np.std(accuracies, ddof=1))"),
    "spreads-in-points": ("in_seed_spreads", NB3, "in_seed_spreads", "difference / ", "100 * difference / "),
    "spreads-accuracies-in-points": ("in_seed_spreads", NB3, "in_seed_spreads", "np.asarray(accuracies, dtype=float)",
                                     "100 * np.asarray(accuracies, dtype=float)"),
    "spreads-sign-dropped": ("in_seed_spreads", NB3, "in_seed_spreads", "difference / ", "abs(difference) / "),
    "costs-steps-not-rounded": ("step_costs", NB3, "step_costs", _STEPS, "steps = [rows / b for b in batch_sizes]"),
    "costs-each-alone": ("step_costs", NB3, "step_costs", _COSTS,
                         "small, large = np.argsort(batch_sizes)\n"
                         "    return seconds[small] / steps[small], seconds[large] / rows"),
    "costs-swapped": ("step_costs", NB3, "step_costs", _COSTS,
                      "return (seconds[1] - steps[1] * per_step) / rows, per_step"),
    "shifts-last-stride": ("invariant_shifts", NB2, "invariant_shifts", _SHIFTS, "    total = layers[-1][1]"),
    "shifts-strides-added": ("invariant_shifts", NB2, "invariant_shifts", _SHIFTS,
                             "    total = sum(stride for _, stride in layers)"),
    "shifts-receptive-field": ("invariant_shifts", NB2, "invariant_shifts", _SHIFTS,
                               "    total, jump = 1, 1\n    for kernel_size, stride in layers:\n"
                               "        total += (kernel_size - 1) * jump\n        jump *= stride"),
    "shifts-max-left-out": ("invariant_shifts", NB2, "invariant_shifts", _RANGE,
                            "return [t for t in range(1, max_shift) if t % total == 0]"),
    "shifts-zero-counted": ("invariant_shifts", NB2, "invariant_shifts", _RANGE,
                            "return np.arange(0, max_shift + 1, total)"),
    "within-over-every-row": ("within_method_share", NB3, "within_method_share", _WITHIN,
                              "return float(mistakes[same].sum() / confusion.sum())"),
    "within-in-percent": ("within_method_share", NB3, "within_method_share", _WITHIN,
                          "return 100 * float(mistakes[same].sum() / mistakes.sum()) if mistakes.sum() > 0 else 0.0"),
    "within-crossing": ("within_method_share", NB3, "within_method_share", _WITHIN,
                        "return 1 - float(mistakes[same].sum() / mistakes.sum()) if mistakes.sum() > 0 else 0.0"),
    "macs-stride-ignored": ("conv_macs", NB1, "conv_macs", "stride, padding)\n    out_w = output_length(width, "
                            "kernel_size, stride, padding)", "1, padding)\n    out_w = output_length(width, "
                            "kernel_size, 1, padding)"),
    "macs-one-position": ("conv_macs", NB1, "conv_macs", _MACS, "kernel_size * kernel_size * in_channels * filters"),
    "macs-bias-counted": ("conv_macs", NB1, "conv_macs", _MACS,
                          "out_h * out_w * (kernel_size * kernel_size * in_channels + 1) * filters"),
    "macs-channels-ignored": ("conv_macs", NB1, "conv_macs", _MACS, "out_h * out_w * kernel_size * kernel_size * filters"),
    "learn-uphill": ("learn_kernel", NB1, "learn_kernel", "kernel = kernel - lr *", "kernel = kernel + lr *"),
    "learn-averaged": ("learn_kernel", NB1, "learn_kernel", "lr * correlate2d(image, residual)",
                       "lr * correlate2d(image, residual) / residual.size"),
    "learn-extra-step": ("learn_kernel", NB1, "learn_kernel", "range(steps)", "range(steps + 1)"),
    "gradient-averaged": ("conv1d_kernel_gradient", NB1, "conv1d_kernel_gradient", _GRADIENT,
                          _GRADIENT + " / len(grad_y)"),
    "gradient-reversed": ("conv1d_kernel_gradient", NB1, "conv1d_kernel_gradient", _GRADIENT, _GRADIENT + "[::-1]"),
    "gradient-convolved": ("conv1d_kernel_gradient", NB1, "conv1d_kernel_gradient", _GRADIENT,
                           "np.convolve(x, grad_y, 'valid')"),
    "gradient-upstream-ignored": ("conv1d_kernel_gradient", NB1, "conv1d_kernel_gradient", "np.dot(grad_y, ",
                                  "np.sum("),
    "dropout-times-keep": ("dropout_forward", NB2, "dropout_forward", "x / (1 - rate)", "x * (1 - rate)"),
    "dropout-shared-mask": ("dropout_forward", NB2, "dropout_forward", "np.asarray(noise) >= rate",
                            "np.asarray(noise)[:1] >= rate"),
    "bn-epsilon-hard-coded": ("batchnorm_forward", NB2, "batchnorm_forward", "np.sqrt(var + epsilon)",
                              "np.sqrt(var + 1e-5)"),
    "bn-batch-axis-only": ("batchnorm_forward", NB2, "batchnorm_forward", "axes = tuple(range(x.ndim - 1))",
                           "axes = 0"),
    "receptive-field-off-by-one": ("receptive_field", NB2, "receptive_field", "field, jump = 1, 1",
                                   "field, jump = 0, 1"),
    "max-pool-zero-padding": ("max_pool2d", NB2, "pool2d", "pool_windows(x, pool_size, stride, padding, -np.inf)",
                              "pool_windows(x, pool_size, stride, padding, 0.0)"),
    "flips-rows-only": ("convolve2d", NB1, "convolve2d", "[::-1, ::-1]", "[::-1, :]"),
    "correlation-full-mode": ("correlate2d", NB1, "correlate2d", "kh, kw = kernel.shape",
                              "kh, kw = kernel.shape\n    image = np.pad(image, ((kh - 1,) * 2, (kw - 1,) * 2))"),
    "same-rounded-down": ("output_length", NB1, "output_length", "return -(-n // stride)", "return n // stride"),
    "length-not-floored": ("output_length", NB1, "output_length", "(n - kernel_size) // stride + 1",
                           "(n - kernel_size) / stride + 1"),
    "same-padding-ignored": ("output_length", NB1, "output_length", 'if padding == "valid":', "if True:"),
    "signal-same-mode": ("conv1d_signal", NB1, "conv1d_signal",
                         "return convolve2d(np.asarray(signal)[None, :], np.asarray(kernel)[None, :])[0]",
                         "return np.convolve(signal, kernel, 'same')"),
    "conv-bias-per-input": ("conv_params", NB1, "params", "in_channels * filters + filters",
                            "in_channels * filters + in_channels"),
    "dense-bias-per-input": ("dense_params", NB1, "params", "in_features * units + units",
                             "in_features * units + in_features"),
    "bn-moving-in-training": ("batchnorm_forward", NB2, "batchnorm_forward",
                              "mean, var = x.mean(axis=axes), x.var(axis=axes)",
                              "mean = 0.99 * moving_mean + 0.01 * x.mean(axis=axes); "
                              "var = 0.99 * moving_var + 0.01 * x.var(axis=axes)"),
    "bn-momentum-reversed": ("batchnorm_forward", NB2, "batchnorm_forward",
                             "mean, var = x.mean(axis=axes), x.var(axis=axes)",
                             "mean = 0.01 * moving_mean + 0.99 * x.mean(axis=axes); "
                             "var = 0.01 * moving_var + 0.99 * x.var(axis=axes)"),
}


def _student_functions(example):
    """The functions the example's solution cells define (cells that train a model are not run)."""
    namespace = {"np": np}
    for notebook in build_submission(example, Course(REPO)).values():
        for cell in notebook.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution") and all(
                    isinstance(node, (ast.FunctionDef, ast.Import, ast.ImportFrom)) for node in ast.parse(cell.source).body):
                exec(cell.source, namespace)  # noqa: S102 - the repository's own solution, with one edit
    return namespace


def _example(student):
    """The demo's example of that name, or the solution with one of `MORE_MISTAKES` edited in."""
    if student in BY_NAME:
        return BY_NAME[student]
    _, notebook, grade_id, old, new = MORE_MISTAKES[student]
    return Example(student, "", notebooks=(notebook,), edits={grade_id: [(old, new)]})


def _verdicts(student, example, function):
    """The distinct (score, names, special-cased kinds) of one function of a student, each secret's cases judged."""
    fn = _student_functions(example)[function]
    verdicts = set()
    for secret in SECRETS:
        cases = draw_cases(function, derive_seed(secret, student, function))
        result = judge(function, cases, [call_positionally(fn, case) for case in cases], points=3.0)
        verdicts.add((round(result.score, 6), tuple(m.name for m in result.misconceptions),
                      tuple(result.evidence["special_cased"])))
    return verdicts


def _mistakes():
    for student, function in [*EXAMPLE_MISTAKES.items(), *((s, f) for s, (f, *_) in MORE_MISTAKES.items())]:
        yield student, _example(student), function


@pytest.mark.parametrize("student, example, function", list(_mistakes()), ids=lambda v: v if isinstance(v, str) else "")
def test_a_mistake_costs_the_same_points_and_gets_the_same_name_under_every_secret(student, example, function):
    verdicts = _verdicts(student, example, function)
    assert len(verdicts) == 1, f"{student}: {sorted(verdicts)}"
    score, names, special = verdicts.pop()
    assert score < 3.0, f"{student} lost nothing"
    assert names == ((NAMES[student],) if student in NAMES else ()), f"{student} is named {names}"
    assert special == (), f"{student}: an honest mistake read as special-casing ({special})"


# A mistake in a helper reaches the graded functions that call it (the student's own helper, as in the notebook):
# mistake -> the functions it reaches.
REACHED = {"same-rounded-down": ("conv2d_layer", "conv_macs"), "length-not-floored": ("conv2d_layer", "conv_macs"),
           "same-padding-ignored": ("conv2d_layer", "conv_macs"),
           "correlation-full-mode": ("convolve2d", "conv1d_signal", "learn_kernel"),
           "flips-rows-only": ("conv1d_signal",), "kernel-not-flipped": ("conv1d_signal",)}


def _reached():
    for student, functions in REACHED.items():
        for function in functions:
            yield student, _example(student), function


@pytest.mark.parametrize("student, example, function", list(_reached()), ids=lambda v: v if isinstance(v, str) else "")
def test_a_mistake_reached_through_a_helper_costs_the_same_points_under_every_secret(student, example, function):
    verdicts = _verdicts(student, example, function)
    assert len(verdicts) == 1, f"{student} in {function}: {sorted(verdicts)}"
    score, _, special = verdicts.pop()
    assert score < 3.0, f"{student} in {function} lost nothing"
    assert special == (), f"{student} in {function}: an honest mistake read as special-casing ({special})"


def test_code_that_special_cases_the_fixed_cases_loses_that_kind_and_says_so():
    from cnnkit.checks.functions import fixed_cases
    from cnnkit.reference import correlate2d

    fixed = fixed_cases("correlate2d")
    known = {case["image"].tobytes(): correlate2d(*case.values()) for case in fixed}

    def memorised(image, kernel):
        return known.get(np.asarray(image).tobytes(), np.zeros((1, 1)))

    cases = draw_cases("correlate2d", 7)
    result = judge("correlate2d", cases, [call_positionally(memorised, case) for case in cases], points=2.0)
    assert result.score <= 2.0 / 3  # only kinds no random case can reach keep their points
    assert result.evidence["special_cased"], result.evidence
    assert "fails your own random cases" in result.feedback()


def test_the_solution_keeps_full_marks_on_every_secret():
    functions = _student_functions(replace(BY_NAME["solution"], notebooks=(NB1, NB2)))
    for function in ("correlate2d", "convolve2d", "conv2d_layer", "max_pool2d", "batchnorm_forward", "dropout_forward"):
        for secret in SECRETS[:5]:
            cases = draw_cases(function, derive_seed(secret, "solution", function))
            result = judge(function, cases, [call_positionally(functions[function], c) for c in cases])
            assert result.score == 1.0, (function, result.feedback())
