"""Puts the current process under its limits, then becomes the sandbox.

`python -m autograder.sandbox.launch SPEC -- COMMAND...` joins the control groups
named in SPEC (a JSON object), pins itself to its CPUs, sets its resource
limits, and `exec`s COMMAND, so that COMMAND and everything it starts are
limited from their first instruction. The grader starts it instead of
setting limits in a `preexec_fn` (unsafe in a threaded process).

SPEC keys: `cgroups` (list of `cgroup.procs` files to join), `cpus` (list of
CPU numbers), `rlimits` (resource name such as `RLIMIT_FSIZE` -> int), `user`
(a uid to become, group and supplementary groups included, when the grader
runs as root without namespaces).
Only the standard library is imported, to start fast.
"""

import json
import os
import resource
import sys

__all__ = ["main"]


def main(argv=None):
    """Applies SPEC and replaces this process with COMMAND (never returns).

    Args:
        argv: `[SPEC, "--", COMMAND...]`, default `sys.argv[1:]`.

    Returns:
        127 if COMMAND could not be started (its error on stderr).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    spec, command = json.loads(argv[0]), argv[argv.index("--") + 1:]
    for procs in spec.get("cgroups", []):
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))
    if spec.get("cpus"):
        os.sched_setaffinity(0, spec["cpus"])
    for name, value in spec.get("rlimits", {}).items():
        resource.setrlimit(getattr(resource, name), (value, value))
    if spec.get("user") is not None:
        os.setgroups([])
        os.setgid(spec["user"])
        os.setuid(spec["user"])
    try:
        os.execvp(command[0], command)
    except OSError as error:
        print(f"autograder.sandbox.launch: cannot start {command[0]}: {error}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())
