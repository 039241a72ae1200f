"""Scratch folders that a killed grader does not leave behind.

A run keeps its working files (notebooks to run, what sandboxes wrote,
released notebooks) in temporary folders that it removes when it ends. A
grader killed outright (SIGKILL, the machine's out-of-memory killer, a lost
session) removes nothing, and a term of grading can leave gigabytes in
`/tmp`. So each folder holds a lock file, locked while its process lives
(the kernel frees the lock when the process dies, however it dies), and the
next run removes every `cnnkit-*` folder whose lock it can take: the
folders of runs that are over, never those of a run still going, on this
course or another. A folder without the lock file, a link, or another
user's folder is left alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["PREFIX", "remove_stale_scratch", "scratch_folder"]

PREFIX = "cnnkit-"
_LOCK = ".cnnkit-in-use"


@contextlib.contextmanager
def scratch_folder(name, root=None):
    """A temporary folder for one step, removed on exit, and by a later run if this process is killed.

    Args:
        name: str, what the folder is for (`job`, `probe`, ...): it is named `cnnkit-<name>-<random>`.
        root: the folder to make it in (default: the system's temporary folder).

    Yields:
        The folder's path, a str.
    """
    scratch = tempfile.TemporaryDirectory(prefix=f"{PREFIX}{name}-", dir=root)
    handle = open(Path(scratch.name) / (_LOCK + ".new"), "x")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        os.rename(handle.name, Path(scratch.name) / _LOCK)  # seen under its name only once locked
        yield scratch.name
    finally:
        try:
            scratch.cleanup()  # with the lock still held: no later run removes it under us
        finally:
            handle.close()


def remove_stale_scratch(root=None):
    """Removes the scratch folders of processes that are over (see the module's text).

    Args:
        root: the folder to look in (default: the system's temporary folder).

    Returns:
        The number of folders removed, an int.
    """
    removed = 0
    for folder in Path(root or tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            if folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid != os.getuid():
                continue  # only real folders of this user's
            descriptor = os.open(folder / _LOCK, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:  # not a folder of ours, or being removed by its owner now
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # its process lives
            os.close(descriptor)
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed += not folder.exists()
        finally:
            os.close(descriptor)
    return removed
