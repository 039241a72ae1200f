"""The probe's replay: which definition is graded, and how far the replay goes.

Runs `autograder.sandbox.replay` as a plain process (no sandbox: these tests
are about its rules, the sandbox's own tests are elsewhere) on a notebook's
cells, and reads what it probed."""

import json
import subprocess
import sys

import pytest

from autograder.sandbox.contracts import REPLAY_FILE, RESULT_FILE, Replay, ReplayNotebook, decode_value
from tests.engine.conftest import REPO

DOUBLE = {"action": "call", "id": "double_tests", "function": "double", "cases": [[2], [5]]}


def _run(tmp_path, notebooks, *, cell_seconds=20.0, stand_ins=(), test_cell=None, world="numpy"):
    """Replays `notebooks` (pairs of cells and `stopped`) in one process; the outputs probed per notebook.
    `test_cell`: the index of `double`'s test cell, if it has one."""
    job, out, home = tmp_path / "job", tmp_path / "out", tmp_path / "home"
    for folder in (job, out, home):
        folder.mkdir()
    tests = {DOUBLE["id"]: test_cell} if test_cell is not None else {}
    replay = Replay(world, tuple(ReplayNotebook(f"n{i}.ipynb", tuple(cells), (DOUBLE,), stopped, tests)
                                   for i, (cells, stopped) in enumerate(notebooks)), 5.0, cell_seconds, stand_ins)
    (job / REPLAY_FILE).write_text(replay.to_json())
    subprocess.run([sys.executable, "-m", "autograder.sandbox.replay", str(job), str(out)], cwd=home, timeout=120,
                   env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, check=True)
    found = []
    for index in range(len(notebooks)):
        path = out / str(index) / RESULT_FILE
        if not path.exists():
            found.append(None)
            continue
        result = json.loads(path.read_text())["double_tests"]
        found.append([decode_value(o["value"]) if "value" in o else o.get("error") for o in result.get("outputs", [])]
                     or result)
    return found


def _replayed(tmp_path, cells, *, stopped=False, cell_seconds=20.0, stand_ins=(), test_cell=None, world="numpy"):
    return _run(tmp_path, [(cells, stopped)], cell_seconds=cell_seconds, stand_ins=stand_ins, test_cell=test_cell,
                world=world)[0]


HELPER_BELOW = [("def double(x):\n    return twice(x)", True), ("def twice(x):\n    return 2 * x", True),
                ("assert double(1) == 2  # the test cell", False)]


def test_a_helper_defined_between_the_answer_and_its_test_counts_as_the_test_saw_it(tmp_path):
    assert _replayed(tmp_path, HELPER_BELOW, test_cell=2) == [4, 10]


def test_cells_after_the_test_change_nothing_and_a_scratch_result_before_it_does_not_replace_the_function(tmp_path):
    cells = HELPER_BELOW[:2] + [("double = double(3)  # a scratch cell", True)] + HELPER_BELOW[2:] + [
        ("twice = 'a later demonstration reuses the name'", True)]
    assert _replayed(tmp_path, cells, test_cell=3) == [4, 10]


def test_a_function_redefined_after_its_test_is_probed_as_redefined(tmp_path):
    cells = [("def double(x):\n    return x", True), ("pass  # the test cell", False),
             ("def double(x):  # fixed later\n    return x + x", True)]
    assert _replayed(tmp_path, cells, test_cell=1) == [4, 10]


def test_a_helper_a_later_cell_rebinds_does_not_change_what_is_graded(tmp_path):
    cells = [("def twice(x):\n    return 2 * x\n\ndef double(x):\n    return twice(x)", True),
             ("twice = 'a demonstration reuses the name'", False)]
    assert _replayed(tmp_path, cells) == [4, 10]


def test_a_later_student_cell_that_redefines_the_function_is_what_is_graded(tmp_path):
    cells = [("def double(x):\n    return x", True), ("print('a demonstration')", False),
             ("def double(x):  # fixed\n    return x + x", True)]
    assert _replayed(tmp_path, cells) == [4, 10]


def test_a_student_cell_that_stores_a_result_under_the_functions_name_does_not_replace_it(tmp_path):
    cells = [("def double(x):\n    return 2 * x", True), ("double = double(3)  # a scratch cell", True)]
    assert _replayed(tmp_path, cells) == [4, 10]


def test_an_instructor_cell_never_defines_a_graded_function(tmp_path):
    cells = [("def double(x):\n    return 2 * x", True), ("double = lambda x: 0", False)]
    assert _replayed(tmp_path, cells) == [4, 10]


@pytest.mark.keras
def test_a_cell_that_reads_what_fit_returned_still_defines_what_follows_it(tmp_path):
    """Training is skipped in the replay; the history it returns holds a NaN per epoch under any name, so a cell
    that reads it (as it could in the kernel) goes on to define the function below."""
    cells = [("import numpy as np\nimport keras\nmodel = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
              "model.compile(loss='mse')\nhistory = model.fit(np.ones((4, 2)), np.ones(4), epochs=3, verbose=0)\n"
              "print(f\"last validation loss {history.history['val_loss'][-1]:.3f}\", len(model.history.history['loss']))\n"
              "def double(x):\n    return 2 * x", True)]
    assert _replayed(tmp_path, cells, world="keras") == [4, 10]


def test_a_cell_past_its_time_stops_the_replay_as_it_stops_a_notebook(tmp_path):
    cells = [("import time\nwhile True:\n    time.sleep(0.1)", True), ("def double(x):\n    return 2 * x", True)]
    assert _replayed(tmp_path, cells, cell_seconds=1) == {"missing": "`double` is not defined"}


def test_what_the_stopping_cell_defines_before_it_stops_counts(tmp_path):
    cells = [("def double(x):\n    return 2 * x\nimport time\nwhile True:\n    time.sleep(0.1)", True)]
    assert _replayed(tmp_path, cells, stopped=True) == [4, 10]


def test_each_notebook_replays_in_a_process_of_its_own(tmp_path):
    """One notebook's names, module state and end never reach the next: it starts as a fresh process would."""
    first = [("import numpy\nnumpy.add = None\ndef double(x):\n    return 2 * x", True), ("import os\nos._exit(3)", False)]
    second = [("double = 'a leftover of the first notebook?'", False),
              ("import numpy\ndef double(x):\n    return int(numpy.add(x, x))", True)]
    third = [("print('defines nothing')", True)]
    assert _run(tmp_path, [(first, False), (second, False), (third, False)]) == \
        [[4, 10], [4, 10], {"missing": "`double` is not defined"}]


MAGIC_CELLS = {
    "%%time": ["%%time\ndef double(x):\n    return 2 * x"],
    "%%capture and %%prun, after blank lines": ["\n%%capture out\n%%prun -s cumulative\ndef double(x):\n    return 2 * x"],
    "%time, as a statement and as a value": ["%time twice = 2\ndouble = %time lambda x: twice * x"],
    "shell lines and other magics around it": ["!pip install nothing\n%matplotlib inline\ndef double(x):\n"
                                               "    y = %time x + x\n    return y"],
    "%%writefile, then an import": ["%%writefile -a helpers.py\ndef twice(x):\n    return 2 * x",
                                    "from helpers import twice\ndef double(x):\n    return twice(x)"],
}


@pytest.mark.parametrize("style", sorted(MAGIC_CELLS))
def test_a_cell_magic_that_runs_its_body_in_the_notebook_defines_what_it_defines_in_the_kernel(tmp_path, style):
    """IPython runs the body of `%%time`, `%%capture` and `%%prun` as a cell, and `%time`'s statement, in the
    notebook's namespace: the replay does too (before, a correct `%%time` cell was "not defined": 0 points)."""
    from autograder.pipeline.ipython_cells import CellReader

    cells = [(CellReader().replay_code(source), True) for source in MAGIC_CELLS[style]]
    assert _replayed(tmp_path, cells) == [4, 10]


@pytest.mark.parametrize("source", ["%%timeit\ndef double(x):\n    return 2 * x",
                                    "%%bash\ndef double(x):\n    return 2 * x"])
def test_a_cell_magic_that_does_not_run_its_body_in_the_notebook_defines_nothing(tmp_path, source):
    """`%%timeit` runs its body inside a function of its own and `%%bash` in a shell: the kernel's notebook has no
    `double` after either, and neither has the replay."""
    from autograder.pipeline.ipython_cells import CellReader

    assert _replayed(tmp_path, [(CellReader().replay_code(source), True)]) == \
        {"missing": "`double` is not defined"}


def test_a_submissions_notebooks_share_one_replay_per_world_and_only_those_that_ran_are_replayed():
    import nbformat

    from autograder.pipeline.execute import _replays
    from autograder.pipeline.prepare import Prepared
    from autograder.sandbox.contracts import NotebookStatus, Status
    from autograder.sandbox.limits import Limits

    def notebook(*sources):
        return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]))

    def request(*items):
        return {"call_seconds": 5.0, "requests": list(items)}

    numpy_call = {"action": "call", "id": "f_tests", "function": "f", "numpy": True, "cases": []}
    keras_build = {"action": "build", "id": "g_tests", "function": "g"}
    save = {"action": "save", "id": "m_tests", "variable": "m"}
    prepared = Prepared("ann", {"a.ipynb": notebook("def f(x):\n    return x"), "b.ipynb": notebook("x = 1", "y = 2"),
                                "c.ipynb": notebook("def f(x):\n    return x"), "d.ipynb": notebook("m = 1")},
                        probes={"a.ipynb": request(numpy_call), "b.ipynb": request(numpy_call, keras_build),
                                "c.ipynb": request(numpy_call), "d.ipynb": request(save)})
    status = Status(notebooks={"a.ipynb": NotebookStatus(), "b.ipynb": NotebookStatus("timeout", "a cell ran long", 0)})
    replays = {replay.world: replay for replay in _replays(prepared, Limits(), status, executed={"a.ipynb", "b.ipynb"})}
    assert sorted(replays) == ["keras", "numpy"], "one probe sandbox per world"
    assert [n.notebook for n in replays["numpy"].notebooks] == ["a.ipynb", "b.ipynb"], "c never ran; d only saves"
    assert [n.notebook for n in replays["keras"].notebooks] == ["b.ipynb"]
    stopped = replays["numpy"].notebooks[1]
    assert stopped.stopped and len(stopped.cells) == 1, "replayed as far as the cell where its run stopped"
    assert [r["id"] for r in replays["keras"].notebooks[0].requests] == ["g_tests"]


def test_an_answer_is_read_after_the_cell_that_sets_it_beside_the_model_its_builder_makes(tmp_path):
    """The `answer` action: the variable's number as the student's cell left it (a later instructor cell's value
    does not count), the builder's model saved for the grader; an object that hangs when read is given up on."""
    job, out, home = tmp_path / "job", tmp_path / "out", tmp_path / "home"
    for folder in (job, out, home):
        folder.mkdir()
    build = ("import keras\ndef build():\n    return keras.Sequential([keras.Input((20, 1)), "
             "keras.layers.Conv1D(2, 5), keras.layers.GlobalAveragePooling1D()])")
    hanging = "class Hang:\n    def __array__(self, *args, **kwargs):\n        while True:\n            pass\nhang = Hang()"
    cells = ((build, True), ("field_ms = 1000 * 5 / 173.61", True), ("field_ms = 0", False), (hanging, True))
    requests = ({"action": "answer", "id": "field_tests", "function": "field_ms", "build": "build",
                 "input_shape": [20, 1]},
                {"action": "answer", "id": "hang_tests", "function": "hang", "build": "nobody"})
    replay = Replay("keras", (ReplayNotebook("n0.ipynb", cells, requests, False),), 2.0, 20.0)
    (job / REPLAY_FILE).write_text(replay.to_json())
    subprocess.run([sys.executable, "-m", "autograder.sandbox.replay", str(job), str(out)], cwd=home, timeout=300,
                   env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "KERAS_BACKEND": "tensorflow"}, check=True)
    results = json.loads((out / "0" / RESULT_FILE).read_text())
    field = results["field_tests"]
    assert float(decode_value(field["value"])) == 1000 * 5 / 173.61 and "error" not in field
    assert (out / "0" / field["file"]).stat().st_size > 0, "the builder's model, saved beside the answer"
    hang = results["hang_tests"]
    assert hang["value"]["type"] == "an object that could not be read" and "`nobody` is not defined" in hang["error"]


def test_a_model_stored_under_its_builders_name_does_not_replace_the_builder(tmp_path):
    """A scratch cell `build = build()` binds the builder's name to a model (a callable, but no definition):
    the builder as its own cell left it is what is built and saved."""
    job, out, home = tmp_path / "job", tmp_path / "out", tmp_path / "home"
    for folder in (job, out, home):
        folder.mkdir()
    build = ("import keras\ndef build():\n    return keras.Sequential([keras.Input((20, 1)), "
             "keras.layers.Conv1D(2, 5), keras.layers.GlobalAveragePooling1D()])")
    cells = ((build, True), ("build = build()  # a scratch cell", True))
    requests = ({"action": "build", "id": "build_tests", "function": "build", "input_shape": [20, 1]},)
    replay = Replay("keras", (ReplayNotebook("n0.ipynb", cells, requests, False),), 5.0, 20.0)
    (job / REPLAY_FILE).write_text(replay.to_json())
    subprocess.run([sys.executable, "-m", "autograder.sandbox.replay", str(job), str(out)], cwd=home, timeout=300,
                   env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "KERAS_BACKEND": "tensorflow"}, check=True)
    built = json.loads((out / "0" / RESULT_FILE).read_text())["build_tests"]
    assert "error" not in built and (out / "0" / built["file"]).stat().st_size > 0, built


def _sandboxed_replay(tmp_path, cells, env):
    """`execute._replayed` of one Keras-world notebook, in a real sandbox."""
    from autograder.pipeline.execute import Slot, _replayed
    from autograder.sandbox.limits import Limits

    replay = Replay("keras", (ReplayNotebook("n0.ipynb", tuple(cells), (DOUBLE,), False),), 5.0, 20.0)
    return _replayed(replay, Limits(timeout=120, threads=1), Slot("test"), env, (), (), None)


def test_a_replay_that_cannot_start_is_the_graders_fault_not_the_students(tmp_path):
    import pytest

    with pytest.raises(RuntimeError) as raised:  # Keras cannot load this backend: no student code ever ran
        _sandboxed_replay(tmp_path, [("def double(x):\n    return 2 * x", True)], {"KERAS_BACKEND": "no-such-backend"})
    assert str(raised.value).startswith("the probe sandbox (keras world) did not start (exit status 1")
    assert "no code of the student's ran" in str(raised.value)


def test_student_code_that_ends_the_replay_or_shuts_its_output_is_still_the_students(tmp_path):
    cells = [("import os, sys\nos.close(1)\nos.close(2)\nos.kill(os.getppid(), 9)\nsys.exit(3)", True),
             ("def double(x):\n    return 2 * x", True)]
    replayed, _, _ = _sandboxed_replay(tmp_path, cells, {})  # the replay had started: no fault of the grader's raised
    assert len(replayed) == 1


# Libraries the kernel had, hidden where NumPy exercises are probed: `plotlib` and `tensorlib` stand for them here
# (no such packages exist, so no real finder finds them, as none does in the NumPy world's sandbox).
HIDDEN = ("plotlib", "tensorlib")


def test_a_library_the_kernel_had_does_not_stop_the_cell_that_defines_a_graded_function(tmp_path):
    """Imports above the `def`, and plotting or configuring with them before and after it, as students write."""
    cells = [("import plotlib.pyplot as plt\nfrom tensorlib import nn\nimport tensorlib as tl\n"
              "plt.figure(figsize=(3, 3))\nplt.rcParams['lines.linewidth'] = 2\ntl.random.set_seed(0)\n"
              "def double(x):\n    return 2 * x\n"
              "with nn.device('cpu'):\n    plt.plot([double(v) for v in range(3)])\nplt.show()", True)]
    assert _replayed(tmp_path, cells, stand_ins=HIDDEN) == [4, 10]


def test_a_loop_or_a_test_on_a_stand_in_ends_its_cell_instead_of_spinning(tmp_path):
    """`while not history:` would spin on an inert value; it ends the cell, after what the cell defined."""
    cells = [("import tensorlib as tl\ndef double(x):\n    return 2 * x\nhistory = tl.fit()\n"
              "while not history:\n    pass", True),
             ("for batch in tl.data():\n    pass\ndef double(x):\n    return 0", True)]
    assert _replayed(tmp_path, cells, stand_ins=HIDDEN, cell_seconds=5) == [4, 10]


def test_a_graded_function_that_uses_such_a_library_fails_as_if_it_were_missing(tmp_path):
    """Whether imported in the cell or in the function: the call fails with the missing module's own error, which
    the verifier reads (a NumPy exercise that reached for another library)."""
    missing = "No module named 'plotlib'"
    in_cell = [("import plotlib.pyplot as plt\ndef double(x):\n    plt.plot(x)\n    return 2 * x", True)]
    in_function = [("def double(x):\n    import plotlib\n    return 2 * x", True)]
    kept = [("from plotlib import fast_double\ndef double(x, helper=fast_double):\n    return helper(x)", True)]
    for index, cells in enumerate((in_cell, in_function, kept)):
        (tmp_path / str(index)).mkdir()
        outputs = _replayed(tmp_path / str(index), cells, stand_ins=HIDDEN)
        assert len(outputs) == 2 and all(missing in str(output) for output in outputs), (cells, outputs)


def test_a_library_the_kernel_could_not_import_stops_the_cell_as_it_did_there(tmp_path):
    cells = [("import plotlib\ndef double(x):\n    return 2 * x", True)]
    assert _replayed(tmp_path, cells, stand_ins=("tensorlib",)) == {"missing": "`double` is not defined"}


def test_an_import_a_library_makes_gets_no_stand_in(tmp_path):
    """A library's optional dependency is missing in the NumPy world, as where nothing else is installed."""
    cells = [("try:\n    exec(compile('import plotlib', '/site-packages/somelib/__init__.py', 'exec'), {})\n"
              "    found = 'a stand-in'\nexcept ImportError:\n    found = 'missing'\n"
              "def double(x):\n    return 2 * x if found == 'missing' else found", True)]
    assert _replayed(tmp_path, cells, stand_ins=HIDDEN) == [4, 10]


def test_the_graders_references_never_get_a_stand_in():
    """They are hidden from the kernel too: an import of them stopped the notebook's cell, and stops it here."""
    from autograder.sandbox.stand_ins import _Finder

    names = {"finder": _Finder(frozenset({"cnnkit"}))}
    asked = "specs = [finder.find_spec(name) for name in ('cnnkit.assignment', 'cnnkit.reference', 'cnnkit.checks.x')]"
    exec(compile(asked, "<cell 0>", "exec"), names)  # asked as a cell's import would ask
    assert [spec is not None for spec in names["specs"]] == [True, False, False]


def test_in_a_real_numpy_world_a_cell_importing_the_kernels_libraries_still_defines_its_function(tmp_path):
    """The sandbox hides every package but NumPy; the grader names what the kernel could import."""
    import pytest

    from autograder.pipeline.execute import Slot, _replayed
    from autograder.sandbox.isolation import detect, stand_in_modules
    from autograder.sandbox.limits import Limits

    if not detect().namespaces:
        pytest.skip("without namespaces the NumPy world hides nothing")
    names = set(stand_in_modules("numpy"))
    assert {"matplotlib", "keras", "cnnkit"} <= names and "numpy" not in names
    cells = [("import numpy as np\nimport matplotlib.pyplot as plt\nimport keras\n"
              "from cnnkit.assignment import BUDGET\n"
              "def double(x):\n    return int(np.multiply(x, 2))\nplt.plot([double(1)])", True)]
    replay = Replay("numpy", (ReplayNotebook("n0.ipynb", tuple(cells), (DOUBLE,), False),), 5.0, 20.0,
                    stand_in_modules("numpy"))
    replayed, _, _ = _replayed(replay, Limits(timeout=120, threads=1), Slot("test"), {}, (), (), None)
    result = json.loads(replayed[0][RESULT_FILE])["double_tests"]
    assert [decode_value(output["value"]) for output in result["outputs"]] == [4, 10], result
