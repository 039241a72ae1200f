"""Benchmark: a whole class graded from a cold course, against the least work grading needs.

The class: N full submissions (all three notebooks, the solution's answers), each with an "improve it"
architecture of its own within the budget, a few of them shared (students who hand in the same architecture).
The script grades it with `cnnkit grade` (default workers) from a cold course (no recorded training), then
measures the same essential work without the engine:

- each submission's notebooks run once with nbclient on one thread, as the grader runs them (hidden tests in,
  explorations and the improve-it training out, each kernel stopped at once when its notebook is done), no sandbox;
- each distinct architecture (the spec CNN, the references', included) trained once per grader seed with the
  budget's procedure on one thread.

The physical limit is that work's core-seconds over this machine's cores; the script prints the grading run's
wall time and its ratio to the limit, submissions per hour, trainings run and reused, core-seconds per kind of
work, the coordinator's own CPU per submission, and projections to 500 submissions on one 16-core machine and on a
Dask cluster of ten. Targets (issue 17) on the 2-core machine: wall within 1.15x the limit; coordinator CPU at
most 1 s per submission; 500 submissions on 16 cores projected under one hour.

    python benchmarks/bench_class.py [--students 8] [--distinct 6] [--data PATH] [--no-limit] [--verbose]

On a GPU machine (KERAS_BACKEND=jax or torch) the same command grades with the GPU in the verifier's trainings.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = 2  # students beyond the distinct architectures hand in one of these


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8, help="submissions in the class (default 8)")
    parser.add_argument("--distinct", type=int, default=6, help="distinct improve-it architectures (default 6)")
    parser.add_argument("--data", default=None, help="the seizure data (default: the stand-in)")
    parser.add_argument("--workers", type=int, default=None, help="grading workers (default: the engine's sizing)")
    parser.add_argument("--no-limit", action="store_true", help="grade only; do not measure the least work")
    parser.add_argument("--verbose", action="store_true", help="print the grader's own lines, timed, to stderr")
    parser.add_argument("--notebooks", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--trainings", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.data:
        os.environ["CNNKIT_DATA"] = str(Path(args.data).resolve())
    os.environ.setdefault("CNNKIT_COURSE_SECRET", "bench-class-secret")
    os.environ.pop("CNNKIT_CACHE", None)  # the course's own record, cold
    if args.notebooks:
        return _run_notebooks(args.notebooks)
    if args.trainings:
        return _run_trainings(args.trainings)

    cores = len(os.sched_getaffinity(0))
    course, architectures = _class(args.students, args.distinct)
    print(f"machine: {platform.machine()}, {cores} cores, {platform.python_version()}; "
          f"{os.environ.get('KERAS_BACKEND', 'tensorflow')} backend; {args.students} submissions, "
          f"{len(set(architectures.values()))} distinct improve-it architectures; "
          f"{'data ' + args.data if args.data else 'stand-in data'}")

    from autograder import grade

    start = time.monotonic()
    echo = (lambda line: print(f"[{time.monotonic() - start:5.0f} s] {line}", file=sys.stderr, flush=True)) \
        if args.verbose else (lambda line: None)
    run = grade("cnn", course=course, workers=args.workers, progress=False, echo=echo)
    wall = time.monotonic() - start
    sandbox = sum(result.seconds for result in run.results.values())
    if not run.results:
        print("nothing was graded")
        return 1
    scores = sorted(result.score for result in run.results.values())
    top = max(result.max_score for result in run.results.values())
    print(f"scores: {scores[0]:g} to {scores[-1]:g} of {top:g} (every submission holds the solution's answers; only "
          f"the improve-it points may differ)")
    print(f"graded {len(run.graded)} in {wall:.0f} s ({len(run.graded) / wall * 3600:.0f} per hour); "
          f"statuses {sorted({r.status for r in run.results.values()})}; "
          f"trainings trained {run.trainings['trained']}, reused {run.trainings['reused']}")
    print(f"core-seconds: sandboxes {sandbox:.0f} (notebooks and probes); coordinator CPU {run.coordinator_cpu:.1f} s "
          f"= {run.coordinator_cpu / len(run.graded):.2f} s per submission (target at most 1 s)")

    if args.no_limit:
        return 0
    notebooks = _parallel(["--notebooks"], [str(p) for p in sorted((Path(course) / "autograded").glob("*/cnn/cnnkit_submitted"))], cores)
    trainings = _parallel(["--trainings"], sorted(set(architectures.values()) | {"spec"}), cores)
    essential = notebooks + trainings
    limit = essential / cores
    print(f"least work: notebooks {notebooks:.0f} core-s + trainings {trainings:.0f} core-s = {essential:.0f} core-s; "
          f"limit on {cores} cores {limit:.0f} s; wall / limit = {wall / limit:.2f} (target at most 1.15)")
    per_submission = notebooks / len(run.graded)
    per_architecture = trainings / len(set(architectures.values()) | {"spec"})
    for machines, label in ((1, "one 16-core machine"), (10, "ten 16-core machines (Dask)")):
        # 500 students: their notebooks, and (as here) one architecture of their own for every
        # students/distinct of them, each trained once per seed, spread over the cores at this run's efficiency
        distinct = 500 * len(set(architectures.values())) / args.students
        hours = (500 * per_submission + distinct * per_architecture) / (16 * machines) * (wall / limit) / 3600
        print(f"projected: 500 submissions on {label}: {hours:.2f} h (target under 1 h on one)")


def _class(students, distinct):
    """A course with the class submitted, and each student's architecture (its code)."""
    from autograder.course.course import Course
    from autograder.frontends.examples import EXAMPLES, build_submission

    course = Course.working_copy(Path(tempfile.mkdtemp(prefix="cnnkit-bench-class-")) / "course")
    solution = {example.student: example for example in EXAMPLES}["solution"]
    architectures = {}
    for index in range(students):
        code = _architecture(index if index < distinct else index % min(SHARED, distinct))
        student = f"student-{index:03d}"
        architectures[student] = code
        example = replace(solution, student=student, answers={"build_improved_model": code})
        course.submit(student, build_submission(example, course))
    return str(course.root), architectures


def _architecture(index):
    """An improve-it builder of its own for `index`: widths and kernels vary, always within the budget."""
    filters, width = 12 + 4 * index, (9, 7, 5, 11, 3, 13)[index % 6]
    return (f"def build_improved_model():\n    from keras import layers\n"
            f"    model = keras.Sequential([keras.Input((178, 1))])\n"
            f"    for filters, width in (({filters}, {width}), ({2 * filters}, 5), ({2 * filters}, 3)):\n"
            f"        model.add(layers.Conv1D(filters, width, padding='same', use_bias=False))\n"
            f"        model.add(layers.BatchNormalization())\n        model.add(layers.ReLU())\n"
            f"        model.add(layers.MaxPooling1D(2))\n    model.add(layers.GlobalAveragePooling1D())\n"
            f"    model.add(layers.Dense(5))\n    return model\n")


def _parallel(flag, items, cores):
    """Core-seconds of running `items` in `cores` one-thread processes of this script."""
    if not items:
        return 0.0
    groups = [items[i::cores] for i in range(cores)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
           "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false", "TF_CPP_MIN_LOG_LEVEL": "3",
           "CNNKIT_CACHE": tempfile.mkdtemp(prefix="cnnkit-bench-limit-")}

    def one(group, cpu):
        done = subprocess.run([sys.executable, __file__, *flag, *group], capture_output=True, text=True, env=env,
                              preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]

    cpus = sorted(os.sched_getaffinity(0))
    with ThreadPoolExecutor(len(groups)) as pool:
        return sum(pool.map(one, [g for g in groups if g], cpus))


def _run_notebooks(folders):
    """Runs each submission's notebooks (as the grader prepared them) with nbclient; prints their seconds."""
    import nbformat
    from nbclient import NotebookClient

    from cnnkit.assignment import GRADING_ENV, UNGRADED_TRAINING_ENV

    os.environ.update({GRADING_ENV: "1", UNGRADED_TRAINING_ENV: "build_improved_model"})
    seconds = 0.0
    for folder in folders:
        for path in sorted(Path(folder).glob("*.ipynb")):
            notebook = nbformat.read(path, as_version=4)
            with tempfile.TemporaryDirectory() as scratch:
                start = time.monotonic()
                NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                               shutdown_kernel="immediate", resources={"metadata": {"path": scratch}}).execute()
                seconds += time.monotonic() - start
    print(json.dumps({"seconds": seconds}))


def _run_trainings(architectures):
    """Trains each architecture once per grader seed by the budget's procedure; prints the seconds."""
    import keras  # noqa: F401 (the builders' globals)

    from cnnkit.reference import models
    from cnnkit.assignment import grading_data, improvement_seeds, train_under_budget, _splits
    from cnnkit.quiet import silenced

    secret = os.environ["CNNKIT_COURSE_SECRET"]
    splits, held_out = _splits(None, announce=False), grading_data(secret)
    seconds = 0.0
    for code in architectures:
        namespace = {"keras": keras}
        if code == "spec":
            build, seeds = lambda: models.build("spec"), improvement_seeds(secret, reference=True) + (2026,)
        else:
            exec(code, namespace)
            build, seeds = namespace["build_improved_model"], improvement_seeds(secret)
        for seed in seeds:
            start = time.monotonic()
            with silenced():
                model, _ = train_under_budget(build, splits.train.x, splits.train.y, seed=seed)
                model.predict(held_out.x, batch_size=512, verbose=0)
            seconds += time.monotonic() - start
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    sys.exit(main())
