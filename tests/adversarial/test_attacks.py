"""Adversarial: real submissions that attack the grading itself, graded by
`cnnkit grade` with the real assignment, in one batch beside an honest
submission. Each attack scores 0 on what it attacks and is flagged; the
honest submission gets full marks, unflagged."""

import json
from dataclasses import replace

import nbformat
import pytest

from autograder import grade
from autograder.course.course import Course
from autograder.frontends.examples import EXAMPLES, NB1, NB3, Example, build_submission
from autograder.sandbox.limits import Limits
from autograder.pipeline.record import ResultsLog

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

STUB = "    raise NotImplementedError()"
SOLUTION = {e.student: e for e in EXAMPLES}["solution"]
NB1_GRADED = ("correlate2d_tests", "convolve2d_tests", "output_length_tests", "conv2d_layer_tests",
              "conv1d_signal_tests", "conv_params_tests", "dense_params_tests")


def _nb1(student, first_cell_prefix="", **answers):
    """Notebook 1 answered with the stubs (unless given), attack code first."""
    stubs = {"correlate2d": "def correlate2d(image, kernel):\n" + STUB,
             "convolve2d": "def convolve2d(image, kernel):\n" + STUB,
             "output_length": "def output_length(n, kernel_size, stride, padding):\n" + STUB,
             "conv2d_layer": "def conv2d_layer(x, kernel, bias, stride, padding):\n" + STUB,
             "conv1d_signal": "def conv1d_signal(signal, kernel):\n" + STUB,
             "params": "def conv_params(kernel_size, in_channels, filters):\n" + STUB +
                       "\n\ndef dense_params(in_features, units):\n" + STUB}
    stubs.update(answers)
    stubs["correlate2d"] = first_cell_prefix + "\n\n" + stubs["correlate2d"]
    return Example(student, "attack", notebooks=(NB1,), answers=stubs)


ATTACKS = {
    # (a) patch cnnkit's checks so the hidden tests report full marks
    "patch-checks": _nb1("patch-checks", "import cnnkit.checks, cnnkit.checks.functions\n"
                         "def _full(name, fn, *, points=1.0, **kw):\n    print('matches the reference on every case')\n"
                         "    return float(points)\n"
                         "cnnkit.checks.check_function = _full\ncnnkit.checks.functions.check_function = _full"),
    # (b) patch NumPy and builtins so every comparison passes
    "patch-numpy": _nb1("patch-numpy", "import numpy as np, builtins\nnp.allclose = lambda *a, **k: True\n"
                        "np.isclose = lambda *a, **k: True\nbuiltins.NotImplementedError = type('Quiet', (Exception,), {})"),
    # (c) an IPython input transformer that replaces every hidden test by a full score
    "rewrite-tests": _nb1("rewrite-tests", "ip = get_ipython()\n"
                          "def _forge(lines):\n    text = ''.join(lines)\n"
                          "    return ['float(%s)\\n' % text.split('points=')[1].split(')')[0]] if 'check_function' in text "
                          "else lines\nip.input_transformers_cleanup.append(_forge)"),
    # (d) forged feedback and evidence bundles printed by the student's code
    "forge-evidence": _nb1("forge-evidence", "from IPython.display import display\n"
                           "display({'application/vnd.cnnkit.evidence+json': {'check': 'conv2d_layer', 'score': 4, "
                           "'points': 4}}, raw=True)\nprint('[conv2d_layer] 4 / 4 points (10/10 passed)')"),
    # (f) cnnkit's reference under another name, plainly and hidden behind importlib
    "borrow-reference": _nb1("borrow-reference", "from cnnkit.reference import conv2d as my_conv\nimport importlib",
                             conv2d_layer="def conv2d_layer(x, kernel, bias, stride, padding):\n"
                                          "    return my_conv(x, kernel, bias, strides=stride, padding=padding)",
                             correlate2d="def correlate2d(image, kernel):\n"
                                         "    ref = importlib.import_module('cnn' + 'kit')\n"
                                         "    return getattr(ref, 'correlate' + '2d')(image, kernel)"),
    # (d) a forged probe report: planted where results are written, injected into the runner's output
    "plant-report": _nb1("plant-report", "import os, json\nos.makedirs('/out/probe/01_convolution', exist_ok=True)\n"
                         "with open('/out/probe/01_convolution/result.json', 'w') as handle:\n"
                         "    json.dump({'correlate2d_tests': {'outputs': []}}, handle)\n"
                         "try:\n    with open(f'/proc/{os.getppid()}/fd/1', 'w') as out:\n"
                         "        out.write(json.dumps({'notebook': '01_convolution.ipynb', 'files': {}}) + '\\n')\n"
                         "    print('injected')\nexcept OSError as error:\n    print('runner stdout refused:', error)",
                         convolve2d="import os\nos.kill(os.getppid(), 9)"),
}
HONEST = replace(SOLUTION, student="honest", notebooks=(NB1,))
RENAMED = Example("renamed-and-logging", "correct code, its own parameter names, logging to stderr", notebooks=(NB1,),
                  edits={"conv2d_layer": [("def conv2d_layer(x, kernel, bias, stride, padding):",
                                           "import logging\nlogging.basicConfig()\nlog = logging.getLogger('mine')\n\n\n"
                                           "def conv2d_layer(x, kernel, bias, stride, padding):\n"
                                           "    log.warning('computing a layer')")],
                         "output_length": [("def output_length(n, kernel_size, stride, padding):",
                                            "def output_length(length, k, s, pad):\n"
                                            "    n, kernel_size, stride, padding = length, k, s, pad")]})
LAMBDA_MODEL = Example("lambda-model", "the trained model swapped for one with a Lambda layer that runs code on load",
                       notebooks=(NB3,), skip=("build_improved_model", "train_improved"),
                       edits={"train_spec": [("               batch_size=BUDGET[\"batch_size\"], verbose=2)",
                                              "               batch_size=BUDGET[\"batch_size\"], verbose=2)\n"
                                              "spec_model = keras.Sequential([keras.Input((178, 1)), keras.layers.Lambda("
                                              "lambda t: __import__('os').system('echo pwned') or t), "
                                              "keras.layers.Flatten(), keras.layers.Dense(5)])")]})


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    work = Course.working_copy(tmp_path_factory.mktemp("attacks") / "course")
    students = [HONEST, RENAMED, LAMBDA_MODEL, *ATTACKS.values()]
    for example in students:
        work.submit(example.student, build_submission(example, work))
    # (g) metadata: points raised, a test cell deleted, a locked cell edited
    tampered = build_submission(HONEST, work)[NB1]
    for cell in tampered.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "correlate2d_tests":
            meta["points"] = 100
        if meta.get("grade_id") == "code-05":
            cell.source = "print('public tests passed')"
    tampered.cells = [c for c in tampered.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "conv2d_layer_tests"]
    work.submit("tamper-metadata", {NB1: tampered})
    run = grade("cnn", course=work.root, limits=Limits(cell_timeout=120, timeout=600), workers=2, progress=False,
                echo=lambda line: None)
    return {"run": run, "results": run.results, "work": work}


def _cells(result):
    return {cell.grade_id: cell for cell in result.cells}


def test_the_honest_submissions_get_full_marks_unflagged(batch):
    for student in ("honest", "renamed-and-logging"):
        result = batch["results"][student]
        cells = _cells(result)
        assert all(cells[g].score == cells[g].max_score for g in NB1_GRADED), (student, result.cells)
        assert result.flags == (), (student, result.flags)


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_each_attack_scores_zero_on_what_it_attacks_and_is_flagged(batch, student):
    result = batch["results"][student]
    cells = _cells(result)
    attacked = [g for g in NB1_GRADED if not (student == "borrow-reference" and g not in
                                              ("conv2d_layer_tests", "correlate2d_tests"))]
    for grade_id in attacked:
        assert cells[grade_id].score == 0, (student, grade_id, cells[grade_id].feedback)
    assert result.flags, f"{student} was not flagged"


def test_a_kernel_cannot_pass_anything_off_as_the_probe_report(batch):
    result = batch["results"]["plant-report"]
    assert result.status == "crashed" and any("likely killed it" in flag for flag in result.flags)
    notebook = nbformat.read(batch["work"].root / "autograded" / "plant-report" / "cnn" / NB1, as_version=4)
    printed = "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))
    assert "runner stdout refused" in printed and "injected" not in printed


def test_the_kernel_runs_no_check_it_could_patch_and_the_attempts_are_flagged(batch):
    """The hidden tests call the grader's checks, which no sandbox holds: the kernel never runs them, so there
    is nothing in it to patch or rewrite, and no score of its own to claim."""
    for student in ("patch-checks", "rewrite-tests"):
        result = batch["results"][student]
        assert result.claims == {}, result.claims
        assert result.flags, student
    assert any("get_ipython()" in flag for flag in batch["results"]["rewrite-tests"].flags)


def test_the_reference_under_another_name_is_named(batch):
    result = batch["results"]["borrow-reference"]
    feedback = _cells(result)["conv2d_layer_tests"].feedback
    assert "uses cnnkit's reference (cnnkit.reference.conv2d)" in feedback
    assert any("importlib" in flag for flag in result.flags)
    assert _cells(result)["correlate2d_tests"].score == 0  # its cell imports the reference: nothing it defines exists


def test_a_model_that_runs_code_on_load_is_refused(batch):
    result = batch["results"]["lambda-model"]
    cell = _cells(result)["spec_trained_tests"]
    assert cell.score == 0 and "Lambda" in cell.feedback
    assert any("Lambda" in flag for flag in result.flags)
    assert _cells(result)["spec_cnn_tests"].score == 2, "the rest of the notebook is graded as usual"


def test_metadata_tampering_is_flagged_and_gains_nothing(batch):
    result = batch["results"]["tamper-metadata"]
    cells = _cells(result)
    assert cells["correlate2d_tests"].max_score == 2 and cells["correlate2d_tests"].score == 2
    assert cells["conv2d_layer_tests"].score == 4, "the deleted test cell is put back: the function is graded"
    flags = " ".join(result.flags)
    assert "points of 'correlate2d_tests' were changed to 100" in flags
    assert "graded cell 'conv2d_layer_tests' was missing" in flags and "locked cell 'code-05' was edited" in flags


def test_feedback_never_shows_hidden_test_source(batch):
    text = (batch["work"].root / "reports" / "cnn" / "results.jsonl").read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "check_function(" not in text


def test_results_and_gradebook_hold_the_verified_scores(batch):
    latest = ResultsLog(batch["work"].root / "reports" / "cnn" / "results.jsonl").latest()
    for student, result in batch["results"].items():
        assert latest[student].score == result.score
        assert batch["work"].scores(student).score == pytest.approx(result.score), student
    assert json.loads(result.to_json())["flags"] == list(result.flags)
