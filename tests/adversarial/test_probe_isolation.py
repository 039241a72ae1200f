"""Adversarial: nothing but the student's own code computes a graded answer.

Real submissions graded by `cnnkit grade` in one batch, beside honest
controls. Each attack reaches for the grader's references (on a second
thread, through a copy of the package's files, from a builder) or for the
probe (kernel hooks that read its cases or rewrite its results, report lines
written to the sandbox's PID 1): each scores 0 on what it attacks and is
flagged. A correct student whose helper name a later instructor cell rebinds
keeps full marks, unflagged. The last tests look inside a sandbox: no module
there can produce a graded answer.
"""

import json
import subprocess
import sys

import pytest

from autograder import grade
from autograder.course.course import Course
from autograder.frontends.examples import EXAMPLES, NB1, NB2, Example, build_submission
from autograder.sandbox.isolation import detect, hidden_paths, run_sandboxed
from autograder.sandbox.limits import Limits

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

STUB = "    raise NotImplementedError()"
SOLUTION = {e.student: e for e in EXAMPLES}["solution"]
NB1_FUNCTIONS = ("correlate2d_tests", "convolve2d_tests", "conv2d_layer_tests")
NB2_SOLUTIONS = ("pool2d", "max_pool1d", "receptive_field", "build_gap_cnn", "build_lenet5", "batchnorm_forward",
                 "dropout_forward", "residual_block")
POOLING = ("max_pool2d_tests", "average_pool2d_tests", "max_pool1d_tests")


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
}
# a builder returning the package's model (through importlib: no import statement to scan)
PACKAGE_MODEL = Example(
    "package-model", "build_gap_cnn returns the reference's model", notebooks=(NB2,),
    answers={"build_gap_cnn": "def build_gap_cnn():\n    import importlib\n"
                              "    return importlib.import_module('cnnkit.' + 'reference.models').gap_cnn()"},
    skip=tuple(s for s in NB2_SOLUTIONS if s != "build_gap_cnn"))
HONEST = Example("honest", "the solution of notebook 1", notebooks=(NB1,), answers={}, edits={})
# a correct student whose pooling helper is called `pooled`, a name a later locked cell of notebook 2 rebinds
REBOUND = Example("rebound-helper", "correct pooling through a helper named `pooled`", notebooks=(NB2,),
                  edits={"pool2d": [("pool_windows", "pooled")]})


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    work = Course.working_copy(tmp_path_factory.mktemp("probe-isolation") / "course")
    for example in (HONEST, REBOUND, PACKAGE_MODEL, *ATTACKS.values()):
        work.submit(example.student, build_submission(example, work))
    run = grade("cnn", course=work.root, limits=Limits(cell_timeout=120, timeout=600), workers=2, progress=False,
                echo=lambda line: None)
    return run.results


def _cells(result):
    return {cell.grade_id: cell for cell in result.cells}


def test_the_honest_controls_keep_full_marks_unflagged(batch):
    honest = _cells(batch["honest"])
    assert all(honest[g].score == honest[g].max_score for g in NB1_FUNCTIONS), batch["honest"].cells
    assert batch["honest"].flags == ()
    rebound = _cells(batch["rebound-helper"])
    assert all(rebound[g].score == rebound[g].max_score for g in POOLING), [rebound[g] for g in POOLING]
    assert batch["rebound-helper"].flags == (), batch["rebound-helper"].flags


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_each_attack_on_a_function_scores_zero_and_is_flagged(batch, student):
    cells = _cells(batch[student])
    for grade_id in NB1_FUNCTIONS:
        assert cells[grade_id].score == 0, (student, grade_id, cells[grade_id].feedback)
    assert batch[student].flags, f"{student} was not flagged"


def test_the_reference_is_named_where_it_was_reached_for(batch):
    flags = " ".join(batch["reference-thread"].flags)
    assert "`correlate2d` calls cnnkit's reference" in flags, flags
    feedback = _cells(batch["reference-thread"])["correlate2d_tests"].feedback
    assert "uses cnnkit's reference" in feedback, feedback


def test_a_builder_returning_the_package_model_scores_zero_and_is_flagged(batch):
    cell = _cells(batch["package-model"])["gap_cnn_tests"]
    assert cell.score == 0, cell.feedback
    assert any("cnnkit.reference" in flag for flag in batch["package-model"].flags), batch["package-model"].flags


def test_report_lines_written_to_pid1_are_flagged_and_count_for_nothing(batch):
    assert any("report channel" in flag for flag in batch["pid1-stdout"].flags), batch["pid1-stdout"].flags


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
          "def spec_cnn", "def gap_cnn", "def lenet5", "def residual_block", "def strong_cnn", "def receptive_field(")
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
