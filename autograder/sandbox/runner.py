"""Runs inside the sandbox: execute a submission's notebooks, one fresh kernel
each, and leave the executed notebooks in `/out`.

Started by `autograder.sandbox.isolation` as `python -m autograder.sandbox.runner JOB OUT`.
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

The grader's *probe* runs in the same kernel for one thing only: saving
the trained models the notebook's variables hold (see
`autograder.sandbox.probe`, whose source this process reads from the kit and
runs in the kernel), each right after the test cell of its check, as
nbgrader's own test sees it (a later cell that trains the model further or
puts another in the variable changes nothing), or after the notebook's
cells when that test cell did not run. Functions, builders and blocks are never probed
here: a probe sandbox of their own replays the notebook's code
(`autograder.sandbox.replay`). Save requests arrive on standard input, read
before any kernel starts, and the probe's report leaves on standard output,
one JSON line per notebook (the contracts are in
`autograder.sandbox.contracts`): kernels start with their output sent to
/dev/null, and this process makes itself non-dumpable. A line on that pipe
that this process did not write is flagged by the grader. When a kernel
died, a fresh one re-runs the cells before the fatal one, then the probe.

Work nobody reads is not done: in the student's cells that lead up to the test
cell of a check whose architecture the grader retrains itself ("improve it",
`Job.untrained_before`), Keras' `fit` returns at once (the runner switches it
off and on again with cells of its own, which the notebook does not keep), as
`train_under_budget` does for that builder: the student's own run outside
grading is unchanged.
"""

from __future__ import annotations

import base64
import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync

from autograder.sandbox.contracts import PROBE_DIR, Job, NotebookStatus, Status, report_line

__all__ = ["main", "probe_cell"]

EVIDENCE_DIR = "cnnkit_evidence"
MAX_PROBE_FILE = 32 * 1000**2
PROBE_SOURCE = Path(__file__).with_name("probe.py")
# Calls a function of `probe.py` in the kernel, from a namespace of its own (the probe's helpers never shadow
# the student's names); `main` is handed the kernel's globals, where the student's functions and models live.
_PROBE_CELL = """__cnnkit_probe = {"__name__": "cnnkit_probe"}
exec(compile(__import__("base64").b64decode("%(source)s").decode(), "cnnkit-probe", "exec"), __cnnkit_probe)
__cnnkit_probe%(call)s
del __cnnkit_probe
"""
# Around the cells of `untrained_cells`: there `fit` (of every Keras model) returns at once, as
# `train_under_budget` does for a retrained builder, so that a student who trains the "improve it" model with
# `fit` directly costs the grader nothing either.
_FIT_OFF = '["fit_off"](announce=True)'
_FIT_ON = '["fit_on"]()'


def probe_cell(request):
    """The code cell that runs the probe on one notebook's request in its kernel.

    Args:
        request: the notebook's probe request (a JSON-able dict).

    Returns:
        Python source.
    """
    request = base64.b64encode(json.dumps(request).encode()).decode()
    return _grader_source('["main"](__import__("json").loads(__import__("base64").b64decode("%s")), globals())'
                          % request)


def _grader_source(call):
    """The code cell that calls `call` (subscript and arguments) on the probe's namespace in the kernel."""
    source = base64.b64encode(PROBE_SOURCE.read_text().encode()).decode()
    return _PROBE_CELL % {"source": source, "call": call}


def main(argv=None):
    """Executes the job; exit status 0 whatever the notebooks did.

    Args:
        argv: `[JOB, OUT]`, default `sys.argv[1:]`.

    Returns:
        0.
    """
    job_dir, out_dir = (Path(p) for p in (argv or sys.argv[1:]))
    job = Job.from_json((job_dir / "job.json").read_text())
    probes = json.loads(sys.stdin.read() or "{}")
    sys.stdin.close()
    _make_undumpable()
    budget = {"left": job.max_output}
    status = Status()
    for name in job.notebooks:
        shutil.copy(job_dir / name, name)
        outcome = _execute(name, out_dir, job, budget, probes.get(name))
        status.notebooks[name] = outcome
        _copy_evidence(out_dir)
        _write_text(out_dir / "status.json", status.to_json())
        if outcome.outcome == "output-limit":
            break
    return 0


def _execute(name, out_dir, job, budget, probe):
    notebook = nbformat.read(name, as_version=4)
    client = _client(notebook, job, budget)
    client.on_cell_executed = lambda **_: _save(notebook, out_dir / name, final=False)
    outcome = NotebookStatus()
    try:
        outcome = client.run(probe, name)
    except DeadKernelError:
        if client.over_limit:
            outcome = NotebookStatus("output-limit", "the notebook printed or displayed more than the output limit",
                                     client.current_index)
        else:
            outcome = NotebookStatus("crashed", "the kernel died", client.current_index)
            if probe:  # a fresh kernel re-runs what ran before the fatal cell, then the probe
                again = _client(nbformat.from_dict(json.loads(json.dumps(notebook))), job, {"left": job.max_output})
                try:
                    again.run(probe, name, upto=client.current_index)
                except Exception:  # the probe then reports nothing: every check of the notebook scores 0
                    pass
    except Exception as error:  # the kernel could not start, or nbclient failed
        outcome = NotebookStatus("crashed", f"{type(error).__name__}: "
                                            f"{str(error).splitlines()[0][:200] if str(error) else ''}")
    _save(notebook, out_dir / name)
    return outcome


def _client(notebook, job, budget):
    # "immediate": the kernel is killed once its notebook is done (nothing it does after its last cell and the
    # probe is read); a graceful shutdown waits about 1.3 s per kernel for TensorFlow's and ipykernel's exit
    return LimitedClient(notebook, budget, untrained_before=job.untrained_before, timeout=job.cell_timeout,
                         kernel_name="python3", allow_errors=True, record_timing=False, shutdown_kernel="immediate",
                         extra_arguments=list(job.kernel_arguments), resources={"metadata": {"path": os.getcwd()}})


def untrained_cells(cells, untrained_before):
    """The indices of the cells where Keras' `fit` does nothing: for each test cell whose grade id is in
    `untrained_before`, the student's cells (those not locked: answers and cells the student added) after the graded
    cell before it, up to it. The instructor's own cells there train as they always do.

    Args:
        cells: the notebook's cells.
        untrained_before: grade ids (see `Job.untrained_before`).

    Returns:
        A set of ints.
    """
    window, stretch = set(), []
    for index, cell in enumerate(cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade"):
            stretch += [] if meta.get("locked") else [index]
            continue
        if meta.get("grade_id") in untrained_before:
            window.update(stretch)
        stretch = []
    return window


def _make_undumpable():
    """No other process of the sandbox's user may read this one's memory or files (PR_SET_DUMPABLE 0)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class LimitedClient(NotebookClient):
    """An nbclient that stops the kernel once the output budget is spent.

    Every message the kernel publishes (streams, displays, results, errors,
    widget traffic) counts by its size; the budget is shared by the
    submission's notebooks.
    """

    def __init__(self, notebook, budget, untrained_before=(), **kwargs):
        super().__init__(notebook, **kwargs)
        self.budget = budget
        self.untrained = untrained_cells(notebook.cells, untrained_before)
        self.over_limit = False
        self.current_index = 0

    def run(self, probe, notebook_name, upto=None):
        """Runs the cells (all, or those before `upto`), then the probe, in one kernel.

        Returns:
            The outcome: a `NotebookStatus` (`ok` or `timeout`).

        Raises:
            DeadKernelError: when the kernel died; `current_index` is the cell.
        """
        outcome = NotebookStatus()
        pending = {item["id"]: item for item in (probe or {}).get("requests", [])}
        self.probed = ({}, {})  # what the probe's runs reported: results by request id, files by name
        with self.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL):
            cells = self.nb.cells if upto is None else self.nb.cells[:upto]
            fit_off = False
            for index, cell in enumerate(cells):
                self.current_index = index
                try:
                    if (index in self.untrained) != fit_off:
                        fit_off = not fit_off
                        self._grader_cell(_grader_source(_FIT_OFF if fit_off else _FIT_ON))
                    self.execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
                except CellTimeoutError:
                    outcome = NotebookStatus("timeout", f"a cell ran longer than {self.timeout:g} s", index)
                    self.interrupt()
                    break
                tested = pending.pop(cell.metadata.get("nbgrader", {}).get("grade_id"), None)
                if tested is not None:  # the model as this check's own test cell saw it
                    self._probe({**probe, "requests": [tested]})
                    if not self._alive():  # the save ended the kernel: a crash at this cell, as in nbclient
                        raise DeadKernelError("the kernel died while its model was saved")
            if probe:
                self._probe({**probe, "requests": list(pending.values())})
                self._report(notebook_name)
        return outcome

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

    def interrupt(self):
        """Interrupts the kernel (SIGINT), so that the next cell can run."""
        interrupt = self.km.interrupt_kernel
        if inspect.iscoroutinefunction(interrupt):
            run_sync(interrupt)()
        else:
            interrupt()

    def _alive(self):
        alive = self.km.is_alive
        return run_sync(alive)() if inspect.iscoroutinefunction(alive) else alive()

    def _probe(self, probe):
        """Runs the grader's probe on `probe`'s requests in the kernel, in a fresh folder, and keeps what it wrote
        in this process (`self.probed`), where no later cell can change it."""
        if not probe["requests"]:
            return
        work = Path(PROBE_DIR)
        if work.is_symlink():
            work.unlink()
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(exist_ok=True)
        try:
            self._grader_cell(probe_cell(probe))
        except CellTimeoutError:
            self.interrupt()
        except DeadKernelError:  # killed by what it probed: the checks it finished still count
            pass
        finally:
            self._keep(work)

    def _grader_cell(self, source):
        """Runs the grader's `source` in the kernel as a cell that is not the notebook's: its output counts
        against no budget, and the notebook's own cells keep their execution counts."""
        cell = nbformat.v4.new_code_cell(source)
        budget, self.budget = self.budget, {"left": 10**12}
        self.nb.cells.append(cell)  # nbclient executes cells of its notebook; taken out again below
        try:
            self.execute_cell(cell, len(self.nb.cells) - 1, store_history=False)
        finally:
            self.nb.cells.remove(cell)
            self.budget = budget
            self.code_cells_executed -= 1

    def _keep(self, work):
        """Adds what the probe wrote in `work` to `self.probed` (untrusted: sizes capped, results read as data)."""
        files = {path.name: path.read_bytes() for path in sorted(work.iterdir())
                 if path.is_file() and not path.is_symlink() and path.suffix != ".part"
                 and path.stat().st_size <= MAX_PROBE_FILE} if work.is_dir() and not work.is_symlink() else {}
        try:
            results = json.loads(files.pop("result.json", b"{}"))
        except ValueError:
            results = {}
        self.probed[0].update(results if isinstance(results, dict) else {})
        self.probed[1].update(files)

    def _report(self, notebook_name):
        """Reports what the probe's runs wrote, on standard output (one line per notebook)."""
        results, files = self.probed
        sys.stdout.write(report_line(notebook_name, {**files, "result.json": json.dumps(results).encode()}))
        sys.stdout.flush()


def _save(notebook, path, final=True):
    """Writes the notebook as it stands; after a cell as plain JSON (what nbformat reads; about 10 times cheaper
    than nbformat's validated, line-split form, which the notebook's last save writes)."""
    partial = path.with_suffix(".part")
    if final:
        nbformat.write(notebook, partial)
    else:
        partial.write_text(json.dumps(notebook), encoding="utf-8")
    partial.replace(path)


def _copy_evidence(out_dir):
    source = Path(EVIDENCE_DIR)
    if source.is_dir() and not source.is_symlink():
        for path in source.iterdir():
            if path.is_file() and not path.is_symlink():
                (out_dir / EVIDENCE_DIR).mkdir(exist_ok=True)
                shutil.copy(path, out_dir / EVIDENCE_DIR / path.name)


def _write_text(path, text):
    partial = path.with_suffix(".part")
    partial.write_text(text)
    partial.replace(path)


if __name__ == "__main__":
    sys.exit(main())
