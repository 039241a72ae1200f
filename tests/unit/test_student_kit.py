"""The student's kit holds no implementation of a graded function or model,
and what the notebooks import from it, and the self-check, work without the
grader's parts."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.frontends.student_kit import student_kit

# A definition of each graded function or model, as the reference (or a copy of it) would spell it.
GRADED = re.compile(r"def (correlate2d|convolve2d|conv2d|conv1d|output_length|max_pool2d|average_pool2d|max_pool1d|"
                    r"batch_norm|dropout|receptive_field|receptive_field_of|conv_parameter_count|dense_parameter_count|"
                    r"locally_connected_parameter_count|spec_cnn|gap_cnn|lenet5|residual_block|residual_cnn|"
                    r"strong_cnn|bn_cnn|standardise|predict_classes|invariant_shifts|conv_multiply_adds|in_seed_spreads)\(")


def _isolated(kit, code, *args, cwd):
    """Runs `code` where only the kit and the installed libraries are importable: this environment's editable
    install of the whole repository is taken out of the import system first."""
    prefix = ("import sys\n"
              "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in getattr(f, '__module__', '')]\n"
              "sys.path_hooks[:] = [h for h in sys.path_hooks if '__editable__' not in getattr(h, '__module__', '')]\n"
              "sys.path_importer_cache.clear()\nsys.path.insert(0, sys.argv[1])\n")
    return subprocess.run([sys.executable, "-c", prefix + code, str(kit), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": ""})


def test_the_kit_holds_no_graded_answer(tmp_path):
    kit = student_kit(tmp_path / "kit")
    sources = {path.relative_to(kit): path.read_text() for path in kit.rglob("*.py")}
    assert sources, "the kit holds the student's modules"
    assert not any(part in ("reference", "checks", "verifier") for path in sources for part in path.parts)
    assert not any(path.name == "examples.py" for path in sources), "the demo's examples hold answers"
    assert not list(kit.rglob("*solution*"))
    found = [f"{path}: {match}" for path, text in sources.items() for match in GRADED.findall(text)]
    assert found == []
    texts = {path.relative_to(kit): path.read_bytes() for path in kit.rglob("*") if path.is_file()}
    notebooks = {p: text for p, text in texts.items() if p.suffix == ".ipynb"}
    assert len(notebooks) == 3 and not [p for p, text in notebooks.items()
                                        if b"BEGIN HIDDEN TESTS" in text or b"BEGIN SOLUTION" in text]
    assert not [p for p in texts if p.name == "secret" or p.parts[0] == "solutions"], "no course secret, no solutions"
    readme = texts[Path("README.md")].decode()
    assert "pip install -e kit" in readme and "cnnkit check kit/assignments/cnn/01_convolution.ipynb" in readme


def test_what_the_notebooks_import_works_from_the_kit_alone(tmp_path):
    kit = student_kit(tmp_path / "kit")
    code = ("from cnnkit.assignment import BUDGET, budget_optimizer, check_budget, exploring, seizure_data, "
            "train_under_budget\nfrom cnnkit.devices import configure\nfrom cnnkit.training import "
            "classification_metrics, compare_architectures\nfrom cnnkit import explorations\nimport cnnkit\n"
            "assert cnnkit.__file__.startswith(sys.argv[1])\n"
            "try:\n    import cnnkit.reference.conv\nexcept ImportError:\n    print('no reference')\n")
    done = _isolated(kit, code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no reference"


def test_an_existing_folder_is_refused(tmp_path):
    (tmp_path / "kit").mkdir()
    (tmp_path / "kit" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="destination"):
        student_kit(tmp_path / "kit")


@pytest.mark.slow
@pytest.mark.notebook
def test_the_self_check_works_from_the_kit(tmp_path):
    import nbformat

    from autograder.course.course import REPO, Course
    from autograder.frontends.examples import EXAMPLES, build_submission

    kit = student_kit(tmp_path / "kit")
    solution = next(example for example in EXAMPLES if example.student == "solution")
    nbformat.write(build_submission(solution, Course(REPO))["01_convolution.ipynb"], tmp_path / "01_convolution.ipynb")
    code = ("import runpy; kit = sys.argv[1]; sys.argv = ['cnnkit', 'check', sys.argv[2]]\n"
            "import autograder; assert autograder.__file__.startswith(kit)\n"
            "runpy.run_module('autograder', run_name='__main__')")
    done = _isolated(kit, code, tmp_path / "01_convolution.ipynb", cwd=tmp_path)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert done.stdout.startswith("READY"), done.stdout
