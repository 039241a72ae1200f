"""Writing export files so that a killed export never leaves half a file."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["replace_text"]


def replace_text(path, text):
    """Writes `text` (UTF-8) to `path` through a temporary file and a rename.

    Args:
        path: the file to write; its folder is created if missing.
        text: str.

    Returns:
        The path, a `Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    return path
