"""Benchmark: is "improve it" fair? The spec CNN and the instructor's improved
model, each trained with 5 seeds by the assignment's procedure
(`cnnkit.assignment.train_under_budget`), scored as the grader scores them.

For each seed s, the "improve it" score of an architecture is the grader's
verdict (`cnnkit.checks.models.improvement_verdict`) on its held-out accuracy
after training with seed s, against the spec CNN trained with the same seed
(the grader pairs seeds the same way, over `IMPROVEMENT["seeds"]` of them).
The unchanged spec model must earn at most a third of the points for every
seed, the solution full marks for every seed. A last row scores each spec
run against the *other* seeds' spec runs, to show how much of the margin seed
luck alone could earn.

    python benchmarks/bench_improvement.py [--data PATH] [--seeds 0,1,2,3,4]
"""

import argparse
import os
import platform
import tempfile
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
REAL_CSV = REPO.parent / "shared" / "data" / "epileptic_seizure_recognition.csv"
POINTS = 3.0


def solution_builder(name, notebook=REPO / "solutions" / "cnn" / "03_seizure_classifier.ipynb"):
    """The instructor's builder function `name`, from the source notebook's solution cell."""
    namespace = {}
    exec("import keras\nimport numpy as np", namespace)
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in ("build_spec_cnn", "build_improved_model"):
            exec(cell.source, namespace)
    return namespace[name]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REAL_CSV) if REAL_CSV.exists() else None)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["CNNKIT_CACHE"] = tempfile.mkdtemp(prefix="cnnkit-bench-cache-")
    import keras

    from cnnkit.assignment import BUDGET, IMPROVEMENT, budget_accuracy
    from cnnkit.checks.models import improvement_verdict

    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"data: {args.data or 'SYNTHETIC stand-in'}; machine: {platform.machine()}, {os.cpu_count()} cores, CPU; "
          f"Keras {keras.__version__} on {keras.backend.backend()}")
    print(f"budget: {BUDGET}; full marks for an error {IMPROVEMENT['error_cut']:.0%} below the spec CNN's")
    accuracies = {}
    for label, name in (("spec CNN (unchanged)", "build_spec_cnn"), ("improved solution", "build_improved_model")):
        build = solution_builder(name)
        accuracies[label] = [budget_accuracy(build, seed, args.data) for seed in seeds]
    spec = accuracies["spec CNN (unchanged)"]
    print(f"\n| model | {' | '.join(f'seed {s}' for s in seeds)} |")
    print("| --- |" + " --- |" * len(seeds))
    for label, values in accuracies.items():
        scores = [improvement_verdict([a], [r], points=POINTS).score for a, r in zip(values, spec)]
        cells = " | ".join(f"{a:.1%}: {score:.2f} / {POINTS:g}" for a, score in zip(values, scores))
        print(f"| {label} | {cells} |")
    luck = [improvement_verdict([a], [sum(spec[:i] + spec[i + 1:]) / (len(spec) - 1)], points=POINTS).score
            for i, a in enumerate(spec)]
    print("| spec CNN against the other seeds' spec runs | "
          + " | ".join(f"{score:.2f} / {POINTS:g}" for score in luck) + " |")


if __name__ == "__main__":
    main()
