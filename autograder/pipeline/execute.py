"""Stage 2c, execute: run a prepared submission in its own sandbox, then
probe its graded definitions in probe sandboxes.

`execute` takes plain data (a `Prepared` and the limits) and returns plain
data (an `Execution`), so the same function runs in a local worker thread or
on a Dask worker on another machine. What comes back from a sandbox is
untrusted: sizes are capped and only the expected files are read.

The notebooks run in one sandbox, one kernel each, as the student ran them;
the trained models their variables hold are saved there after the last
cell. Everything else the verifier asks (functions called on its cases,
builders, blocks, prediction functions) is probed in a fresh sandbox per
library world (`autograder.sandbox.replay`), where each notebook replays in
a process of its own: it replays the notebook's code and probes each
definition as its test cell would see it, where no process of
the kernel's sandbox can reach.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.pipeline.ipython_cells import CellReader
from autograder.pipeline.scratch import scratch_folder
from autograder.sandbox.contracts import (JOB_FILE, REPLAY_FILE, REPLAY_READY, RESULT_FILE, STATUS_FILE, WORLDS, Job,
                                         Replay, ReplayNotebook, Status, read_report_lines, untrusted_json)
from autograder.sandbox.isolation import MAX_OUT_ENTRIES, run_sandboxed, stand_in_modules, write_passwd
from autograder.sandbox.limits import format_size

__all__ = ["Execution", "Slot", "execute", "kernel_devices"]

EVIDENCE_DIR = "cnnkit_evidence"
MAX_EVIDENCE_FILES = 16
MAX_EVIDENCE_BYTES = 64 * 1000**2
MAX_PROBE_FILES = 64
MAX_PROBE_FILE = 32 * 1000**2
_ENDED_EARLY = "the grading process in the sandbox ended early"
_KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]


@dataclass(frozen=True)
class Slot:
    """Where a submission runs: a worker's name, its CPUs and its GPU.

    Attributes:
        worker: the worker's name, recorded with the result.
        cpus: CPU numbers the worker is pinned to (empty: all).
        gpu: the GPU index handed to its verifier's trainings, or None for the CPU.
        kernels_gpu: whether the sandboxes (the student's kernels and the probes) see that GPU too. By default
            they do not: what a kernel computes under grading (a few small trainings, many small eager operations)
            gains nothing on a GPU, and on the CPU, with one thread, it comes out the same on every machine.
    """

    worker: str
    cpus: tuple = ()
    gpu: int | None = None
    kernels_gpu: bool = False

    @property
    def device(self):
        return "cpu" if self.gpu is None else f"gpu:{self.gpu}"


@dataclass(frozen=True)
class Execution:
    """What running a submission produced (untrusted content, trusted status).

    Attributes:
        student: the student id.
        status: `graded`, `timeout`, `memory`, `output-limit` or `crashed`.
        reason: why, in one line ("" when graded).
        notebooks: dict of file name -> executed notebook JSON (str); a
            notebook stopped early holds the cells that ran.
        evidence: dict of file name -> bytes left in `cnnkit_evidence/`.
        probes: dict of notebook file name -> dict of file name -> bytes the
            grader's probe wrote (`result.json`, `.keras` models).
        seconds: wall-clock time in the sandboxes (the notebooks and the probes).
        worker, device: where it ran.
        peak_memory: most bytes in use at once, when known.
        limits_hit: names of the limits the submission ran into.
        flags: what the grader saw of the run that a person should review.
    """

    student: str
    status: str
    reason: str
    notebooks: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)
    probes: dict = field(default_factory=dict)
    seconds: float = 0.0
    worker: str = ""
    device: str = "cpu"
    peak_memory: int | None = None
    limits_hit: tuple = ()
    flags: tuple = ()


def execute(prepared, limits, slot, *, env=None, binds=(), untrained_before=(), cancel=None):
    """Runs every well-formed notebook of a submission in one sandbox, then
    the verifier's probes (`prepared.probes`): `save` in the same kernels,
    the rest in probe sandboxes that replay each notebook's code.

    Args:
        prepared: an `autograder.pipeline.prepare.Prepared` with notebooks to run.
        limits: an `autograder.sandbox.limits.Limits` with `threads` set.
        slot: the `Slot` to run in.
        env: dict of extra environment variables for the kernels.
        binds: pairs (host path, sandbox path) shown read-only.
        untrained_before: grade ids of test cells before which Keras' `fit`
            does nothing in the kernels (see `Job.untrained_before`).
        cancel: a `threading.Event` that ends the run once set (the grader is
            stopping; the result is then not recorded).

    Returns:
        An `Execution`.
    """
    with scratch_folder("job") as scratch:
        job_dir, out_dir = Path(scratch) / "job", Path(scratch) / "out"
        job_dir.mkdir()
        out_dir.mkdir()
        _write_job(job_dir, prepared, limits, untrained_before)
        gpu_env, devices = kernel_devices(slot)
        env = {**(env or {}), **gpu_env}
        saves = _kernel_requests(prepared.probes)
        run = run_sandboxed(["python", "-m", "autograder.sandbox.runner", "/job", "/out"], job_dir=job_dir, out_dir=out_dir,
                            limits=limits, cpus=slot.cpus, env=env, binds=binds, devices=devices,
                            stdin=json.dumps(saves).encode(),  # never written in the sandbox
                            cancel=cancel)
        status = Status.read(_read_text(out_dir / STATUS_FILE, limit=1000**2))
        notebooks = {name: text for name in prepared.notebooks
                     if (text := _read_text(out_dir / name, limit=limits.max_output + 16 * 1000**2)) is not None}
        evidence = _read_evidence(out_dir / EVIDENCE_DIR)
        probed = {name: _requested(files, saves.get(name))
                  for name, files in read_report_lines(run.stdout, prepared.notebooks).items()}
    seconds, filled = run.seconds, ["the kernels' sandbox"] if run.out_exceeded else []
    for replay in _replays(prepared, limits, status, executed=set(notebooks)):
        if cancel is not None and cancel.is_set():
            break
        replayed, took, over = _replayed(replay, limits, slot, env, binds, devices, cancel)
        seconds += took
        filled += [f"the {replay.world} world's probe sandbox"] if over else []
        for notebook, files in zip(replay.notebooks, replayed):
            name = notebook.notebook
            probed[name] = _merged(probed.get(name, {}), _requested(files, {"requests": notebook.requests}))
    outcome, reason = _outcome(run, status, limits, prepared)
    hit = tuple(name for name, flag in (("memory", run.memory_exceeded), ("processes", run.processes_exceeded),
                                        ("time", outcome == "timeout"), ("output", outcome == "output-limit"),
                                        ("disk", bool(filled))) if flag)
    if run.processes_exceeded:
        reason = "; ".join(filter(None, [reason, f"it reached the limit of {limits.processes} processes"]))
    flags = ((f"{run.stdout_dropped:,} bytes beyond what the grader reads reached the runner's report channel "
              "(something in the sandbox wrote to the grader's pipe): dropped, review it",)
             if run.stdout_dropped else ())
    if filled:
        flags += (f"code in {' and in '.join(filled)} wrote more than {format_size(limits.disk)} or "
                  f"{MAX_OUT_ENTRIES:,} files onto the grader's disk (where only the grader's runner writes results): "
                  "stopped there, review it",)
    foreign = len([line for line in bytes(run.stdout).splitlines() if line.strip()]) - len(saves)
    if foreign > 0:
        flags += (f"{foreign} line(s) the runner did not write reached its report channel (something in the "
                  "sandbox wrote to the grader's pipe): ignored, review it",)
    if outcome == "crashed" and reason.startswith(_ENDED_EARLY) and not run.processes_exceeded:
        flags += (f"{reason}; the runner never ends on its own, so something in the sandbox (the student's code) "
                  "likely killed it: review it",)
    return Execution(prepared.student, outcome, reason, notebooks, evidence, probed, seconds, slot.worker,
                     slot.device, run.peak_memory, hit, flags)


def _outcome(run, status, limits, prepared):
    """The submission's status and its reason, from the sandbox and the runner's report."""
    reports = status.notebooks
    stopped = {name: report for name, report in reports.items() if report.outcome != "ok"}
    if run.out_exceeded:
        return "output-limit", (f"the submission wrote more than {format_size(limits.disk)} or {MAX_OUT_ENTRIES:,} "
                                "files onto the grader's disk and was stopped")
    if run.timed_out:
        return "timeout", f"the submission ran longer than {limits.timeout:g} s in total and was stopped"
    if run.memory_exceeded:
        return "memory", f"the submission used more than its {limits.memory / 1024**3:.3g} GiB of memory and was stopped"
    for kind in ("output-limit", "timeout", "crashed"):
        for name, report in stopped.items():
            if report.outcome == kind:
                message = "the kernel died" if report.message is None else report.message
                return kind, {"output-limit": f"{name}: printed or displayed more than {limits.max_output:,} bytes; "
                                              "the kernel was stopped",
                              "timeout": f"{name}: a cell ran longer than {limits.cell_timeout:g} s and was stopped",
                              "crashed": f"{name}: {message[:160]}"}[kind]
    finished = [name for name in prepared.notebooks if name in reports]
    if run.returncode != 0 or len(finished) < len(prepared.notebooks):
        last = run.stderr.strip().splitlines()[-1][:160] if run.stderr.strip() else ""
        return "crashed", (f"{_ENDED_EARLY} (exit status {run.returncode}) after "
                           f"{len(finished)} of {len(prepared.notebooks)} notebook(s)" + (f": {last}" if last else ""))
    return "graded", ""


def kernel_devices(slot):
    """What a slot's sandboxes get of its GPU: (environment variables, device files); nothing unless the slot
    lets its kernels use the GPU (the sandbox's own environment hides every GPU)."""
    if slot.gpu is None or not slot.kernels_gpu:
        return {}, ()
    return {"CUDA_VISIBLE_DEVICES": str(slot.gpu)}, tuple(str(p) for p in sorted(Path("/dev").glob("nvidia*")))


def _kernel_requests(probes):
    """The part of each notebook's probe request its kernel carries out: `save`."""
    kept = {}
    for name, request in probes.items():
        saves = [item for item in request["requests"] if item["action"] == "save"]
        if saves:
            kept[name] = {**request, "requests": saves}
    return kept


def _replays(prepared, limits, status, executed):
    """A `Replay` per library world with something to probe there, holding each notebook of `executed` (those
    that ran) with requests in that world; a notebook whose run stopped is replayed as far as the cell where it
    stopped."""
    import nbformat

    worlds = {world: [] for world in WORLDS}
    call_seconds = None
    for name, request in prepared.probes.items():
        calls = [item for item in request["requests"] if item["action"] != "save"]
        if not calls or name not in prepared.notebooks or name not in executed:
            continue
        call_seconds = request["call_seconds"]
        cells, tests, ran, reader = [], {}, status.notebooks.get(name), CellReader()
        stop = ran.cell if ran is not None and ran.outcome != "ok" else None
        for index, cell in enumerate(nbformat.reads(prepared.notebooks[name], as_version=4).cells):
            if stop is not None and index > stop:
                break
            if cell.cell_type == "code":
                code = reader.replay_code(cell.source)
                meta = cell.metadata.get("nbgrader", {})
                if meta.get("grade"):
                    tests[meta.get("grade_id")] = len(cells)
                cells.append((code, not meta.get("locked", False)))
        for world in WORLDS:
            items = tuple(item for item in calls if bool(item.get("numpy")) == (world == "numpy"))
            if items:
                worlds[world].append(ReplayNotebook(name, tuple(cells), items, stopped=stop is not None,
                                                    tests={item["id"]: tests[item["id"]] for item in items
                                                           if item["id"] in tests}))
    for world, notebooks in worlds.items():
        if notebooks:
            yield Replay(world, tuple(notebooks), call_seconds, limits.cell_timeout, stand_in_modules(world))


def _replayed(replay, limits, slot, env, binds, devices, cancel):
    """Per notebook of the replay, the files its process left in `/out/<index>/` (untrusted; sizes capped);
    the sandbox's seconds; and whether it was stopped for writing too much there. A replay that ended before its
    start was over (`REPLAY_READY`: no student code had run) is a fault of the grader's, raised: the submission is
    flagged `grader error` and graded again next run."""
    with scratch_folder("probe") as scratch:
        job_dir, out_dir = Path(scratch) / "job", Path(scratch) / "out"
        job_dir.mkdir()
        out_dir.mkdir()
        (job_dir / REPLAY_FILE).write_text(replay.to_json())
        write_passwd(job_dir)
        run = run_sandboxed(["python", "-m", "autograder.sandbox.replay", "/job", "/out"], job_dir=job_dir,
                            out_dir=out_dir, limits=limits, cpus=slot.cpus, env=env, binds=binds,
                            devices=devices if replay.world != "numpy" else (), cancel=cancel, world=replay.world)
        if not bytes(run.stdout).startswith(REPLAY_READY) and not (cancel is not None and cancel.is_set()):
            tail = run.stderr.strip().splitlines()[-1][:160] if run.stderr.strip() else ""
            raise RuntimeError(f"the probe sandbox ({replay.world} world) did not start (exit status "
                               f"{run.returncode}{': ' + tail if tail else ''}): no code of the student's ran")
        replayed = []
        for index, notebook in enumerate(replay.notebooks):
            folder, files = out_dir / str(index), {}
            if folder.is_dir() and not folder.is_symlink():
                for path in sorted(folder.iterdir())[:MAX_PROBE_FILES]:
                    if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_PROBE_FILE:
                        files[path.name] = path.read_bytes()
            replayed.append(_unreached(files, notebook))
        return replayed, run.seconds, run.out_exceeded


def _unreached(files, notebook):
    """A replay that reported and then ended (a cell that ended its process, say) never reached the names it
    did not probe: those are not defined, as in the notebook's own run."""
    results = untrusted_json(files[RESULT_FILE]) if RESULT_FILE in files else None
    if not isinstance(results, dict):
        return files
    for item in notebook.requests:
        results.setdefault(item["id"], {"missing": f"`{item['function']}` is not defined"})
    return {**files, RESULT_FILE: json.dumps(results).encode()}


def _requested(files, request):
    """Only what a probe was asked for: results and model files of its own request ids."""
    if not request:
        return {}
    ids = {item["id"] for item in request["requests"]}
    kept = {name: content for name, content in files.items() if _model_of(name, ids)}
    if RESULT_FILE in files:
        results = untrusted_json(files[RESULT_FILE])
        if isinstance(results, dict):
            kept[RESULT_FILE] = json.dumps({key: value for key, value in results.items() if key in ids}).encode()
    return kept


def _model_of(name, ids):
    """Whether a file name is a model the probe saves for one of `ids` (`ID.keras`, `ID-N.keras`)."""
    stem = name[:-len(".keras")] if name.endswith(".keras") else None
    return stem is not None and (stem in ids or stem.rsplit("-", 1)[0] in ids)


def _merged(first, second):
    """Two probes' files as one: their results together, their model files side by side."""
    merged = {**first, **second}
    if RESULT_FILE in first and RESULT_FILE in second:
        merged[RESULT_FILE] = json.dumps({**json.loads(first[RESULT_FILE]), **json.loads(second[RESULT_FILE])}).encode()
    return merged


def _write_job(job_dir, prepared, limits, untrained_before):
    for name, text in prepared.notebooks.items():
        (job_dir / name).write_text(text)
    write_passwd(job_dir)
    (job_dir / JOB_FILE).write_text(Job(tuple(prepared.notebooks), limits.cell_timeout, limits.max_output,
                                        tuple(_KERNEL_ARGUMENTS), tuple(untrained_before)).to_json())


def _read_text(path, limit):
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > limit:
            return None
        return path.read_text(errors="replace")
    except OSError:
        return None


def _read_evidence(folder):
    evidence, total = {}, 0
    if not folder.is_dir() or folder.is_symlink():
        return evidence
    for path in sorted(folder.iterdir())[:MAX_EVIDENCE_FILES]:
        if path.is_file() and not path.is_symlink() and total + path.stat().st_size <= MAX_EVIDENCE_BYTES:
            evidence[path.name] = path.read_bytes()
            total += len(evidence[path.name])
    return evidence
