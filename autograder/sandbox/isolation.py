"""Stage 2b, sandbox: run a command under operating-system limits, cut off
from the course.

The strongest mechanisms the machine offers are used, and `Mechanisms.line`
says which are in force:

- **bubblewrap** (Linux namespaces): a private view of the file system with
  only the system, the Python installation and the kit's own packages,
  read-only; the job folder read-only at `/job`; a fresh home and `/tmp` in
  memory, capped in size (the disk limit); `/out` for results, a host folder
  that the grader watches while the command runs (`_results_folder_over`:
  past the disk limit or `MAX_OUT_ENTRIES` files the run is stopped, so no
  submission fills the grader's disk); no network
  (a private loopback only); its own process tree (it cannot see, signal or
  outlive anything outside; when it ends, every process in it ends); an
  unprivileged user with no capabilities.
- **control groups** (v1 or v2): memory (the kernel's OOM killer stops the
  submission, nothing else) and number of processes; every process left in
  the group is killed when the run ends.
- **resource limits** (always): file size, CPU time, core dumps, open files;
  memory (data segment) and processes where control groups are missing.
- **CPU affinity**: each worker is pinned to its own cores.

Where bubblewrap is missing (a container without user namespaces, as on
Gradescope) the command runs in a scratch folder with the limits that
remain, and the line says that the file system and network are open.
"""

from __future__ import annotations

import functools
import json
import os
import pkgutil
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox.contracts import GRADER_ONLY
from autograder.sandbox.limits import format_size

__all__ = ["ControlGroups", "Mechanisms", "SandboxRun", "detect", "run_sandboxed", "site_dirs", "stand_in_modules",
           "write_passwd"]

HOME = "/home/student"
SANDBOX_UID = 1000
MAX_STDOUT = 96 * 1000**2  # the probes' reports (models included, base64): far more is a flood
MAX_STDERR = 64 * 1000  # only its last lines are kept
MAX_OUT_ENTRIES = 10_000  # files and folders in `/out`: a run leaves a few dozen; far more fills the disk's inodes
WATCH_SECONDS = 0.2  # how often `/out` is measured while a command runs
_CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Mechanisms:
    """What this machine can enforce.

    Attributes:
        namespaces: whether bubblewrap works here.
        cgroup: 1 or 2 when memory and process controllers can be used, else 0.
        gpus: GPU indices the grader may hand to workers.
    """

    namespaces: bool
    cgroup: int
    gpus: tuple = ()

    def line(self, limits):
        """The limits in force and how, in one line."""
        if self.namespaces:
            parts = ["bubblewrap namespaces (read-only system, no course files, no network, own process tree, "
                     "no grader references; NumPy exercises probed where only NumPy exists)"]
        elif _drops_privileges(self):
            parts = [f"NO namespaces (bubblewrap missing or refused): runs as unprivileged uid {SANDBOX_UID}, so "
                     "files private to the grader are out of reach, but world-readable files (the grader's references "
                     "among them) and the network are not isolated"]
        else:
            parts = ["NO namespaces (bubblewrap missing or refused): files (the grader's references among them) and "
                     "network are not isolated" +
                     (f" (runs as root: uid {SANDBOX_UID} cannot run this Python)" if os.geteuid() == 0 else "")]
        if self.cgroup:
            parts.append(f"cgroup v{self.cgroup}: memory {format_size(limits.memory)}, "
                         f"{limits.processes} processes")
        else:
            parts.append(f"NO cgroups: memory {format_size(limits.memory)} and {limits.processes} processes by "
                         "rlimit only")
        parts.append(f"disk {format_size(limits.disk)} ({'tmpfs' if self.namespaces else 'file-size rlimit'}), "
                     f"output {format_size(limits.max_output)}, {limits.cell_timeout:g} s per cell, "
                     f"{limits.timeout:g} s per submission")
        return "sandbox: " + "; ".join(parts)


@dataclass(frozen=True)
class SandboxRun:
    """How a sandboxed command ended.

    Attributes:
        returncode: its exit status (negative: killed by that signal).
        timed_out: whether the grader stopped it at the time limit.
        memory_exceeded: whether the memory limit was hit.
        processes_exceeded: whether the process limit was hit.
        seconds: wall-clock time.
        peak_memory: most bytes in use at once, when known.
        stderr: the last lines the command wrote to stderr.
        stdout: what the command wrote to stdout (at most `MAX_STDOUT` bytes).
        stdout_dropped: bytes of stdout past `MAX_STDOUT`, read and dropped
            (the grader's memory stays bounded, whatever floods the pipe).
        out_exceeded: whether the run was stopped for what it wrote to
            `/out` (more than the disk limit, or `MAX_OUT_ENTRIES` entries).
    """

    returncode: int
    timed_out: bool
    memory_exceeded: bool
    processes_exceeded: bool
    seconds: float
    peak_memory: int | None
    stderr: str
    stdout: bytes = b""
    stdout_dropped: int = 0
    out_exceeded: bool = False


@functools.lru_cache(maxsize=1)
def detect():
    """The mechanisms this machine offers (probed once per process).

    `CNNKIT_SANDBOX=none` turns bubblewrap off, and `CNNKIT_CGROUPS=none`
    control groups, to try the fallbacks.

    Returns:
        A `Mechanisms`.
    """
    namespaces = os.environ.get("CNNKIT_SANDBOX", "") != "none" and _bwrap_works()
    cgroup = 0 if os.environ.get("CNNKIT_CGROUPS", "") == "none" else _cgroup_version()
    return Mechanisms(namespaces, cgroup, _gpus())


def run_sandboxed(command, *, job_dir, out_dir, limits, cpus=None, env=None, binds=(), devices=(), mechanisms=None,
                  stdin=b"", cancel=None, world="keras"):
    """Runs `command` in a sandbox and waits for it, at most `limits.timeout`.

    Args:
        command: list of str, run with `/job` as the job folder and the home
            folder as working directory.
        job_dir: host folder shown read-only at `/job`.
        out_dir: host folder shown writable at `/out`.
        limits: an `autograder.sandbox.limits.Limits` (threads must be set).
        cpus: CPU numbers to pin to, or None for all.
        env: dict of extra environment variables.
        binds: pairs (host path, sandbox path) shown read-only.
        devices: device files to show (GPUs).
        mechanisms: a `Mechanisms` (default: `detect()`).
        stdin: bytes for the command's standard input.
        cancel: a `threading.Event`; once set, the run is ended within half
            a second (the grader is stopping).
        world: which libraries the sandbox shows: `keras` (the kit's
            environment, without the grader's references) or `numpy` (the
            standard library and NumPy only). Without namespaces neither
            can be enforced (`Mechanisms.line` says so).

    Returns:
        A `SandboxRun`. Every process of the run has ended when it returns.
    """
    mechanisms = mechanisms or detect()
    groups = ControlGroups.create(mechanisms.cgroup, limits) if mechanisms.cgroup else None
    environment = _environment(limits, env or {})
    if world == "numpy":  # NumPy's own folder, wherever the installation keeps it (a `.pth` file there is hidden)
        environment["PYTHONPATH"] += os.pathsep + _numpy_parent()
    home = None
    if mechanisms.namespaces:
        full = _bwrap_command(command, job_dir, out_dir, limits, environment, binds, devices, world)
        popen_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    else:
        home = Path(job_dir).parent / "home"
        home.mkdir(exist_ok=True)
        full = [arg.replace("/job", str(job_dir)).replace("/out", str(out_dir)) for arg in command]
        popen_env = {**_fallback_binds(environment, binds, job_dir), "HOME": str(home)}
    spec = {"cgroups": groups.procs_files() if groups else [], "cpus": list(cpus or []),
            "rlimits": _rlimits(limits, fallback=not mechanisms.cgroup)}
    if _drops_privileges(mechanisms):
        spec["user"] = SANDBOX_UID
        _hand_over(job_dir, out_dir, home)
    launcher = [sys.executable, "-m", "autograder.sandbox.launch", json.dumps(spec), "--"]
    start = time.monotonic()
    process = subprocess.Popen(launcher + full, cwd=home or job_dir, env={**popen_env, "PYTHONPATH": _kit_path()},
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    timed_out = over = False
    try:
        watched = [out_dir] + ([home] if home is not None else [])  # without namespaces the home is on disk too
        out, err, timed_out, over = _wait(process, stdin, start + limits.timeout, cancel,
                                          lambda: any(_results_folder_over(f, limits.disk) for f in watched))
    finally:
        _kill(process)
        if groups:
            groups.kill_all()
    seconds = time.monotonic() - start
    memory, processes, peak = groups.report() if groups else (False, False, None)
    if groups:
        groups.remove()
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)
    tail = "\n".join(err.data.decode(errors="replace").splitlines()[-5:])
    return SandboxRun(process.returncode, timed_out, memory, processes, seconds, peak, tail, out.data, out.dropped,
                      over)


class _Drain(threading.Thread):
    """Reads a pipe to its end, keeping the first `keep` bytes (or the last, `tail=True`) and counting the rest."""

    def __init__(self, pipe, keep, tail=False):
        super().__init__(daemon=True)
        self.pipe, self.keep, self.tail = pipe, keep, tail
        self.data, self.dropped = bytearray(), 0
        self.start()

    def run(self):
        kept = bytearray()
        while chunk := self.pipe.read(1 << 16):
            if self.tail:
                kept = (kept + chunk)[-self.keep:]
                continue
            room = self.keep - len(kept)
            kept += chunk[:room]
            self.dropped += max(0, len(chunk) - room)
        self.data = kept  # a bytearray: no second copy of what was kept
        self.pipe.close()


def _wait(process, stdin, deadline, cancel, over):
    """(stdout, stderr, timed out, over) of a process, killed at `deadline`, once `cancel` is set or once
    `over()` says it wrote too much; its output read as it comes, bounded in memory."""
    out, err = _Drain(process.stdout, MAX_STDOUT), _Drain(process.stderr, MAX_STDERR, tail=True)
    feeder = threading.Thread(target=_feed, args=(process.stdin, stdin), daemon=True)
    feeder.start()
    late = exceeded = False
    while True:
        try:
            process.wait(timeout=max(0.01, min(WATCH_SECONDS, deadline - time.monotonic())))
            break
        except subprocess.TimeoutExpired:
            late = time.monotonic() >= deadline
            exceeded = not late and over()
            if late or exceeded or (cancel is not None and cancel.is_set()):
                _kill(process)
                process.wait()
                break
    _kill(process)  # what it left behind holds the pipes open
    for thread in (out, err, feeder):
        thread.join(timeout=5)
    return out, err, late, exceeded or over()


def _results_folder_over(folder, limit):
    """Whether a sandbox's `/out` holds more than `limit` bytes or `MAX_OUT_ENTRIES` entries (or cannot be
    measured: nested past the path length a results folder ever needs). Reads at most that many entries."""
    entries, size, pending = 0, 0, [str(folder)]
    while pending:
        try:
            with os.scandir(pending.pop()) as found:
                for entry in found:
                    entries += 1
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                        else:
                            size += entry.stat(follow_symlinks=False).st_size
                    except FileNotFoundError:  # removed while measured
                        continue
                    if entries > MAX_OUT_ENTRIES or size > limit:
                        return True
        except FileNotFoundError:
            continue
        except OSError:
            return True
    return False


def _feed(pipe, data):
    try:
        pipe.write(data)
    except (BrokenPipeError, OSError):  # it ended without reading: nothing to tell it
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def _drops_privileges(mechanisms):
    """Without namespaces, a grader running as root runs student code as
    `SANDBOX_UID` instead, where that user can run the kit's Python."""
    return not mechanisms.namespaces and os.geteuid() == 0 and _unprivileged_python_works()


@functools.lru_cache(maxsize=1)
def _unprivileged_python_works():
    """Whether `SANDBOX_UID` can start this Python and import the kit (a
    Python under `/root`, say, it cannot)."""
    spec = json.dumps({"user": SANDBOX_UID})
    try:
        done = subprocess.run([sys.executable, "-m", "autograder.sandbox.launch", spec, "--", sys.executable, "-c",
                               "import autograder.sandbox.runner, cnnkit"], cwd="/", capture_output=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "PYTHONPATH": _kit_path()})
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _fallback_binds(environment, binds, job_dir):
    """Without namespaces, bound files are copied into the job folder, and
    environment values naming a bound path name the copy instead."""
    moved = {}
    for host, inside in binds:
        copy = Path(job_dir) / "binds" / Path(inside).name
        copy.parent.mkdir(exist_ok=True)
        shutil.copy(host, copy)
        moved[inside] = str(copy)
    return {key: moved.get(value, value) for key, value in environment.items()}


def _hand_over(job_dir, out_dir, home):
    """Lets `SANDBOX_UID` read the job and write its output and home; the
    folder above them stays closed to listing."""
    os.chmod(Path(job_dir).parent, 0o711)
    for folder in [Path(job_dir), *Path(job_dir).rglob("*")]:
        os.chmod(folder, 0o755 if folder.is_dir() else 0o644)
    for folder in (out_dir, home):
        os.chown(folder, SANDBOX_UID, SANDBOX_UID)


def _kit_path():
    """Where `autograder` is importable from, for the launcher."""
    return str(Path(__file__).resolve().parents[2])


def _environment(limits, extra):
    threads = str(limits.threads or 1)
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "HOME": HOME, "LANG": "C.UTF-8",
           "TMPDIR": "/tmp", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "MPLBACKEND": "agg",
           "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
           "MKL_NUM_THREADS": threads, "TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": "1",
           "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen={'true' if threads != '1' else 'false'}",
           "CUDA_VISIBLE_DEVICES": "", "TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
           # the kit the grader imported, not whichever one the environment's own install points at
           "PYTHONPATH": _kit_path()}
    return {**env, **extra}


def _bwrap_command(command, job_dir, out_dir, limits, environment, binds, devices, world="keras"):
    args = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
            "--clearenv", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
            "--proc", "/proc", "--dev", "/dev",
            # the private folders first: the binds below may lie inside /tmp (a checkout under /tmp, say)
            "--size", str(max(limits.disk // 4, 16 * 1024**2)), "--tmpfs", "/tmp",
            "--size", str(limits.disk), "--tmpfs", HOME]
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for etc in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl", "fonts", "localtime", "mime.types"):
        if (Path("/etc") / etc).exists():
            args += ["--ro-bind", f"/etc/{etc}", f"/etc/{etc}"]
    for path in _python_paths(world):
        args += ["--ro-bind", path, path]
    hidden, shown = hidden_paths(world)
    for path in hidden:
        args += ["--perms", "0555", "--tmpfs", path]
    for path in shown:
        args += ["--ro-bind", path, path]
    for host, inside in binds:
        args += ["--ro-bind", str(host), inside]
    for device in devices:
        args += ["--dev-bind", device, device]
    args += ["--ro-bind", str(job_dir), "/job", "--bind", str(out_dir), "/out",
             "--ro-bind", str(Path(job_dir) / "passwd"), "/etc/passwd", "--chdir", HOME]
    for key, value in environment.items():
        args += ["--setenv", key, value]
    return args + ["--"] + list(command)


@functools.lru_cache(maxsize=2)
def _python_paths(world):
    """The Python installation, the environment and the kit's sandbox-side code: nothing else of the host.

    Of `autograder`, only its `sandbox` package (the runner, the replay, the probe and their contracts);
    of `cnnkit`, the student's modules (`hidden_paths` hides the rest); in the NumPy world no cnnkit at all.
    """
    import autograder
    import cnnkit

    kit = Path(autograder.__file__).parent
    paths = {sys.base_prefix, sys.prefix, *site_dirs(), str(kit / "__init__.py"), str(kit / "sandbox")}
    if world != "numpy":
        paths.add(str(Path(cnnkit.__file__).parent))
    inside = [p for p in paths if any(p != q and p.startswith(q + os.sep) for q in paths)]
    return sorted(paths - set(inside))


def write_passwd(job_dir):
    """Writes the `passwd` file a sandbox shows as `/etc/passwd` (its one user) into `job_dir`."""
    (Path(job_dir) / "passwd").write_text(f"student:x:{SANDBOX_UID}:{SANDBOX_UID}:student:/home/student:/bin/sh\n")


def _numpy_parent():
    import numpy

    return str(Path(numpy.__file__).parent.parent)


@functools.lru_cache(maxsize=1)
def site_dirs():
    """The package folders this Python reads outside its own installation: those a `.pth` file or `PYTHONPATH`
    adds (a virtual environment that borrows another's packages, say), never a folder that holds the kit's own
    checkout.

    Returns:
        A tuple of absolute paths.
    """
    kit_root = Path(_kit_path())
    prefixes = [Path(sys.prefix), Path(sys.base_prefix)]
    found = []
    for entry in sys.path:
        path = Path(entry).resolve() if entry else None
        if path is None or path.name not in ("site-packages", "dist-packages") or not path.is_dir():
            continue
        if path == kit_root or path in kit_root.parents or any(p == path or p in path.parents for p in prefixes):
            continue
        found.append(str(path))
    return tuple(dict.fromkeys(found))


@functools.lru_cache(maxsize=2)
def hidden_paths(world="keras"):
    """What a sandbox shows empty, and what it shows again inside those.

    Always hidden: the grader's references and checks (`cnnkit.reference`,
    `cnnkit.checks`), those of the kit the grader imported and of any other
    copy of cnnkit installed where the sandbox looks. In the NumPy world,
    every installed package is hidden but NumPy.

    Args:
        world: `keras` or `numpy` (see `run_sandboxed`).

    Returns:
        `(hidden, shown)`: tuples of absolute paths.
    """
    import cnnkit

    sites = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
             sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})["purelib"], *site_dirs()}
    kits = {Path(cnnkit.__file__).parent} | {Path(site) / "cnnkit" for site in sites}
    hidden = sorted(str(kit / part) for kit in kits for part in GRADER_ONLY if (kit / part).is_dir())
    shown = []
    if world == "numpy":
        import numpy

        hidden = sorted(s for s in sites if Path(s).is_dir())
        numpy_dir = Path(numpy.__file__).parent
        shown = [str(p) for p in (numpy_dir, numpy_dir.with_name("numpy.libs")) if p.is_dir()]
    return tuple(hidden), tuple(shown)


@functools.lru_cache(maxsize=2)
def stand_in_modules(world):
    """The top-level modules a notebook's kernel can import that `world` hides (see `autograder.sandbox.stand_ins`).

    Args:
        world: `keras` or `numpy` (see `run_sandboxed`).

    Returns:
        A sorted tuple of module names: in the NumPy world every installed package's but NumPy's (cnnkit's among
        them); in the Keras world none (it hides only what the kernel cannot import either).
    """
    if world != "numpy":
        return ()
    installed = {module.name for module in pkgutil.iter_modules()} | {"cnnkit"}
    return tuple(sorted(installed - {"numpy"} - set(sys.stdlib_module_names)))


def _rlimits(limits, fallback):
    threads = limits.threads or 1
    rlimits = {"RLIMIT_CORE": 0, "RLIMIT_FSIZE": int(limits.disk), "RLIMIT_NOFILE": 4096,
               "RLIMIT_CPU": int(limits.timeout * threads) + 60}
    if fallback:  # no control groups: per-process stand-ins
        rlimits.update(RLIMIT_DATA=int(limits.memory), RLIMIT_NPROC=int(limits.processes))
    return rlimits


def _kill(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _bwrap_works():
    if not shutil.which("bwrap"):
        return False
    try:
        probe = subprocess.run(["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
                               capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _cgroup_version():
    if (_CGROUP_ROOT / "memory" / "memory.limit_in_bytes").exists() and (_CGROUP_ROOT / "pids").is_dir():
        version, probe = 1, [_CGROUP_ROOT / "memory" / "cnnkit", _CGROUP_ROOT / "pids" / "cnnkit"]
    elif (_CGROUP_ROOT / "cgroup.controllers").exists():
        version, probe = 2, [_CGROUP_ROOT / "cnnkit"]
    else:
        return 0
    try:
        for folder in probe:
            folder.mkdir(exist_ok=True)
        if version == 2:
            _enable_v2_controllers()
    except OSError:
        return 0
    return version


def _enable_v2_controllers():
    available = (_CGROUP_ROOT / "cgroup.controllers").read_text().split()
    if not {"memory", "pids"} <= set(available):
        raise OSError("cgroup v2 without memory and pids controllers")
    for folder in (_CGROUP_ROOT, _CGROUP_ROOT / "cnnkit"):
        (folder / "cgroup.subtree_control").write_text("+memory +pids")


def _gpus():
    if os.environ.get("CNNKIT_FORCE_CPU", "").strip().lower() in {"1", "true", "yes", "on"}:
        return ()
    if not shutil.which("nvidia-smi"):
        return ()
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return tuple(int(line) for line in out.stdout.split() if line.strip().isdigit())


class ControlGroups:
    """The control groups of one run (v1: one per controller; v2: one), with
    `create(version, limits)` (memory and processes from a `Limits`),
    `procs_files()` for `autograder.sandbox.launch` to join, `kill_all()`,
    `report()` and `remove()`."""

    def __init__(self, version, folders):
        self.version, self.folders = version, folders

    @classmethod
    def create(cls, version, limits):
        name = f"run-{uuid.uuid4().hex[:12]}"
        if version == 1:
            memory, pids = _CGROUP_ROOT / "memory" / "cnnkit" / name, _CGROUP_ROOT / "pids" / "cnnkit" / name
            memory.mkdir(parents=True)
            pids.mkdir(parents=True)
            (memory / "memory.limit_in_bytes").write_text(str(limits.memory))
            if (memory / "memory.memsw.limit_in_bytes").exists():
                (memory / "memory.memsw.limit_in_bytes").write_text(str(limits.memory))
            (pids / "pids.max").write_text(str(limits.processes))
            return cls(1, [memory, pids])
        folder = _CGROUP_ROOT / "cnnkit" / name
        folder.mkdir(parents=True)
        (folder / "memory.max").write_text(str(limits.memory))
        if (folder / "memory.swap.max").exists():
            (folder / "memory.swap.max").write_text("0")
        (folder / "pids.max").write_text(str(limits.processes))
        return cls(2, [folder])

    def procs_files(self):
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def kill_all(self):
        """Kills every process left in the groups (detached ones included)."""
        if self.version == 2 and (self.folders[0] / "cgroup.kill").exists():
            (self.folders[0] / "cgroup.kill").write_text("1")
        for _ in range(100):
            pids = {int(p) for folder in self.folders for p in (folder / "cgroup.procs").read_text().split()}
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)

    def report(self):
        """(memory limit hit, process limit hit, peak memory bytes)."""
        if self.version == 1:
            memory, pids = self.folders
            oom = _keyed(memory / "memory.oom_control").get("oom_kill", 0) > 0
            peak = int((memory / "memory.max_usage_in_bytes").read_text())
            return oom, _keyed(pids / "pids.events").get("max", 0) > 0, peak
        folder = self.folders[0]
        events = _keyed(folder / "memory.events")
        peak_file = folder / "memory.peak"
        peak = int(peak_file.read_text()) if peak_file.exists() else None
        return events.get("oom_kill", 0) > 0, _keyed(folder / "pids.events").get("max", 0) > 0, peak

    def remove(self):
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.05)


def _keyed(path):
    """A `key value` per line file as a dict of ints."""
    try:
        pairs = (line.split() for line in path.read_text().splitlines())
        return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].isdigit()}
    except OSError:
        return {}
