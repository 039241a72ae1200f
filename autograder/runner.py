"""Runs inside the sandbox: execute a submission's notebooks, one fresh kernel
each, and leave the executed notebooks in `/out`.

Started by `autograder.sandbox` as `python -m autograder.runner JOB OUT`.
`JOB` is a read-only folder holding `job.json` and the prepared notebooks;
the working folder is the submission's scratch home. Nothing here decides a
score: what this process writes is untrusted data for the grader.

- A cell that runs past `cell_timeout` stops its notebook (`timeout`).
- Output past `max_output` bytes (all notebooks together, every stream and
  display) stops the kernel at once (`output-limit`).
- A kernel that dies (`os._exit`, a signal, the memory limit) stops its
  notebook (`crashed`); later notebooks still run.

Each notebook is saved after every cell, so that what ran before a stop is
kept even when the grader kills the whole sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

__all__ = ["main"]

EVIDENCE_DIR = "cnnkit_evidence"


def main(argv=None):
    """Executes the job; exit status 0 whatever the notebooks did.

    Args:
        argv: `[JOB, OUT]`, default `sys.argv[1:]`.

    Returns:
        0.
    """
    job_dir, out_dir = (Path(p) for p in (argv or sys.argv[1:]))
    job = json.loads((job_dir / "job.json").read_text())
    budget = {"left": int(job["max_output"])}
    status = {"notebooks": {}}
    for name in job["notebooks"]:
        shutil.copy(job_dir / name, name)
        outcome = _execute(name, out_dir, job, budget)
        status["notebooks"][name] = outcome
        _copy_evidence(out_dir)
        _write_json(out_dir / "status.json", status)
        if outcome["outcome"] == "output-limit":
            break
    return 0


def _execute(name, out_dir, job, budget):
    notebook = nbformat.read(name, as_version=4)
    client = LimitedClient(notebook, budget, timeout=job["cell_timeout"], kernel_name="python3",
                            allow_errors=True, record_timing=False, extra_arguments=job["kernel_arguments"],
                            resources={"metadata": {"path": os.getcwd()}})
    client.on_cell_executed = lambda **_: _save(notebook, out_dir / name)
    outcome = {"outcome": "ok", "message": ""}
    try:
        client.execute()
    except CellTimeoutError:
        outcome = {"outcome": "timeout", "message": f"a cell ran longer than {job['cell_timeout']:g} s"}
    except DeadKernelError:
        outcome = ({"outcome": "output-limit", "message": "the notebook printed or displayed more than the output limit"}
                   if client.over_limit else {"outcome": "crashed", "message": "the kernel died"})
    except Exception as error:  # the kernel could not start, or nbclient failed
        outcome = {"outcome": "crashed", "message": f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"}
    _save(notebook, out_dir / name)
    return outcome


class LimitedClient(NotebookClient):
    """An nbclient that stops the kernel once the output budget is spent.

    Every message the kernel publishes (streams, displays, results, errors,
    widget traffic) counts by its size; the budget is shared by the
    submission's notebooks.
    """

    def __init__(self, notebook, budget, **kwargs):
        super().__init__(notebook, **kwargs)
        self.budget = budget
        self.over_limit = False

    def process_message(self, msg, cell, cell_index):
        if msg.get("msg_type") not in ("status", "execute_input") and not self.over_limit:
            self.budget["left"] -= len(json.dumps(msg.get("content", {})))
            if self.budget["left"] < 0:
                # nbclient looks at this task's errors only once the cell ends: stop the kernel
                # now, and nbclient's liveness check ends the cell within a second.
                self.over_limit = True
                os.kill(self.km.provisioner.pid, signal.SIGKILL)
        if self.over_limit:
            return None
        return super().process_message(msg, cell, cell_index)


def _save(notebook, path):
    partial = path.with_suffix(".part")
    nbformat.write(notebook, partial)
    partial.replace(path)


def _copy_evidence(out_dir):
    source = Path(EVIDENCE_DIR)
    if source.is_dir() and not source.is_symlink():
        for path in source.iterdir():
            if path.is_file() and not path.is_symlink():
                (out_dir / EVIDENCE_DIR).mkdir(exist_ok=True)
                shutil.copy(path, out_dir / EVIDENCE_DIR / path.name)


def _write_json(path, data):
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(data))
    partial.replace(path)


if __name__ == "__main__":
    sys.exit(main())
