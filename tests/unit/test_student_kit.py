"""The student's kit holds no implementation of a graded function or model,
and what the notebooks import from it works without the grader's parts."""

import re
import subprocess
import sys

import pytest

from autograder.frontends.student_kit import student_kit

# A definition of each graded function or model, as the reference (or a copy of it) would spell it.
GRADED = re.compile(r"def (correlate2d|convolve2d|conv2d|conv1d|output_length|max_pool2d|average_pool2d|max_pool1d|"
                    r"batch_norm|dropout|receptive_field|receptive_field_of|conv_parameter_count|dense_parameter_count|"
                    r"locally_connected_parameter_count|spec_cnn|gap_cnn|lenet5|residual_block|residual_cnn|"
                    r"strong_cnn|standardise|predict_classes)\(")


def test_the_kit_holds_no_graded_answer(tmp_path):
    kit = student_kit(tmp_path / "kit")
    sources = {path.relative_to(kit): path.read_text() for path in kit.rglob("*.py")}
    assert sources, "the kit holds the student's modules"
    assert not any(part in ("reference", "checks") for path in sources for part in path.parts)
    found = [f"{path}: {match}" for path, text in sources.items() for match in GRADED.findall(text)]
    assert found == []


def test_what_the_notebooks_import_works_from_the_kit_alone(tmp_path):
    kit = student_kit(tmp_path / "kit")
    # -S: no site processing, so that this environment's editable install of the whole kit stays out of reach
    code = ("import sys, sysconfig; sys.path.insert(0, sys.argv[1]); sys.path.append(sysconfig.get_paths()['purelib'])\n"
            "from cnnkit.assignment import BUDGET, budget_optimizer, check_budget, exploring, seizure_data, "
            "train_under_budget\nfrom cnnkit.devices import configure\nfrom cnnkit.training import "
            "classification_metrics, compare_architectures\nfrom cnnkit import explorations\nimport cnnkit\n"
            "assert cnnkit.__file__.startswith(sys.argv[1])\n"
            "try:\n    import cnnkit.reference.conv\nexcept ImportError:\n    print('no reference')\n")
    done = subprocess.run([sys.executable, "-S", "-c", code, str(kit)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no reference"


def test_an_existing_folder_is_refused(tmp_path):
    (tmp_path / "kit").mkdir()
    (tmp_path / "kit" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="destination"):
        student_kit(tmp_path / "kit")
