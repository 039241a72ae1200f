"""The typed result of grading one submission, and its JSON line.

`SubmissionResult` is what every later stage reads: the gradebook writer,
`results.jsonl`, the closing summary and the demo's table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

__all__ = ["STATUSES", "CellResult", "SubmissionResult"]

STATUSES = ("graded", "timeout", "memory", "output-limit", "crashed", "malformed")


@dataclass(frozen=True)
class CellResult:
    """One graded cell.

    Attributes:
        notebook: the notebook's name, without `.ipynb`.
        grade_id: nbgrader's grade id.
        score, max_score: points earned and possible.
        feedback: what the student reads about it.
        misconceptions: tuple of `(name, message)` pairs the verifier named,
            in order (the same lines are in `feedback`).
    """

    notebook: str
    grade_id: str
    score: float
    max_score: float
    feedback: str = ""
    misconceptions: tuple = ()


@dataclass(frozen=True)
class SubmissionResult:
    """One submission, graded.

    Attributes:
        student: the student id.
        status: one of `STATUSES`.
        reason: why, when the status is not `graded`.
        cells: tuple of `CellResult`, in assignment order.
        flags: tuple of reasons to review the submission by hand.
        seconds: time spent running it.
        worker, device: where it ran.
        hash: SHA-256 of the submitted notebooks.
        limits_hit: the limits it ran into.
        peak_memory: most bytes in use at once, when known.
        notebooks: notebook name -> `ran`, `missing`, `malformed` or `not run`.
        claims: grade id -> the score the kernel's own outputs claim (what
            plain nbgrader would have given), where it ran.
        seed: the submission's seed of the verifier's cases (from the course
            secret, the student id and the code's hash), None when nothing
            was verified.
        grader_fault: what went wrong in the grader itself, when a fault of
            its own (not the submission) decided this result ("" otherwise);
            such a result is graded again by the next run.
        graded_at: when it was recorded (ISO 8601, UTC; "" until then).
        grader_version: the version of cnnkit that graded it.
    """

    student: str
    status: str
    reason: str = ""
    cells: tuple = ()
    flags: tuple = ()
    seconds: float = 0.0
    worker: str = ""
    device: str = "cpu"
    hash: str = ""
    limits_hit: tuple = ()
    peak_memory: int | None = None
    notebooks: dict = field(default_factory=dict)
    claims: dict = field(default_factory=dict)
    seed: int | None = None
    grader_fault: str = ""
    graded_at: str = ""
    grader_version: str = ""

    @property
    def score(self):
        return round(sum(cell.score for cell in self.cells), 6)

    @property
    def max_score(self):
        return round(sum(cell.max_score for cell in self.cells), 6)

    def by_notebook(self):
        """Dict of notebook name -> dict of grade id -> score."""
        scores = {}
        for cell in self.cells:
            scores.setdefault(cell.notebook, {})[cell.grade_id] = cell.score
        return scores

    def to_json(self):
        """The result as one JSON line (no newline)."""
        record = {"student": self.student, "status": self.status, "reason": self.reason,
                  "score": self.score, "max_score": self.max_score,
                  "cells": {_cell_key(cell, self.cells): _cell_json(cell) for cell in self.cells},
                  "flags": list(self.flags), "seconds": round(self.seconds, 2), "worker": self.worker,
                  "device": self.device, "hash": self.hash, "limits_hit": list(self.limits_hit),
                  "peak_memory": self.peak_memory, "notebooks": self.notebooks, "claims": self.claims,
                  "seed": self.seed, "grader_fault": self.grader_fault, "graded_at": self.graded_at,
                  "grader_version": self.grader_version}
        return json.dumps(record, sort_keys=False)

    @classmethod
    def from_json(cls, line):
        """Inverse of `to_json`.

        Raises:
            ValueError: if the line is not a result.
        """
        record = json.loads(line)
        if not isinstance(record, dict) or record.get("status") not in STATUSES or "student" not in record:
            raise ValueError("not a grading result")
        cells = tuple(CellResult(value["notebook"], key.split("/")[-1], float(value["score"]),
                                 float(value["max_score"]), value.get("feedback", ""),
                                 tuple((str(name), str(message))
                                       for name, message in dict(value.get("misconceptions") or {}).items()))
                      for key, value in record.get("cells", {}).items())
        return cls(record["student"], record["status"], record.get("reason", ""), cells,
                   tuple(record.get("flags", ())), float(record.get("seconds", 0)), record.get("worker", ""),
                   record.get("device", "cpu"), record.get("hash", ""), tuple(record.get("limits_hit", ())),
                   record.get("peak_memory"), record.get("notebooks", {}), record.get("claims", {}),
                   record.get("seed"), str(record.get("grader_fault") or ""), str(record.get("graded_at") or ""),
                   str(record.get("grader_version") or ""))


def _cell_json(cell):
    """One cell's entry; `misconceptions` (name -> message) only where the verifier named some."""
    entry = {"notebook": cell.notebook, "score": cell.score, "max_score": cell.max_score, "feedback": cell.feedback}
    if cell.misconceptions:
        entry["misconceptions"] = dict(cell.misconceptions)
    return entry


def _cell_key(cell, cells):
    """The grade id, prefixed by the notebook only where two notebooks share it."""
    shared = sum(1 for other in cells if other.grade_id == cell.grade_id) > 1
    return f"{cell.notebook}/{cell.grade_id}" if shared else cell.grade_id
