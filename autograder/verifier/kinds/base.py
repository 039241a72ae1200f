"""What every kind of check has in common: the check a graded cell holds, the
call it was read from, the trusted work it needs, and its verdict.

A *kind* is the unit the verifier is extended by (compare nbgrader's
preprocessors or Otter-Grader's test files): one class per kind, in a module
of its own, listed in the registry (`autograder.verifier.kinds`). A kind

1. **reads** a hidden test's call (`check_function("conv2d_layer",
   conv2d_layer, points=4)`) by binding it to the signature of the cnnkit
   check it names (`BoundCall`), so that the check's own defaults apply and
   are never restated here;
2. **requests** what the probe must do in the sandbox (`request`, a
   dict of `autograder.sandbox.contracts.probe_request`);
3. **names the trusted work** it needs before it can judge (`needs`: a
   `ReferenceModel` built, a `ReferenceTraining` on a seed);
4. gives its **verdict** on what the probe reported (`verdict`): a
   `Verdict` with the score, the feedback, the misconceptions by name and
   the flags, as data.

Plan, probe requests, verification and the static scan ask the registry;
nothing else knows which kinds exist.
"""

from __future__ import annotations

import ast
import inspect
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cnnkit.checks.report import CheckResult

__all__ = ["BoundCall", "Check", "Context", "Kind", "LoadedModel", "ModelProblem", "ReferenceModel", "ReferenceTraining",
           "Submitter", "Verdict", "default_of",
           "denied_imports", "load_model", "zero"]


@dataclass(frozen=True)
class Check:
    """What one graded cell checks.

    Attributes:
        grade_id: the cell's grade id.
        points: its points (from the source's nbgrader metadata).
        kind: the name of its kind in the registry (`function`, `spec`,
            ...; `nbgrader` when no cnnkit check is called: scored from the
            cell's outputs).
        target: the student's name it checks (a function, a builder or a
            variable).
        name: what the kind compares it with: the graded function's key in
            `cnnkit.checks.GRADED`, or the reference model's short name.
        parameters: the stub's parameter names (functions).
        margin: the check's tolerance, as its call gives it or its default:
            accuracy below the reference still worth full marks (trained), or
            the cut in error worth full marks (improvement, None for the
            assignment's default).
        options: further settings read from the call, as (name, value) pairs.
        title: the heading of its feedback, where it is not `name` (the
            kind's own word, e.g. `improvement`).
    """

    grade_id: str
    points: float
    kind: str
    target: str = ""
    name: str = ""
    parameters: tuple = ()
    margin: float | None = None
    options: tuple = ()
    title: str = ""

    def option(self, key, default=None):
        """A setting read from the hidden test's call (see `options`)."""
        return dict(self.options).get(key, default)


@dataclass(frozen=True)
class ReferenceModel:
    """Trusted work: a reference model of `cnnkit.reference.models`, built when grading starts.

    Attributes:
        name: its function's name in `cnnkit.reference.models` (`spec_cnn`, ...).
    """

    name: str
    at_start = True

    def run(self, verifier):
        return verifier.reference_model(self.name)


@dataclass(frozen=True)
class ReferenceTraining:
    """Trusted work: a reference model trained under the budget and scored on
    the held-out rows, when a submission first needs it (then cached).

    Attributes:
        name: the reference's short name (see `cnnkit.reference.models.build`).
        seed: the training seed (None: the assignment's own).
    """

    name: str
    seed: int | None = None
    at_start = False

    def run(self, verifier):
        return verifier.trained_reference(self.name, self.seed)


@dataclass(frozen=True, eq=False)
class Verdict:
    """A check's decision on one graded cell.

    Attributes:
        score: the points earned.
        feedback: what the student reads.
        misconceptions: tuple of `(name, message)` pairs, in the order named.
        flags: tuple of reasons for a person to review, one line each.
        result: the `cnnkit.checks.CheckResult` it came from (its evidence),
            or None.
    """

    score: float
    feedback: str
    misconceptions: tuple = ()
    flags: tuple = ()
    result: object = None

    @classmethod
    def of(cls, result, flags=()):
        """The verdict of a `CheckResult` (its misconceptions read from its `Mistake`s)."""
        return cls(result.score, result.feedback(), tuple((m.name, m.message) for m in result.misconceptions),
                   tuple(flags), result)


def zero(check, message, flags=()):
    """No credit, with the reason in the feedback (and flags for a person, if any)."""
    result = CheckResult(check.title or check.name, check.points, total=1)
    result.messages.append(f"0: {message}")
    return Verdict.of(result, flags)


class Submitter(str):
    """A student id as the kinds receive it, carrying the hash of the submission's code (`code_hash`), from which
    `Verifier.seed` draws that submission's cases: the same code draws the same, changed code new ones."""

    def __new__(cls, student, code_hash=""):
        submitter = super().__new__(cls, student)
        submitter.code_hash = code_hash
        return submitter

    def __reduce__(self):
        return Submitter, (str(self), self.code_hash)


@dataclass(frozen=True)
class Context:
    """What a verdict may consult about one submission.

    Attributes:
        student: the student id (a `Submitter`: with its code's hash).
        verifier: the `autograder.verifier.Verifier` (course secret, seeds,
            references, held-out rows).
        probe: the notebook's `autograder.sandbox.contracts.ProbeReport`.
        scan: the notebook's `autograder.verifier.scan.ScanReport`, or None.
        cell: the executed test cell (nbformat), or None when it never ran.
        claim: the score the kernel's own outputs claim for it, or None.
        cell_text: the cell's own output text.
        stopped: why the run stopped, if it did ("").
        plan: the notebook's `autograder.verifier.plan.NotebookPlan`, or None.
        first_error: the first error the student's cells raised before this
            test cell in the notebook's run, in words ("").
    """

    student: str
    verifier: object
    probe: object = None
    scan: object = None
    cell: object = None
    claim: float | None = None
    cell_text: str = ""
    stopped: str = ""
    plan: object = None
    first_error: str = ""


def default_of(function, parameter):
    """The default value of one of `function`'s parameters (the check's own, never restated)."""
    return inspect.signature(function).parameters[parameter].default


def denied_imports(reported):
    """The modules (and cnnkit names) a probe result says its calls failed to reach, sorted.

    Where student code runs, the grader's references are absent and a NumPy
    exercise sees no other library: an import of one of them is an attempt
    the sandbox denied.
    """
    outputs = reported.get("outputs", [reported])
    errors = " ".join(str(o.get("error", "")) for o in outputs if isinstance(o, dict))
    missing = re.findall(r"No module named '([A-Za-z_][\w.]*)'", errors)
    absent = [".".join(pair) for pair in re.findall(r"module '(cnnkit[\w.]*)' has no attribute '(\w+)'", errors)]
    return sorted(set(missing + absent))


class BoundCall:
    """A hidden test's call, bound to the signature of the check it calls.

    The values are the call's AST nodes where the test passes them and the
    check's own defaults where it does not, so a kind reads every setting
    the way the check itself would receive it.

    Args:
        node: the `ast.Call`.
        function: the cnnkit function called (its signature is used).

    Raises:
        TypeError: if the call does not fit the signature.
    """

    def __init__(self, node, function):
        keywords = {k.arg: k.value for k in node.keywords if k.arg is not None}
        bound = inspect.signature(function).bind(*node.args, **keywords)
        bound.apply_defaults()
        self.arguments = dict(bound.arguments)

    def name(self, parameter):
        """The student's name passed for `parameter` (`conv2d_layer`), or ""."""
        value = self.arguments.get(parameter)
        return value.id if isinstance(value, ast.Name) else ""

    def value(self, parameter):
        """The literal passed for `parameter`, or the check's default.

        Raises:
            ValueError: if the test passes something that is not a literal.
        """
        value = self.arguments.get(parameter)
        return ast.literal_eval(value) if isinstance(value, ast.AST) else value

    def called(self, parameter):
        """The function called to make `parameter`'s value (`cnnkit.reference.models.spec_cnn()` -> `spec_cnn`), or ""."""
        value = self.arguments.get(parameter)
        if isinstance(value, ast.Call):
            func = value.func
            return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return ""

    def inner(self, parameter, function):
        """The call made for `parameter` (`reference_accuracy("spec")`), bound to `function`'s signature.

        Returns:
            A `BoundCall`, or None when the test passes no such call.
        """
        value = self.arguments.get(parameter)
        if not isinstance(value, ast.Call):
            return None
        try:
            return BoundCall(value, function)
        except TypeError:
            return None


class Kind:
    """A kind of check. Subclasses set the class attributes and override the
    methods their kind needs.

    Attributes:
        name: the kind's name in the registry and in `Check.kind`.
        check: the cnnkit check a hidden test calls (its signature is the
            contract the plan binds calls to), or None; set it as
            `staticmethod(check_...)` so that it stays a plain function.
        target: the parameter of `check` naming the student's object.
        action: the probe action it requests (see
            `autograder.sandbox.contracts.ACTIONS`), or None (no probe).
        claims: whether the kernel's own score for the cell is a claim worth
            comparing with the verdict. Only `nbgrader`'s (plain asserts scored
            from the kernel's outputs): the other kinds' hidden tests call
            cnnkit's checks, which the kernel never runs (no sandbox holds
            them), so their cells score nothing in the kernel.
        scanned: whether the static scan looks for cnnkit's reference in the
            target's code.
        numpy_only: whether the target must use NumPy only.
        held_out: whether its verdicts need the held-out rows.
        retrained: whether the verifier retrains the target's architecture
            itself, so that the student's own training of it is never read
            (and is skipped under the grader).
        builds_architecture: whether the target is the student's builder of
            the architecture of a reference model (a trained model of that
            reference must be that architecture).
    """

    name = ""
    check = None
    target = ""
    action = None
    claims = False
    scanned = False
    numpy_only = False
    held_out = False
    retrained = False
    builds_architecture = False

    def read(self, call, grade_id, points, stubs):
        """The `Check` a graded cell holds, from its hidden test's call.

        Args:
            call: the `BoundCall`.
            grade_id: the cell's grade id.
            points: its points.
            stubs: dict of function name -> the stub's parameter names.

        Returns:
            A `Check`.
        """
        return Check(grade_id, points, self.name, call.name(self.target), self.name)

    def request(self, check, verifier, student):
        """What the probe must do for this check (a request dict without
        `action` and `id`, which the verifier adds), or None for nothing."""
        return None

    def needs(self, check, verifier):
        """The trusted work this check needs (`ReferenceModel`, `ReferenceTraining`), a tuple."""
        return ()

    def verdict(self, check, reported, context):
        """The `Verdict` on what the probe reported for this check.

        Args:
            check: the `Check`.
            reported: the probe's result for it (a dict, already checked for
                reference use, absence and `missing`).
            context: the submission's `Context`.
        """
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A student's model, loaded safely from a file the probe saved.

    Attributes:
        model: the `keras.Model`.
        notes: what the file says of its training (`from_logits`).
    """

    model: object
    notes: dict = field(default_factory=dict)


class ModelProblem(Exception):
    """Why a model the probe should have saved cannot be judged.

    Attributes:
        message: in words, for the feedback.
        refused: whether the file was refused as unsafe (a person should look).
    """

    def __init__(self, message, *, refused=False):
        super().__init__(message)
        self.message, self.refused = message, refused

    def verdict(self, check):
        """No credit for `check`, with this problem as the reason (and as a flag when the file was refused)."""
        return zero(check, self.message, (self.message,) if self.refused else ())


def load_model(probe, reported):
    """The model a probe result names, loaded without running its code.

    Args:
        probe: the `ProbeReport` holding the files.
        reported: the probe's result (a dict with `file` or `error`).

    Returns:
        A `LoadedModel`.

    Raises:
        ModelProblem: when there is no model, or its file is refused.
    """
    from cnnkit.checks.models import OversizedModel, SubclassedModel, UnsafeModel, load_model_safely

    if "error" in reported:
        raise ModelProblem(str(reported["error"])[:300])
    content = probe.files.get(str(reported.get("file", "")))
    if content is None:
        raise ModelProblem("the grader got no model file")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(content)
        try:
            model, notes = load_model_safely(path)
        except (SubclassedModel, OversizedModel) as error:  # not an attempt: said, not flagged
            raise ModelProblem(str(error)) from None
        except UnsafeModel as error:
            raise ModelProblem(f"model file refused: {error}", refused=True) from None
    return LoadedModel(model, notes)
