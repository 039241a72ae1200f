"""Trusted worker processes: where the verifier's work runs.

The verifier never runs in a sandbox (it holds the course secret and the
held-out rows) and its heavy work (loading models, training architectures and
references under the budget) does not run in the coordinator either: each
worker slot has one trusted worker process, which builds the `Verifier` once
and then, for each submission graded on that slot, draws the probe requests
before the sandbox runs and gives the verdict after it. It runs on the slot's
cores only, with the slot's threads and GPU, so sandboxes and verification
share the slots and nothing oversubscribes a core.

The process is this module, started as `python -m autograder.pipeline.trusted`.
Requests and answers are pickles on its standard input and output, written and
read only by the grader's own code (never data a sandbox wrote); the setup,
course secret included, arrives the same way, never on a command line or in
an environment. While it works it may send notes (a training starting), which
the caller shows. A call that takes longer than its time limit ends the
process; the next call starts a fresh one.

Its resources are bounded like a sandbox's (it reads models that submissions
made): it starts through `autograder.sandbox.launch` in control groups of its
own (memory, processes) where the machine has them, pinned to its slot's
cores; a verdict that runs it out of memory is that submission's
(`TrustedOutOfMemory`), and the next call starts a fresh process. Where the
machine has no control groups, its memory is a per-process limit
(`RLIMIT_DATA`): an allocation past it fails in the verifier, not the machine.
"""

from __future__ import annotations

import json
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox.isolation import ControlGroups, detect
from autograder.sandbox.limits import Limits

__all__ = ["VERIFIER_LIMITS", "TrustedOutOfMemory", "TrustedTimeout", "TrustedWorker", "TrustedWorkerError",
           "VerifierSetup"]

_METHODS = ("requests", "verify", "train_references")
# Every training under the budget runs on one thread, wherever it runs: the order of a sum, so the last digits of
# every weight, depends on the thread count, and a score must not depend on the machine (see
# `cnnkit.assignment.training_setup`).
VERIFIER_THREADS = 1
_HEADER = struct.Struct(">Q")
IDLE_SECONDS = 900  # a worker with nothing to do for this long ends (its grader is gone)
# A verifier holds Keras, the held-out rows and a few small models: 6 GiB is ample; its threads count as processes.
VERIFIER_LIMITS = Limits(memory=6 * 1024**3, processes=1024)


@dataclass(frozen=True)
class VerifierSetup:
    """What a trusted worker needs to build the `Verifier` of an assignment.

    Attributes:
        source_dir: the instructor's notebooks of the assignment.
        release_dir: the released notebooks.
        secret: the course secret.
        cache_dir: where trainings under the budget are recorded (the
            course's own folder: a later run, on any machine, reads them).
        data_path: the seizure data, or None (`$CNNKIT_DATA` or the stand-in).
        course_root: the course directory, whose own checks are loaded (see
            `autograder.verifier.extensions`), or None.
    """

    source_dir: Path
    release_dir: Path
    secret: str
    cache_dir: Path
    data_path: object = None
    course_root: Path = None


class TrustedWorkerError(RuntimeError):
    """The verifier failed on a call (its message says how), or its process died."""


class TrustedTimeout(TrustedWorkerError):
    """A call ran past its time limit; the process was ended."""


class TrustedOutOfMemory(TrustedWorkerError):
    """A call ran the process out of its memory; the process was ended."""


class TrustedWorker:
    """One trusted worker process, started on first use.

    Args:
        setup: the `VerifierSetup`.
        cpus: CPU numbers it may use (empty: all).
        gpu: the GPU index it may use, or None for the CPU only.
        log: a file for its standard error (None: discarded).
    """

    def __init__(self, setup, *, cpus=(), gpu=None, log=None):
        self.setup, self.cpus, self.gpu, self.log = setup, tuple(cpus), gpu, log
        self.threads = VERIFIER_THREADS
        self.process = self.groups = None

    def call(self, method, *args, timeout, notes=None, **kwargs):
        """Calls a method of the worker's `Verifier` and returns its result.

        Args:
            method: `"requests"`, `"verify"` or `"train_references"`.
            *args, **kwargs: its arguments (plain data, pickled).
            timeout: seconds the call may take (its process is ended after).
            notes: callable `(event, text)` told of each training under the
                budget as the worker meets it (`trained` or `reused`), or None.

        Returns:
            What the method returned.

        Raises:
            TrustedTimeout: if the call ran past `timeout`.
            TrustedWorkerError: if the method raised, or the process died.
        """
        if method not in _METHODS:
            raise ValueError(f"Invalid value for `method`. Expected one of {', '.join(_METHODS)}. "
                             f"Received method={method!r}.")
        if self.process is None or self.process.poll() is not None:
            self._start()
        deadline = time.monotonic() + timeout
        try:
            _send(self.process.stdin, (method, args, kwargs))
            while True:
                kind, value = _receive(self.process.stdout, deadline)
                if kind == "note":
                    if notes is not None:
                        notes(*value)
                    continue
                if kind == "ok":
                    return value
                raise TrustedWorkerError(str(value))
        except TimeoutError:
            self.close()
            raise TrustedTimeout(f"the verifier took longer than {timeout:g} s") from None
        except (EOFError, OSError, pickle.UnpicklingError) as error:
            code = self.process.poll() if self.process else None
            out_of_memory = self.groups is not None and self.groups.report()[0]
            self.close()
            if out_of_memory:
                raise TrustedOutOfMemory(f"the verifier ran out of its {VERIFIER_LIMITS.memory / 1024**3:g} GiB of "
                                         "memory") from None
            raise TrustedWorkerError(f"the verifier's process ended ({type(error).__name__}, exit status {code})"
                                     + _tail(self.log)) from None

    def close(self):
        """Ends the process (and anything it started)."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                stream.close()
            self.process = None
        if self.groups is not None:
            self.groups.kill_all()
            self.groups.remove()
            self.groups = None

    def _start(self):
        threads = str(self.threads)
        env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
               "TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
               "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen={'true' if self.threads > 1 else 'false'}",
               "CUDA_VISIBLE_DEVICES": "" if self.gpu is None else str(self.gpu),
               "TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
               "CNNKIT_CACHE": str(self.setup.cache_dir), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        mechanisms = detect()
        self.groups = ControlGroups.create(mechanisms.cgroup, VERIFIER_LIMITS) if mechanisms.cgroup else None
        spec = {"cgroups": self.groups.procs_files() if self.groups else [], "cpus": list(self.cpus),
                "rlimits": _rlimits(cgroups=self.groups is not None)}
        stderr = open(self.log, "ab") if self.log else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen([sys.executable, "-m", "autograder.sandbox.launch", json.dumps(spec), "--",
                                             sys.executable, "-m", "autograder.pipeline.trusted"], env=env,
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                            start_new_session=True)
        finally:
            if stderr is not subprocess.DEVNULL:
                stderr.close()
        _send(self.process.stdin, self.setup)


def _rlimits(cgroups):
    """The worker's resource limits: no core dumps (they would hold the secret); without control groups, its memory
    as a per-process limit too, so that a model built to exhaust memory fails its own allocation instead of the
    machine's."""
    return {"RLIMIT_CORE": 0} if cgroups else {"RLIMIT_CORE": 0, "RLIMIT_DATA": int(VERIFIER_LIMITS.memory)}


def _send(stream, message):
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream, deadline=None):
    """One message from a pipe, waiting at most until `deadline` (monotonic seconds)."""
    size = _HEADER.unpack(_read(stream, _HEADER.size, deadline))[0]
    return pickle.loads(_read(stream, size, deadline))


def _read(stream, size, deadline):
    chunks, left = [], size
    descriptor = stream.fileno()
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([descriptor], [], [], wait)[0]:
                raise TimeoutError
        chunk = os.read(descriptor, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _tail(log):
    try:
        lines = Path(log).read_text(errors="replace").strip().splitlines() if log else []
    except OSError:
        return ""
    return f": {lines[-1][:200]}" if lines else ""


def serve():
    """The worker process: answers calls until its standard input closes, and ends with the grader (even a
    grader killed with SIGKILL: no training goes on for nobody)."""
    _end_with_parent()
    reader = os.fdopen(os.dup(0), "rb")
    writer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to the log, never into the answers
    setup = _receive(reader)  # the launcher has put this process in its control groups and on its cores
    from autograder.verifier.extensions import load_course_checks
    from autograder.verifier.verifier import Verifier

    if setup.course_root is not None:
        load_course_checks(setup.course_root)

    verifier = None
    while True:
        try:
            method, args, kwargs = _receive(reader, time.monotonic() + IDLE_SECONDS)
        except (EOFError, TimeoutError):
            return 0
        try:
            if verifier is None:
                verifier = Verifier.for_assignment(setup.source_dir, setup.release_dir, setup.secret, setup.data_path)
                verifier.announce = lambda event, text: _send(writer, ("note", (event, text)))
            _send(writer, ("ok", getattr(verifier, method)(*args, **kwargs)))
        except Exception as error:  # the caller decides what a failure means; this process goes on
            _send(writer, ("error", f"{type(error).__name__}: {str(error)[:300]}"))


def _end_with_parent():
    """Ends this process within a second of the grader's death (the parent that started it), so that a grader
    killed with SIGKILL leaves no training running for nobody."""
    import threading

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


if __name__ == "__main__":
    sys.exit(serve())
