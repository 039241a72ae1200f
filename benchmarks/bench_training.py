"""Benchmark: train the spec CNN and the stronger reference on the real data.

Prints test accuracy and training seconds for the 5-class random split, the
5-class split by recording, and the binary task (random split). Targets on a
2-core CPU: spec CNN ~71% 5-class random in under 60 s; the stronger
reference >= 80% (random), >= 73% (by recording), >= 99% (binary) in under
5 minutes each.

    python benchmarks/bench_training.py [--data PATH] [--models spec strong] [--epochs 60]
"""

import argparse
import os
import platform
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pandas as pd

from cnnkit.reference import models
from cnnkit.data import load_table, split
from cnnkit.training import train

REAL_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "epileptic_seizure_recognition.csv"
SETTINGS = [("5-class random", "random", "multiclass"),
            ("5-class by recording", "recording", "multiclass"),
            ("binary random", "random", "binary")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REAL_CSV) if REAL_CSV.exists() else None)
    parser.add_argument("--models", nargs="+", default=["spec", "strong"])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--patience", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    table = load_table(args.data)
    rows = []
    for name in args.models:
        for label, by, task in SETTINGS:
            splits = split(table, by=by, task=task, seed=args.seed)
            result = train(lambda: models.build(name, splits.num_classes), splits, epochs=args.epochs,
                           patience=args.patience, seed=args.seed, progress=False)
            rows.append({"model": name, "setting": label, "test accuracy": result.test.accuracy,
                         "macro F1": result.test.macro_f1, "epochs": result.epochs,
                         "train s": result.seconds})
            print(f"{name:>6} {label:<22} acc {result.test.accuracy:.3f}  {result.seconds:.0f} s", flush=True)
    print(f"\ndata: {'SYNTHETIC stand-in' if table.synthetic else table.source}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {result.device}")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
