"""assignments/ is nbgrader's release of solutions/, in sync and without secrets."""

import json
import shutil

import nbformat
import pytest

from autograder.course.course import ASSIGNMENT, REPO, Course
from autograder.frontends.release import find_secrets

RELEASE = REPO / "assignments" / ASSIGNMENT


def _comparable(path):
    """A notebook's content without volatile metadata (cell ids, execution)."""
    notebook = nbformat.read(path, as_version=4)
    return [(cell.cell_type, cell.source, json.dumps(cell.metadata.get("nbgrader", {}), sort_keys=True))
            for cell in notebook.cells]


@pytest.mark.slow
def test_committed_release_is_what_nbgrader_generates_now(tmp_path):
    course = Course.working_copy(tmp_path / "course")
    generated = sorted((course.root / "assignments" / ASSIGNMENT).iterdir())
    committed = sorted(RELEASE.iterdir())
    assert [p.name for p in generated] == [p.name for p in committed], "run `cnnkit release` and commit assignments/"
    for new, old in zip(generated, committed):
        assert _comparable(new) == _comparable(old), f"{old.name} is out of date: run `cnnkit release` and commit it"


def test_nothing_secret_in_assignments():
    assert RELEASE.is_dir() and len(list(RELEASE.glob("*.ipynb"))) == 3
    assert find_secrets(REPO / "assignments", REPO / "solutions") == []


def test_release_holds_stubs_and_empty_hidden_test_cells():
    for path in RELEASE.glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                assert cell.source.startswith("# Hidden tests") and "check_" not in cell.source
            if meta.get("solution"):
                assert "raise NotImplementedError()" in cell.source


@pytest.mark.parametrize("plant, what", [
    (lambda s: s + "\n    return correlate2d(image, np.asarray(kernel)[::-1, ::-1])", "solution or hidden-test line"),
    (lambda s: s + '\ncheck_function("conv2d_layer", conv2d_layer, points=4)', "solution or hidden-test line"),
    (lambda s: s + "\n### BEGIN SOLUTION", "nbgrader marker"),
])
def test_a_planted_leak_is_found(tmp_path, plant, what):
    release = tmp_path / "assignments"
    shutil.copytree(REPO / "assignments", release)
    path = release / ASSIGNMENT / "01_convolution.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[-1].source = plant(notebook.cells[-1].source)
    nbformat.write(notebook, path)
    leaks = find_secrets(release, REPO / "solutions")
    assert leaks and all(str(path) in leak for leak in leaks) and any(what in leak for leak in leaks)
