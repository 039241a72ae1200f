"""Benchmark: how much of the distance between the students' "improve it" estimate and the grader is luck.

The grader trains an architecture on the training recordings with two secret seeds and scores the test
recordings; the students' estimate (`cnnkit.improvement.estimate_improvement`) trains it on the same rows with
two public seeds and scores the validation recordings. Both then apply the same rule against the spec CNN
trained on six seeds. This script trains every idea of `bench_ideas.py` (the spec CNN included) `--seeds`
times under the budget, in one-thread processes, one per core, and scores each training on both sides. As both
sides train on the same rows, the trainings can be dealt out again: random splits of the seeds into two halves
(2,000 of them), one playing the grader's seeds and the other the estimate's, each side training the spec CNN on
`m` of its half's seeds and the architecture on the first `n` of those (as `improvement_seeds` shares them), for
the rule as it stands (n = 2, m = 6) and with more trainings. It prints:

- one training's spread from seed to seed (standard deviation, in points of accuracy) on each side, and the
  rule's slope (points of the exercise per point of accuracy at the spec CNN's level);
- per idea: its gain over the spec CNN on each side averaged over every seed (what no number of seeds removes:
  the validation and test recordings disagreeing) and the points the rule gives each; for each (n, m): the share
  of deals in which the estimate lands within 0.5 point of the grader, and the grader's own spread (its points'
  standard deviation over the deals: what two courses' secrets give one architecture).

    python benchmarks/bench_improve_noise.py [--data PATH] [--seeds 24] [--only NAME,...] [--record FILE]

About 13 minutes on 2 cores with the real data and 24 seeds; `--record` keeps the trainings' accuracies in a
JSON-lines file and reuses those already there.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
REAL_CSV = REPO.parent / "shared" / "data" / "epileptic_seizure_recognition.csv"
SECRET = "bench-improve-noise"  # the stand-in's test recordings come from a secret (real data: the test split)
POINTS = 3.0
# (n, m): trainings of the architecture and of the spec CNN on each side; the first is the rule as it stands
DESIGNS = ((2, 6), (4, 12), (8, 12), (12, 12))
DEALS = 2000
WITHIN = 0.5


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REAL_CSV) if REAL_CSV.exists() else None)
    parser.add_argument("--seeds", type=int, default=24, help="trainings per idea, an even number >= 24")
    parser.add_argument("--record", default=None, help="a JSON-lines file of trainings to reuse and extend")
    parser.add_argument("--only", default="", help="comma-separated idea names besides the spec CNN (default: all)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.worker:  # the data comes in $CNNKIT_DATA from the parent
        return _train([tuple(json.loads(job)) for job in args.worker])
    if args.data:
        os.environ["CNNKIT_DATA"] = str(Path(args.data).resolve())
    else:
        os.environ.pop("CNNKIT_DATA", None)
    data = os.environ.get("CNNKIT_DATA", "stand-in")
    least = 2 * max(m for _, m in DESIGNS)
    if args.seeds < least or args.seeds % 2:
        parser.error(f"--seeds must be an even number of at least {least}; received {args.seeds}")

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_ideas import ideas

    from cnnkit.quiet import silenced

    with silenced():  # TensorFlow's start-up lines
        builders = ideas()
    names = ["spec"] + [name for name in (args.only.split(",") if args.only else builders) if name and name != "spec"]
    cores = sorted(os.sched_getaffinity(0))
    print(f"data: {args.data or 'SYNTHETIC stand-in'}; machine: {platform.machine()}, {len(cores)} cores, CPU, one "
          f"thread per training; {args.seeds} seeds per idea")
    started = time.monotonic()
    kept = _kept(args.record, data)
    wanted = [(name, seed) for name in names for seed in range(args.seeds)]
    accuracy = {**kept, **_trained([job for job in wanted if job not in kept], cores, args.record)}
    print(f"{len(wanted)} trainings ({len([job for job in wanted if job in kept])} of them reused) in "
          f"{time.monotonic() - started:.0f} s\n")
    _report(accuracy, names, builders, args.seeds)


def _kept(record, data):
    """{(idea, seed): (validation, test)} of the trainings on `data` that `record` holds (none when it is None
    or missing)."""
    if record is None or not Path(record).is_file():
        return {}
    rows = [json.loads(line) for line in Path(record).read_text().splitlines() if line.strip()]
    return _by_training([row for row in rows if row.get("data") == data])


def _trained(jobs, cores, record=None):
    """{(idea, seed): (validation accuracy, test accuracy)}, trained in one-thread processes pinned to `cores`
    (and appended to `record`)."""
    if not jobs:
        return {}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
           "TF_CPP_MIN_LOG_LEVEL": "3"}

    def one(group, cpu):
        done = subprocess.run([sys.executable, __file__, "--worker", *map(json.dumps, group)], capture_output=True,
                              text=True, env=env, preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]

    with ThreadPoolExecutor(len(cores)) as pool:
        rows = [row for rows in pool.map(one, [jobs[i::len(cores)] for i in range(len(cores))], cores) for row in rows]
    if record is not None:
        with open(record, "a") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in rows)
    return _by_training(rows)


def _by_training(rows):
    """{(idea, seed): (validation accuracy, test accuracy)} of the workers' rows."""
    return {(row["idea"], row["seed"]): (row["validation"], row["test"]) for row in rows}


def _train(jobs):
    """Trains each `(idea, seed)` under the budget and prints one JSON line per training."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_ideas import ideas

    from cnnkit.assignment import _splits, grading_data, train_under_budget
    from cnnkit.improvement import _accuracy
    from cnnkit.quiet import silenced

    splits, builders = _splits(None, announce=False), ideas()
    sides = {"validation": splits.validation, "test": grading_data(SECRET)}
    for name, seed in jobs:
        with silenced():
            model, _ = train_under_budget(builders[name][1], splits.train.x, splits.train.y, seed=seed)
            scores = {side: _accuracy(model, part.x, part.y) for side, part in sides.items()}
        print(json.dumps({"idea": name, "seed": seed, "data": os.environ.get("CNNKIT_DATA", "stand-in"), **scores}),
              flush=True)


def _report(accuracy, names, builders, seeds):
    """Prints the seed spread, the rule's slope and, per idea, the data's disagreement and the deals' figures."""
    from cnnkit.assignment import IMPROVEMENT
    from cnnkit.improvement import improvement_share

    side_of = {"validation": 0, "test": 1}
    of = lambda name, side, chosen: [accuracy[name, seed][side_of[side]] for seed in chosen]  # noqa: E731
    spread = {side: 100 * float(np.sqrt(np.mean([np.var(of(name, side, range(seeds)), ddof=1) for name in names])))
              for side in side_of}
    level = float(np.mean(of("spec", "test", range(seeds))))
    slope = POINTS / (IMPROVEMENT["error_cut"] * (1 - level) * 100)
    print(f"one training's spread from seed to seed: {spread['validation']:.2f} points of accuracy on validation, "
          f"{spread['test']:.2f} on test; the rule's slope: {slope:.2f} of {POINTS:g} points per point of accuracy "
          f"(spec CNN at {level:.1%} on test)")
    shuffled = np.random.default_rng(0).permuted(np.tile(np.arange(seeds), (DEALS, 1)), axis=1)
    deals = [(order[:seeds // 2], order[seeds // 2:]) for order in shuffled]

    def points(name, side, half, n, m):
        if name == "spec":
            return 0.0
        return POINTS * improvement_share(of(name, side, half[:n]), of("spec", side, half[:m]))

    designs = " | ".join(f"n={n}, m={m}: within {WITHIN} / grader's spread" for n, m in DESIGNS)
    print(f"\n| idea | gain on validation / test (all seeds) | points: estimate / grader (all seeds) | {designs} |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in DESIGNS) + " |")
    distances = {design: [] for design in DESIGNS}
    for name in names[1:]:
        everything = range(seeds)
        gains = [100 * (np.mean(of(name, side, everything)) - np.mean(of("spec", side, everything))) for side in side_of]
        whole = [POINTS * improvement_share(of(name, side, everything), of("spec", side, everything))
                 for side in side_of]
        cells = []
        for n, m in DESIGNS:
            grader = np.array([points(name, "test", mine, n, m) for mine, _ in deals])
            estimate = np.array([points(name, "validation", theirs, n, m) for _, theirs in deals])
            distances[n, m].append(np.abs(grader - estimate))
            cells.append(f"{np.mean(distances[n, m][-1] <= WITHIN):.0%} / {grader.std():.2f}")
        print(f"| {builders[name][0]} | {gains[0]:+.1f} / {gains[1]:+.1f} | {whole[0]:.2f} / {whole[1]:.2f} | "
              + " | ".join(cells) + " |")
    print()
    for within in (WITHIN, 2 * WITHIN):
        print(f"estimate within {within:g} point of the grader, over ideas and deals: "
              + ", ".join(f"n={n}, m={m} {np.mean(np.concatenate(distances[n, m]) <= within):.0%}" for n, m in DESIGNS))


if __name__ == "__main__":
    sys.exit(main())
