"""The limits a submission runs under, and how many run at once.

Sizes are written as people write them (`4GiB`, `20MB`, `512k`) and parsed
by `parse_size`; every limit has a default that the first lines of a run
print, so nobody has to guess what was in force.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

__all__ = ["Limits", "WorkerPlan", "format_size", "limits_from", "parse_size", "plan_workers"]

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3, "ki": 1024, "mi": 1024**2, "gi": 1024**3}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.I)


def parse_size(text, *, name="size"):
    """Bytes in a size written as `4GiB`, `20MB`, `512k` or a plain number.

    Args:
        text: the size, a str or an int of bytes.
        name: the option's name, used only in the error message.

    Returns:
        The size in bytes, an int.

    Raises:
        ValueError: if `text` is not a positive size with a known unit.
    """
    if isinstance(text, int) and text > 0:
        return text
    match = _SIZE.match(str(text))
    if not match or match.group(2).lower() not in _UNITS or float(match.group(1)) <= 0:
        raise ValueError(f"Invalid value for `{name}`. Expected a positive size such as 4GiB, 20MB or 512k. "
                         f"Received {name}={text!r}.")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def format_size(size):
    """A byte count as short text (`4GiB`, `20MB`)."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    for unit, factor in (("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Each is enforced by the operating system
    where the machine allows (see `autograder.sandbox.isolation`).

    Attributes:
        timeout: seconds of wall-clock time for the whole submission.
        cell_timeout: seconds of wall-clock time for one cell.
        memory: bytes of memory for every process of the submission together.
        max_output: bytes of output (stdout, stderr, displays) for the whole
            submission; the kernel is stopped when it goes past.
        processes: processes and threads alive at once.
        disk: bytes the submission may write in each of its home, /tmp and the
            results folder (/out, watched: past it, or past 10,000 files there,
            the run is stopped).
        threads: CPU threads its numerical libraries may use (None: set from
            the number of workers so that workers do not fight over cores).
    """

    timeout: float = 900.0
    cell_timeout: float = 300.0
    memory: int = 4 * 1024**3
    max_output: int = 20 * 1000**2
    processes: int = 256
    disk: int = 1024**3
    threads: int | None = None

    def __post_init__(self):
        for name in ("timeout", "cell_timeout", "memory", "max_output", "processes", "disk"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Invalid value for `{name}`. Expected a positive number. Received {name}={value!r}.")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise ValueError(f"Invalid value for `threads`. Expected a positive integer. Received threads={self.threads!r}.")

    def describe(self):
        """The limits in one line."""
        return (f"timeout {self.timeout:g} s per submission, {self.cell_timeout:g} s per cell; memory "
                f"{format_size(self.memory)}; output {format_size(self.max_output)}; {self.processes} processes; "
                f"disk {format_size(self.disk)}; {self.threads or 'auto'} thread(s)")

    def with_threads(self, threads):
        """A copy with `threads` set."""
        return replace(self, threads=threads)


@dataclass(frozen=True)
class WorkerPlan:
    """How many submissions run at once, and the threads each gets.

    Attributes:
        workers: submissions graded in parallel.
        threads: CPU threads per worker.
        cores: CPU cores this process may use.
        reason: how the number was chosen, in a few words.
    """

    workers: int
    threads: int
    cores: int
    reason: str

    def line(self):
        """The plan in one line."""
        return f"{self.workers} worker(s) x {self.threads} thread(s) on {self.cores} core(s) ({self.reason})"


def plan_workers(workers=None, *, memory_per_worker, cores=None, available_memory=None):
    """Chooses the number of workers from cores and memory, unless given.

    Each worker gets at least one core and its memory limit; the threads per
    worker are the cores shared out, so workers never oversubscribe them.

    Args:
        workers: int, or None to size from the machine.
        memory_per_worker: bytes each worker may use (the memory limit).
        cores: CPU cores to share (default: those this process may use).
        available_memory: bytes of memory to share (default: the machine's).

    Returns:
        A `WorkerPlan`.

    Raises:
        ValueError: if `workers` is not a positive integer.
    """
    cores = cores or len(os.sched_getaffinity(0))
    available_memory = available_memory or _available_memory()
    if workers is not None:
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"Invalid value for `workers`. Expected a positive integer. Received workers={workers!r}.")
        reason = "as asked"
    else:
        by_memory = max(1, int(available_memory * 0.8 // memory_per_worker))
        workers = max(1, min(cores, by_memory))
        reason = f"one per core, at most {by_memory} by memory"
    return WorkerPlan(workers, max(1, cores // workers), cores, reason)


def _available_memory():
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 1024**3


def limits_from(**options):
    """`Limits` from command-line options, a None option taking the default.

    Args:
        **options: any `Limits` field; sizes may be text such as `4GiB`.

    Returns:
        A `Limits`.

    Raises:
        ValueError: naming the first option that is not valid.
    """
    given = {key: value for key, value in options.items() if value is not None}
    for key in ("memory", "max_output", "disk"):
        if key in given:
            given[key] = parse_size(given[key], name=key.replace("_", "-"))
    return Limits(**given)
