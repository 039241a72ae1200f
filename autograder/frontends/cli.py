"""The `cnnkit` command line: a thin layer that parses arguments and forwards
each subcommand to one function that holds its defaults and does the work."""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata


def main(argv=None):
    """Entry point of the `cnnkit` console script.

    Args:
        argv: list of argument strings, default `sys.argv[1:]`.

    Returns:
        The process exit status: 0 on success, 1 when the command failed,
        2 when the arguments were wrong.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ logs
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        if args.run in _WITH_KERAS:
            _import_keras_quietly()
        return args.run(args) or 0
    except (ValueError, TypeError, OSError, RuntimeError) as error:
        print(f"cnnkit {args.command}: error: {error}", file=sys.stderr)
        return 1


def _import_keras_quietly():
    """Imports Keras with its C++ start-up lines (absl's, oneDNN's) kept off the terminal: they say nothing a
    user can act on, and TensorFlow prints them before any setting can stop it."""
    from cnnkit.quiet import silenced

    with silenced():
        import keras  # noqa: F401 - imported here so that later imports are silent


def _positive(kind):
    """An argparse type: a positive int or float, refused at once (before any slow import or any file written)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value
    parse.__name__ = kind.__name__
    return parse


def _size(text):
    """An argparse type: a size such as 4GiB, checked at once, kept as written."""
    from autograder.sandbox.limits import parse_size

    try:
        parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive size such as 4GiB, 20MB or 512k, got {text!r}") from None
    return text


def _parser():
    import cnnkit

    parser = argparse.ArgumentParser(
        prog="cnnkit", description="Reference ops, seizure models and autograding for a CNN course."
    )
    parser.add_argument("--version", action="version", version=f"cnnkit {cnnkit.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    compare = commands.add_parser(
        "compare", help="compare the reference ops with the installed Keras layers"
    )
    compare.add_argument("--cases", type=int, default=50, help="random cases per op (default 50)")
    compare.add_argument("--seed", type=int, default=0)
    compare.set_defaults(run=_compare)

    data = commands.add_parser("data", help="inspect, download or convert the seizure data")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    info = data_commands.add_parser("info", help="describe the data a run would use")
    info.add_argument("--data", help="CSV, Bonn zip or folder (default $CNNKIT_DATA, else the stand-in)")
    info.set_defaults(run=_data_info)
    fetch = data_commands.add_parser("fetch", help="download the UCI table and verify it")
    fetch.add_argument("destination", help="CSV file to write")
    fetch.add_argument("--url", default=None, help="download from here instead of the UCI archive")
    fetch.add_argument("--md5", default=None, help="expected MD5 of the CSV")
    fetch.set_defaults(run=_data_fetch)
    convert = data_commands.add_parser("convert", help="write any accepted source as a UCI-layout CSV")
    convert.add_argument("source", help="CSV, Bonn zip or folder, or 'synthetic'")
    convert.add_argument("destination", help="CSV file to write")
    convert.set_defaults(run=_data_convert)

    train = commands.add_parser("train", help="train a seizure model and print its metrics")
    train.add_argument("--model", choices=["spec", "strong", "mlp"], default="spec")
    train.add_argument("--task", choices=["multiclass", "binary"], default="multiclass")
    train.add_argument("--split", choices=["random", "recording"], default="random")
    train.add_argument("--data", help="CSV, Bonn zip or folder (default $CNNKIT_DATA, else the stand-in)")
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default="runs", help="folder for the model and plots (default runs/)")
    train.set_defaults(run=_train)

    release = commands.add_parser(
        "release", help="generate assignments/ with nbgrader and prove the release sound")
    release.add_argument("--course-dir", "--course", dest="course", default=".",
                         help="course directory (default: the current one)")
    release.add_argument("--workdir", default=None, help="where to grade the proof (default: a temporary folder)")
    release.set_defaults(run=_release)

    grade = commands.add_parser(
        "grade", help="grade every submission of an assignment in sandboxes, in parallel, resumably")
    grade.add_argument("assignment", help="the assignment id (a folder of solutions/)")
    grade.add_argument("--course-dir", "--course", dest="course", default=".",
                       help="course directory (default: the current one)")
    grade.add_argument("--submissions", default=None,
                       help="a folder or zip of notebooks from an LMS (default: COURSE/submitted/)")
    grade.add_argument("--db", default=None, help="gradebook SQLAlchemy URL (default: COURSE/gradebook.db)")
    grade.add_argument("--workers", type=_positive(int), default=None,
                       help="submissions in parallel (default: sized from cores and memory)")
    grade.add_argument("--timeout", type=_positive(float), default=None, help="seconds per submission (default 900)")
    grade.add_argument("--cell-timeout", type=_positive(float), default=None, help="seconds per cell (default 300)")
    grade.add_argument("--memory", type=_size, default=None, help="memory per submission, e.g. 4GiB (default 4GiB)")
    grade.add_argument("--max-output", type=_size, default=None, help="output per submission, e.g. 20MB (default 20MB)")
    grade.add_argument("--processes", type=_positive(int), default=None, help="processes per submission (default 256)")
    grade.add_argument("--disk", type=_size, default=None, help="disk a submission may write, e.g. 1GiB (default 1GiB)")
    grade.add_argument("--scheduler", default=None, help="run on this Dask scheduler (tcp://host:8786)")
    grade.add_argument("--cluster", choices=["local", "slurm"], default=None,
                       help="start a Dask cluster: a LocalCluster here, or SLURM jobs (dask-jobqueue)")
    grade.add_argument("--force", action="store_true", help="grade again what is already graded unchanged")
    grade.add_argument("--student", action="append", default=None, metavar="ID[,ID...]",
                       help="grade only these students (repeatable; with --force, grade them again)")
    grade.add_argument("--no-progress", action="store_true", help="no progress bar")
    grade.add_argument("--kernels-gpu", action="store_true",
                       help="let the students' kernels use the GPUs too (default: only the verifier's trainings)")
    told = grade.add_mutually_exclusive_group()
    told.add_argument("--quiet", "-q", action="store_true", help="print the closing summary only (no progress bar)")
    told.add_argument("--verbose", "-v", action="store_true", help="also print a line per recorded submission")
    grade.set_defaults(run=_grade)

    export = commands.add_parser(
        "export", help="write grades.csv, the Canvas import, feedback pages and the class report")
    export.add_argument("assignment", help="the assignment id, graded with `cnnkit grade`")
    export.add_argument("--course-dir", "--course", dest="course", default=".",
                        help="course directory (default: the current one)")
    export.add_argument("--db", default=None, help="gradebook SQLAlchemy URL (default: COURSE/gradebook.db)")
    export.add_argument("--totals-only", action="store_true",
                        help="grades.csv with only the student id and the total (for an LMS import)")
    export.set_defaults(run=_export)

    gradescope = commands.add_parser(
        "gradescope", help="build the autograder zip that Gradescope asks for")
    gradescope.add_argument("assignment", help="the assignment id (a folder of solutions/)")
    gradescope.add_argument("--course-dir", "--course", dest="course", default=".",
                            help="course directory (default: the current one)")
    gradescope.add_argument("--out", default=None, help="the zip to write (default: COURSE/reports/ASSIGNMENT/"
                                                        "gradescope-autograder.zip)")
    gradescope.add_argument("--visibility", default="visible",
                            help="when students see the tests' results on Gradescope: visible (default), "
                                 "after_due_date, after_published, hidden")
    gradescope.add_argument("--improve-visibility", default="after_due_date",
                            help="when they see the \"improve it\" cells, whose architecture the grader retrains: "
                                 "after_due_date (default: seen at once, resubmitting variants would let a student "
                                 "keep the luckiest score on the hidden test rows), or another of the above")
    gradescope.set_defaults(run=_gradescope)

    check = commands.add_parser(
        "check", help="students: run a notebook as the grader would (public tests only) and say if it will grade")
    check.add_argument("notebook", help="the notebook to check (.ipynb)")
    check.add_argument("--release", default=None, help="folder of the released notebooks (default: the kit's own "
                                                       "assignments/)")
    check.add_argument("--improve", action="store_true",
                       help="seizure notebook: also estimate the \"improve it\" points on your validation rows by "
                            "the grader's rule (public seeds; a few minutes)")
    check.set_defaults(run=_check)

    kit = commands.add_parser(
        "student-kit", help="write the package students install (no reference answers, no hidden checks)")
    kit.add_argument("destination", help="a new folder for the kit (then: pip install DESTINATION)")
    kit.set_defaults(run=_student_kit)

    demo = commands.add_parser(
        "demo", help="release, then autograde the example submissions and print their scores")
    demo.add_argument("--course-dir", "--course", dest="course", default=None,
                      help="course directory (default: this repository)")
    demo.add_argument("--workdir", default="runs/demo", help="grading copy of the course (default runs/demo)")
    demo.add_argument("--workers", type=int, default=None, help="submissions in parallel (default: sized from "
                                                                "cores and memory)")
    demo.add_argument("--only", default=None, metavar="STUDENT,...",
                      help="grade only these example students (default: all of them)")
    demo.set_defaults(run=_demo)
    return parser


def _compare(args):
    import pandas as pd

    from cnnkit.reference.parity import parity_report

    rows = parity_report(cases=args.cases, seed=args.seed)
    table = pd.DataFrame(
        {
            "reference": [row.op for row in rows],
            "keras layer": [row.layer for row in rows],
            "cases": [row.cases for row in rows],
            "max |error|": [f"{row.max_abs_error:.2e}" for row in rows],
            "agrees": ["yes" if row.agrees else "NO" for row in rows],
        }
    )
    print(table.to_string(index=False))
    return 0 if all(row.agrees for row in rows) else 1


def _data_info(args):
    from cnnkit.data import load_table

    print(load_table(args.data).describe())


def _data_fetch(args):
    from cnnkit.data import UCI_URL, fetch

    path, md5 = fetch(args.destination, url=args.url or UCI_URL, md5=args.md5)
    print(f"wrote {path} (md5 {md5}); use it with --data {path} or CNNKIT_DATA={path}")


def _data_convert(args):
    from cnnkit.data import load_table, make_synthetic, write_csv

    table = make_synthetic() if args.source == "synthetic" else load_table(args.source)
    write_csv(table, args.destination)
    print(f"wrote {len(table)} rows to {args.destination}" + (" (SYNTHETIC)" if table.synthetic else ""))


def _train(args):
    from pathlib import Path

    import pandas as pd

    from cnnkit.reference import models
    from cnnkit.data import load_table, split
    from cnnkit.devices import configure
    from cnnkit.training import plot_confusion, plot_history, train

    print(configure().line())
    table = load_table(args.data)
    splits = split(table, by=args.split, task=args.task, seed=args.seed)
    print(f"data: {'SYNTHETIC stand-in' if table.synthetic else table.source}; split by {args.split}: "
          f"{len(splits.train)} train / {len(splits.validation)} validation / {len(splits.test)} test rows")
    result = train(lambda: models.build(args.model, splits.num_classes), splits,
                   epochs=args.epochs, seed=args.seed)
    out = Path(args.out) / f"{args.model}-{args.task}-{args.split}-seed{args.seed}"
    out.mkdir(parents=True, exist_ok=True)
    result.model.save(out / "model.keras")
    plot_history(result.history, out / "learning_curves.png")
    plot_confusion(result.test, out / "confusion.png")
    table_rows = [(name, f"{v:.3f}", f"{t:.3f}")
                  for (name, v), (_, t) in zip(result.validation.rows(), result.test.rows())]
    print(pd.DataFrame(table_rows, columns=["metric", "validation", "test"]).to_string(index=False))
    print(f"{result.epochs} epochs in {result.seconds:.1f} s; model and plots in {out}/")


def _student_kit(args):
    from autograder.frontends.student_kit import student_kit

    kit = student_kit(args.destination)
    print(f"student kit written to {kit} (install with: pip install {kit})")
    return 0


def _release(args):
    from autograder.frontends.release import release
    from cnnkit.checks.report import format_points

    report, course = release(args.course, workdir=args.workdir)
    problems = report.problems()
    print(f"solution: {format_points(report.solution.score)} / {format_points(report.solution.max_score)}; "
          f"stub: {format_points(report.stub.score)} / {format_points(report.stub.max_score)}; "
          f"secrets in assignments/: {len(report.leaks)}; stub cells not executed: {len(report.unexecuted)}")
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    print("release is sound" if not problems else f"release has {len(problems)} problem(s)")
    return 1 if problems else 0


def _grade(args):
    from autograder.engine import INTERRUPTED, grade
    from autograder.pipeline.cluster import scheduler_for
    from autograder.sandbox.limits import limits_from

    limits = limits_from(timeout=args.timeout, cell_timeout=args.cell_timeout, memory=args.memory,
                         max_output=args.max_output, processes=args.processes, disk=args.disk)
    students = ([unicodedata.normalize("NFC", given.strip()) for given in args.student]
                if args.student else None)  # in one Unicode spelling, as ids are read
    with scheduler_for(args.cluster, args.scheduler) as scheduler:
        run = grade(args.assignment, course=args.course, submissions=args.submissions, limits=limits,
                    workers=args.workers, scheduler=scheduler, force=args.force, db_url=args.db,
                    progress=not (args.no_progress or args.quiet), students=students,
                    verbosity=0 if args.quiet else 2 if args.verbose else 1, kernels_gpu=args.kernels_gpu)
    if run.interrupted:
        return INTERRUPTED
    return 0 if run.results or not run.refused else 1


def _export(args):
    from autograder.exports import export

    for line in export(args.assignment, course=args.course, db_url=args.db, totals_only=args.totals_only).lines():
        print(line)


def _gradescope(args):
    from autograder.frontends.gradescope_bundle import build_bundle

    bundle = build_bundle(args.assignment, course=args.course, out=args.out, visibility=args.visibility,
                          improve_visibility=args.improve_visibility)
    for line in bundle.lines():
        print(line)


def _check(args):
    from autograder.frontends.selfcheck import check_notebook

    report = check_notebook(args.notebook, release=args.release, improve=args.improve)
    print(report.text())
    return 0 if report.ready else 1


def _demo(args):
    from autograder.course.course import REPO
    from autograder.frontends.demo import demo, format_table

    from autograder.frontends.examples import EXAMPLES

    examples = EXAMPLES
    if args.only:
        wanted = [name.strip() for name in args.only.split(",") if name.strip()]
        known = {example.student: example for example in EXAMPLES}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise SystemExit(f"cnnkit demo: no example student {', '.join(map(repr, unknown))}; "
                             f"the examples are {', '.join(known)}")
        examples = tuple(known[name] for name in wanted)
    result = demo(args.course or REPO, workdir=args.workdir, workers=args.workers, examples=examples)
    print()
    print(format_table(result))
    problems = result.problems()
    print(f"\ndemo: {'every example graded as expected' if not problems else '; '.join(problems)}")
    print(f"graded notebooks and gradebook: {result.workdir}/; results: {result.run.results_path}")
    for line in result.exports.lines():
        print(line)
    return 1 if problems else 0


_WITH_KERAS = (_compare, _train, _release, _gradescope, _check)
