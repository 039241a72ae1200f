"""Benchmark: a class graded on the GPU and with the GPU hidden, on the same machine, the same command otherwise.

In the GPU mode the students' kernels get the GPU too (`grade(kernels_gpu=True)`): the question is whether the
seizure notebook's own run gains from it (by default the engine keeps the kernels on the CPU).

For each device mode (the GPU visible; `CNNKIT_FORCE_CPU=1`) and each worker count (1, and the engine's own
sizing for the machine), `cnnkit grade` grades a batch of seizure-notebook submissions (the solution and the
seizure notebook's example mistakes, repeated) in a fresh process, and the script prints the seizure notebook's
time per submission and the submissions per hour. It first times the budget's training of the solution's
improved model on each device (`cnnkit.devices.time_epochs`, the notebook's GPU cell). The verifier's references
and its retraining of the solution's architecture are cached before the timings, as on a course's second run;
every other distinct architecture of a class costs the verifier `IMPROVEMENT["seeds"]` such trainings.

Targets (issue 11): the seizure notebook's training at least 3x faster on the GPU than on the machine's CPU; a
class of 500 submissions graded in under one hour. Run it where there is a GPU, with the backend it has:

    KERAS_BACKEND=jax python benchmarks/bench_gpu_grading.py [--students 16] [--workers 1,auto] [--data PATH]

`--speed-only` prints the training speeds and stops (a minute where a GPU's time is short).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEIZURE_EXAMPLES = ("solution", "dropout-on-at-eval", "untrained-model", "not-the-spec", "spec-as-improvement")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=16, help="submissions in the batch (default 16)")
    parser.add_argument("--workers", default="1,auto", help="worker counts to try, 'auto' for the engine's sizing")
    parser.add_argument("--data", default=None, help="the seizure data (default: the stand-in)")
    parser.add_argument("--speed-only", action="store_true", help="only time the training on each device")
    parser.add_argument("--one", nargs=3, metavar=("MODE", "WORKERS", "COURSE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("CNNKIT_CHECK_SEED", "bench-gpu-grading")
    os.environ.setdefault("CNNKIT_COURSE_SECRET", "bench-gpu-grading-secret")
    os.environ.setdefault("CNNKIT_CACHE", tempfile.mkdtemp(prefix="cnnkit-bench-cache-"))
    if args.data:
        os.environ["CNNKIT_DATA"] = str(Path(args.data).resolve())
    if args.one:
        return _grade_once(*args.one)

    from cnnkit.devices import configure, time_epochs

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {configure().line()}; "
          f"batch of {args.students} seizure-notebook submissions; {'data ' + args.data if args.data else 'stand-in'}")
    _training_speed(time_epochs)
    if args.speed_only:
        return 0
    course = _course(args.students)
    for mode in ("gpu", "cpu"):
        for workers in args.workers.split(","):
            env = {**os.environ, "CNNKIT_FORCE_CPU": "1" if mode == "cpu" else ""}
            done = subprocess.run([sys.executable, __file__, "--one", mode, workers, str(course)], env=env,
                                  capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{mode} x {workers} worker(s): failed\n{done.stderr[-2000:]}")
                continue
            report = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"GPU {'visible' if mode == 'gpu' else 'hidden '} | {report['workers']} | "
                  f"seizure notebook {report['per_submission']:6.1f} s per submission | "
                  f"{report['per_hour']:7.1f} submissions per hour | 500 in {500 / report['per_hour']:5.2f} h | "
                  f"devices: {report['devices']}")


def _training_speed(time_epochs):
    """The budget's training speed of the solution's improved model on each device."""
    import numpy as np

    from cnnkit.assignment import BUDGET, seizure_data

    data = seizure_data()
    x = ((data.train_signals - data.mean) / data.std)[:, :, None].astype(np.float32)
    speeds = {(t.device, t.batch_size): t.samples_per_second
              for t in time_epochs(_improved_builder(), x, data.train_labels,
                                   batch_sizes=(BUDGET["batch_size"],), rows=4096)}
    for (device, batch), speed in speeds.items():
        print(f"improved model, batch {batch}: {device} {speed:,.0f} samples per second")
    if ("gpu", BUDGET["batch_size"]) in speeds:
        ratio = speeds[("gpu", BUDGET["batch_size"])] / speeds[("cpu", BUDGET["batch_size"])]
        print(f"training on the GPU is {ratio:.1f}x the CPU's speed (target: at least 3x)")


def _improved_builder():
    """The solution's `build_improved_model`, from the instructor's notebook."""
    namespace = {}
    exec("import keras\nimport numpy as np", namespace)
    notebook = json.loads((REPO / "solutions" / "cnn" / "03_seizure_classifier.ipynb").read_text())
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "build_improved_model":
            exec("".join(cell["source"]), namespace)
    return namespace["build_improved_model"]


def _course(students):
    """A course with `students` seizure-notebook submissions, and the verifier's caches warmed."""
    from autograder import grade
    from autograder.course.course import Course
    from autograder.frontends.examples import EXAMPLES, NB3, build_submission

    by_name = {example.student: example for example in EXAMPLES}
    course = Course.working_copy(Path(tempfile.mkdtemp(prefix="cnnkit-bench-gpu-")) / "course")
    for index in range(students):
        example = by_name[SEIZURE_EXAMPLES[index % len(SEIZURE_EXAMPLES)]]
        course.submit(f"{example.student}-{index:03d}", build_submission(replace(example, notebooks=(NB3,)), course))
    start = time.monotonic()  # one solution graded first: the references and its architecture recorded ($CNNKIT_CACHE)
    warm = Course.working_copy(Path(tempfile.mkdtemp(prefix="cnnkit-bench-gpu-warm-")) / "course")
    warm.submit("warm-up", build_submission(replace(by_name["solution"], notebooks=(NB3,)), warm))
    grade("cnn", course=warm.root, workers=1, progress=False, echo=lambda line: None)
    print(f"references and the solution's architecture trained and recorded in {time.monotonic() - start:.0f} s "
          "(outside the timings)")
    return course.root


def _grade_once(mode, workers, course):
    """One timed grading run, in this process; prints a JSON line."""
    import shutil

    from autograder import grade

    for folder in ("autograded", "reports", "feedback"):
        shutil.rmtree(Path(course) / folder, ignore_errors=True)
    lines = []
    run = grade("cnn", course=course, workers=None if workers == "auto" else int(workers), force=True,
                progress=False, echo=lines.append, kernels_gpu=mode == "gpu")
    seconds = [result.seconds for result in run.results.values()]
    print(json.dumps({"mode": mode, "workers": next((l.split("workers: ")[1] for l in lines if "workers: " in l), workers),
                      "per_submission": sum(seconds) / len(seconds), "per_hour": len(seconds) / run.seconds * 3600,
                      "devices": next((l.split("devices: ")[1] for l in lines if l.startswith("devices: ")), "?")}))


if __name__ == "__main__":
    sys.exit(main())
