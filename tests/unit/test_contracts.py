"""What comes back from a sandbox is read as untrusted data: JSON nested
deeper than Python's parser recurses (it raises `RecursionError`, not
`ValueError`) reads as malformed, never as an exception that would turn one
student's forged file into a fault of the grader's."""

import json

from autograder.pipeline.execute import _requested, _unreached
from autograder.sandbox.contracts import (RESULT_FILE, ReplayNotebook, Status, read_probe, read_report_lines,
                                         untrusted_json)

DEEP = "[" * 100_000 + "]" * 100_000
HONEST = {"notebook": "n.ipynb", "files": {}}


def test_json_nested_too_deeply_reads_as_nothing():
    assert untrusted_json(DEEP) is None and untrusted_json(DEEP.encode()) is None
    assert untrusted_json("not json") is None
    assert untrusted_json('{"a": [1, 2]}') == {"a": [1, 2]}


def test_each_reader_of_sandbox_files_takes_deep_json_as_malformed():
    assert read_report_lines(DEEP + "\n" + json.dumps(HONEST), ["n.ipynb"]) == {"n.ipynb": {}}
    assert Status.read(DEEP).notebooks == {}
    assert read_probe({RESULT_FILE: DEEP.encode()}).problem == "the probe's report is not valid JSON"
    notebook = ReplayNotebook("n.ipynb", (), ({"action": "call", "id": "f_tests", "function": "f"},))
    files = {RESULT_FILE: DEEP.encode()}
    assert _unreached(files, notebook) == files
    assert _requested(files, {"requests": list(notebook.requests)}) == {}
