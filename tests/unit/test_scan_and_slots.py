"""The static scan (trusted: reads code, never runs it) and the worker slots."""

import dataclasses

import nbformat
import pytest

from autograder.pipeline.dispatch import slots
from autograder.pipeline.execute import kernel_devices
from autograder.sandbox.limits import WorkerPlan
from autograder.verifier.plan import Check, NotebookPlan
from autograder.verifier.scan import scan

PLAN = NotebookPlan("nb.ipynb", (Check("conv_tests", 4, "function", "conv2d_layer", "conv2d_layer"),
                                 Check("spec_tests", 2, "spec", "build_model", "spec_cnn")),
                    locked={"given": "import numpy as np"}, numpy_only=frozenset({"conv2d_layer"}))


def _notebook(*sources, given="import numpy as np"):
    notebook = nbformat.v4.new_notebook()
    locked = nbformat.v4.new_code_cell(given)
    locked.metadata["nbgrader"] = {"grade_id": "given", "locked": True}
    notebook.cells = [locked] + [nbformat.v4.new_code_cell(source) for source in sources]
    for grade_id in ("conv_tests", "spec_tests"):
        cell = nbformat.v4.new_code_cell("check(...)")
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": True, "points": 4 if grade_id == "conv_tests" else 2}
        notebook.cells.append(cell)
    return notebook


def _scan(*sources, **kw):
    notebook = _notebook(*sources, **kw)
    return scan(notebook, notebook, PLAN)


def test_plain_numpy_code_is_clean():
    report = _scan("def conv2d_layer(x, kernel, bias, stride, padding):\n    return np.zeros(3)",
                   "import keras\ndef build_model():\n    return keras.Sequential([])")
    assert report.reference == {} and report.frameworks == {} and report.flags == ()


@pytest.mark.parametrize("source", [
    "import cnnkit\ndef conv2d_layer(x, k, b, s, p):\n    return cnnkit.reference.conv2d(x, k, b, strides=s, padding=p)",
    "from cnnkit.reference import conv2d as mine\ndef conv2d_layer(x, k, b, s, p):\n    return mine(x, k, b)",
    "import cnnkit.reference.conv as c\ndef helper(x):\n    return c.conv2d(x)\ndef conv2d_layer(x, k, b, s, p):\n    return helper(x)",
    "import cnnkit\nconv2d_layer = cnnkit.reference.conv2d",
    "import cnnkit.reference\nref = cnnkit.reference\nconv2d_layer = lambda *a: ref.conv2d(*a)",
])
def test_the_reference_under_any_name_is_found(source):
    report = _scan(source)
    assert report.reference["conv2d_layer"].startswith("cnnkit.reference.conv"), report
    assert any("uses cnnkit's reference" in flag for flag in report.flags)


def test_a_builder_returning_the_reference_model_is_found_but_student_helpers_are_allowed():
    report = _scan("from cnnkit.reference import models\ndef build_model():\n    return models.spec_cnn()",
                   "from cnnkit.assignment import BUDGET, seizure_data\nfrom cnnkit.training import classification_metrics")
    assert report.reference == {"build_model": "cnnkit.reference.models.spec_cnn"}


def test_keras_in_a_numpy_exercise_and_dynamic_code_are_flagged():
    report = _scan("import tensorflow as tf\ndef conv2d_layer(x, k, b, s, p):\n    return tf.nn.conv2d(x, k, s, p)",
                   "exec('x = 1')\nget_ipython().events.register('pre_run_cell', print)\nimport sys\nsys.modules['numpy'] = None",
                   "open('/home/student/../gradebook.db')")
    assert report.frameworks == {"conv2d_layer": "tensorflow"}
    flags = " ".join(report.flags)
    for words in ("exec()", "get_ipython()", "sys.modules", "grader's files ('gradebook')"):
        assert words in flags, flags


def test_a_parameter_or_local_named_like_an_imported_module_is_not_that_module():
    """`from keras import layers` above `def receptive_field(layers)`, a common pairing in a Keras notebook: the
    function reads its own argument, and nothing is flagged."""
    report = _scan("from keras import layers\nimport tensorflow as tf\n"
                   "def conv2d_layer(x, layers, b, s, p):\n    tf = np.asarray(x)\n"
                   "    return [layer.kernel_size for layer in layers] + [tf.sum()]")
    assert report.frameworks == {} and report.flags == (), report


@pytest.mark.parametrize("source, framework", [
    ("import tensorflow as tf\ndef conv2d_layer(x, k, b, s, p, tf=tf):\n    return tf.nn.conv2d(x, k, s, p)",
     "tensorflow"),
    ("from keras import layers\ndef conv2d_layer(x, k, b, s, p):\n    out = layers.Conv2D(3, 3)(x)\n    return out",
     "keras"),
    ("def conv2d_layer(x, k, b, s, p):\n    import tensorflow as tf\n    return tf.nn.conv2d(x, k, s, p)", "tensorflow"),
    ("import tensorflow as tf\ndef conv2d_layer(x, k, b, s, p):\n    global tf\n    return tf.nn.conv2d(x, k, s, p)",
     "tensorflow"),
    ("import tensorflow as tf\nconv2d_layer = lambda x, k, b, s, p: tf.nn.conv2d(x, k, s, p)", "tensorflow"),
])
def test_a_module_reached_through_a_default_an_import_inside_or_a_global_is_still_found(source, framework):
    assert _scan(source).frameworks == {"conv2d_layer": framework}


def test_patching_a_module_is_flagged_but_setting_attributes_of_objects_is_not():
    flags = " ".join(_scan("import numpy as np\nnp.allclose = lambda *a, **k: True",
                           "import json\nsetattr(json, 'dump', print)").flags)
    assert "patches the module numpy (numpy.allclose = ...)" in flags and "patches the module json" in flags
    assert _scan("import numpy as np\nx = np.zeros(3)\nx.shape = (3, 1)\nimport pandas as pd\n"
                 "pd.options.display.max_rows = 5").flags == ()


def test_edits_to_locked_cells_and_points_are_flagged():
    submitted = _notebook("x = 1", given="import numpy as np\nnp.allclose = lambda *a: True")
    submitted.cells[-2].metadata["nbgrader"]["points"] = 40
    del submitted.cells[-1]
    flags = " ".join(scan(submitted, _notebook("x = 1"), PLAN).flags)
    assert "locked cell 'given' was edited" in flags
    assert "points of 'conv_tests' were changed to 40" in flags
    assert "spec_tests" not in flags, "a deleted graded cell is prepare's to put back and say"


def test_a_locked_cell_saved_with_windows_line_ends_is_not_an_edit():
    """Some editors save every cell with CRLF line ends: before, every locked cell was flagged as edited."""
    given = "import numpy as np\nimport math"
    plan = dataclasses.replace(PLAN, locked={"given": given})
    submitted = _notebook("x = 1", given=given.replace("\n", "\r\n") + "\r\n")
    assert not any("was edited" in flag for flag in scan(submitted, _notebook("x = 1"), plan).flags)
    edited = _notebook("x = 1", given=given.replace("math", "os").replace("\n", "\r\n"))
    assert any("was edited" in flag for flag in scan(edited, _notebook("x = 1"), plan).flags)


def test_magics_and_syntax_errors_do_not_stop_the_scan():
    report = _scan("%matplotlib inline\n!ls\nimport cnnkit\nconv2d_layer = cnnkit.reference.conv2d", "def broken(:")
    assert "conv2d_layer" in report.reference


@pytest.mark.parametrize("source", [
    "files = !ls\nimport numpy as np\nnp.allclose = lambda *a, **k: True",  # before: one line hid the whole cell
    "import numpy as np\n%time np.allclose = lambda *a, **k: True",
    "import numpy as np\nsame = %timeit -o (np.allclose := None)\n%time np.allclose = print",
    "%%capture\n%%time\nimport numpy as np\nnp.allclose = lambda *a, **k: True",
    "%%writefile helper.py\nimport numpy as np\nnp.allclose = lambda *a, **k: True",
])
def test_code_inside_ipython_syntax_is_read_as_the_kernel_runs_it(source):
    """The scan reads a cell as IPython runs it: code in timing magics and `%%writefile` modules is read, and a
    shell or magic line in the cell does not make the rest unreadable."""
    flags = " ".join(_scan(source).flags)
    assert "patches the module numpy (numpy.allclose = ...)" in flags, flags
    assert "get_ipython" not in flags, "IPython's own transformation is not the student's get_ipython()"


def test_magics_alone_are_not_flagged_but_a_students_own_get_ipython_is():
    assert _scan("%matplotlib inline\n%load_ext autoreload\nx = !ls\n!pip install numpy\nnp.zeros?",
                 "%%bash\necho np.allclose = 1").flags == ()
    assert "uses get_ipython()" in " ".join(_scan("%matplotlib inline\nget_ipython().events.register('x', print)").flags)


@pytest.mark.parametrize("source", [
    "from IPython.display import display, Markdown, clear_output\ndisplay(Markdown('**done**'))\nclear_output(wait=True)",
    "import IPython\nIPython.display.display(1)",
    "import IPython.display as ipd\nipd.Audio([0.0, 1.0], rate=173)\nfrom IPython import display\ndisplay.HTML('<b>x</b>')",
])
def test_showing_results_with_ipythons_display_api_is_not_flagged(source):
    """`IPython.display` shows things (before: 'uses IPython', a review flag on many honest notebooks); the kernel's
    hooks are still flagged."""
    assert _scan(source).flags == ()


@pytest.mark.parametrize("source, words", [
    ("import IPython\nIPython.get_ipython().events.register('post_run_cell', print)", "uses IPython"),
    ("from IPython.core.interactiveshell import InteractiveShell\nInteractiveShell.instance()", "uses IPython"),
    ("import IPython\nIPython.display = None", "patches the module IPython"),
    ("from IPython.display import display\ndisplay({'application/vnd.cnnkit.evidence+json': {'score': 4}}, raw=True)",
     "writes the grader's evidence type"),
])
def test_ipythons_hooks_and_forged_evidence_are_still_flagged(source, words):
    assert words in " ".join(_scan(source).flags)


def test_code_past_what_is_read_is_flagged_not_parsed():
    from autograder.verifier.scan import MAX_READ

    report = _scan("import cnnkit\nconv2d_layer = cnnkit.reference.conv2d", "x = 1\n" * (MAX_READ // 6 + 10))
    flags = " ".join(report.flags)
    assert "more than 5 MB of code (the rest is not read) in cell 3" in flags, flags
    assert "conv2d_layer" in report.reference, "what came before is read"


def test_workers_get_their_own_cores_and_share_the_gpus(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3})
    made = slots(WorkerPlan(2, 2, 4, ""), gpus=(0,))
    assert [s.cpus for s in made] == [(0, 1), (2, 3)] and [s.device for s in made] == ["gpu:0", "gpu:0"]
    made = slots(WorkerPlan(4, 1, 4, ""), gpus=(0, 1))
    assert [s.device for s in made] == ["gpu:0", "gpu:1", "gpu:0", "gpu:1"]
    assert [s.device for s in slots(WorkerPlan(3, 1, 4, ""))] == ["cpu"] * 3


def test_the_kernels_see_the_gpu_only_when_asked(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    default, asked = slots(WorkerPlan(1, 2, 4, ""), gpus=(1,))[0], slots(WorkerPlan(1, 2, 4, ""), gpus=(1,), kernels_gpu=True)[0]
    assert default.device == asked.device == "gpu:1"  # the verifier's trainings use it either way
    assert kernel_devices(default) == ({}, ())  # the sandbox's environment hides every GPU
    env, _ = kernel_devices(asked)
    assert env == {"CUDA_VISIBLE_DEVICES": "1"}
    assert kernel_devices(slots(WorkerPlan(1, 2, 4, ""), kernels_gpu=True)[0]) == ({}, ())


def test_what_the_sandbox_denied_is_flagged_with_its_evidence():
    import nbformat

    from autograder.verifier.evidence import denials

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("open('/out/../x', 'w')", outputs=[nbformat.v4.new_output(
            "error", ename="OSError", evalue="[Errno 30] Read-only file system: '/usr/x'", traceback=[])]),
        nbformat.v4.new_code_cell("try: kill\nexcept: print", outputs=[nbformat.v4.new_output(
            "stream", name="stdout", text="refused [Errno 1] Operation not permitted\n")]),
        nbformat.v4.new_code_cell("print('fine')", outputs=[nbformat.v4.new_output(
            "stream", name="stdout", text="fine\n")]),
    ])
    found = denials(notebook)
    assert len(found) == 2
    assert found[0].startswith("cell 1 was denied by the sandbox ([Errno 30] Read-only file system")
    assert "cell 2" in found[1] and "Operation not permitted" in found[1]


def test_a_missing_name_is_explained_by_the_first_error_the_students_cells_raised_before_its_test():
    """Only the student's cells are quoted (an instructor's traceback could quote hidden code), and only their
    error's name and message, on one line."""
    import nbformat

    from autograder.verifier.evidence import first_errors

    def cell(source, meta=None, error=None):
        made = nbformat.v4.new_code_cell(source, outputs=[nbformat.v4.new_output(
            "error", ename=error[0], evalue=error[1], traceback=["hidden = 'never shown'"])] if error else [])
        made.metadata["nbgrader"] = meta or {}
        return made

    notebook = nbformat.v4.new_notebook(cells=[
        cell("import numpy as np", {"grade_id": "setup", "locked": True}, ("ImportError", "an instructor's cell")),
        cell("x = 1", {"grade_id": "first_tests", "grade": True, "points": 1}),
        cell("scale = 1 / kernal\ndef f(): pass", {"grade_id": "answer", "solution": True},
             ("NameError", "name 'kernal'\nis not defined")),
        cell("g()", error=("NameError", "a later error, not the first")),
        cell("pass", {"grade_id": "answer_tests", "grade": True, "points": 2}),
    ])
    assert first_errors(notebook) == {"answer_tests": "NameError in cell 'answer': name 'kernal' is not defined"}
