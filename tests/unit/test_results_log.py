"""results.jsonl: one line per submission, durable, a torn line cut off, and a line that is not a result kept."""

import pytest

from autograder.pipeline.record import ResultsLog
from autograder.pipeline.results import CellResult, SubmissionResult


def _result(student, score=1.0, status="graded"):
    cells = (CellResult("nb", "a_tests", score, 2.0, "feedback"), CellResult("nb", "b_tests", 0.0, 1.0, ""))
    return SubmissionResult(student, status, "", cells, ("flag",), 3.2, "worker-1", "cpu", "abc", ("time",), 10)


def test_a_result_survives_the_json_round_trip():
    result = _result("ann")
    again = SubmissionResult.from_json(result.to_json())
    assert again == result
    assert (again.score, again.max_score) == (1.0, 3.0)


def test_the_json_line_holds_the_documented_fields():
    import json

    record = json.loads(_result("ann").to_json())
    assert {"student", "status", "score", "max_score", "cells", "flags", "seconds", "worker", "device",
            "hash"} <= set(record)
    assert record["cells"]["a_tests"] == {"notebook": "nb", "score": 1.0, "max_score": 2.0, "feedback": "feedback"}


def test_latest_result_per_student_wins(tmp_path):
    log = ResultsLog(tmp_path / "r" / "results.jsonl")
    log.append(_result("ann", 1.0))
    log.append(_result("bob", 2.0))
    log.append(_result("ann", 0.5, status="timeout"))
    latest = log.latest()
    assert latest["ann"].status == "timeout" and latest["ann"].cells[0].score == 0.5
    assert latest["bob"].cells[0].score == 2.0


def test_a_torn_last_line_is_ignored_and_cut_off(tmp_path):
    log = ResultsLog(tmp_path / "results.jsonl")
    log.append(_result("ann"))
    whole = log.path.read_bytes()
    log.path.write_bytes(whole + _result("bob").to_json().encode()[:40])
    assert set(log.latest()) == {"ann"}
    assert log.path.read_bytes() == whole
    log.append(_result("bob"))
    assert set(log.latest()) == {"ann", "bob"}


def test_a_whole_line_that_is_not_a_result_is_skipped_and_nothing_after_it_is_lost(tmp_path):
    """Before, a line edited by hand (or written by another version) cut off every result after it."""
    log = ResultsLog(tmp_path / "results.jsonl")
    log.append(_result("ann"))
    with open(log.path, "a") as handle:
        handle.write('{"student": "x", "status": "great"}\n{"student": "y", "status": "graded", "cells": {"a": {}}}\n'
                     "\nnot json\n")
    log.append(_result("bob", 2.0))
    before = log.path.read_bytes()
    assert set(log.latest()) == {"ann", "bob"} and log.skipped_lines == (2, 3, 5)
    assert log.path.read_bytes() == before, "nothing removed"


def test_a_line_that_is_not_a_result_is_refused():
    with pytest.raises(ValueError):
        SubmissionResult.from_json('{"student": "x", "status": "great"}')
