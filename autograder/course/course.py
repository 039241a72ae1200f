"""An nbgrader course directory, driven through nbgrader's own API.

The course settings come from the repository's `nbgrader_config.py` (the one
source of them); only the root and the gradebook are pointed elsewhere when
grading happens in a working copy.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

import autograder.course.gradebook  # noqa: F401 (nbgrader then needs no `alembic` on PATH)

__all__ = ["ASSIGNMENT", "CellScore", "Course", "NotebookScore", "REPO", "SubmissionScore", "cell_feedback"]

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = "cnn"


@dataclass(frozen=True)
class CellScore:
    """One graded cell of one autograded notebook."""

    notebook: str
    grade_id: str
    score: float
    max_score: float
    feedback: str


@dataclass(frozen=True)
class NotebookScore:
    """The score of one autograded notebook."""

    name: str
    score: float
    max_score: float
    cells: tuple


@dataclass
class SubmissionScore:
    """A student's autograded submission, as the gradebook holds it."""

    student: str
    notebooks: list = field(default_factory=list)
    error: str = ""

    @property
    def score(self):
        return sum(nb.score for nb in self.notebooks)

    @property
    def max_score(self):
        return sum(nb.max_score for nb in self.notebooks)

    def cells(self):
        """Every graded cell, in notebook order."""
        return [cell for nb in self.notebooks for cell in nb.cells]


class Course:
    """A course directory: `solutions/` (source), `assignments/` (release),
    `submitted/`, `autograded/` and a gradebook, as nbgrader lays them out.

    Args:
        root: the course directory.
        db: the gradebook file (default `root/gradebook.db`).
        timeout: seconds a cell may run when autograding.
        db_url: the gradebook as any SQLAlchemy URL nbgrader accepts
            (overrides `db`).
    """

    def __init__(self, root, db=None, timeout=300, db_url=None):
        self.root = Path(root).resolve()
        self.db_url = db_url or f"sqlite:///{Path(db).resolve() if db else self.root / 'gradebook.db'}"
        self.timeout = timeout

    @classmethod
    def working_copy(cls, workdir, source=REPO, timeout=300):
        """A grading copy of a course in `workdir` (emptied first).

        Copies the solutions and configuration and runs the generate step
        there, which registers the assignment and its source cells in the
        copy's gradebook (autograde restores hidden tests from it).

        Args:
            workdir: folder for the copy; submissions and grades go there.
            source: the course to copy (default: this repository).
            timeout: seconds a cell may run when autograding.

        Returns:
            A `Course` rooted at `workdir`.
        """
        workdir = Path(workdir)
        if workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
        shutil.copytree(Path(source) / "solutions", workdir / "solutions",
                        ignore=shutil.ignore_patterns("cnnkit_evidence", ".ipynb_checkpoints"))
        shutil.copy(Path(source) / "nbgrader_config.py", workdir / "nbgrader_config.py")
        course = cls(workdir, timeout=timeout)
        course.generate()
        return course

    def notebooks(self, folder="solutions", assignment=ASSIGNMENT):
        """Paths of an assignment's notebooks in `folder`, sorted by name."""
        return sorted((self.root / folder / assignment).glob("*.ipynb"))

    def api(self, release_directory=None):
        """An `nbgrader.apps.NbGraderAPI` for this course.

        Args:
            release_directory: write the release here instead of the
                course's `assignments/` (an absolute path).
        """
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        config.CourseDirectory.root = str(self.root)
        config.CourseDirectory.db_url = self.db_url
        if release_directory:
            config.CourseDirectory.release_directory = str(release_directory)
        config.Execute.timeout = self.timeout
        # Kernels log a notice about unencrypted local TCP on every start: keep errors only.
        config.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]
        return NbGraderAPI(CourseDirectory(config=config), config=config)

    def release(self, assignment, scratch):
        """The folder of an assignment's released notebooks (stubs): the course's
        own `assignments/<assignment>/`, else a release generated into `scratch`.

        Args:
            assignment: the assignment id.
            scratch: a folder the generated release may be written to.

        Returns:
            The folder, a `Path`.

        Raises:
            RuntimeError: with nbgrader's log if the release had to be generated and could not be.
        """
        if self.notebooks("assignments", assignment):
            return self.root / "assignments" / assignment
        generated = Path(scratch) / "release"
        result = self.api(release_directory=generated).generate_assignment(assignment, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not generate {assignment}:\n{result['log']}")
        return generated / assignment

    def generate(self):
        """Runs nbgrader's generate step: `solutions/` -> `assignments/`.

        Raises:
            RuntimeError: with nbgrader's log if the step failed.
        """
        result = self.api().generate_assignment(ASSIGNMENT, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_assignment failed:\n{result['log']}\n{result.get('error', '')}")

    def register(self, assignment=ASSIGNMENT):
        """Registers an assignment in the gradebook, as the generate step does,
        unless it is there already (the release folder is left untouched).

        Raises:
            RuntimeError: with nbgrader's log if the step failed.
        """
        from nbgrader.api import MissingEntry

        from autograder.course.gradebook import open_gradebook

        with open_gradebook(self.db_url) as gradebook:
            try:
                if gradebook.find_assignment(assignment).notebooks:
                    return
            except MissingEntry:
                pass
        with tempfile.TemporaryDirectory(prefix="cnnkit-register-") as release:
            result = self.api(release_directory=release).generate_assignment(assignment, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not register {assignment}:\n{result['log']}\n{result.get('error', '')}")

    def submit(self, student, notebooks):
        """Places a student's notebooks where nbgrader looks for submissions.

        Args:
            student: the student id.
            notebooks: dict of notebook file name -> `nbformat.NotebookNode`
                (or str: the file's text, written as it is).
        """
        folder = self.root / "submitted" / student / ASSIGNMENT
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, notebook in notebooks.items():
            if isinstance(notebook, str):
                (folder / name).write_text(notebook)
            else:
                nbformat.write(notebook, folder / name)

    def autograde(self, student):
        """Runs nbgrader's autograde step for one student and reads the result.

        Args:
            student: the student id (already submitted).

        Returns:
            A `SubmissionScore`; its `error` holds nbgrader's log on failure.
        """
        with warnings.catch_warnings():  # nbgrader's SQLAlchemy session warns on every autograde
            warnings.filterwarnings("ignore", message=".*not in session.*")
            result = self.api().autograde(ASSIGNMENT, student, force=True, create=True)
        if not result["success"]:
            log = result["log"] + "\n" + (result.get("error") or "")
            errors = [line for line in log.splitlines() if line.startswith("[ERROR]")]
            return SubmissionScore(student, error="\n".join(errors[:3]) or log[-2000:])
        return self.scores(student)

    def scores(self, student):
        """The gradebook's scores of a student, with each graded cell's feedback."""
        from nbgrader.api import Gradebook

        submission = SubmissionScore(student)
        with Gradebook(self.db_url) as gradebook:
            for notebook in sorted(gradebook.find_submission(ASSIGNMENT, student).notebooks, key=lambda n: n.name):
                path = self.root / "autograded" / student / ASSIGNMENT / f"{notebook.name}.ipynb"
                feedback = cell_feedback(nbformat.read(path, as_version=4)) if path.exists() else {}
                grades = {grade.name: grade for grade in notebook.grades}
                order = [name for name in feedback if name in grades] or sorted(grades)
                cells = tuple(CellScore(notebook.name, name, float(grades[name].score),
                                        float(grades[name].max_score), feedback.get(name, ""))
                              for name in order)
                submission.notebooks.append(NotebookScore(notebook.name, float(notebook.score),
                                                          float(notebook.max_score), cells))
        return submission


def cell_feedback(notebook):
    """Text a student sees under each graded test cell, by grade id.

    Args:
        notebook: an executed `nbformat.NotebookNode`.

    Returns:
        Dict of grade id -> the cell's stdout, or its error's last line.
    """
    feedback = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        lines = []
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                lines.append(output.text.strip())
            elif output.output_type == "error":
                lines.append(f"{output.ename}: {output.evalue}".strip())
        feedback[meta["grade_id"]] = "\n".join(line for line in lines if line)
    return feedback

