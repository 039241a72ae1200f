"""The assignment's split: stratified by class, whole recordings, and the same
training and validation rows from the sandbox's file (test recordings removed)
as from the whole table."""

import dataclasses

import numpy as np
import pytest

from cnnkit import assignment
from cnnkit.data import load_table, make_synthetic, write_csv


@pytest.fixture(scope="module")
def table():
    return make_synthetic(seed=5, recordings_per_class=40)


def _recordings_per_side(table, sides):
    return {side: set(table.recordings[sides == side]) for side in ("train", "validation", "test")}


def test_every_class_has_its_share_of_recordings_on_every_side(table):
    sides = assignment._sides(table, without_test=False)
    for label in np.unique(table.labels):
        mine = table.labels == label
        counts = {side: len(set(table.recordings[mine & (sides == side)])) for side in ("train", "validation", "test")}
        assert counts == {"train": 28, "validation": 6, "test": 6}, (label, counts)


def test_no_recording_is_on_two_sides(table):
    found = _recordings_per_side(table, assignment._sides(table, without_test=False))
    assert not (found["train"] & found["validation"] or found["train"] & found["test"]
                or found["validation"] & found["test"])


def test_the_sandbox_file_gives_the_same_training_and_validation_rows(table, tmp_path, monkeypatch):
    whole = tmp_path / "whole.csv"
    write_csv(table, whole)
    sandbox_file = tmp_path / "student.csv"
    kept = assignment.write_student_data(sandbox_file, whole)
    full_sides = assignment._sides(table, without_test=False)
    assert kept == int(np.sum(full_sides != "test"))
    student = load_table(sandbox_file, announce=False)
    assert not set(student.recordings) & set(table.recordings[full_sides == "test"])
    monkeypatch.setenv(assignment.WITHOUT_TEST_ENV, "1")
    student_sides = assignment._sides(student)
    assert _recordings_per_side(student, student_sides)["test"] == set()
    for side in ("train", "validation"):
        assert _recordings_per_side(student, student_sides)[side] == _recordings_per_side(table, full_sides)[side]


def test_unmarked_the_sandbox_file_would_lose_validation_rows_to_a_test_part(table):
    """Why the mark is needed: without it the file's own ranking takes a test share of what is left."""
    full_sides = assignment._sides(table, without_test=False)
    keep = full_sides != "test"
    student = dataclasses.replace(table, signals=table.signals[keep], labels=table.labels[keep], ids=table.ids[keep])
    assert (assignment._sides(student, without_test=False) == "test").any()


def test_the_sandbox_gets_the_file_without_test_recordings_marked_as_such(table, tmp_path, monkeypatch):
    from autograder.sandbox.inputs import SANDBOX_DATA, sandbox_inputs
    from cnnkit.data import DATA_ENV

    whole = tmp_path / "whole.csv"
    write_csv(table, whole)
    monkeypatch.setenv(DATA_ENV, str(whole))
    options = sandbox_inputs(tmp_path)
    assert options["env"][assignment.WITHOUT_TEST_ENV] == "1" and options["env"][DATA_ENV] == SANDBOX_DATA
    (host, inside), = options["binds"]
    assert inside == SANDBOX_DATA
    handed = load_table(host, announce=False)
    assert not set(handed.recordings) & set(table.recordings[assignment._sides(table, without_test=False) == "test"])
    monkeypatch.delenv(DATA_ENV)
    assert assignment.WITHOUT_TEST_ENV not in sandbox_inputs(tmp_path)["env"], "the stand-in is generated whole"
