"""Stage 3, verify (trusted): the score of every graded cell, decided by a
process that never runs student code.

For each graded cell the plan (`autograder.verifier.plan`) says what it checks:

- a **function**: the verifier draws the cases (fixed edge cases and random
  ones, seeded from the course secret and the student id, so a regrade
  repeats and two students differ), hands them to the probe, and compares
  what came back with the reference it computes itself (`cnnkit.checks.judge`);
- a **model spec**: the built model comes back as a `.keras` file, loaded
  without running submission code and compared layer by layer;
- a **trained model**: loaded likewise and evaluated on held-out rows the
  sandbox never had, against the reference trained under the same budget
  (computed here, cached where no sandbox can write);
- **train/eval mode**: the prediction function's outputs on the grader's
  probe model, against that model's inference-mode outputs;
- a **residual block**: the models the block function builds come back as
  `.keras` files, judged by their layer graph and by their output against
  NumPy's reference ops on the same (random) weights;
- a **shift-invariant model**: its output on a pattern moved along the row;
- **"improve it"**: the architecture alone (its builder's model) is
  retrained here by the assignment's procedure on the grader's seeds and
  compared with the spec CNN trained on the same seeds, so that training
  longer than the budget, or a lucky seed, earns nothing;
- anything else (a cell with plain asserts): nbgrader's reading of the
  cell's outputs, as `nbgrader autograde` would score it.

Flags name what needs a person's eyes: a check that reaches cnnkit's
reference (scored 0), Keras in a NumPy exercise, dynamic code, edited locked
cells or points, deleted graded cells, missing or malformed probe reports,
unsafe model files, an implausibly accurate model, and a kernel whose own
report claims far more than the verifier found.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
from nbgrader.utils import determine_grade

from autograder.course.course import cell_feedback
from autograder.verifier.plan import plan_of
from autograder.sandbox.probe import decode_value, encode_value, probe_source, read_probe
from autograder.pipeline.results import CellResult, SubmissionResult
from autograder.verifier.scan import FRAMEWORKS, STUDENT_CNNKIT as _STUDENT_CNNKIT, scan

__all__ = ["Verifier", "check_seed", "student_seed"]

RANDOM_CASES = 10
IMPLAUSIBLE_MARGIN = 0.2
_QUIET = logging.getLogger("autograder.verifier.verifier")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def student_seed(secret, student):
    """A student's seed: secret (from the course secret), repeatable, personal.

    It is recorded with the student's result; each check's cases are drawn
    from `check_seed(seed, check)`, so an instructor can replay them.

    Args:
        secret: the course secret (str).
        student: the student id.

    Returns:
        An int in [0, 2**63).
    """
    return int.from_bytes(hashlib.sha256(f"{secret}\0{student}".encode()).digest()[:8], "big") >> 1


def check_seed(seed, check):
    """The seed of one check's cases, from a student's seed."""
    return int.from_bytes(hashlib.sha256(f"{seed}\0{check}".encode()).digest()[:8], "big") >> 1


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
    """

    plans: dict
    secret: str
    held_out: object = None
    references: dict = field(default_factory=dict)
    reference_files: list = field(default_factory=list)
    data_path: object = None

    @classmethod
    def for_assignment(cls, source_dir, release_dir, secret, data_path=None):
        """Reads the plans, builds the spec references and loads the held-out rows.

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
        plans = {path.name: plan_of(path, Path(release_dir) / path.name)
                 for path in sorted(Path(source_dir).glob("*.ipynb"))}
        verifier = cls(plans, secret, data_path=data_path)
        kinds = {check.kind for plan in plans.values() for check in plan.checks}
        if kinds & {"spec", "trained"}:
            from cnnkit import models

            for check in (c for plan in plans.values() for c in plan.checks if c.kind == "spec"):
                verifier.references[check.name] = getattr(models, check.name)()
        if kinds & {"trained", "improvement"}:
            from cnnkit.assignment import grading_data

            verifier.held_out = grading_data(secret, data_path)  # here, so that a bad table stops the run at once
        return verifier

    def trained_reference(self, name, seed=None):
        """A reference model's accuracy on the held-out rows, trained under the
        budget (once per data, architecture and seed, then read from the cache).

        Args:
            name: the reference's short name (see `cnnkit.models.build`).
            seed: the training seed (None: the assignment's own).

        Returns:
            The accuracy, a float.
        """
        import json

        from cnnkit.assignment import reference_result_file

        key = name if seed is None else (name, seed)
        if key not in self.references:
            path = reference_result_file(name, self.data_path, test=self.held_out,
                                         **({} if seed is None else {"seed": seed}))
            self.references[key] = float(json.loads(path.read_text())["accuracy"])
            self.reference_files.append(path)
        return self.references[key]

    def train_references(self):
        """Trains (or reads from the cache) every trained reference the plans
        need, as a Gradescope bundle or a benchmark wants them before grading.

        Returns:
            The list of cached files, as `reference_files`.
        """
        from cnnkit.assignment import improvement_seeds

        checks = [check for plan in self.plans.values() for check in plan.checks]
        wanted = {(c.name, None) for c in checks if c.kind == "trained"}
        wanted |= {(c.name, seed) for c in checks if c.kind == "improvement" for seed in improvement_seeds(self.secret)}
        for name, seed in sorted(wanted, key=str):
            self.trained_reference(name, seed)
        return self.reference_files

    # ----------------------------------------------------------------- probes

    def probes(self, student, notebooks, *, call_seconds=20.0):
        """The probe source of each notebook, with this student's cases.

        Args:
            student: the student id.
            notebooks: the names of the notebooks that will run.
            call_seconds: how long one call of a student function may take.

        Returns:
            Dict of notebook file name -> Python source for the probe.
        """
        sources = {}
        for name in notebooks:
            plan = self.plans.get(name)
            if plan is None:
                continue
            spec = {"functions": [], "builders": [], "blocks": [], "models": [], "predictors": []}
            for check in plan.checks:
                if check.kind == "function":
                    cases = self._cases(student, check)
                    spec["functions"].append({"id": check.grade_id, "function": check.target,
                                              "cases": [[encode_value(v) for v in case.values()] for case in cases]})
                elif check.kind == "spec":
                    reference = self.references[check.name]
                    spec["builders"].append({"id": check.grade_id, "function": check.target,
                                             "input_shape": list(reference.input_shape[1:])})
                elif check.kind in ("invariance", "improvement"):
                    spec["builders"].append({"id": check.grade_id, "function": check.target, "input_shape": [178, 1]})
                elif check.kind == "block":
                    from cnnkit.checks.blocks import RESIDUAL_CASES

                    spec["blocks"].append({"id": check.grade_id, "function": check.target,
                                           "cases": [{"input_shape": list(shape), "args": list(args)}
                                                     for shape, *args in RESIDUAL_CASES]})
                elif check.kind == "trained":
                    spec["models"].append({"id": check.grade_id, "variable": check.target})
                elif check.kind == "mode":
                    model_bytes, x, _ = self._mode_probe(student)
                    spec["predictors"].append({"id": check.grade_id, "function": check.target,
                                               "model": base64.b64encode(model_bytes).decode(), "x": encode_value(x)})
            if any(spec.values()):
                sources[name] = probe_source(spec, call_seconds=call_seconds)
        return sources

    def _cases(self, student, check):
        from cnnkit.checks.functions import draw_cases

        cases = draw_cases(check.name, check_seed(student_seed(self.secret, student), check.name), RANDOM_CASES)
        if check.parameters and len(check.parameters) == len(cases[0]):  # the stub's order and names
            cases = [dict(zip(check.parameters, case.values())) for case in cases]
        return cases

    @functools.lru_cache(maxsize=4)
    def _mode_probe(self, student):
        """The probe model (as `.keras` bytes), its inputs and inference-mode classes, for one student."""
        import keras

        from cnnkit.checks.models import probe_model

        seed = check_seed(student_seed(self.secret, student), "train_eval_mode") % 2**31
        model, x = probe_model(seed)
        expected = np.argmax(keras.ops.convert_to_numpy(model(x, training=False)), axis=-1)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "probe.keras"
            model.save(path)
            return path.read_bytes(), x, expected

    # ----------------------------------------------------------------- verify

    def verify(self, execution, prepared, submitted, templates, *, digest):
        """The verified result of one executed submission.

        Args:
            execution: the `autograder.pipeline.execute.Execution`.
            prepared: the `autograder.pipeline.prepare.Prepared` it ran from.
            submitted: dict of notebook file name -> the bytes submitted.
            templates: tuple of `autograder.pipeline.prepare.NotebookTemplate`.
            digest: the submission's content hash.

        Returns:
            A `SubmissionResult` with verified scores, flags and the kernel's claims.
        """
        cells, flags, claims, notebooks = [], [], {}, {}
        for template in templates:
            name = template.name
            stem = name[:-len(".ipynb")]
            plan = self.plans.get(name)
            if name in prepared.malformed or name in prepared.missing or name not in execution.notebooks:
                why = (f"not graded: {prepared.malformed[name]}" if name in prepared.malformed else
                       "not graded: this notebook was not submitted" if name in prepared.missing else
                       f"not graded: the notebook did not run ({execution.reason})")
                notebooks[stem] = "malformed" if name in prepared.malformed else "missing" if name in prepared.missing else "not run"
                cells += [CellResult(stem, grade_id, 0.0, points, why) for grade_id, points in template.graded.items()]
                continue
            notebooks[stem] = "ran"
            ran = _read_notebook(execution.notebooks[name])
            sanitised = nbformat.reads(prepared.notebooks[name], as_version=4)
            original = _read_notebook(submitted.get(name, b"")) or sanitised
            report = scan(original, sanitised, plan) if plan else None
            flags += list(report.flags) if report else []
            probe = read_probe(execution.probes.get(name, {}))
            needs_probe = plan and any(check.kind != "nbgrader" for check in plan.checks)
            if needs_probe and probe.problem:
                flags.append(f"{name}: {probe.problem}")
            present = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in ran.cells} if ran else {}
            flags += [f"{name}: {forgery}" for forgery in _forgeries(ran)] if ran else []
            texts = cell_feedback(ran) if ran else {}
            for check in (plan.checks if plan else ()):
                claim = (_claim(present.get(check.grade_id), check.points)
                         if check.kind not in ("trained", "improvement") else None)
                if claim is not None:  # a trained model's cell claims nothing under the grader
                    claims[check.grade_id] = claim
                if not _has_cell(original, check.grade_id):
                    cells.append(CellResult(stem, check.grade_id, 0.0, check.points,
                                            "0: this graded cell was deleted from the notebook"))
                    continue
                if check.kind == "nbgrader":
                    cell = present.get(check.grade_id)
                    if cell is None or cell.get("execution_count") is None:
                        cells.append(CellResult(stem, check.grade_id, 0.0, check.points,
                                                f"0: this cell did not run ({execution.reason or 'the notebook stopped before it'})"))
                    else:
                        cells.append(CellResult(stem, check.grade_id, claim or 0.0, check.points, texts.get(check.grade_id, "")))
                    continue
                result, more = self._verify_check(check, prepared.student, probe, report)
                flags += [f"{name}: {flag}" for flag in more]
                if claim is not None and claim - result.score > 0.5 * check.points:
                    flags.append(f"{name}: the kernel claimed {claim:g} / {check.points:g} for {check.grade_id!r}; "
                                 f"verified {result.score:.3g}")
                cells.append(CellResult(stem, check.grade_id, result.score, check.points, result.feedback()))
        status = "malformed" if prepared.malformed else execution.status
        reason = ("; ".join(f"{n}: {why}" for n, why in prepared.malformed.items()) if prepared.malformed
                  else execution.reason)
        return SubmissionResult(prepared.student, status, reason, tuple(cells), tuple(dict.fromkeys(flags)),
                                execution.seconds, execution.worker, execution.device, digest, execution.limits_hit,
                                execution.peak_memory, notebooks, claims, student_seed(self.secret, prepared.student))

    def _verify_check(self, check, student, probe, report):
        """(`CheckResult`, flags) of one check from the probe's report."""
        from cnnkit.checks.report import CheckResult

        reported = probe.results.get(check.grade_id)
        borrowed = report.reference.get(check.target) if report else None
        traced = []
        if isinstance(reported, dict):
            traced = sorted({c for o in reported.get("outputs", [reported]) if isinstance(o, dict)
                             for c in o.get("calls", []) if isinstance(c, str)})
            used = [c for c in traced if c.startswith("cnnkit") and not c.startswith(_STUDENT_CNNKIT)]
            if used and not borrowed:
                borrowed = used[0]
        if borrowed:
            result = CheckResult(check.name, check.points, total=1)
            result.messages.append(f"uses cnnkit's reference ({borrowed}) instead of your own code: no credit, "
                                   "flagged for review")
            return result, [f"`{check.target}` calls cnnkit's reference ({borrowed}) when graded"]
        if not isinstance(reported, dict):
            result = CheckResult(check.name, check.points, total=1)
            result.messages.append(f"0: `{check.target}` could not be checked: "
                                   f"{probe.problem or 'the grader got no report for it'}")
            return result, []
        if "missing" in reported:
            result = CheckResult(check.name, check.points, total=1)
            result.messages.append(f"0: {reported['missing']} when the notebook has run")
            return result, []
        if check.kind == "function":
            frameworks = [c for c in traced if c.split(".")[0] in FRAMEWORKS]
            flags = ([f"`{check.target}` should use NumPy only but called {frameworks[0]} when graded"]
                     if frameworks and not (report and check.target in report.frameworks) else [])
            return self._verify_function(check, student, reported), flags
        if check.kind == "spec":
            return self._verify_spec(check, probe, reported)
        if check.kind == "trained":
            return self._verify_trained(check, probe, reported)
        if check.kind == "block":
            return self._verify_block(check, student, probe, reported)
        if check.kind == "invariance":
            return self._verify_invariance(check, student, probe, reported)
        if check.kind == "improvement":
            return self._verify_improvement(check, probe, reported)
        return self._verify_mode(check, student, reported), []

    def _verify_function(self, check, student, reported):
        from cnnkit.checks.functions import judge

        cases = self._cases(student, check)
        outputs = reported.get("outputs") if isinstance(reported.get("outputs"), list) else []
        pairs = []
        for index in range(len(cases)):
            item = outputs[index] if index < len(outputs) and isinstance(outputs[index], dict) else {}
            pairs.append(_output(item))
        return judge(check.name, cases, pairs, points=check.points)

    def _verify_spec(self, check, probe, reported):
        from cnnkit.checks.models import spec_verdict

        model, problem = _load(probe, reported)
        if problem:
            return _zero(check, problem), ([problem] if "refused" in problem else [])
        return spec_verdict(model, self.references[check.name], points=check.points), []

    def _verify_trained(self, check, probe, reported):
        from cnnkit.checks.models import trained_verdict
        from cnnkit.checks.report import silenced

        model, problem = _load(probe, reported)
        if problem:
            return _zero(check, problem), ([problem] if "refused" in problem else [])
        reference = self.trained_reference(check.name)
        try:
            with silenced():
                scores = np.asarray(model.predict(self.held_out.x, batch_size=256, verbose=0))
        except Exception as error:
            return _zero(check, f"the model could not predict on (rows, 178, 1) inputs: {type(error).__name__}: "
                                f"{str(error)[:160]}"), []
        result = trained_verdict(scores, self.held_out.y, reference, points=check.points,
                                 name=check.grade_id.removesuffix("_tests"), margin=check.margin)
        flags = []
        accuracy = result.evidence.get("accuracy")
        if accuracy is not None and accuracy > reference + IMPLAUSIBLE_MARGIN:
            flags.append(f"{check.target} reaches {accuracy:.1%} on held-out recordings, implausibly far above the "
                         f"reference's {reference:.1%}: review it")
        notes = getattr(model, "_cnnkit_notes", {})
        last = getattr(model.layers[-1], "activation", None) if model.layers else None
        logits = getattr(last, "__name__", "linear") == "linear"
        if notes.get("from_logits") is False and logits and result.score < result.points:
            result.messages = [m for m in result.messages if "model never trained" not in m]
            result.messages.insert(0, "Likely mistake (loss on logits with from_logits=False): the model ends in a "
                                      "linear layer (logits) but was trained with from_logits=False, which expects "
                                      "probabilities; use SparseCategoricalCrossentropy(from_logits=True).")
        return result, flags

    def _verify_block(self, check, student, probe, reported):
        from cnnkit.checks.blocks import RESIDUAL_CASES, residual_verdict
        from cnnkit.checks.report import silenced

        outputs = reported.get("outputs") if isinstance(reported.get("outputs"), list) else []
        models, flags = [], []
        for index in range(len(RESIDUAL_CASES)):
            item = outputs[index] if index < len(outputs) and isinstance(outputs[index], dict) else {}
            model, problem = _load(probe, item) if item else (None, "the grader got no model for this case")
            models.append(problem.removeprefix("raised ") if problem else model)
            flags += [problem] if "refused" in problem else []
        with silenced():
            verdict = residual_verdict(models, points=check.points, seed=self._seed(student, check.name))
        return verdict, list(dict.fromkeys(flags))

    def _verify_invariance(self, check, student, probe, reported):
        from cnnkit.checks.blocks import invariance_verdict
        from cnnkit.checks.report import silenced

        model, problem = _load(probe, reported)
        if problem:
            return _zero(check, problem), ([problem] if "refused" in problem else [])
        with silenced():
            return invariance_verdict(model, points=check.points, seed=self._seed(student, check.name)), []

    def _verify_improvement(self, check, probe, reported):
        import keras

        from cnnkit.assignment import BudgetError, budget_accuracy, check_budget, improvement_seeds
        from cnnkit.checks.models import improvement_verdict
        from cnnkit.checks.report import silenced

        model, problem = _load(probe, reported)
        if problem:
            return _zero(check, problem), ([problem] if "refused" in problem else [])
        try:
            check_budget(model)
        except BudgetError as error:
            return _zero(check, str(error)), []
        seeds = improvement_seeds(self.secret)
        try:
            with silenced():
                accuracies = [budget_accuracy(lambda: keras.models.clone_model(model), seed, self.data_path,
                                              test=self.held_out) for seed in seeds]
        except Exception as error:  # the architecture loads but does not train (a shape only known at fit time)
            return _zero(check, f"the architecture could not be trained under the budget: {type(error).__name__}: "
                                f"{str(error)[:160]}"), []
        references = [self.trained_reference(check.name, seed) for seed in seeds]
        return improvement_verdict(accuracies, references, points=check.points, error_cut=check.margin), []

    def _seed(self, student, check):
        return check_seed(student_seed(self.secret, student), check) % 2**31

    def _verify_mode(self, check, student, reported):
        from cnnkit.checks.models import mode_verdict

        _, _, expected = self._mode_probe(student)
        outputs = reported.get("outputs") if isinstance(reported.get("outputs"), list) else []
        got = []
        for item in (outputs + [{}, {}])[:2]:
            value, error = _output(item if isinstance(item, dict) else {})
            got.append(error or ("predict_classes returned no array" if value is None else value))
        return mode_verdict(got[0], got[1], expected, points=check.points)


def _output(item):
    """(value, error) of one probe output, decoded without trusting it."""
    if "error" in item:
        return None, str(item["error"])[:300]
    try:
        value = decode_value(item.get("value"))
    except ValueError as error:
        return None, f"returned something the grader cannot read ({error})"
    if value is None:
        shown = item.get("value", {}) if isinstance(item.get("value"), dict) else {}
        return None, f"returned {str(shown.get('type', 'a non-number'))[:40]}, not numbers"
    return value, None


def _load(probe, reported):
    """(model, problem) of a model the probe saved."""
    from cnnkit.checks.models import UnsafeModel, load_model_safely

    if "error" in reported:
        return None, str(reported["error"])[:300]
    content = probe.files.get(str(reported.get("file", "")))
    if content is None:
        return None, "the grader got no model file"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(content)
        try:
            model, notes = load_model_safely(path)
        except UnsafeModel as error:
            return None, f"model file refused: {error}"
    model._cnnkit_notes = notes
    return model, ""


def _zero(check, message):
    from cnnkit.checks.report import CheckResult

    result = CheckResult(check.name, check.points, total=1)
    result.messages.append(f"0: {message}")
    return result


_FEEDBACK_LOOKALIKE = re.compile(r"^\[[\w:]+\] [\d.]+ / [\d.]+ points", re.M)


def _forgeries(notebook):
    """Cells the student wrote whose outputs imitate the checks' evidence or feedback."""
    from cnnkit.checks import EVIDENCE_MIME

    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        for output in cell.get("outputs", []):
            if EVIDENCE_MIME in output.get("data", {}):
                found.append(f"cell {index + 1} displays a forged cnnkit evidence bundle")
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            if _FEEDBACK_LOOKALIKE.search(text if isinstance(text, str) else "".join(text)):
                found.append(f"cell {index + 1} prints text that imitates the grader's feedback")
    return list(dict.fromkeys(found))


def _claim(cell, points):
    """What nbgrader reads from the cell's outputs (the kernel's own claim), or None."""
    if cell is None or cell.get("execution_count") is None:
        return None
    cell.metadata.setdefault("nbgrader", {})["points"] = points
    try:
        score, _ = determine_grade(cell, _QUIET)
    except Exception:
        return 0.0
    return float(min(max(score or 0.0, 0.0), points))


def _has_cell(notebook, grade_id):
    return any(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id for cell in notebook.cells)


def _read_notebook(text):
    if not text:
        return None
    try:
        return nbformat.reads(text if isinstance(text, str) else text.decode("utf-8", "replace"), as_version=4)
    except Exception:
        return None
