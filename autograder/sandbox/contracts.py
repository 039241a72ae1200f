"""The JSON contracts between the grader and its sandboxes, in one place.

Everything that crosses the sandbox's wall is plain JSON (and `.keras` model
files), never a pickle, and everything that comes back is read as untrusted:

1. **the job** (`job.json`, read-only at `/job` in the sandbox): which
   notebooks to run and under which per-cell limits (`Job`);
2. **the status** (`status.json`, written by the runner to `/out`): how each
   notebook's run ended (`Status`);
3. **the probe**: its *request* says what to call, build or save, with
   the grader's cases (`probe_request`). Saving the trained models a
   notebook's variables hold happens in its kernel: those requests reach the
   runner on standard input, and the runner sends the results back as one
   *report line* per notebook on its standard output (`report_line`,
   `read_report_lines`). Everything else is probed in a probe sandbox of its
   own, which replays the notebook's code (`Replay`, `replay.json` at
   `/job`) and leaves its results in `/out`; `read_probe` reads either.

This module imports only the standard library (NumPy where values are
encoded), so that the runner inside the sandbox can use it.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass, field

__all__ = ["ACTIONS", "CALL_SECONDS", "GRADER_ONLY", "JOB_FILE", "MAX_RESULT_BYTES", "OUTCOMES", "PROBE_DIR", "REPLAY_FILE",
           "REPLAY_READY", "RESULT_FILE", "STATUS_FILE", "WORLDS", "Job", "Replay", "ReplayNotebook", "NotebookStatus", "ProbeReport", "Status", "decode_value", "encode_value",
           "probe_request", "read_probe", "read_report_lines", "report_line", "untrusted_json"]

JOB_FILE = "job.json"
REPLAY_FILE = "replay.json"
# What a replay writes on its standard output once its own start is over, before any student code runs: a replay
# that never wrote it failed for a reason of the grader's (its environment), not the student's.
REPLAY_READY = b"cnnkit-replay-ready\n"
# What a probe sandbox shows: `numpy` (NumPy exercises: no other library importable) or `keras` (the kit's
# environment without the grader's references).
WORLDS = ("numpy", "keras")
STATUS_FILE = "status.json"
PROBE_DIR = ".cnnkit-probe"
RESULT_FILE = "result.json"
# cnnkit's subpackages that hold the answers: no sandbox shows them, and no student's kit ships them.
GRADER_ONLY = ("reference", "checks")
CALL_SECONDS = 20
MAX_RESULT_BYTES = 64 * 1000**2
# A notebook's run ends `ok`, or stopped by a cell's time limit, a dead kernel, or the output limit.
OUTCOMES = ("ok", "timeout", "crashed", "output-limit")
# What a probe request may ask, in the order the probe carries them out (see `autograder.sandbox.probe`):
# call a function on cases, build a model with a builder, build a block on `keras.Input`s, save a variable's
# model, call a prediction function on a model the grader made, or read a variable's number beside the model a
# builder makes.
ACTIONS = ("call", "build", "block", "save", "predict", "answer")
_DTYPES = {"|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8"}


# ----------------------------------------------------------------------- job


@dataclass(frozen=True)
class Job:
    """What the runner is asked to do (`job.json`).

    Attributes:
        notebooks: the notebook file names to run, in order.
        cell_timeout: seconds a cell may run.
        max_output: bytes of output all notebooks may publish together.
        kernel_arguments: extra arguments for each kernel.
        untrained_before: grade ids of the test cells of checks whose architecture the grader retrains itself:
            in the student's cells between the graded cell before such a test cell and the test cell, Keras'
            `fit` does nothing (the weights trained there are never read).
    """

    notebooks: tuple
    cell_timeout: float
    max_output: int
    kernel_arguments: tuple = ()
    untrained_before: tuple = ()

    def to_json(self):
        return json.dumps({"notebooks": list(self.notebooks), "cell_timeout": self.cell_timeout,
                           "max_output": self.max_output, "kernel_arguments": list(self.kernel_arguments),
                           "untrained_before": list(self.untrained_before)})

    @classmethod
    def from_json(cls, text):
        data = json.loads(text)
        return cls(tuple(data["notebooks"]), float(data["cell_timeout"]), int(data["max_output"]),
                   tuple(data.get("kernel_arguments", ())), tuple(data.get("untrained_before", ())))


@dataclass(frozen=True)
class ReplayNotebook:
    """One notebook of a replay.

    Attributes:
        notebook: the notebook's file name.
        cells: tuple of `(python_source, by_the_student)`, the notebook's
            code cells in order (magics already turned into plain Python).
        requests: the probe requests to carry out (no `save`), each with a
            `function`.
        stopped: True when the last of `cells` is where the notebook's own
            run stopped (a cell past its time, the kernel's death, the
            output limit): replayed briefly, as far as it gets.
        tests: dict of a request's id (its test cell's grade id) -> the
            index in `cells` of that test cell (absent when not replayed).
    """

    notebook: str
    cells: tuple
    requests: tuple
    stopped: bool = False
    tests: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Replay:
    """What a probe sandbox is asked to do (`replay.json`): replay each
    notebook with something to probe in one library world, each in a process
    of its own, and leave notebook `i`'s files in `/out/i/`.

    Attributes:
        world: one of `WORLDS`.
        notebooks: tuple of `ReplayNotebook`.
        call_seconds: how long one call may take.
        cell_seconds: how long one replayed cell may take.
        stand_ins: the top-level modules the notebooks' kernels could import
            that this world hides: importing one gives a stand-in (see
            `autograder.sandbox.stand_ins`).
    """

    world: str
    notebooks: tuple
    call_seconds: float
    cell_seconds: float
    stand_ins: tuple = ()

    def to_json(self):
        return json.dumps({"world": self.world, "call_seconds": self.call_seconds, "cell_seconds": self.cell_seconds,
                           "stand_ins": list(self.stand_ins),
                           "notebooks": [{"notebook": n.notebook, "cells": [list(c) for c in n.cells],
                                          "requests": list(n.requests), "stopped": n.stopped, "tests": n.tests}
                                         for n in self.notebooks]})

    @classmethod
    def from_json(cls, text):
        data = json.loads(text)
        notebooks = tuple(ReplayNotebook(str(n["notebook"]), tuple((str(c), bool(s)) for c, s in n["cells"]),
                                         tuple(n["requests"]), bool(n.get("stopped", False)),
                                         {str(k): int(v) for k, v in n.get("tests", {}).items()})
                          for n in data["notebooks"])
        return cls(data["world"], notebooks, float(data["call_seconds"]), float(data["cell_seconds"]),
                   tuple(str(name) for name in data.get("stand_ins", ())))


# -------------------------------------------------------------------- status


@dataclass(frozen=True)
class NotebookStatus:
    """How one notebook's run ended.

    Attributes:
        outcome: one of `OUTCOMES` (what a tampered file says is kept as it
            is, and counts as a stop of no known kind).
        message: why, in words ("" when `ok`; None when the file had none).
        cell: the index of the cell where the run stopped, or None.
    """

    outcome: str = "ok"
    message: str | None = ""
    cell: int | None = None


@dataclass(frozen=True)
class Status:
    """How the runner's notebooks ended (`status.json`), as far as they got.

    Attributes:
        notebooks: dict of notebook file name -> `NotebookStatus`.
    """

    notebooks: dict = field(default_factory=dict)

    def to_json(self):
        return json.dumps({"notebooks": {name: {"outcome": s.outcome, "message": s.message, "cell": s.cell}
                                         for name, s in self.notebooks.items()}})

    @classmethod
    def read(cls, text):
        """The status the runner wrote, read without trusting it (unknown entries dropped).

        Args:
            text: the file's text, or None when there was none.

        Returns:
            A `Status` (empty when the text is missing or malformed; entries
            that are not objects dropped).
        """
        data = untrusted_json(text) if text else {}
        notebooks = data.get("notebooks", {}) if isinstance(data, dict) else {}
        read = {}
        for name, entry in (notebooks.items() if isinstance(notebooks, dict) else ()):
            if isinstance(entry, dict):
                message, cell = entry.get("message"), entry.get("cell")
                read[str(name)] = NotebookStatus(str(entry.get("outcome")), None if message is None else str(message),
                                                 cell if isinstance(cell, int) and not isinstance(cell, bool) else None)
        return cls(read)


# --------------------------------------------------------------------- probe


def probe_request(requests, *, call_seconds=CALL_SECONDS):
    """One notebook's probe request, as the runner hands it to the probe.

    Args:
        requests: list of dicts, each with `action` (one of `ACTIONS`), `id`
            (the graded cell's grade id) and what the action needs:
            `call`: `function`, `cases` (lists of encoded arguments), `numpy`
            (True: probed where only NumPy can be imported);
            `build`: `function`, `input_shape`; `block`: `function`, `cases`
            (`input_shape` and the arguments after the input tensor);
            `save`: `variable`; `predict`: `function`, `model` (base64 of a
            `.keras` file), `x` (encoded input); `answer`: `function` (the
            variable), `build` (the builder), `input_shape`.
        call_seconds: how long one call may take before it counts as hung.

    Returns:
        A JSON-able dict; the requests in the order the probe carries them out.

    Raises:
        ValueError: if a request names an unknown action.
    """
    unknown = [r.get("action") for r in requests if r.get("action") not in ACTIONS]
    if unknown:
        raise ValueError(f"probe requests must have an action among {', '.join(ACTIONS)}; got {unknown[0]!r}")
    ordered = sorted(requests, key=lambda request: ACTIONS.index(request["action"]))
    return {"call_seconds": max(1, int(call_seconds)), "requests": ordered}


def report_line(notebook, files):
    """The runner's report of one notebook's probe, one line of its standard output.

    Args:
        notebook: the notebook's file name.
        files: dict of file name -> bytes the probe wrote.

    Returns:
        The line (str), newline included.
    """
    return json.dumps({"notebook": notebook,
                       "files": {name: base64.b64encode(content).decode() for name, content in files.items()}}) + "\n"


def read_report_lines(stdout, names):
    """The probes' files from the runner's standard output (a kernel cannot write there).

    Args:
        stdout: bytes or str the runner wrote.
        names: the notebooks that ran (others' lines are ignored).

    Returns:
        Dict of notebook name -> dict of file name -> bytes; the first line
        for each notebook counts.
    """
    reports = {}
    text = bytes(stdout).decode(errors="replace") if isinstance(stdout, (bytes, bytearray)) else stdout
    for line in text.splitlines():
        try:
            report = untrusted_json(line)
            if report.get("notebook") in names and report["notebook"] not in reports:
                reports[report["notebook"]] = {str(name): base64.b64decode(content)
                                               for name, content in dict(report.get("files", {})).items()}
        except (ValueError, TypeError, AttributeError, binascii.Error):
            continue
    return reports


@dataclass(frozen=True)
class ProbeReport:
    """What the probe of one notebook reported (untrusted).

    Attributes:
        results: dict of grade id -> the probe's result for it: `outputs` (a
            list, one per case, each with `value` or `error`, and `calls`),
            `file` (a saved model), `missing` or `error`.
        files: dict of file name -> bytes of a model it saved.
        problem: why the report could not be read, or "".
    """

    results: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    problem: str = ""


def untrusted_json(text):
    """JSON a sandbox wrote, parsed without trusting it.

    Args:
        text: str or bytes.

    Returns:
        The value, or None where the text is not JSON or nests too deeply to parse (Python's parser raises
        `RecursionError` there, not `ValueError`).
    """
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def read_probe(files):
    """The probe's report, from the files it wrote.

    Args:
        files: dict of file name -> bytes (as `Execution.probes` holds them).

    Returns:
        A `ProbeReport` (empty, with a `problem`, when there is none).
    """
    raw = files.get(RESULT_FILE)
    if raw is None:
        return ProbeReport(problem="the grader's probe did not report (the kernel died, hung or was tampered with)")
    if len(raw) > MAX_RESULT_BYTES:
        return ProbeReport(problem="the probe's report is too large")
    results = untrusted_json(raw)
    if results is None:
        return ProbeReport(problem="the probe's report is not valid JSON")
    if not isinstance(results, dict):
        return ProbeReport(problem="the probe's report is malformed")
    return ProbeReport(results, {name: content for name, content in files.items() if name.endswith(".keras")})


def encode_value(value):
    """An argument for the probe: arrays keep their dtype (compressed, base64), tuples stay tuples.

    Args:
        value: a NumPy array, a tuple, or a JSON-able value (str, int, float,
            a list).

    Returns:
        A JSON-able value.
    """
    import numpy as np

    if isinstance(value, np.ndarray):
        array = value.copy(order="C")
        return {"b64": base64.b64encode(zlib.compress(array.tobytes())).decode(), "dtype": array.dtype.str,
                "shape": list(array.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):  # (JSON would make it a list: the student's code sees what the kernel's check passes)
        return {"tuple": [encode_value(item) for item in value]}
    return value


def decode_value(encoded):
    """An output the probe reported, decoded without trusting it.

    Only numeric dtypes are read (never pickles), and the size must match
    the shape.

    Args:
        encoded: a dict with `b64`, `dtype`, `shape`, or with `repr`.

    Returns:
        A NumPy array, or None when the output was not numeric.

    Raises:
        ValueError: if the encoding is malformed.
    """
    import numpy as np

    if not isinstance(encoded, dict):
        raise ValueError("not an encoded value")
    if "b64" not in encoded:
        return None
    dtype, shape = encoded.get("dtype"), encoded.get("shape")
    if dtype not in _DTYPES or not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError("an output of an unknown dtype or shape")
    raw = zlib.decompressobj().decompress(base64.b64decode(encoded["b64"]), 64 * 1000**2)
    array = np.frombuffer(raw, dtype=np.dtype(dtype))
    if array.size != int(np.prod(shape)):
        raise ValueError("an output whose size does not match its shape")
    return array.reshape(shape)
