"""The `cnnkit` command line: a thin layer that parses arguments and forwards
each subcommand to one function that holds its defaults and does the work."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv=None):
    """Entry point of the `cnnkit` console script.

    Args:
        argv: list of argument strings, default `sys.argv[1:]`.

    Returns:
        The process exit status: 0 on success, 1 when the command failed,
        2 when the arguments were wrong.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except (ValueError, TypeError, OSError) as error:
        print(f"cnnkit {args.command}: error: {error}", file=sys.stderr)
        return 1


def _parser():
    parser = argparse.ArgumentParser(
        prog="cnnkit", description="Reference ops, seizure models and autograding for a CNN course."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    compare = commands.add_parser(
        "compare", help="compare the reference ops with the installed Keras layers"
    )
    compare.add_argument("--cases", type=int, default=50, help="random cases per op (default 50)")
    compare.add_argument("--seed", type=int, default=0)
    compare.set_defaults(run=_compare)
    return parser


def _compare(args):
    import pandas as pd

    from cnnkit.parity import parity_report

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
