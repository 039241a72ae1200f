"""A small real nbgrader course for the engine's tests: one notebook, two
graded cells, generated with nbgrader, graded with real kernels.

`mini.ipynb`:
  add          solution cell: `def add(a, b)`
  add_tests    graded (1 point): public and hidden asserts on `add`
  work         solution cell: where a test's student puts its code
  after_tests  graded (1 point): runs after `work`
"""

import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest

from autograder.course.course import Course

REPO = Path(__file__).resolve().parents[2]
SECRET = "hidden-marker-7f3a"  # in the hidden tests only: must never reach a student


def _cell(source, grade_id, *, solution=False, grade=False, points=0, locked=False):
    cell = nbformat.v4.new_code_cell(textwrap.dedent(source).strip())
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if grade:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    return cell


def mini_source():
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        _cell("""
            def add(a, b):
                ### BEGIN SOLUTION
                return a + b
                ### END SOLUTION
            """, "add", solution=True),
        _cell(f"""
            assert add(1, 2) == 3
            ### BEGIN HIDDEN TESTS
            assert add(-1, 1) == 0, "{SECRET}"
            ### END HIDDEN TESTS
            """, "add_tests", grade=True, points=1, locked=True),
        _cell("""
            ### BEGIN SOLUTION
            work = "done"
            ### END SOLUTION
            """, "work", solution=True),
        _cell("assert add(2, 2) == 4", "after_tests", grade=True, points=1, locked=True),
    ]
    return notebook


@pytest.fixture(scope="session")
def mini_template(tmp_path_factory):
    """A generated mini course (source, release, gradebook), copied per test."""
    root = tmp_path_factory.mktemp("mini-template")
    (root / "solutions" / "mini").mkdir(parents=True)
    nbformat.write(mini_source(), root / "solutions" / "mini" / "mini.ipynb")
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    Course(root).api().generate_assignment("mini", force=True, create=True)
    return root


@pytest.fixture
def mini_course(mini_template, tmp_path):
    """A fresh copy of the mini course, with `submit(student, work_code)`."""
    root = tmp_path / "course"
    shutil.copytree(mini_template, root)
    return MiniCourse(root)


class MiniCourse:
    """The mini course with helpers to hand in notebooks."""

    def __init__(self, root):
        self.root = Path(root)
        self.course = Course(root)

    def released(self):
        return nbformat.read(self.root / "assignments" / "mini" / "mini.ipynb", as_version=4)

    def notebook(self, work="work = 'done'", add="def add(a, b):\n    return a + b"):
        """The released notebook, answered: `add` and the `work` cell."""
        notebook = self.released()
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id == "add":
                cell.source = add
            elif grade_id == "work":
                cell.source = textwrap.dedent(work).strip()
        return notebook

    def submit(self, student, work="work = 'done'", **answers):
        folder = self.root / "submitted" / student / "mini"
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(self.notebook(work, **answers), folder / "mini.ipynb")
        return folder / "mini.ipynb"

    def submit_text(self, student, text):
        folder = self.root / "submitted" / student / "mini"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "mini.ipynb").write_text(text)
        return folder / "mini.ipynb"

    def executed(self, student):
        path = self.root / "autograded" / student / "mini" / "mini.ipynb"
        return nbformat.read(path, as_version=4)

    def outputs(self, student, grade_id="work"):
        """The text the `work` cell printed (stdout, errors), as one string."""
        for cell in self.executed(student).cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                parts = []
                for output in cell.get("outputs", []):
                    parts.append(output.get("text", "") if output.output_type == "stream"
                                 else f"{output.get('ename', '')}: {output.get('evalue', '')}"
                                 if output.output_type == "error" else str(output.get("data", {})))
                return "".join(parts)
        raise KeyError(grade_id)
