"""Adversarial, in one batch: only the student's own code computes a graded
answer, and no submission can stop or swamp the grader.

Real submissions, downloaded from an LMS as one zip, graded by `cnnkit grade`
in one batch beside honest controls (one imports other libraries above a
NumPy function, in its cell). Each attack, one per mechanism, reaches
for the grader's references (on a second thread, through a copy of the
package's files, from a builder), for the probe (kernel hooks that read its
cases or rewrite its results, report lines written to the sandbox's PID 1), for
the model checks (an MLP trained longer as the spec, smuggled constant
weights, a model the cost count could miss, model files built to exhaust the
verifier's memory) or for the grader itself (a deeply
nested notebook, a bad CRC, a zip bomb, a flood on the report pipe): each
scores 0 on what it attacks (or is refused with the reason), is flagged, and
the batch runs on with the grader's memory bounded. A correct student whose
helper name a later instructor cell rebinds keeps full marks, unflagged. The
last tests look inside a sandbox: no module there can produce a graded answer.
"""

import json
import resource
import subprocess
import sys
import zipfile

import nbformat
import pytest

from autograder import grade
from autograder.course.course import Course
from autograder.frontends.examples import EXAMPLES, NB1, NB2, NB3, Example, build_submission
from autograder.sandbox.isolation import detect, hidden_paths, run_sandboxed
from autograder.sandbox.limits import Limits

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

STUB = "    raise NotImplementedError()"
SOLUTION = {e.student: e for e in EXAMPLES}["solution"]
NB1_FUNCTIONS = ("correlate2d_tests", "convolve2d_tests", "conv2d_layer_tests")
NB2_SOLUTIONS = ("pool2d", "max_pool1d", "receptive_field", "build_gap_cnn", "build_lenet5", "batchnorm_forward",
                 "dropout_forward", "residual_block")
POOLING = ("max_pool2d_tests", "average_pool2d_tests", "max_pool1d_tests")
FLOOD = 300 * 1000**2


def _nb1(student, prefix, **answers):
    """Notebook 1 with the stubs (unless given), the attack's code in the first solution cell."""
    stubs = {"correlate2d": "def correlate2d(image, kernel):\n" + STUB,
             "convolve2d": "def convolve2d(image, kernel):\n" + STUB,
             "conv2d_layer": "def conv2d_layer(x, kernel, bias, stride, padding):\n" + STUB}
    stubs.update(answers)
    stubs["correlate2d"] = prefix + "\n\n" + stubs["correlate2d"]
    skip = ("output_length", "conv1d_signal", "params")
    return Example(student, "attack", notebooks=(NB1,), answers=stubs, skip=skip)


ATTACKS = {
    # the reference called on a second thread, where a one-thread profiler would not look
    "reference-thread": _nb1(
        "reference-thread", "import threading",
        correlate2d="def correlate2d(image, kernel):\n    out = {}\n    def work():\n"
                    "        try:\n            ref = __import__('cnnkit.refer' + 'ence', fromlist=['x'])\n"
                    "            out['value'] = ref.correlate2d(image, kernel)\n"
                    "        except Exception as error:\n            out['error'] = error\n"
                    "    thread = threading.Thread(target=work)\n    thread.start()\n    thread.join()\n"
                    "    if 'error' in out:\n        raise out['error']\n    return out['value']"),
    # a renamed copy of the package's files, imported under another name
    "renamed-copy": _nb1(
        "renamed-copy", "import os, shutil, sys, importlib\nimport cnnkit\n"
        "source = os.path.join(os.path.dirname(cnnkit.__file__), 're' + 'ference')\n"
        "shutil.copytree(source, os.path.expanduser('~/mykit'), dirs_exist_ok=True)\n"
        "sys.path.insert(0, os.path.expanduser('~'))",
        convolve2d="def convolve2d(image, kernel):\n    return importlib.import_module('mykit.conv').convolve2d(image, kernel)"),
    # kernel hooks: one reads every cell the kernel runs (the probe's cases, where it ran there), one rewrites
    # the probe's result file after every cell with answers from the reference
    "hook-cases-and-results": _nb1(
        "hook-cases-and-results", "import json, os\nip = get_ipython()\nseen = []\n"
        "def _read(info):\n    seen.append(info.raw_cell)\n"
        "def _rewrite(result):\n    os.makedirs('.cnnkit-probe', exist_ok=True)\n"
        "    with open('.cnnkit-probe/result.json', 'w') as handle:\n"
        "        json.dump({'correlate2d_tests': {'outputs': [{'value': seen[-1:]}]}}, handle)\n"
        "ip.events.register('pre_run_cell', _read)\nip.events.register('post_run_cell', _rewrite)"),
    # report lines written to the sandbox's PID 1, which holds the grader's pipe
    "pid1-stdout": _nb1(
        "pid1-stdout", "import json\nline = json.dumps({'notebook': '01_convolution.ipynb', 'files': {'result.json': ''}})\n"
        "try:\n    with open('/proc/1/fd/1', 'w') as out:\n        out.write(line + '\\n')\n"
        "except OSError as error:\n    print('refused', error)"),
    # a flood on that pipe, to swamp the grader's memory
    "stdout-flood": _nb1(
        "stdout-flood", f"chunk = b'x' * 1_000_000\ntry:\n    with open('/proc/1/fd/1', 'wb') as out:\n"
        f"        for _ in range({FLOOD // 1_000_000}):\n            out.write(chunk)\n"
        "except OSError as error:\n    print('refused', error)"),
}
NB3_UNDONE = ("standardise", "build_spec_cnn", "train_spec", "predict_classes", "build_improved_model", "train_improved")
# the spec's cell trains an MLP for longer, on training and validation rows; "improve it" smuggles constant weights
MODELS = Example(
    "models", "an MLP trained longer as the spec CNN; constant, frozen weights in the improved model", notebooks=(NB3,),
    answers={"train_spec": "BUDGET.update(epochs=20)\nkeras.utils.set_random_seed(0)\n"
                           "spec_model = keras.Sequential([keras.Input((178, 1)), keras.layers.Flatten(),\n"
                           "    keras.layers.Dense(64, activation='relu'), keras.layers.Dense(5)])\n"
                           "spec_model.compile(optimizer='adam', loss=keras.losses.SparseCategoricalCrossentropy("
                           "from_logits=True))\nspec_model.fit(np.concatenate([x_train, x_val]), "
                           "np.concatenate([y_train, y_val]), epochs=BUDGET['epochs'], batch_size=128, verbose=0)",
             "build_improved_model": "def build_improved_model():\n    weights = np.full((178, 5), 0.01, 'float32')\n"
                                     "    dense = keras.layers.Dense(5, kernel_initializer="
                                     "keras.initializers.Constant(weights))\n    dense.trainable = False\n"
                                     "    return keras.Sequential([keras.Input((178, 1)), keras.layers.Flatten(), dense])"},
    skip=("predict_classes", "train_improved"))
# a model whose real cost grows with the square of its size, with few weights: upsampling, then a long pooling window
UNDERCOUNTED = Example(
    "undercounted", "an improved model that is cheap in weights and dear in work", notebooks=(NB3,),
    answers={"build_improved_model": "def build_improved_model():\n    from keras import layers\n"
                                     "    return keras.Sequential([keras.Input((178, 1)), layers.UpSampling1D(32),\n"
                                     "        layers.MaxPooling1D(2000, strides=1, padding='same'), layers.Conv1D(8, 5),\n"
                                     "        layers.GlobalAveragePooling1D(), layers.Dense(5)])"},
    skip=tuple(s for s in NB3_UNDONE if s != "build_improved_model"))
# a builder returning the package's model (through importlib: no import statement to scan)
PACKAGE_MODEL = Example(
    "package-model", "build_gap_cnn returns the reference's model", notebooks=(NB2,),
    answers={"build_gap_cnn": "def build_gap_cnn():\n    import importlib\n"
                              "    return importlib.import_module('cnnkit.' + 'reference.models').gap_cnn()"},
    skip=tuple(s for s in NB2_SOLUTIONS if s != "build_gap_cnn"))
# model files built to exhaust the verifier's memory: every model this notebook saves goes through a patched
# `save` that makes a trained model's weights file a zip bomb (200 MB of zeros, deflated to about 200 kB) and an
# untrained model's config declare billions of weights (a few bytes changed; building them would take terabytes)
BOMBS_PATCH = """import json as _json, zipfile as _zipfile
_save = keras.Model.save
def _bombed(self, filepath, *args, **kwargs):
    _save(self, filepath, *args, **kwargs)
    with _zipfile.ZipFile(filepath) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    trained = getattr(self, 'optimizer', None) is not None and int(self.optimizer.iterations.numpy()) > 0
    if not trained:
        config = _json.loads(files['config.json'])
        config['config']['layers'][-1]['config']['units'] = 10 ** 10
        files['config.json'] = _json.dumps(config).encode()
    with _zipfile.ZipFile(filepath, 'w', _zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            padding = bytes(200_000_000) if trained and name == 'model.weights.h5' else b''
            archive.writestr(name, content + padding)
keras.Model.save = _bombed
"""
MODEL_BOMBS = Example(
    "model-bombs", "saved models built to exhaust the verifier's memory", notebooks=(NB3,),
    edits={"build_spec_cnn": [("def build_spec_cnn():", BOMBS_PATCH + "def build_spec_cnn():")]})
HONEST = Example("honest", "the solution of notebook 1", notebooks=(NB1,), answers={}, edits={})
# a correct student who imports the kernel's libraries (none of them NumPy) at the top of a NumPy function's cell
IMPORTS = Example("imports-in-cells", "the solution of notebook 1, with other libraries imported above a function",
                  notebooks=(NB1,), edits={"correlate2d": [(
                      "def correlate2d(image, kernel):",
                      "import matplotlib.pyplot as plt\nimport tensorflow as tf\nfrom cnnkit.assignment import BUDGET\n"
                      "plt.rcParams['image.cmap'] = 'gray'\ndef correlate2d(image, kernel):")]})
# a correct student who times and hides the output of answer cells with IPython's cell magics and keeps a shell line
MAGICS = Example("cell-magics", "the solution of notebook 1, with %%time, %%capture, %time and ! lines in answer cells",
                 notebooks=(NB1,), edits={
                     "correlate2d": [("def correlate2d(image, kernel):", "%%time\ndef correlate2d(image, kernel):")],
                     "convolve2d": [("def convolve2d(image, kernel):", "%%capture shown\ndef convolve2d(image, kernel):")],
                     "output_length": [("def output_length(n, kernel_size, stride, padding):",
                                        "!pip install numpy\n%time warmed = [0] * 3\n"
                                        "def output_length(n, kernel_size, stride, padding):")]})
# a correct student whose pooling helper is called `pooled`, a name a later locked cell of notebook 2 rebinds
REBOUND = Example("rebound-helper", "correct pooling through a helper named `pooled`", notebooks=(NB2,),
                  edits={"pool2d": [("pool_windows", "pooled")]})


def _lms_zip(path, work):
    """Everyone's notebooks in one LMS download, a folder per student, with the broken entries a batch can hold."""
    honest = build_submission(HONEST, work)[NB1]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for example in (HONEST, IMPORTS, MAGICS, REBOUND, PACKAGE_MODEL, MODELS, UNDERCOUNTED, MODEL_BOMBS,
                        *ATTACKS.values()):
            for name, notebook in build_submission(example, work).items():
                archive.writestr(f"{example.student}/{name}", nbformat.writes(notebook))
        # nested past any notebook's depth, stored uncompressed so that only its depth gives it away
        deep = b'{"cells": ' + b"[" * 5_000 + b"]" * 5_000 + b', "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
        archive.writestr("deep-notebook/01_convolution.ipynb", deep, compress_type=zipfile.ZIP_STORED)
        archive.writestr("zip-bomb/01_convolution.ipynb",
                         nbformat.writes(honest)[:-2] + ', "padding": "' + "0" * 40_000_000 + '"}')
        archive.writestr("bad-crc/01_convolution.ipynb", nbformat.writes(honest))
    data = bytearray(path.read_bytes())
    entry = b"bad-crc/01_convolution.ipynb"
    offset = data.find(entry) + len(entry)  # the entry's compressed bytes follow its local header's name
    data[offset + 4] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("one-batch")
    work = Course.working_copy(folder / "course")
    download = _lms_zip(folder / "download.zip", work)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    run = grade("cnn", course=work.root, submissions=download, limits=Limits(cell_timeout=120, timeout=600),
                workers=2, progress=False, echo=lambda line: None)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    return {"results": run.results, "refused": run.refused, "grown": grown}


def _cells(result):
    return {cell.grade_id: cell for cell in result.cells}


def test_the_honest_controls_keep_full_marks_unflagged(batch):
    results = batch["results"]
    honest = _cells(results["honest"])
    assert all(honest[g].score == honest[g].max_score for g in NB1_FUNCTIONS), results["honest"].cells
    assert results["honest"].flags == ()
    imports = _cells(results["imports-in-cells"])  # the functions that call correlate2d depend on it too
    assert all(imports[g].score == imports[g].max_score for g in NB1_FUNCTIONS + ("learn_kernel_tests",)), \
        results["imports-in-cells"].cells
    assert results["imports-in-cells"].flags == (), results["imports-in-cells"].flags
    magics = _cells(results["cell-magics"])  # the replay runs what IPython runs of a magic's cell
    assert all(magics[g].score == magics[g].max_score
               for g in NB1_FUNCTIONS + ("output_length_tests", "conv1d_signal_tests", "learn_kernel_tests")), \
        results["cell-magics"].cells
    rebound = _cells(results["rebound-helper"])
    assert all(rebound[g].score == rebound[g].max_score for g in POOLING), [rebound[g] for g in POOLING]
    assert results["rebound-helper"].flags == (), results["rebound-helper"].flags


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_each_attack_on_a_function_scores_zero_and_is_flagged(batch, student):
    cells = _cells(batch["results"][student])
    for grade_id in NB1_FUNCTIONS:
        assert cells[grade_id].score == 0, (student, grade_id, cells[grade_id].feedback)
    assert batch["results"][student].flags, f"{student} was not flagged"


def test_the_reference_is_named_where_it_was_reached_for(batch):
    result = batch["results"]["reference-thread"]
    assert "`correlate2d` calls cnnkit's reference" in " ".join(result.flags), result.flags
    assert "uses cnnkit's reference" in _cells(result)["correlate2d_tests"].feedback


def test_a_builder_returning_the_package_model_scores_zero_and_is_flagged(batch):
    result = batch["results"]["package-model"]
    assert _cells(result)["gap_cnn_tests"].score == 0, _cells(result)["gap_cnn_tests"].feedback
    assert any("cnnkit.reference" in flag for flag in result.flags), result.flags


def test_report_lines_and_a_flood_on_pid1_are_flagged_and_the_grader_stays_small(batch):
    assert any("report channel" in flag for flag in batch["results"]["pid1-stdout"].flags)
    assert any("report channel" in flag for flag in batch["results"]["stdout-flood"].flags)
    assert batch["grown"] < FLOOD, f"the grader grew by {batch['grown'] / 1e6:.0f} MB"


def test_models_are_judged_for_what_they_are(batch):
    models = batch["results"]["models"]
    cells = _cells(models)
    assert cells["spec_trained_tests"].score == 0 and cells["improved_trained_tests"].score == 0, models.cells
    flags = " ".join(models.flags)
    assert "spec_model" in flags and "initialiser holding an array" in flags, flags
    undercounted = batch["results"]["undercounted"]
    cell = _cells(undercounted)["improved_trained_tests"]
    assert cell.score == 0 and "multiply-adds per row, over the budget" in cell.feedback, cell.feedback
    assert any("over the budget" in flag for flag in undercounted.flags), undercounted.flags


def test_inputs_that_would_stop_a_run_are_that_submissions_alone(batch):
    deep = batch["results"]["deep-notebook"]
    assert deep.status == "malformed" and deep.score == 0 and any("nested more than" in f for f in deep.flags)
    refused = batch["refused"]  # one line each, shown to the TA
    assert any("zip-bomb" in line and "zip bomb" in line for line in refused), refused
    assert any("bad-crc" in line for line in refused), refused
    assert "bad-crc" not in batch["results"] and "zip-bomb" not in batch["results"]
    assert len(batch["results"]) == 5 + 3 + 1 + len(ATTACKS), sorted(batch["results"])


def test_model_files_built_to_exhaust_memory_are_refused_before_they_are_built_or_unpacked(batch):
    """The submission is graded (not stopped for the verifier's memory): each bombed model scores 0 with the
    reason, the zip bomb is flagged, and what has no model keeps its marks."""
    result = batch["results"]["model-bombs"]
    cells = _cells(result)
    assert result.status == "graded", (result.status, result.flags)
    assert cells["standardise_tests"].score == cells["standardise_tests"].max_score, cells["standardise_tests"]
    trained = cells["spec_trained_tests"]
    assert trained.score == 0 and "model.weights.h5 unpacks to" in trained.feedback, trained.feedback
    assert any("zip bomb" in flag for flag in result.flags), result.flags
    improved = cells["improved_trained_tests"]
    assert improved.score == 0 and "parameters; the grader builds models of at most" in improved.feedback, \
        improved.feedback


# ------------------------------------------------------------ inside a sandbox

_LOOK = r"""
import importlib, json, pathlib, sys
found = {}
for module in ("cnnkit.reference.conv", "cnnkit.reference.pooling", "cnnkit.reference.models",
               "cnnkit.checks.functions", "autograder.verifier", "keras", "scipy"):
    try:
        importlib.import_module(module)
        found[module] = True
    except Exception:
        found[module] = False
graded = ("def correlate2d", "def convolve2d", "def conv2d(", "def max_pool2d", "def batch_norm", "def dropout(",
          "def spec_cnn", "def gap_cnn", "def lenet5", "def residual_block", "def strong_cnn", "def bn_cnn",
          "def receptive_field(")
holders = []
for root in sys.path:
    folder = pathlib.Path(root or ".")
    if not folder.is_dir():
        continue
    for path in folder.rglob("*.py"):
        try:
            text = path.read_text(errors="ignore")
        except OSError:
            continue
        if "cnnkit" in str(path) or "autograder" in str(path):
            holders += [f"{path}: {name}" for name in graded if name in text]
print(json.dumps({"imports": found, "holders": holders}))
"""


@pytest.mark.parametrize("world", ["keras", "numpy"])
def test_no_module_where_student_code_runs_holds_a_graded_answer(tmp_path, world):
    if not detect().namespaces:
        pytest.skip("without namespaces the sandbox cannot hide the references (the run's first line says so)")
    job, out = tmp_path / "job", tmp_path / "out"
    job.mkdir()
    out.mkdir()
    (job / "passwd").write_text("student:x:65534:65534::/home/student:/bin/sh\n")
    run = run_sandboxed(["python", "-c", _LOOK], job_dir=job, out_dir=out, limits=Limits(timeout=300).with_threads(1),
                        world=world)
    seen = json.loads(run.stdout.decode().strip().splitlines()[-1])
    # (an emptied folder may still import as an empty namespace package: nothing inside it does)
    assert not any(seen["imports"][m] for m in ("cnnkit.reference.conv", "cnnkit.reference.pooling",
                                                 "cnnkit.reference.models", "cnnkit.checks.functions",
                                                 "autograder.verifier")), seen["imports"]
    assert seen["holders"] == [], seen["holders"]
    assert seen["imports"]["keras"] is (world == "keras")
    assert seen["imports"]["scipy"] is False or world == "keras"


def test_the_reference_is_there_for_the_grader(tmp_path):
    hidden, _ = hidden_paths("keras")
    done = subprocess.run([sys.executable, "-c", "import cnnkit.reference, cnnkit.checks; print('ok')"],
                          capture_output=True, text=True)
    assert done.stdout.strip() == "ok" and any(path.endswith("reference") for path in hidden)
