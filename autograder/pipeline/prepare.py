"""Stage 2a, prepare (trusted): turn submitted bytes into notebooks ready to run.

Runs in the grader, never in the sandbox, and executes nothing. A notebook is
*malformed* when it is not JSON, is of an nbformat this grader does not read,
or has a cell that is not one (its type, its source, its nbgrader metadata);
the message names the cell. What the grader never reads is not held against
a notebook: outputs, execution counts, attachments of code cells, the kernel
spec (the release's is put back), widget state and cell ids (missing,
repeated or malformed ones are replaced, as Jupyter does) are set right
before the notebook is validated. Graded cells are repaired as nbgrader repairs
them, and each repair is flagged for a person: a cell whose grade id the
release does not have becomes an ordinary cell, and of cells sharing a grade id
(a cell copied in Jupyter copies its metadata) the last one is graded and the
others become ordinary cells, and a graded cell the notebook lacks (a test
cell deleted, or an editor that drops nbgrader's metadata) is put back from
the gradebook, so the work it tests is graded. A well-formed notebook goes through nbgrader's own
sanitising steps, as `nbgrader autograde` does: outputs cleared, the kernel
spec, locked cells and hidden tests restored from the gradebook, cell
metadata checked.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import warnings
from dataclasses import dataclass, field

import nbformat

__all__ = ["MalformedNotebook", "Prepared", "prepare", "repaired", "restored", "same_source", "well_formed"]


@dataclass(frozen=True)
class Prepared:
    """A submission ready for the sandbox.

    Attributes:
        student: the student id.
        notebooks: dict of file name -> sanitised notebook JSON (str), in
            assignment order; only notebooks that are well formed.
        malformed: dict of file name -> why it cannot be graded.
        missing: names of the assignment's notebooks not submitted.
        repairs: dict of file name -> tuple of lines, what was repaired
            in its graded cells (see `repaired`).
        code_hash: SHA-256 (hex) of the code that will run, notebook by
            notebook: the same code gives the same hash whatever its
            outputs, metadata or markdown (the verifier draws the
            submission's cases from it).
        probes: dict of file name -> the verifier's probe source for it,
            handed to the sandbox's runner on its standard input.
    """

    student: str
    notebooks: dict
    malformed: dict = field(default_factory=dict)
    missing: tuple = ()
    probes: dict = field(default_factory=dict)
    repairs: dict = field(default_factory=dict)
    code_hash: str = ""


def prepare(submission, templates, *, assignment, db_url):
    """Checks and sanitises every notebook of a submission.

    Args:
        submission: an `autograder.pipeline.collect.Submission`.
        templates: tuple of `autograder.course.templates.NotebookTemplate`,
            the assignment's notebooks.
        assignment: the assignment id.
        db_url: the gradebook holding the assignment's source cells.

    Returns:
        A `Prepared`.
    """
    notebooks, malformed, missing, repairs = {}, {}, [], {}
    for template in templates:
        raw = submission.notebooks.get(template.name)
        if raw is None:
            missing.append(template.name)
            continue
        try:
            notebook = well_formed(raw, template)
            repairs[template.name] = tuple(repaired(notebook, template)) + tuple(restored(notebook, template))
            notebooks[template.name] = nbformat.writes(
                _sanitised(notebook, template, assignment=assignment, student=submission.student, db_url=db_url))
        except MalformedNotebook as error:
            malformed[template.name] = str(error)
        except Exception as error:  # whatever else its bytes provoke is this notebook's alone
            malformed[template.name] = f"the grader cannot read it ({type(error).__name__}: {str(error)[:160]})"
    return Prepared(submission.student, notebooks, malformed, tuple(missing),
                    repairs={name: lines for name, lines in repairs.items() if lines and name in notebooks},
                    code_hash=_code_hash(notebooks))


def _code_hash(notebooks):
    """SHA-256 (hex) of the code cells' sources of sanitised notebooks (file name -> JSON), in order."""
    digest = hashlib.sha256()
    for name in sorted(notebooks):
        digest.update(name.encode() + b"\0")
        for cell in json.loads(notebooks[name])["cells"]:
            if cell["cell_type"] == "code":
                source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                digest.update(_lines(source).encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


MAX_DEPTH = 64  # a notebook's JSON is about 6 deep; nbformat's validator recurses through all of it


def _depth(data):
    """How deeply a JSON value nests (without recursion)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack += [(child, depth + 1) for child in children if isinstance(child, (dict, list))]
    return deepest


# What a file handed in as a notebook often is instead, by its first bytes.
_OTHER_FILES = ((b"%PDF", "a PDF"), (b"PK\x03\x04", "a zip archive"), (b"\x89PNG", "a PNG image"),
                (b"\xff\xd8\xff", "a JPEG image"), (b"<", "a web page (HTML), saved or downloaded from the browser?"),
                (b"#", "Python or text, not a notebook's JSON (a .py file renamed?)"),
                (b"import ", "Python, not a notebook's JSON (a .py file renamed?)"))


def _other_file(raw):
    """What a file that is not a notebook is, in words ('the file is empty', 'the file is a PDF'), or ""."""
    head = raw.lstrip()[:16]
    if not head:
        return "the file is empty (an upload that failed?)"
    return next((f"the file is {what}" for start, what in _OTHER_FILES if head.startswith(start)), "")


class MalformedNotebook(ValueError):
    """A notebook that cannot be graded; the message says why, in one line."""


def well_formed(raw, template):
    """The notebook in a submission's bytes, if it is one this grader can grade.

    Args:
        raw: the file's bytes (or text).
        template: the `autograder.course.templates.NotebookTemplate` it answers.

    Returns:
        An `nbformat.NotebookNode`, validated, with what the grader ignores set right
        (see the module's docstring).

    Raises:
        MalformedNotebook: it is not a notebook, or a cell is not one; the message says which, in one line.
    """
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.removeprefix("\ufeff")  # a BOM: Windows
        data = json.loads(text)
    except UnicodeDecodeError:
        raise MalformedNotebook(f"not a notebook: {_other_file(raw) or 'the file is not UTF-8 text'}") from None
    except json.JSONDecodeError as error:
        what = _other_file(text.encode()) if not text[:error.pos].strip() else ""  # wrong from its first character
        raise MalformedNotebook("not a notebook: " + (what or f"broken JSON at line {error.lineno}, column "
                                                              f"{error.colno} ({error.msg})")) from None
    except RecursionError:
        raise MalformedNotebook(f"not a notebook: its JSON is nested more than {MAX_DEPTH} deep") from None
    if _depth(data) > MAX_DEPTH:
        raise MalformedNotebook(f"not a notebook: its JSON is nested more than {MAX_DEPTH} deep")
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise MalformedNotebook("not a notebook: no list of cells")
    if _SURROGATE_ESCAPE.search(text):
        data = _without_lone_surrogates(data)
    version = (data.get("nbformat"), data.get("nbformat_minor"))
    newest = (nbformat.current_nbformat, nbformat.current_nbformat_minor)
    if not all(isinstance(v, int) for v in version) or version[0] != newest[0] or version[1] > newest[1]:
        raise MalformedNotebook(f"nbformat {version[0]}.{version[1]} is not one this grader reads "
                                f"(4.0 to {newest[0]}.{newest[1]})")
    _without_what_the_grader_ignores(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat's warnings about ids, set right above
            notebook = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(notebook)
    except nbformat.ValidationError as error:
        raise MalformedNotebook(f"not a valid notebook: {_invalid_part(error)}") from None
    except Exception as error:
        raise MalformedNotebook(f"not a valid notebook: {str(error).splitlines()[0][:200]}") from None
    return notebook


_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's rule
# JSON can spell half of a UTF-16 pair alone (`\ud800`): a string no UTF-8 file or kernel message can hold
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # (a pair that stands together is one character once decoded)


def _without_lone_surrogates(data):
    """The JSON value with each half of a UTF-16 pair that stands alone (an emoji cut in two by an editor) replaced
    by U+FFFD, as a browser shows it, so that the notebook can be written out (before: `malformed`)."""
    def fixed(text):
        return _LONE_SURROGATE.sub("\ufffd", text)

    def copy(value):
        if isinstance(value, str):
            return fixed(value)
        if isinstance(value, list):
            return [copy(item) for item in value]
        if isinstance(value, dict):
            return {fixed(key): copy(item) for key, item in value.items()}
        return value

    return copy(data)  # (recursion is safe: the depth was checked first)


def _without_what_the_grader_ignores(data):
    """Sets right, in place, the parts of a notebook's JSON that the grader never reads and nbgrader clears or
    overwrites, so that none of them makes a notebook malformed; checks each cell's type and source."""
    if not isinstance(data.get("metadata"), dict):
        data["metadata"] = {}
    for key in ("kernelspec", "language_info", "widgets"):  # the release's kernel spec is put back
        data["metadata"].pop(key, None)
    with_ids, seen = data.get("nbformat_minor", 0) >= 5, set()
    for index, cell in enumerate(data["cells"]):
        where = f"cell {index + 1}"
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            kind = cell.get("cell_type") if isinstance(cell, dict) else type(cell).__name__
            raise MalformedNotebook(f"not a valid notebook: {where} is not a code, markdown or raw cell ({kind!r})")
        source = cell.get("source")
        if not (isinstance(source, str) or isinstance(source, list) and all(isinstance(s, str) for s in source)):
            raise MalformedNotebook(f"not a valid notebook: {where} has no source text")
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        if cell["cell_type"] == "code":
            cell.update(outputs=[], execution_count=None)
            cell.pop("attachments", None)
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        cell_id = cell.pop("id", None)
        if with_ids:
            if not isinstance(cell_id, str) or not _CELL_ID.match(cell_id) or cell_id in seen:
                fresh = itertools.chain([f"cell-{index + 1}"], (f"cell-{index + 1}-{n}" for n in itertools.count(2)))
                cell_id = next(name for name in fresh if name not in seen)
            cell["id"] = cell_id
            seen.add(cell_id)


def _invalid_part(error):
    """Where a notebook breaks nbformat's schema (`cell 3, metadata.nbgrader`) and how, in one short line."""
    path = list(error.absolute_path)
    in_cell = path[:1] == ["cells"] and len(path) > 1
    where = ([f"cell {path[1] + 1}"] if in_cell else []) + [".".join(str(part) for part in path[2 if in_cell else 0:])]
    what = error.message
    if what.startswith(repr(error.instance)):  # jsonschema quotes the whole value first: the cell, its code
        what = "its value" + what[len(repr(error.instance)):]
    where = ", ".join(part for part in where if part)
    return f"{where}: {what[:160]}" if where else what[:160]


def repaired(notebook, template):
    """Repairs a notebook's graded cells as nbgrader does, in place, and says what was done.

    A cell whose grade id the release does not have loses its nbgrader
    metadata (nbgrader's `OverwriteCells` drops unknown ids); of cells that
    share a grade id, the last keeps it and the others lose their metadata
    (nbgrader's `DeduplicateIds`).

    Args:
        notebook: an `nbformat.NotebookNode`, changed in place.
        template: the `autograder.course.templates.NotebookTemplate` it answers.

    Returns:
        A list of lines, one per repaired cell (empty when nothing changed).
    """
    lines, seen = [], set()
    for index in reversed(range(len(notebook.cells))):
        cell = notebook.cells[index]
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id") if isinstance(cell.metadata.get("nbgrader"),
                                                                                    dict) else None
        if grade_id is None:
            continue
        if grade_id not in template.grade_ids:
            lines.append(f"cell {index + 1} carries grade id {grade_id!r}, which the released notebook does not have: "
                         "graded as an ordinary cell, as nbgrader does")
        elif grade_id in seen:
            lines.append(f"cell {index + 1} repeats grade id {grade_id!r} (a cell copied in Jupyter?): the last cell "
                         "with that id is graded and this one is an ordinary cell, as nbgrader does")
        else:
            seen.add(grade_id)
            continue
        del cell.metadata["nbgrader"]
    return lines[::-1]


def restored(notebook, template):
    """Puts back, in place, each graded cell of the release that the notebook lacks, and says so.

    A student who deletes a hidden-test cell (it looks empty) or whose editor
    drops cells' nbgrader metadata loses no work: the cell comes back empty
    and nbgrader's `OverwriteCells` fills it from the gradebook, as
    nbgrader's `add_missing_cells` does. It goes right after the cell of the
    release that comes before it in the release (before the next one when
    none before is left, at the end when none is), so that it runs when it
    would have run.

    Args:
        notebook: an `nbformat.NotebookNode`, changed in place.
        template: the `autograder.course.templates.NotebookTemplate` it answers.

    Returns:
        A list of one line naming the cells put back, or an empty list.
    """
    order = template.order or tuple(template.graded)
    present = set(_grade_ids_in(notebook))
    missing = [grade_id for grade_id in order if grade_id in template.graded and grade_id not in present]
    for grade_id in missing:
        at = _index_for(order.index(grade_id), order, notebook)
        notebook.cells.insert(at, nbformat.v4.new_code_cell(metadata={"nbgrader": {
            "grade": True, "grade_id": grade_id, "locked": True, "points": template.graded[grade_id],
            "solution": False, "schema_version": 3}}))
    if not missing:
        return []
    if not present & set(template.grade_ids):
        return [f"no cell carries nbgrader's metadata (an editor dropped it, or the work was copied into a new "
                f"notebook): the {len(missing)} graded cell{'s' * (len(missing) > 1)} were put back from the release "
                "after the last cell, as nbgrader's add_missing_cells does"]
    names = ", ".join(repr(grade_id) for grade_id in missing)
    return [f"graded cell{'s' * (len(missing) > 1)} {names} {'were' if len(missing) > 1 else 'was'} missing (deleted, "
            "or the cells' nbgrader metadata lost): put back from the release, as nbgrader's add_missing_cells does"]


def same_source(first, second):
    """Whether two cells' sources say the same: leading and trailing blank space and Windows' or old Macs' line
    ends (some editors save cells with them) are not an edit.

    Args:
        first, second: str, cell sources.

    Returns:
        bool.
    """
    return _lines(first).strip() == _lines(second).strip()


def _lines(text):
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _grade_ids_in(notebook):
    return [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells]


def _index_for(position, order, notebook):
    """Where the release's cell at `position` of `order` goes in the notebook."""
    present = _grade_ids_in(notebook)
    before = [present.index(g) for g in order[:position] if g in present]
    if before:
        return max(before) + 1
    after = [present.index(g) for g in order[position + 1:] if g in present]
    return min(after) if after else len(notebook.cells)


def _sanitised(notebook, template, *, assignment, student, db_url):
    """nbgrader's sanitising steps, then the hidden tests that call the grader's checks taken out again
    (`_without_graders_checks`)."""
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec

    resources = {"nbgrader": {"db_url": db_url, "assignment": assignment, "student": student,
                              "notebook": template.name[:-len(".ipynb")]}}
    for step in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata):
        try:
            notebook, resources = step().preprocess(notebook, resources)
        except Exception as error:  # nbgrader's metadata errors
            raise MalformedNotebook(f"nbgrader cannot grade it ({step.__name__}): "
                                    f"{str(error).splitlines()[0][:200]}") from None
    return _without_graders_checks(notebook)


def _without_graders_checks(notebook):
    """The notebook with every hidden-test region that calls cnnkit's checks removed.

    Those checks are the grader's: no sandbox holds them, and the verifier,
    not the kernel, decides those cells' points (so the kernel never sees
    them either). A hidden test of plain asserts stays: its cell is scored
    from the kernel's outputs, as nbgrader scores it.
    """
    for cell in notebook.cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        kept, hidden, inside = [], [], False
        for line in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in line:
                inside, hidden = True, []
            elif "END HIDDEN TESTS" in line and inside:
                inside = False
                if not any("cnnkit" in text for text in hidden):
                    kept += ["### BEGIN HIDDEN TESTS", *hidden, "### END HIDDEN TESTS"]
            elif inside:
                hidden.append(line)
            else:
                kept.append(line)
        cell.source = "\n".join(kept + (hidden if inside else [])).rstrip("\n")
    return notebook
