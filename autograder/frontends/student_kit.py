"""`cnnkit student-kit`: the package students install, without the grader's references.

The kit is the `cnnkit` package as students use it in the notebooks (the
data, the training budget and its procedure, device set-up, training
helpers, the explorations' architectures) with `cnnkit.reference` and
`cnnkit.checks` left out, and a `pyproject.toml` that installs it with its
dependencies: `pip install DEST`. Nothing in it can compute a graded answer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cnnkit

__all__ = ["GRADER_ONLY", "student_kit"]

# The parts of the package that only the grader may hold.
GRADER_ONLY = ("reference", "checks")
_PYPROJECT = """[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "cnnkit"
version = "{version}"
description = "The student's kit of a course chapter on convolutional networks (no reference answers)."
requires-python = ">=3.10"
dependencies = ["keras>=3.0,<4", "tensorflow>=2.16", "numpy>=1.26", "pandas>=2.0", "matplotlib>=3.7",
                "tqdm>=4.60", "jupyterlab"]

[tool.setuptools.packages.find]
include = ["cnnkit*"]
"""


def student_kit(destination):
    """Writes the student's kit to a new folder.

    Args:
        destination: path of a folder that does not exist yet (or is empty).

    Returns:
        The `Path` of the kit, ready for `pip install`.

    Raises:
        ValueError: if `destination` exists and is not an empty folder.
    """
    destination = Path(destination)
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise ValueError(f"Argument `destination` must be a new or empty folder; received {str(destination)!r}.")
    source = Path(cnnkit.__file__).parent
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc")

    def leave_out(folder, names):
        grader = set(GRADER_ONLY) if Path(folder) == source else set()
        return grader | set(ignored(folder, names))

    shutil.copytree(source, destination / "cnnkit", ignore=leave_out, dirs_exist_ok=True)
    (destination / "pyproject.toml").write_text(_PYPROJECT.format(version=cnnkit.__version__))
    (destination / "README.md").write_text(
        "# cnnkit, the student's kit\n\nInstall with `pip install .` and open the assignment's notebooks in "
        "Jupyter.\nThe grader's reference answers and hidden checks are not part of it.\n")
    return destination
