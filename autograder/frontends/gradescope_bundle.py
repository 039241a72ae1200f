"""`cnnkit gradescope ASSIGNMENT`: the autograder zip Gradescope asks for.

Layout of the zip (Gradescope unpacks it into `/autograder/source/`):

- `setup.sh`: run once, as root, when Gradescope builds its image: installs
  Python, bubblewrap and cnnkit with its CPU dependencies into `kit/.venv`;
- `run_autograder`: run for every submission: grades the notebooks in
  `/autograder/submission` with the engine and the verifier and writes
  `/autograder/results/results.json`. `CNNKIT_GRADESCOPE_ROOT` replaces
  `/autograder` (tests lay out a fake one), `CNNKIT_PYTHON` the venv's Python;
- `kit/`: cnnkit's source (the two packages, `pyproject.toml`, the install
  script) and `constraints.txt`, the versions of the packages that decide a
  score (Keras, TensorFlow, NumPy, nbgrader) as installed where the bundle was
  built: `setup.sh` installs exactly those, so the bundle grades as this
  machine does whatever is newest on the day Gradescope builds it;
- `course/`: the instructor's notebooks of the assignment (hidden tests
  included), the release, `nbgrader_config.py`, the course secret (so that a
  student's cases are the ones a local regrade draws), the reference
  accuracies already computed (`cache/`), and the seizure table when
  `CNNKIT_DATA` is set, and `settings.json` (the tests' visibility).
  `run_autograder` makes `course/` readable by root only before anything runs.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.course import REPO, Course
from autograder.course.secret import course_secret
from autograder.exports.gradescope import VISIBILITIES
from autograder.verifier.extensions import COURSE_CHECKS

__all__ = ["GRADESCOPE_SETTINGS", "Bundle", "build_bundle", "pinned_versions"]

_KIT = ("cnnkit", "autograder", "pyproject.toml", "README.md", "scripts/install.sh")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "cnnkit_evidence")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap >/dev/null
python3 - <<'PY'
import sys
if sys.version_info[:2] < (%(major)d, %(minor)d):
    sys.exit(f"cnnkit: this bundle pins the versions of a Python %(major)d.%(minor)d build (kit/constraints.txt), "
             f"which may not install on this image's Python {sys.version.split()[0]}: choose a base image whose "
             f"python3 is %(major)d.%(minor)d or newer (Configure Autograder -> Base image; Ubuntu 24.04's is 3.12), "
             f"or build the bundle with Python {sys.version_info[0]}.{sys.version_info[1]}")
PY
cd /autograder/source/kit
PIP_CONSTRAINT=/autograder/source/kit/constraints.txt CNNKIT_RUNTIME_ONLY=1 bash scripts/install.sh
"""
# The packages whose versions decide a score: pinned in the bundle to the versions installed where it is built.
PINNED = ("keras", "tensorflow", "tensorflow-cpu", "numpy", "nbgrader", "nbclient", "ipykernel", "h5py", "ml-dtypes")
# What the bundle grades with (`autograder.sandbox.limits.Limits`' defaults): Gradescope's container must hold it.
GRADESCOPE_SETTINGS = ("Gradescope settings: give the autograder at least 6 GB of memory and 2 CPUs (Configure "
                       "Autograder -> Container specifications; its defaults, 768 MB and half a CPU, cannot run "
                       "TensorFlow) and a timeout of at least 20 minutes: a submission runs for up to 900 s in a "
                       "sandbox of 4 GiB, plus the verifier's trainings")

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes results/results.json.
set -uo pipefail
root="${CNNKIT_GRADESCOPE_ROOT:-/autograder}"
kit="$root/source/kit"
python="${CNNKIT_PYTHON:-$kit/.venv/bin/python}"
cd "$kit" && PYTHONPATH="$kit" exec "$python" -m autograder.frontends.gradescope_run "$root" "%(assignment)s"
"""


@dataclass(frozen=True)
class Bundle:
    """A built autograder zip.

    Attributes:
        path: the zip.
        assignment: the assignment it grades.
        files: how many files it holds.
        data: the seizure table it carries, if any.
    """

    path: Path
    assignment: str
    files: int
    data: str | None = None
    pins: tuple = ()
    visibility: str = "visible"
    later: dict = field(default_factory=dict)

    def lines(self):
        """What was built, and what to do with it."""
        return [f"wrote {self.path} ({self.files} files, {self.path.stat().st_size / 1e6:.1f} MB) for {self.assignment}",
                "seizure data: " + (self.data or "the stand-in (set CNNKIT_DATA to carry the real table)"),
                "pinned: " + (", ".join(self.pins) or "nothing (none of the packages that decide a score is installed "
                                                      "here)"),
                f"tests' visibility: {self.visibility}" + "".join(
                    f"; {grade_id}: {when}" for grade_id, when in sorted(self.later.items())
                    if when != self.visibility),
                GRADESCOPE_SETTINGS,
                f"Gradescope's base image needs Python {sys.version_info[0]}.{sys.version_info[1]} or newer (the "
                f"pinned versions are this Python's; Ubuntu 24.04's python3 is 3.12): setup.sh stops with this "
                f"message otherwise",
                "upload it as the assignment's autograder (Gradescope: Configure Autograder -> Zip file upload); "
                "students submit their .ipynb files"]


def build_bundle(assignment, *, course=".", out=None, visibility="visible", improve_visibility="after_due_date"):
    """Builds Gradescope's autograder zip for one assignment.

    Computes the reference accuracies the verifier needs first (cached), so
    that Gradescope does not train them for every submission.

    Args:
        assignment: the assignment id (a folder of `solutions/`).
        course: the course directory.
        out: the zip to write (default: `COURSE/reports/ASSIGNMENT/gradescope-autograder.zip`).
        visibility: when students see the tests' results, one of `VISIBILITIES`.
        improve_visibility: when they see the cells whose architecture the
            grader retrains ("improve it"), one of `VISIBILITIES`; the later
            of the two applies. Seen at once, a student could resubmit
            variants and keep the luckiest score on the hidden test rows.

    Returns:
        A `Bundle`.

    Raises:
        FileNotFoundError: if the course has no source for the assignment.
        ValueError: if `visibility` or `improve_visibility` is not one of `VISIBILITIES`.
    """
    for name, value in (("visibility", visibility), ("improve_visibility", improve_visibility)):
        if value not in VISIBILITIES:
            raise ValueError(f"Invalid value for `{name}`. Expected one of {', '.join(VISIBILITIES)}. "
                             f"Received {name}={value!r}.")
    from autograder.course.templates import templates_of
    from autograder.engine import train_references
    from autograder.verifier.verifier import plans_of, retrained_cells
    from cnnkit.data import DATA_ENV

    course = Course(course)
    templates_of(course, assignment)  # says clearly when the assignment does not exist
    out = Path(out) if out else course.root / "reports" / assignment / "gradescope-autograder.zip"
    with tempfile.TemporaryDirectory(prefix="cnnkit-bundle-") as scratch:
        stage = Path(scratch)
        release = course.release(assignment, stage)
        secret = course_secret(course.root)
        # trained as the grader trains (a trusted worker's fixed setup), so that Gradescope reads them and trains none
        references = train_references(assignment, course=course.root, release=release)
        _stage_kit(stage / "bundle" / "kit")
        pins = pinned_versions()
        (stage / "bundle" / "kit" / "constraints.txt").write_text("".join(f"{pin}\n" for pin in pins))
        data = os.environ.get(DATA_ENV) or None
        _stage_course(stage / "bundle" / "course", course, assignment, release, secret, references, data)
        later = {grade_id: improve_visibility for grade_id in retrained_cells(
            plans_of(course.root / "solutions" / assignment, release))}
        (stage / "bundle" / "course" / "settings.json").write_text(json.dumps({"visibility": visibility,
                                                                               "later": later}))
        (stage / "bundle" / "setup.sh").write_text(SETUP_SH % {"major": sys.version_info[0],
                                                                "minor": sys.version_info[1]})
        (stage / "bundle" / "run_autograder").write_text(RUN_AUTOGRADER % {"assignment": assignment})
        files = _zip(stage / "bundle", out)
    return Bundle(out, assignment, files, data, pins, visibility, later)


def pinned_versions():
    """`name==version` of each package of `PINNED` installed here.

    Returns:
        A tuple of str.
    """
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for name in PINNED:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            continue
    return tuple(pins)


def _stage_kit(kit):
    for name in _KIT:
        source = REPO / name
        target = kit / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=_IGNORED)
        else:
            shutil.copy(source, target)


def _stage_course(folder, course, assignment, release, secret, reference_files, data):
    shutil.copytree(course.root / "solutions" / assignment, folder / "solutions" / assignment, ignore=_IGNORED)
    shutil.copytree(release, folder / "assignments" / assignment, ignore=_IGNORED)
    shutil.copy(course.root / "nbgrader_config.py", folder / "nbgrader_config.py")
    if (course.root / COURSE_CHECKS).is_file():  # the course's own checks grade there too
        shutil.copy(course.root / COURSE_CHECKS, folder / COURSE_CHECKS)
    (folder / ".cnnkit").mkdir()
    (folder / ".cnnkit" / "secret").write_text(secret)
    (folder / "cache").mkdir()
    for path in reference_files:
        shutil.copy(path, folder / "cache" / Path(path).name)
    if data:
        (folder / "data").mkdir()
        shutil.copy(data, folder / "data" / Path(data).name)


def _zip(folder, out):
    """Zips `folder`'s contents at the root of the archive, scripts executable."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    count = 0
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            name = path.relative_to(folder).as_posix()
            info = zipfile.ZipInfo.from_file(path, name)
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = ((stat.S_IFREG | (0o755 if executable else 0o644)) << 16)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
            count += 1
    partial.replace(out)
    return count
