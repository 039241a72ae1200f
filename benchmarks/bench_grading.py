"""Benchmark: one batch graded three ways, and submissions per hour for each.

1. plain `nbgrader autograde cnn` (sequential, no sandbox, the baseline);
2. `cnnkit grade --workers 1` (sandboxed, one at a time: the engine's overhead);
3. `cnnkit grade` with its default workers (sandboxed, in parallel).

The batch: the solution and example mistakes, each submitting all three
notebooks (stand-in data unless --data, seeded checks, one course secret).
The reference accuracies (the in-kernel one for plain nbgrader, the
verifier's on the held-out rows) are cached before timing, as a course's
second grading run finds them. Targets on the 2-core
machine: way 2 within 10% of way 1; way 3 at least 1.6x way 1's throughput.

    python benchmarks/bench_grading.py [--students 6] [--data PATH]
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MISTAKES = ("kernel-not-flipped", "stride-ignored", "average-instead-of-max", "dropout-on-at-eval", "not-the-spec",
            "padding-off-by-one", "channels-first", "untrained-model")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=6, help="submissions in the batch (default 6)")
    parser.add_argument("--data", default=None, help="the seizure data (default: the stand-in)")
    args = parser.parse_args()
    os.environ.setdefault("CNNKIT_CHECK_SEED", "bench-grading")
    os.environ["CNNKIT_CACHE"] = tempfile.mkdtemp(prefix="cnnkit-bench-cache-")
    os.environ.setdefault("CNNKIT_COURSE_SECRET", "bench-grading-secret")
    if args.data:
        os.environ["CNNKIT_DATA"] = str(Path(args.data).resolve())

    from autograder import grade
    from autograder.course.course import Course
    from autograder.frontends.examples import EXAMPLES, NB1, NB2, NB3, build_submission
    from cnnkit.assignment import reference_result_file

    from autograder.engine import train_references

    reference_result_file("spec")  # cached once, outside every timing: the kernels' reference ...
    train_references("cnn", course=REPO)  # ... and the verifier's, as the grader trains them
    by_name = {example.student: example for example in EXAMPLES}
    batch = [by_name["solution"]] + [replace(by_name[name], notebooks=(NB1, NB2, NB3))
                                     for name in MISTAKES[:max(args.students - 1, 0)]]
    scratch = Path(tempfile.mkdtemp(prefix="cnnkit-bench-grading-"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores ({_cpu()}), {_memory_gib():.0f} GiB; "
          f"Python {platform.python_version()}; batch of {len(batch)} submissions x 3 notebooks; "
          f"{'data ' + args.data if args.data else 'stand-in data'}")

    def course(name):
        made = Course.working_copy(scratch / name)
        for example in batch:
            made.submit(example.student, build_submission(example, made))
        return made

    timings, scores = {}, {}
    plain = course("plain")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}  # nbgrader runs `alembic`
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "cnn", "--force"], cwd=plain.root, env=env,
                   check=True, capture_output=True)
    timings["plain nbgrader autograde"] = time.monotonic() - start
    scores["plain nbgrader autograde"] = {e.student: round(plain.scores(e.student).score, 4) for e in batch}
    for label, workers in (("cnnkit grade --workers 1", 1), ("cnnkit grade (default workers)", None)):
        graded = course(label.split()[-1].strip("()"))
        start = time.monotonic()
        run = grade("cnn", course=graded.root, workers=workers, progress=False, echo=lambda line: None)
        timings[label] = time.monotonic() - start
        scores[label] = {student: round(result.score, 4) for student, result in run.results.items()}

    base = timings["plain nbgrader autograde"]
    print(f"{'way':34s} {'seconds':>8s} {'per hour':>9s} {'vs plain':>9s}")
    for label, seconds in timings.items():
        print(f"{label:34s} {seconds:8.1f} {len(batch) / seconds * 3600:9.1f} {base / seconds:8.2f}x")
    agree = all(scores[label] == scores["plain nbgrader autograde"] for label in scores)
    print("scores agree across the three ways" if agree else f"scores differ (plain nbgrader reads the kernel's "
          f"claims; cnnkit grade verifies): {scores}")


def _cpu():
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def _memory_gib():
    try:
        return int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal"))) / 1024**2
    except (OSError, StopIteration):
        return 0.0


if __name__ == "__main__":
    main()
