"""Scratch folders: removed by the step that made them, and by a later run when that step's process was killed
outright; never while their process lives, never a folder that is not one."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from autograder.pipeline.scratch import remove_stale_scratch, scratch_folder

HOLD = ("import sys, time\nfrom autograder.pipeline.scratch import scratch_folder\n"
        "with scratch_folder('job', root=sys.argv[1]) as folder:\n"
        "    open(folder + '/notebook.ipynb', 'w').write('{}')\n    print(folder, flush=True)\n    time.sleep(120)\n")


def _holder(root):
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE, text=True)
    return process, Path(process.stdout.readline().strip())


def test_a_folder_is_removed_when_its_step_ends(tmp_path):
    with scratch_folder("probe", root=tmp_path) as folder:
        assert Path(folder).name.startswith("cnnkit-probe-") and Path(folder).is_dir()
        assert remove_stale_scratch(tmp_path) == 0 and Path(folder).is_dir(), "in use: kept"
    assert list(tmp_path.iterdir()) == []


def test_a_killed_process_folder_is_removed_by_the_next_run_and_a_live_ones_kept(tmp_path):
    killed, left = _holder(tmp_path)
    alive, kept = _holder(tmp_path)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert (left / "notebook.ipynb").exists(), "SIGKILL removes nothing itself"
        assert remove_stale_scratch(tmp_path) == 1
        assert not left.exists() and (kept / "notebook.ipynb").exists()
    finally:
        alive.kill()
        alive.wait()


def test_folders_that_are_not_scratch_are_left_alone(tmp_path):
    mine = tmp_path / "cnnkit-mine"  # no lock file: not made by `scratch_folder`
    mine.mkdir()
    elsewhere = tmp_path / "course"
    elsewhere.mkdir()
    (elsewhere / ".cnnkit-in-use").write_text("")
    os.symlink(elsewhere, tmp_path / "cnnkit-link")  # a link named like scratch, to a folder with a free lock file
    assert remove_stale_scratch(tmp_path) == 0
    assert mine.is_dir() and (elsewhere / ".cnnkit-in-use").exists()
