"""The trained models a notebook's variables hold are saved as the check's own
test cell saw them, as nbgrader's test would: a later cell that trains the
model further or puts another in the variable changes nothing; a model whose
test cell never ran is saved after the notebook's cells.

Runs `autograder.sandbox.runner` as a plain process (no sandbox: the sandbox's
own tests are elsewhere) on a small notebook with real kernels, and reads the
probe's report on its standard output."""

import io
import json
import subprocess
import sys
import textwrap
import zipfile

import nbformat
import pytest

from autograder.sandbox.contracts import Job, probe_request, read_report_lines
from tests.engine.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.keras]


def _cell(source, grade_id=None, *, locked=False):
    cell = nbformat.v4.new_code_cell(textwrap.dedent(source).strip())
    if grade_id:
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": locked, "points": 1,
                                     "schema_version": 3, "solution": False}
    return cell


def _run(tmp_path, cells, requests, untrained_before=()):
    """Runs the notebook in the runner: (the probe's files, the notebook's status, the executed notebook)."""
    job, out, home = tmp_path / "job", tmp_path / "out", tmp_path / "home"
    for folder in (job, out, home):
        folder.mkdir()
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, job / "n.ipynb")
    (job / "job.json").write_text(Job(("n.ipynb",), 120.0, 10**6, untrained_before=untrained_before).to_json())
    run = subprocess.run([sys.executable, "-m", "autograder.sandbox.runner", str(job), str(out)], cwd=home,
                         input=json.dumps({"n.ipynb": probe_request(requests)}), capture_output=True, text=True,
                         timeout=600, env={"PATH": f"{REPO}/.venv/bin:/usr/bin:/bin", "PYTHONPATH": str(REPO),
                                           "HOME": str(home), "KERAS_BACKEND": "tensorflow"})
    status = json.loads((out / "status.json").read_text())["notebooks"]["n.ipynb"]
    return read_report_lines(run.stdout, ["n.ipynb"]).get("n.ipynb"), status, nbformat.read(out / "n.ipynb", 4)


def _saved_layers(tmp_path, cells, requests):
    """Runs the notebook; the number of Dense layers of each model the probe saved, by request id, and the
    executed cells' execution counts."""
    files, _, executed = _run(tmp_path, cells, requests)
    results = json.loads(files["result.json"])
    layers = {}
    for key, result in results.items():
        if "file" in result:
            with zipfile.ZipFile(io.BytesIO(files[result["file"]])) as archive:
                config = json.loads(archive.read("config.json"))
            layers[key] = sum(layer["class_name"] == "Dense" for layer in config["config"]["layers"])
        else:
            layers[key] = result
    return layers, [cell.get("execution_count") for cell in executed.cells]


def test_a_model_is_saved_as_its_test_cell_saw_it_and_later_cells_change_nothing(tmp_path):
    make = "import keras\ndef make(n):\n    return keras.Sequential([keras.Input((4,))] + [keras.layers.Dense(2) for _ in range(n)])"
    cells = [_cell(make), _cell("model = make(1)\nother = make(1)"),
             _cell("assert model is not None", "model_tests", locked=True),
             _cell("model = make(3)  # a scratch cell of the student's, after the test\n"
                   "import shutil\nshutil.rmtree('.cnnkit-probe')  # a cell that tidies the folder up"),
             _cell("other = make(2)"),
             _cell("missing_test_never_ran = 1")]
    saves = [{"action": "save", "id": "model_tests", "variable": "model"},
             {"action": "save", "id": "other_tests", "variable": "other"}]  # no test cell: saved at the end
    layers, counts = _saved_layers(tmp_path, cells, saves)
    assert layers == {"model_tests": 1, "other_tests": 2}
    assert counts == [1, 2, 3, 4, 5, 6], "the probe's runs take no execution count of the notebook's cells"


def test_a_save_that_ends_the_kernel_is_a_crash_at_that_test_cell_not_at_the_next(tmp_path):
    killer = "import os\nclass Killer:\n    def save(self, path):\n        os._exit(1)\nmodel = Killer()"
    cells = [_cell(killer), _cell("assert model is not None", "model_tests", locked=True), _cell("after = 1")]
    files, status, _ = _run(tmp_path, cells, [{"action": "save", "id": "model_tests", "variable": "model"}])
    assert (status["outcome"], status["cell"]) == ("crashed", 1), status
    assert files is not None and "model_tests.keras" not in files, "reported, with nothing saved for it"


def _instructors(source):
    """A locked cell of the instructor's that no test grades."""
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": "instructor", "locked": True, "schema_version": 3,
                                 "solution": False}
    return cell


def _printed(cell):
    return "".join(output.get("text", "") for output in cell.outputs
                   if output.output_type == "stream" and output.name == "stdout")


@pytest.mark.parametrize("untrained", [True, False])
def test_fit_does_nothing_only_in_the_cells_that_lead_up_to_a_retrained_checks_test(tmp_path, untrained):
    """The student's cells after the graded cell before the "improve it" test, up to that test: there `fit`
    returns at once, a NaN loss per epoch (the grader retrains the architecture and reads no weights trained
    there); before, in the instructor's cell between, from the test cell on, and in a run without the window,
    `fit` trains as it always does."""
    fit = "model.fit(np.ones((8, 2)), np.ones(8), epochs={}, verbose=0).history['loss']"
    # the losses of the epochs fitted: a number each when trained, NaN when skipped
    report = "print({!r}, len(losses), 'skipped' if all(loss != loss for loss in losses) else 'trained')"
    cells = [_cell("import numpy as np\nimport keras\nmodel = keras.Sequential([keras.Input((2,)), "
                   "keras.layers.Dense(1)])\nmodel.compile(loss='mse')\n"
                   f"losses = {fit.format(1)}\n{report.format('before')}"),
             _cell("assert True", "earlier_tests", locked=True),
             _cell(f"losses = {fit.format(2)}\n{report.format('window')}"),
             _cell(f"losses = {fit.format(2)}\n{report.format('window again')}"),
             _instructors(f"losses = {fit.format(1)}\n{report.format('instructor')}"),
             _cell(f"losses = {fit.format(1)}\n{report.format('test')}", "improved_tests", locked=True),
             _cell(f"losses = {fit.format(3)}\n{report.format('after')}")]
    _, status, executed = _run(tmp_path, cells, [], untrained_before=("improved_tests",) if untrained else ())
    printed = [_printed(cell) for cell in executed.cells]
    assert status["outcome"] == "ok"
    assert (printed[0], printed[4], printed[5], printed[6]) == \
        ("before 1 trained\n", "instructor 1 trained\n", "test 1 trained\n", "after 3 trained\n"), printed
    if untrained:
        skipped = "(fit skipped while grading: the grader retrains this architecture itself)\n"
        assert printed[2:4] == [skipped + "window 2 skipped\n", skipped + "window again 2 skipped\n"], printed
    else:
        assert printed[2:4] == ["window 2 trained\n", "window again 2 trained\n"], printed
    # the runner's own cells are not the notebook's: the notebook's cells keep their execution counts
    assert [cell.execution_count for cell in executed.cells] == [1, 2, 3, 4, 5, 6, 7]
    assert len(executed.cells) == len(cells)
