"""Benchmark: what each "improve it" idea of the seizure notebook earns, and
how far the students' own estimate is from the grader.

For every idea on the notebook's list (each applied alone, soundly, to the
spec CNN), two combinations of them, and the instructor's solution:

- the grader's score: the architecture and the reference spec CNN trained
  under the budget with the grader's seeds (derived from a course secret, as
  `cnnkit grade` derives them), scored on the test recordings, by the
  grader's rule (`cnnkit.checks.models.improvement_verdict`);
- the student's estimate: `cnnkit.improvement.estimate_improvement`, what the
  notebook's cell and `cnnkit check --improve` run: the same rule on the
  validation rows, with the public seeds;
- their distance (the issue's target: within 0.5 point).

    python benchmarks/bench_ideas.py [--data PATH] [--secret S] [--only NAME,...]

Trainings on the test rows are cached by key in `--cache` (default: a new
temporary folder), so a second run with the same folder only re-estimates.
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL_CSV = REPO.parent / "shared" / "data" / "epileptic_seizure_recognition.csv"
POINTS = 3.0


def solution_builder(name, notebook=REPO / "solutions" / "cnn" / "03_seizure_classifier.ipynb"):
    """The instructor's builder function `name`, from the source notebook's solution cell."""
    import nbformat

    namespace = {}
    exec("import keras\nimport numpy as np", namespace)
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == name:
            exec(cell.source, namespace)
    return namespace[name]


def ideas():
    """Name -> (what the notebook calls it, builder of no arguments)."""
    import keras
    from keras import layers

    from cnnkit.reference import models

    def spec_with(blocks, head="flatten", momentum=None, dropout=0.0, widths=((6, 5), (16, 5)), dense=128):
        def build():
            model = keras.Sequential([keras.Input((178, 1))])
            for filters, width in widths[:blocks]:
                model.add(layers.Conv1D(filters, width, use_bias=momentum is None))
                if momentum is not None:
                    model.add(layers.BatchNormalization(momentum=momentum))
                model.add(layers.ReLU())
                model.add(layers.MaxPooling1D(2))
            model.add(layers.Flatten() if head == "flatten" else layers.GlobalAveragePooling1D())
            if dropout:
                model.add(layers.Dropout(dropout))
            model.add(layers.Dense(dense, activation="relu"))
            model.add(layers.Dense(5))
            return model
        return build

    three = ((6, 5), (16, 5), (32, 5))
    return {
        "spec": ("the spec CNN, unchanged", models.spec_cnn),
        "wider": ("more filters, wider early kernels", models.wider_cnn),
        "gap": ("global average pooling instead of Flatten, alone", models.gap_cnn),
        "bn": ("batch normalisation after each convolution (momentum 0.9)", models.bn_cnn),
        "bn-default-dropout": ("batch normalisation at the default momentum 0.99, with dropout 0.3",
                               spec_with(2, momentum=0.99, dropout=0.3)),
        "three-blocks": ("a third convolution block", spec_with(3, widths=three)),
        "residual": ("residual blocks with a global-average-pooling head", models.residual_cnn),
        "bn+three-blocks": ("batch normalisation (0.9) and a third block", spec_with(3, momentum=0.9, widths=three)),
        "bn+wider": ("batch normalisation (0.9) and wider early kernels",
                     spec_with(2, momentum=0.9, widths=((24, 9), (64, 5)), dense=64)),
        "solution": ("the instructor's solution", solution_builder("build_improved_model")),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REAL_CSV) if REAL_CSV.exists() else None)
    parser.add_argument("--secret", default="bench-ideas", help="the course secret the grader's seeds come from")
    parser.add_argument("--only", default="", help="comma-separated idea names (default: all)")
    parser.add_argument("--cache", default=None, help="folder of cached trainings (default: a new temporary one)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["CNNKIT_CACHE"] = args.cache or tempfile.mkdtemp(prefix="cnnkit-bench-ideas-")
    if args.data:
        os.environ["CNNKIT_DATA"] = args.data
    import keras

    from cnnkit.assignment import (BUDGET, IMPROVEMENT, architecture_key, budget_accuracy, grading_data,
                                   improvement_seeds, recorded_accuracy, reference_result_file, seizure_data)
    from cnnkit.checks.models import improvement_verdict
    from cnnkit.improvement import estimate_improvement
    from cnnkit.reference import models

    data = seizure_data(args.data)
    standardise = lambda signals: ((signals - data.mean) / data.std).astype("float32")[:, :, None]  # noqa: E731
    x_train, x_val = standardise(data.train_signals), standardise(data.validation_signals)
    held_out = grading_data(args.secret, args.data)
    grader_seeds = improvement_seeds(args.secret)
    print(f"data: {args.data or 'SYNTHETIC stand-in'} ({len(x_train)} training, {len(x_val)} validation, "
          f"{len(held_out)} test rows); machine: {platform.machine()}, {os.cpu_count()} cores, CPU; "
          f"Keras {keras.__version__} on {keras.backend.backend()}")
    print(f"budget: {BUDGET}; rule: {IMPROVEMENT}; grader seeds {grader_seeds} (secret {args.secret!r}), "
          f"estimate seeds {improvement_seeds()} (public)")
    references = [recorded_accuracy(reference_result_file("spec", args.data, test=held_out, seed=seed))
                  for seed in improvement_seeds(args.secret, reference=True)]
    chosen = [name for name in args.only.split(",") if name] or list(ideas())
    rows = []
    for name in chosen:
        label, build = ideas()[name]
        started = time.perf_counter()
        if architecture_key(build()) == architecture_key(models.spec_cnn()):  # as the verifier: its own level
            accuracies = references
        else:
            accuracies = [budget_accuracy(build, seed, args.data, test=held_out) for seed in grader_seeds]
        grader = improvement_verdict(accuracies, references, points=POINTS).score
        estimate = estimate_improvement(build, models.spec_cnn, x_train, data.train_labels, x_val,
                                        data.validation_labels, points=POINTS)
        rows.append((name, label, accuracies, grader, estimate, time.perf_counter() - started))
        print(f"  {name}: grader {grader:.2f} (test {' / '.join(f'{a:.1%}' for a in accuracies)}), estimate "
              f"{estimate.points:.2f} (validation {' / '.join(f'{a:.1%}' for a in estimate.accuracies)} vs spec "
              f"{sum(estimate.references) / len(estimate.references):.1%}) ({rows[-1][-1]:.0f} s)", flush=True)
    print(f"\nspec CNN on the test recordings, the grader's {len(references)} reference seeds: "
          f"{' / '.join(f'{a:.1%}' for a in references)} (mean {sum(references) / len(references):.1%})")
    print("\n| idea | test accuracy (grader seeds) | grader's points | validation: yours vs the spec CNN's mean (public seeds) "
          "| estimate (each seed) | distance |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, label, accuracies, grader, estimate, _ in rows:
        yours = " / ".join(f"{a:.1%}" for a in estimate.accuracies)
        spec = f"{sum(estimate.references) / len(estimate.references):.1%}"
        seeds = ", ".join(f"{p:.2f}" for p in estimate.per_seed)
        print(f"| {label} | {' / '.join(f'{a:.1%}' for a in accuracies)} | {grader:.2f} / {POINTS:g} | "
              f"{yours} vs {spec} | {estimate.points:.2f} ({seeds}) | {abs(estimate.points - grader):.2f} |")
    worst = max(abs(estimate.points - grader) for _, _, _, grader, estimate, _ in rows)
    print(f"\nlargest distance between the estimate and the grader: {worst:.2f} point (target: at most 0.5)")


if __name__ == "__main__":
    main()
