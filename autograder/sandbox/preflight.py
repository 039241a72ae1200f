"""Before a grading run: can a sandbox find what the kernels and the probes need?

A sandbox shows only part of the machine (see `autograder.sandbox.isolation`). Where the grader's Python keeps a
package somewhere the sandbox does not show (an unusual install, a package on `PYTHONPATH`), every notebook would
fail in the same way and every student would lose every point. This check runs one short sandbox per library
world first and stops the run with one line instead, before anything is recorded.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from autograder.sandbox.isolation import run_sandboxed, write_passwd
from autograder.sandbox.limits import Limits

__all__ = ["NEEDED", "sandbox_problem"]

# What each world's processes import: the kernel and its client in the Keras world, the replay in both.
NEEDED = {
    "keras": ("numpy", "keras", "ipykernel", "jupyter_client", "nbclient", "nbformat", "cnnkit",
              "autograder.sandbox.runner", "autograder.sandbox.replay"),
    "numpy": ("numpy", "autograder.sandbox.replay"),
}
_FIND = ("import importlib.util, json, sys\n"
         "def found(name):\n"
         "    try:\n"
         "        return importlib.util.find_spec(name) is not None\n"
         "    except (ImportError, ValueError):\n"
         "        return False\n"
         "print(json.dumps([name for name in sys.argv[1:] if not found(name)]))\n")


def sandbox_problem(mechanisms, env=None, world_names=("keras", "numpy")):
    """What a sandbox of each library world cannot find, as one line (None when it finds everything).

    Args:
        mechanisms: an `autograder.sandbox.isolation.Mechanisms`.
        env: dict of the kernels' extra environment variables (`KERAS_BACKEND` among them).
        world_names: the worlds to check.

    Returns:
        A str naming the world and the missing modules, or None.
    """
    env = dict(env or {})
    backend = env.get("KERAS_BACKEND") or os.environ.get("KERAS_BACKEND") or "tensorflow"
    limits = Limits(timeout=120, cell_timeout=120, memory=1024**3, disk=64 * 1024**2, threads=1)
    for world in world_names:
        needed = NEEDED[world] + ((backend,) if world == "keras" else ())  # the backend's module has its name
        missing, detail = _missing(mechanisms, limits, env, world, needed)
        if missing:
            return (f"the sandbox ({world} world) cannot find {', '.join(missing)}{detail}: the grader's Python "
                    f"keeps them where a sandbox does not see them; install the kit into one environment "
                    f"(scripts/install.sh) and run cnnkit with that environment's Python")
    return None


def _missing(mechanisms, limits, env, world, needed):
    """(modules the sandbox cannot find, a detail when it could not even tell)."""
    with tempfile.TemporaryDirectory(prefix="cnnkit-preflight-") as scratch:
        job_dir, out_dir = Path(scratch) / "job", Path(scratch) / "out"
        job_dir.mkdir()
        out_dir.mkdir()
        write_passwd(job_dir)
        run = run_sandboxed(["python", "-c", _FIND, *needed], job_dir=job_dir, out_dir=out_dir, limits=limits,
                            env=env, mechanisms=mechanisms, world=world)
    try:
        missing = json.loads(run.stdout.decode(errors="replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = run.stderr.strip().splitlines()[-1][:160] if run.stderr.strip() else f"exit status {run.returncode}"
        return list(needed), f" (its Python did not start: {tail})"
    if not isinstance(missing, list):
        return list(needed), " (its Python answered nonsense)"
    return [str(name) for name in missing], ""
