"""`cnnkit student-kit`: what students install, without the grader's references.

The kit holds:

- the `cnnkit` package as students use it in the notebooks (the data, the
  training budget and its procedure, device set-up, training helpers, the
  explorations' architectures) without `cnnkit.reference` and
  `cnnkit.checks`;
- the self-check, `cnnkit check` (`autograder` without the verifier, the
  exports, the engine and the frontends that hold example answers);
- the released notebooks (`assignments/`), which the self-check compares with;
- a `pyproject.toml`: `pip install -e DEST`.

Nothing in it can compute a graded answer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cnnkit
from autograder.sandbox.contracts import GRADER_ONLY

__all__ = ["GRADER_ONLY", "student_kit"]

# The parts of cnnkit that only the grader may hold.
# The parts of autograder the self-check does not need (the verifier, the exports, the engine, and frontends
# whose examples are answers).
_NOT_FOR_STUDENTS = {"verifier", "exports", "engine.py", "trusted.py", "demo.py", "examples.py", "release.py",
                     "gradescope_bundle.py", "gradescope_run.py", "student_kit.py"}
_PYPROJECT = """[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "cnnkit"
version = "{version}"
description = "The student's kit of a course chapter on convolutional networks (no reference answers)."
requires-python = ">=3.10"
dependencies = ["keras>=3.0,<4", "tensorflow>=2.16", "numpy>=1.26", "pandas>=2.0", "matplotlib>=3.7",
                "tqdm>=4.60", "nbgrader>=0.9,<0.10", "jupyterlab"]

[project.scripts]
cnnkit = "autograder.frontends.cli:main"

[tool.setuptools.packages.find]
include = ["cnnkit*", "autograder*"]
"""


_README = """# cnnkit, the student's kit

With Python 3.10 to 3.13 on Linux or macOS (on Windows, in WSL), from the folder that holds `{kit}/`:

```
python3 -m venv .venv
.venv/bin/pip install -e {kit}                               # Keras, TensorFlow (CPU), Jupyter, this kit
.venv/bin/jupyter lab {kit}/assignments/
.venv/bin/cnnkit check {kit}/assignments/cnn/01_convolution.ipynb   # before you submit: READY or what to fix
```

`cnnkit check` finds the released notebooks in this kit by itself. The grader's reference answers and hidden
checks are not part of the kit.
"""


def student_kit(destination, release=None):
    """Writes the student's kit to a new folder.

    Args:
        destination: path of a folder that does not exist yet (or is empty).
        release: the course's folder of released notebooks (default: this
            kit's `assignments/`).

    Returns:
        The `Path` of the kit, ready for `pip install`.

    Raises:
        ValueError: if `destination` exists and is not an empty folder.
    """
    destination = Path(destination)
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise ValueError(f"Argument `destination` must be a new or empty folder; received {str(destination)!r}.")
    import autograder
    from autograder.course.course import REPO

    source = Path(cnnkit.__file__).parent
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc")

    def leave_out(folder, names):
        grader = set(GRADER_ONLY) if Path(folder) == source else set()
        return grader | _NOT_FOR_STUDENTS | set(ignored(folder, names))

    shutil.copytree(source, destination / "cnnkit", ignore=leave_out, dirs_exist_ok=True)
    shutil.copytree(Path(autograder.__file__).parent, destination / "autograder", ignore=leave_out)
    shutil.copytree(Path(release) if release else REPO / "assignments", destination / "assignments",
                    ignore=ignored)
    (destination / "pyproject.toml").write_text(_PYPROJECT.format(version=cnnkit.__version__))
    (destination / "README.md").write_text(_README.format(kit=destination.name))
    return destination
