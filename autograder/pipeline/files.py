"""Writing a file so that a kill at any moment leaves the old file or the new
one, never half of one."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["replace_file"]


def replace_file(path, content):
    """Writes `content` to `path` through a temporary file, `fsync` and a rename.

    Args:
        path: the file to write; its folder is created if missing.
        content: bytes, or str (written as UTF-8).

    Returns:
        The path, a `Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with open(partial, "wb") as handle:
        handle.write(content.encode() if isinstance(content, str) else content)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    return path
