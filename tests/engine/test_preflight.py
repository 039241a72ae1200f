"""A grader whose Python keeps packages outside its own installation (a virtual environment that borrows another's
through a `.pth` file, as on a GPU machine whose PyTorch and JAX live elsewhere): its sandboxes still find them,
the NumPy world still does not, and where a sandbox cannot find what the kernels need the run stops with one line
before anything is recorded, instead of every student losing every point."""

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from autograder import grade
from autograder.sandbox.isolation import detect
from autograder.sandbox.limits import Limits

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.e2e,
              pytest.mark.skipif(not detect().namespaces, reason="needs bubblewrap: without it nothing is hidden")]

CHECK = """
import json
from autograder.sandbox.isolation import detect, site_dirs
from autograder.sandbox import isolation, preflight
report = {"sites": list(site_dirs()), "problem": preflight.sandbox_problem(detect(), {})}
report["numpy_world"] = preflight._missing(detect(), preflight.Limits(timeout=60, threads=1), {}, "numpy",
                                           ["numpy", "keras", "nbclient"])[0]
isolation.site_dirs = lambda: ()  # a sandbox that shows only the Python's own installation
isolation._python_paths.cache_clear()
report["unseen"] = preflight.sandbox_problem(detect(), {})
print(json.dumps(report))
"""


def test_packages_borrowed_through_a_pth_file_are_shown_to_the_sandbox_and_hidden_from_the_numpy_world(tmp_path):
    borrowing = tmp_path / "borrowing-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(borrowing)], check=True)
    packages = next((borrowing / "lib").glob("python3*/site-packages"))
    lender = sysconfig.get_paths()["purelib"]  # the kit's own environment lends everything
    (packages / "lender.pth").write_text(lender + "\n")
    done = subprocess.run([str(borrowing / "bin" / "python"), "-c", CHECK], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert str(Path(lender).resolve()) in report["sites"]
    assert report["problem"] is None
    assert report["numpy_world"] == ["keras", "nbclient"]  # NumPy alone, even from the borrowed folder
    assert report["unseen"].startswith("the sandbox (keras world) cannot find numpy, keras, ipykernel")


def test_a_sandbox_that_cannot_find_the_kernel_stops_the_run_in_one_line_and_records_nothing(mini_course,
                                                                                          monkeypatch):
    from autograder.sandbox import preflight

    mini_course.submit("ann")
    monkeypatch.setitem(preflight.NEEDED, "keras", preflight.NEEDED["keras"] + ("cnnkit_kernel_that_is_not_there",))
    with pytest.raises(RuntimeError) as raised:
        grade("mini", course=mini_course.root, workers=1, limits=Limits(timeout=60, cell_timeout=20),
              progress=False, echo=lambda line: None)
    message = str(raised.value)
    assert message.startswith("cannot grade: the sandbox (keras world) cannot find cnnkit_kernel_that_is_not_there")
    assert "\n" not in message
    assert not (mini_course.root / "reports" / "mini" / "results.jsonl").exists() or \
        not (mini_course.root / "reports" / "mini" / "results.jsonl").read_text().strip()
    assert not (mini_course.root / "autograded" / "ann").exists()


READS = """
import json, sys, tempfile
from pathlib import Path
from autograder.sandbox.isolation import detect, run_sandboxed
from autograder.sandbox.limits import Limits
paths = sys.argv[1:]
code = ("import json, sys\\nseen = {}\\nfor path in sys.argv[1:]:\\n    try:\\n        seen[path] = open(path).read()\\n"
        "    except OSError as error:\\n        seen[path] = type(error).__name__\\nprint(json.dumps(seen))")
with tempfile.TemporaryDirectory() as scratch:
    job, out = Path(scratch) / "job", Path(scratch) / "out"
    job.mkdir(); out.mkdir()
    (job / "passwd").write_text("student:x:1000:1000::/home/student:/bin/sh\\n")
    run = run_sandboxed(["python", "-c", code, *paths], job_dir=job, out_dir=out, limits=Limits(timeout=60, threads=1),
                        mechanisms=detect())
print(run.stdout.decode().strip().splitlines()[-1])
"""


def test_another_copy_of_cnnkit_where_the_sandbox_looks_has_its_answers_hidden_too(tmp_path):
    borrowing = tmp_path / "borrowing-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(borrowing)], check=True)
    packages = next((borrowing / "lib").glob("python3*/site-packages"))
    (packages / "lender.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = tmp_path / "machine" / "site-packages"  # a second, installed cnnkit, answers and all
    (installed / "cnnkit" / "reference").mkdir(parents=True)
    (installed / "cnnkit" / "reference" / "ops.py").write_text("ANSWER = 42\n")
    (installed / "cnnkit" / "data.py").write_text("SHOWN = 1\n")
    (packages / "machine.pth").write_text(f"{installed}\n")
    answer, shown = installed / "cnnkit" / "reference" / "ops.py", installed / "cnnkit" / "data.py"
    done = subprocess.run([str(borrowing / "bin" / "python"), "-c", READS, str(answer), str(shown)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen[str(shown)] == "SHOWN = 1\n"  # the borrowed folder is shown...
    assert seen[str(answer)] == "FileNotFoundError"  # ...but not the answers of the cnnkit inside it
