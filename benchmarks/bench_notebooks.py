"""Benchmark: execute each solution notebook top to bottom and print its wall time.

Uses the real UCI table from ../shared/data when present (else the stand-in,
as the table says), a fresh reference cache (so the first hidden test of
notebook 3 trains the reference, as on a first grading run), and the same
kernel nbgrader uses. Target: each notebook under 3 minutes on a 2-core CPU.

    python benchmarks/bench_notebooks.py [--data PATH] [--only NAME] [--keep DIR]

`--keep DIR` writes each executed notebook there, to read what the solution's
runs print (the figures the notebooks' text quotes).
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
REAL_CSV = REPO.parent / "shared" / "data" / "epileptic_seizure_recognition.csv"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REAL_CSV) if REAL_CSV.exists() else None)
    parser.add_argument("--only", default="", help="run only the notebooks whose name contains this")
    parser.add_argument("--keep", default=None, help="a folder to write the executed notebooks to")
    args = parser.parse_args()
    if args.data:
        os.environ["CNNKIT_DATA"] = str(Path(args.data).resolve())
    os.environ["CNNKIT_CACHE"] = tempfile.mkdtemp(prefix="cnnkit-bench-cache-")
    print(f"data: {args.data or 'SYNTHETIC stand-in'}; machine: {platform.machine()}, {os.cpu_count()} cores, CPU")
    for path in sorted(p for p in (REPO / "solutions" / "cnn").glob("*.ipynb") if args.only in p.name):
        notebook = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as workdir:
            start = time.perf_counter()
            NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": workdir}},
                           extra_arguments=["--IPKernelApp.log_level=ERROR"]).execute()
            seconds = time.perf_counter() - start
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, Path(args.keep) / path.name)
        errors = [o.ename for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
        scores = [float(c.outputs[-1]["data"]["text/plain"]) for c in notebook.cells
                  if c.metadata.get("nbgrader", {}).get("grade") and c.outputs and "data" in c.outputs[-1]]
        print(f"{path.name:<30} {seconds:6.1f} s   hidden-test points {sum(scores):g}   errors: {errors or 'none'}",
              flush=True)


if __name__ == "__main__":
    main()
