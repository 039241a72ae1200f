"""Stage 3, verify (trusted): the score of every graded cell, decided by a
process that never runs student code.

The plan (`autograder.verifier.plan`) says what each graded cell checks, as a
`Check` of a registered kind (`autograder.verifier.kinds`: a function, a model
spec, a trained model, train/eval mode, a residual block, shift invariance,
"improve it", or the cell's own outputs). Before the sandbox runs, each kind
says what the probe must do (`Verifier.requests`: the submission's cases,
drawn from the course secret, the student id and the hash of the
submission's code, so that a regrade repeats, two students differ, and
changed code draws new random cases); afterwards each kind gives its
verdict on what the probe reported (`Verifier.verify`), computing every
reference itself and loading models without running their code.

Around the kinds, the verifier reads what concerns every check: reference
use (the static scan, and the modules the probe saw a call enter, scored 0),
missing or malformed probe reports, deleted graded cells, forged evidence,
and a kernel whose own outputs claim far more than was verified. Flags name
what needs a person's eyes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cnnkit.reference import models as reference_models
from cnnkit.assignment import grading_data, recorded_accuracy, reference_result_file
from cnnkit.checks.report import CheckResult, format_points
from cnnkit.seeds import check_seed, student_seed

from autograder.course.course import cell_feedback
from autograder.pipeline.results import CellResult, SubmissionResult
from autograder.sandbox.contracts import probe_request, read_probe
from autograder.verifier.evidence import claim, denials, first_errors, forgeries, read_notebook
from autograder.verifier.kinds import Context, Submitter, Verdict, kind_of, zero
from autograder.verifier.kinds.base import ReferenceTraining, denied_imports
from autograder.verifier.libraries import is_reference
from autograder.verifier.plan import plan_of
from autograder.verifier.scan import scan

__all__ = ["Verifier", "plans_of", "retrained_cells", "retrained_targets"]


def plans_of(source_dir, release_dir):
    """The verification plan of every notebook of an assignment (cheap: no model is built).

    Args:
        source_dir: the instructor's notebooks of the assignment.
        release_dir: the released notebooks.

    Returns:
        Dict of notebook file name -> `NotebookPlan`.
    """
    return {path.name: plan_of(path, Path(release_dir) / path.name) for path in sorted(Path(source_dir).glob("*.ipynb"))}


def retrained_targets(plans):
    """The student names whose trained models the verifier never reads (it
    retrains their architecture itself): their training in the kernel can be
    skipped under the grader.

    Args:
        plans: dict of notebook file name -> `NotebookPlan`.

    Returns:
        A sorted tuple of names.
    """
    return tuple(sorted({check.target for plan in plans.values() for check in plan.checks
                         if kind_of(check).retrained and check.target}))


def retrained_cells(plans):
    """The grade ids of the checks whose architecture the verifier retrains ("improve it").

    Args:
        plans: dict of notebook file name -> `NotebookPlan`.

    Returns:
        A sorted tuple of grade ids.
    """
    return tuple(sorted({check.grade_id for plan in plans.values() for check in plan.checks
                         if kind_of(check).retrained}))


@dataclass(eq=False)
class Verifier:
    """Everything the verifier knows about an assignment.

    Attributes:
        plans: dict of notebook file name -> `NotebookPlan`.
        secret: the course secret.
        held_out: the held-out rows (a `cnnkit.data.Part`), or None when no
            trained model is graded.
        references: dict of reference name -> `keras.Model` (specs), and of
            reference name or `(name, seed)` -> accuracy (trained models),
            the accuracies filled in as `trained_reference` first needs them.
        reference_files: the cached files the accuracies were read from
            (a Gradescope bundle carries them, so as not to train again).
        data_path: the seizure data the grader trains on (None:
            `$CNNKIT_DATA` or the stand-in).
        announce: callable `(event, text)` told of each training under the
            budget, `event` being `"trained"` (it ran now) or `"reused"` (its
            recorded result was read), or None.
    """

    plans: dict
    secret: str
    held_out: object = None
    references: dict = field(default_factory=dict)
    reference_files: list = field(default_factory=list)
    data_path: object = None
    announce: object = None

    @classmethod
    def for_assignment(cls, source_dir, release_dir, secret, data_path=None):
        """Reads the plans, builds the reference models and loads the held-out rows.

        The trained references are not trained here but when a submission
        first needs one (`trained_reference`), so that grading starts at
        once and a batch that grades no trained model never trains one.

        Args:
            source_dir: the instructor's notebooks of the assignment.
            release_dir: the released notebooks.
            secret: the course secret.
            data_path: the seizure data (None: `$CNNKIT_DATA` or the stand-in).

        Returns:
            A `Verifier`.
        """
        verifier = cls(plans_of(source_dir, release_dir), secret, data_path=data_path)
        for work in verifier.needs():
            if work.at_start:  # cheap, and a broken reference stops the run before anything is graded
                work.run(verifier)
        if any(kind_of(check).held_out for check in verifier.checks()):
            verifier.held_out = grading_data(secret, data_path)  # here, so that a bad table stops the run at once
        return verifier

    def checks(self):
        """Every `Check` of every notebook, in notebook and cell order."""
        return [check for plan in self.plans.values() for check in plan.checks]

    def needs(self):
        """The trusted work every check of the assignment needs, each once, in a fixed order."""
        work = {need for check in self.checks() for need in kind_of(check).needs(check, self)}
        return sorted(work, key=lambda need: (type(need).__name__, need.name, str(getattr(need, "seed", ""))))

    def seed(self, student, label):
        """The seed of one check's cases for one submission (`cnnkit.seeds`).

        Args:
            student: the student id as the kinds receive it, a `Submitter`
                (with the hash of the submission's code; a bare id: the
                student's seed).
            label: the check's name.

        Returns:
            An int in [0, 2**63).
        """
        return check_seed(student_seed(self.secret, str(student), getattr(student, "code_hash", "")), label)

    def reference_model(self, name):
        """A reference model of `cnnkit.reference.models` (built once).

        Args:
            name: its function's name in `cnnkit.reference.models` (`spec_cnn`, `lenet5`, ...).

        Returns:
            The `keras.Model`.
        """
        if name not in self.references:
            self.references[name] = getattr(reference_models, name)()
        return self.references[name]

    def trained_reference(self, name, seed=None, wait=True):
        """A reference model's accuracy on the held-out rows, trained under the
        budget (once per data, architecture and seed, then read from the cache).

        Args:
            name: the reference's short name (see `cnnkit.reference.models.build`).
            seed: the training seed (None: the assignment's own).
            wait: whether to wait while another process trains it.

        Returns:
            The accuracy, a float (None: another process is training it and
            `wait` is False).
        """
        key = name if seed is None else (name, seed)
        if key not in self.references:
            what = f"the reference {name}" + ("" if seed is None else f" on the grader's seed {seed}")
            path = self.recorded(what, lambda announce: reference_result_file(
                name, self.data_path, test=self.held_out, announce=announce, wait=wait,
                **({} if seed is None else {"seed": seed})))
            if path is None:
                return None
            self.references[key] = recorded_accuracy(path)
            self.reference_files.append(path)
        return self.references[key]

    @staticmethod
    def free_first(trainings):
        """Runs trainings under the budget, each once, those no other process is training first.

        Two workers that need the same trainings at once (the references, the
        seeds of an architecture two students share) then train different
        ones side by side instead of one waiting for the other; a worker
        waits only when everything it still needs is being trained elsewhere.

        Args:
            trainings: list of callables taking `wait` and returning the
                result, or None when `wait` is False and another process is
                training it.

        Returns:
            The list of their results, in the order given.
        """
        results = {}
        while len(results) < len(trainings):
            pending = [index for index in range(len(trainings)) if index not in results]
            for index in pending:
                result = trainings[index](wait=False)
                if result is not None:
                    results[index] = result
            if all(index not in results for index in pending):  # all trained elsewhere right now: wait for one
                results[pending[0]] = trainings[pending[0]](wait=True)
        return [results[index] for index in range(len(trainings))]

    def recorded(self, what, compute):
        """The result of a training under the budget, announced as it starts
        (`trained`) and ends (`finished`), or as `reused`.

        Args:
            what: the training in words (`the reference spec on the grader's seed 12`).
            compute: callable taking an `announce` callback (called when a
                training starts) and returning the result.

        Returns:
            What `compute` returned (None, announced as nothing: another
            process is training it and the caller does not wait).
        """
        trained = []

        def started():
            trained.append(what)
            if self.announce is not None:
                self.announce("trained", f"training {what} under the budget")

        result = compute(started)
        if result is None:  # another process is training it, and the caller does not wait
            return None
        if self.announce is not None:
            self.announce(*(("finished", f"{what}: trained") if trained else
                            ("reused", f"{what}: recorded result reused")))
        return result

    def train_references(self):
        """Trains (or reads from the cache) every trained reference the plans
        need, as a Gradescope bundle or a benchmark wants them before grading.

        Returns:
            The list of cached files, as `reference_files`.
        """
        for work in self.needs():
            work.run(self)
        return self.reference_files

    # ------------------------------------------------------ before the sandbox

    def requests(self, student, notebooks, *, code_hash="", call_seconds=20.0):
        """The probe request of each notebook, with this submission's cases.

        Args:
            student: the student id.
            notebooks: the names of the notebooks that will run.
            code_hash: the hash of the submission's code
                (`Prepared.code_hash`): its cases are drawn from it.
            call_seconds: how long one call of a student function may take.

        Returns:
            Dict of notebook file name -> probe request (see
            `autograder.sandbox.contracts.probe_request`), for the notebooks
            with something to probe.
        """
        requests, student = {}, Submitter(student, code_hash)
        for name in notebooks:
            plan = self.plans.get(name)
            if plan is None:
                continue
            wanted = []
            for check in plan.checks:
                kind = kind_of(check)
                body = kind.request(check, self, student)
                if body is not None:
                    wanted.append({"action": kind.action, "id": check.grade_id, **body})
            if wanted:
                requests[name] = probe_request(wanted, call_seconds=call_seconds)
        return requests

    # ------------------------------------------------------- after the sandbox

    def verify(self, execution, prepared, submitted, templates, *, digest):
        """The verified result of one executed submission.

        Args:
            execution: the `autograder.pipeline.execute.Execution`.
            prepared: the `autograder.pipeline.prepare.Prepared` it ran from.
            submitted: dict of notebook file name -> the bytes submitted.
            templates: tuple of `autograder.course.templates.NotebookTemplate`.
            digest: the submission's content hash.

        Returns:
            A `SubmissionResult` with verified scores, flags and the kernel's claims.
        """
        cells, flags, claims, notebooks = [], list(execution.flags), {}, {}
        self._train_references(name for name in execution.notebooks if name in self.plans)
        for template in templates:
            name = template.name
            stem = name[:-len(".ipynb")]
            plan = self.plans.get(name)
            flags += [f"{name}: {line}: review it" for line in prepared.repairs.get(name, ())]
            if name in prepared.malformed or name in prepared.missing or name not in execution.notebooks:
                why = (f"not graded: {prepared.malformed[name]}" if name in prepared.malformed else
                       "not graded: this notebook was not submitted" if name in prepared.missing else
                       f"not graded: the notebook did not run ({execution.reason})")
                notebooks[stem] = "malformed" if name in prepared.malformed else "missing" if name in prepared.missing else "not run"
                if name in prepared.malformed and "nested more than" in prepared.malformed[name]:
                    flags.append(f"{name}: {prepared.malformed[name]} (built to break a parser?): review it")
                cells += [CellResult(stem, grade_id, 0.0, points, why) for grade_id, points in template.graded.items()]
                continue
            notebooks[stem] = "ran"
            ran = read_notebook(execution.notebooks[name])
            sanitised = nbformat.reads(prepared.notebooks[name], as_version=4)
            original = read_notebook(submitted.get(name, b"")) or sanitised
            report = scan(original, sanitised, plan) if plan else None
            flags += list(report.flags) if report else []
            probe = read_probe(execution.probes.get(name, {}))
            needs_probe = plan and any(kind_of(check).action for check in plan.checks)
            if needs_probe and probe.problem and execution.status == "graded":  # no stop explains it
                flags.append(f"{name}: {probe.problem}")
            present = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in ran.cells} if ran else {}
            flags += [f"{name}: {finding}" for finding in forgeries(ran) + denials(ran)] if ran else []
            texts, errors = (cell_feedback(ran), first_errors(ran)) if ran else ({}, {})
            for check in (plan.checks if plan else ()):
                kind = kind_of(check)
                cell = present.get(check.grade_id)
                claimed = claim(cell, check.points) if kind.claims else None
                if claimed is not None:  # a trained model's cell claims nothing under the grader
                    claims[check.grade_id] = claimed
                context = Context(Submitter(prepared.student, prepared.code_hash), self, probe, report, cell, claimed,
                                  texts.get(check.grade_id, ""), execution.reason, plan, errors.get(check.grade_id, ""))
                verdict = self._verdict(check, context)
                flags += [f"{name}: {flag}" for flag in verdict.flags]
                if claimed is not None and claimed - verdict.score > 0.5 * check.points:
                    flags.append(f"{name}: the kernel claimed {format_points(claimed)} / {format_points(check.points)} "
                                 f"for {check.grade_id!r}; verified {format_points(verdict.score)}")
                cells.append(CellResult(stem, check.grade_id, verdict.score, check.points, verdict.feedback,
                                        verdict.misconceptions))
        status = "malformed" if prepared.malformed else execution.status
        reason = ("; ".join(f"{n}: {why}" for n, why in prepared.malformed.items()) if prepared.malformed
                  else execution.reason)
        return SubmissionResult(prepared.student, status, reason, tuple(cells), tuple(dict.fromkeys(flags)),
                                execution.seconds, execution.worker, execution.device, digest, execution.limits_hit,
                                execution.peak_memory, notebooks, claims,
                                student_seed(self.secret, prepared.student, prepared.code_hash))

    def _train_references(self, notebooks):
        """Trains the references the checks of these notebooks need, free ones first (see `free_first`).

        Only a head start: a training that fails here fails again, with its
        reason, in the verdict that needs it.
        """
        needs = sorted({need for name in notebooks for check in self.plans[name].checks
                        for need in kind_of(check).needs(check, self) if isinstance(need, ReferenceTraining)},
                       key=lambda need: (need.name, str(need.seed)))
        try:
            self.free_first([lambda wait, need=need: self.trained_reference(need.name, need.seed, wait=wait)
                             for need in needs])
        except Exception:  # noqa: BLE001 - the verdict meets it again and says why
            pass

    def _verdict(self, check, context):
        """The verdict on one check: reference use, absence and `missing` first, then its kind's."""
        kind = kind_of(check)
        if kind.action is None:  # nothing probed: the kind reads the cell itself
            return kind.verdict(check, None, context)
        reported = context.probe.results.get(check.grade_id)
        borrowed = context.scan.reference.get(check.target) if context.scan else None
        if isinstance(reported, dict):
            used = [m for m in denied_imports(reported) if is_reference(m) or m == "cnnkit"]
            if used and not borrowed:
                borrowed = used[0]
        if borrowed:
            result = CheckResult(check.name, check.points, total=1)
            result.messages.append(f"uses cnnkit's reference ({borrowed}) instead of your own code: no credit, "
                                   "flagged for review")
            return Verdict.of(result, (f"`{check.target}` calls cnnkit's reference ({borrowed}) when graded",))
        if not isinstance(reported, dict):
            result = CheckResult(check.name, check.points, total=1)
            result.messages.append(f"0: `{check.target}` could not be checked: "
                                   f"{context.probe.problem or 'the grader got no report for it'}")
            return Verdict.of(result)
        if "missing" in reported:
            result = CheckResult(check.name, check.points, total=1)
            result.messages.append(f"0: {reported['missing']} when the notebook has run" +
                                   (f" (the first error your cells raised before this test: {context.first_error})"
                                    if context.first_error else ""))
            return Verdict.of(result)
        try:
            return kind.verdict(check, reported, context)
        except Exception as error:  # what this submission handed in broke the check: its cell alone, for review
            why = f"the grader could not judge `{check.target}` ({type(error).__name__}: {str(error)[:160]})"
            return zero(check, why, (f"{why}: review it",))
