"""Runs inside a probe sandbox: replay a submission's notebooks of one library
world, each in a fresh process, and probe each graded definition as the
student cell that made it left it, when the replay reaches its test cell.

Started by `autograder.pipeline.execute` as
`python -m autograder.sandbox.replay /job /out`, in a sandbox of its own
(never the one where the notebooks' kernels ran), with `/job/replay.json`
(see `autograder.sandbox.contracts.Replay`): per notebook, its code cells,
already turned into plain Python by the grader, which of them are the
student's, and the probe requests of the graded names.

This process imports the world's libraries once (Keras takes seconds), before
any student code, then forks a process per notebook: each notebook replays in
a fresh process of its own, with its own namespace, working folder and
`/out/<index>/`, as if started anew, without paying the import again. A
notebook whose replay ends its process (an `os._exit` in a cell) takes no
other notebook with it.

The rule that decides which definition is graded: a graded name is probed
as the last student cell (a solution cell or one the student added) that
binds it left it (to a callable, for a function: a scratch cell that stores
a result under the function's name does not count), once the replay has
reached the name's test cell, as the notebook's own test saw it: a helper
or a constant defined in a cell between the answer and its test counts, and
cells after the test do not; so a helper name that a later cell rebinds, or
a demonstration cell that reuses a name, no longer changes what is graded.
A name bound after its test cell (the student came back to it) is probed
right after that binding. A name that no student cell binds is probed after
the replay (it may be missing). The replay goes no further than the
notebook's own run did: a notebook stopped at a cell (its time, the kernel's
death, the output limit) is replayed up to that cell, and a cell past its
time stops the replay as it stops a notebook.

The replay runs each cell with `exec`, without Jupyter: no kernel, no
hooks of the notebook's kernel, no message channel. IPython's syntax arrives
turned into Python (`autograder.pipeline.ipython_cells`): a cell magic that
runs its body in the notebook (`%%time`, `%%capture`, `%%prun`) arrives as
its body, `%time` runs its statement, `%%writefile` writes its file (the
notebook's folder is on the import path, as in a kernel), and shell lines
and other magics do nothing. Training is skipped
(`keras.Model.fit` returns at once, its history a NaN per epoch): trained weights are judged
from the kernel's own run, definitions here. In the NumPy world (NumPy
exercises) the sandbox shows no other library, so a NumPy exercise cannot
hand its work to Keras or anything else; an import of a library the kernel
had gives a stand-in that computes nothing (`autograder.sandbox.stand_ins`),
so a cell that imports matplotlib above a NumPy function still defines it.
The results and models land in `/out`; nothing here decides a score.
"""

from __future__ import annotations

import builtins
import os
import shlex
import shutil
import signal
import sys
from pathlib import Path

from autograder.sandbox import probe, stand_ins
from autograder.sandbox.contracts import REPLAY_FILE, REPLAY_READY, Replay

__all__ = ["STOPPED_CELL_SECONDS", "main"]

# The cell where the notebook's own run stopped is replayed this long at most: what it defines before the stop
# counts, and a loop that stopped the notebook is not waited for a second time.
STOPPED_CELL_SECONDS = 10


class _CellTimeout(BaseException):
    pass


class _NoShell:
    """What `get_ipython()` returns in a replay: shell escapes and most magics do nothing; `%time` runs its
    statement and `%%writefile` writes its file, as they do in the kernel, so code they hold or write counts."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None

    def run_line_magic(self, name, line, *args, **kwargs):
        if name != "time":
            return None
        caller = sys._getframe(1)
        try:
            expression = compile(line, "<%time>", "eval")
        except SyntaxError:
            exec(compile(line, "<%time>", "exec"), caller.f_globals, caller.f_locals)
            return None
        return eval(expression, caller.f_globals, caller.f_locals)

    def run_cell_magic(self, name, line, cell, *args, **kwargs):
        if name != "writefile":
            return None
        words = shlex.split(line)
        append = any(word in ("-a", "--append") for word in words)
        paths = [word for word in words if not word.startswith("-")]
        if paths:
            with open(os.path.expanduser(paths[-1]), "a" if append else "w", encoding="utf-8") as handle:
                handle.write(cell)
        return None


def main(argv=None):
    """Replays each notebook in a process of its own and probes its graded names; exit status 0.

    Args:
        argv: `[JOB, OUT]`, default `sys.argv[1:]`.

    Returns:
        0.
    """
    job_dir, out_dir = (Path(p) for p in (argv or sys.argv[1:]))
    replay = Replay.from_json((job_dir / REPLAY_FILE).read_text())
    ready = os.dup(1)  # the grader's channel, for REPLAY_READY alone
    _quiet()
    if replay.world == "keras":
        _skip_training()  # imports Keras here, once, before any student code
    stand_ins.install(replay.stand_ins)  # the libraries the kernel had and this world hides
    home = Path.cwd()
    places = [(home / f"notebook-{index}", out_dir / str(index)) for index in range(len(replay.notebooks))]
    for folder, out in places:  # all made before any student code runs
        folder.mkdir()
        out.mkdir()
    os.write(ready, REPLAY_READY)
    os.close(ready)  # no notebook's process inherits it
    for notebook, (folder, out) in zip(replay.notebooks, places):
        pid = os.fork()
        if pid == 0:  # the notebook's own process: whatever its cells do, it ends here
            try:
                os.chdir(folder)
                sys.path.insert(0, "")  # as in a kernel: a module the notebook wrote (`%%writefile`) imports
                _replay(notebook, replay, out)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    return 0


def _replay(notebook, replay, out_dir):
    """Replays one notebook's cells in this process and probes its graded names into `out_dir`."""
    Path(probe.FOLDER).mkdir(exist_ok=True)
    namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _NoShell,
                 "display": lambda *args, **kwargs: None}
    wanted = _requests_by_name(notebook.requests)
    tested = {name: min((notebook.tests[item["id"]] for item in items if item["id"] in notebook.tests), default=-1)
              for name, items in wanted.items()}  # the cell of each name's first test
    results, bound, probed = {}, {}, set()  # bound: name -> (its definition, the cell after which it is probed)
    # the replay runs to the last student cell, or to the cell before the last test when that comes later
    needed = max([i for i, cell in enumerate(notebook.cells) if cell[1]] + [t - 1 for t in tested.values()],
                 default=-1)
    last = len(notebook.cells) - 1
    for index, (code, student) in enumerate(notebook.cells[:needed + 1]):
        for name, (value, due) in list(bound.items()):
            if due < index:  # the test cell is next: probed as that test would see it
                _probe(wanted[name], namespace, results, replay.call_seconds, out_dir, name, value)
                probed.add(name)
                del bound[name]
        before = {name: namespace.get(name) for name in wanted}
        seconds = min(replay.cell_seconds, STOPPED_CELL_SECONDS) if notebook.stopped and index == last else \
            replay.cell_seconds
        if not _run_cell(code, index, namespace, seconds):
            break  # past its time, as in a notebook: no later cell runs
        if student:
            for name in wanted:
                if _rebound(name, wanted[name], namespace, before):
                    bound[name] = (namespace[name], max(index, tested[name] - 1))
    for name, (value, _) in bound.items():  # the replay ended before their test cells
        _probe(wanted[name], namespace, results, replay.call_seconds, out_dir, name, value)
        probed.add(name)
    for name in wanted:
        if name not in probed:
            _probe(wanted[name], namespace, results, replay.call_seconds, out_dir)


def _rebound(name, items, namespace, before):
    """Whether the cell just run gave `name` a new value that is a definition: for a function (or a builder) only
    a callable that is not a Keras model or layer counts, so a scratch cell that stores a result under the
    function's name (`double = double(3)`, `build_model = build_model()`) does not replace the function."""
    value = namespace.get(name)
    if value is None or value is before[name]:
        return False
    if all(item["action"] == "answer" for item in items):
        return True
    keras_object = any(str(getattr(kind, "__module__", "")).startswith("keras") for kind in type(value).__mro__)
    return callable(value) and not keras_object


def _requests_by_name(requests):
    """The probe requests grouped by the student name they call (in order)."""
    wanted = {}
    for item in requests:
        wanted.setdefault(item["function"], []).append(item)
    return wanted


def _run_cell(code, index, namespace, seconds):
    """One cell, within `seconds`; its errors end the cell only, as in a notebook.

    Returns:
        False when the cell ran past its time (the replay stops there), else True.
    """
    def stop(*_):
        raise _CellTimeout()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        exec(compile(code, f"<cell {index}>", "exec"), namespace)
    except _CellTimeout:
        return False
    except BaseException:  # noqa: BLE001 - the student's errors are the student's; the replay goes on
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return True


def _probe(items, namespace, results, seconds, out_dir, name=None, value=None):
    """Probes one name's requests now (`name` read as `value` when given: the definition its cell made) and
    copies what the probe wrote to `/out`."""
    if name is not None:
        namespace = {**namespace, name: value}  # a view: the definition's own globals stay the notebook's
    with stand_ins.probing():
        probe.main({"call_seconds": seconds, "requests": items}, namespace, results)
    for path in Path(probe.FOLDER).iterdir():
        if path.is_file() and not path.is_symlink() and path.suffix != ".part" and not path.stem.endswith("-input"):
            shutil.copy(path, out_dir / (path.name + ".part"))
            os.replace(out_dir / (path.name + ".part"), out_dir / path.name)


def _skip_training():
    """`fit` returns at once: the replay is for definitions, not weights (Keras imported here, once)."""
    try:
        __import__("keras")
    except ImportError:
        return
    probe.fit_off()


def _quiet():
    """The student's prints go nowhere: the grader reads only `/out`."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    main()
    os._exit(0)  # not Python's own exit: with TensorFlow loaded it takes about a second, and nothing is left to flush
