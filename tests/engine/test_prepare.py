"""Stage 2a: malformed notebooks are told apart in the trusted grader, and
well-formed ones get nbgrader's sanitising (locked cells and hidden tests back)."""

import copy
import json

import pytest

from autograder.pipeline.collect import Submission
from autograder.course.templates import templates_of
from autograder.pipeline.prepare import prepare
from tests.engine.conftest import SECRET


@pytest.fixture
def prepared_for(mini_course):
    mini_course.course.register("mini")
    templates = templates_of(mini_course.course, "mini")

    def run(text):
        data = text if isinstance(text, (bytes, str)) else json.dumps(text)
        submission = Submission("ann", {"mini.ipynb": data.encode() if isinstance(data, str) else data}, "h", "test")
        return prepare(submission, templates, assignment="mini", db_url=mini_course.course.db_url)
    return run, mini_course


def test_a_good_notebook_gets_its_hidden_tests_and_locked_cells_back(prepared_for):
    run, course = prepared_for
    notebook = course.notebook()
    notebook.cells[1].source = "pass  # the student emptied the locked test cell"
    prepared = run(notebook)
    assert not prepared.malformed
    text = prepared.notebooks["mini.ipynb"]
    assert SECRET in text and "the student emptied" not in text


@pytest.mark.parametrize("mangle, words", [
    (lambda nb: "{\"cells\": [", "broken JSON at line 1"),
    (lambda nb: b"\xff\xfe not utf-8", "not UTF-8"),
    (lambda nb: {**nb, "nbformat_minor": 99}, "nbformat 4.99 is not one this grader reads"),
    (lambda nb: {**nb, "nbformat": 5}, "nbformat 5.5"),
    (lambda nb: {"metadata": {}}, "no list of cells"),
    (lambda nb: b"", "the file is empty"),
    (lambda nb: b"%PDF-1.7\n\xe2\xe3", "the file is a PDF"),
    (lambda nb: b"<!DOCTYPE html>\n<html>", "the file is a web page (HTML)"),
    (lambda nb: b"import numpy as np\n", "the file is Python, not a notebook's JSON"),
    (lambda nb: b"PK\x03\x04\x14\x00\x08\x00\xff", "the file is a zip archive"),
])
def test_unreadable_notebooks_are_malformed_with_a_reason(prepared_for, mangle, words):
    run, course = prepared_for
    prepared = run(mangle(json.loads(json.dumps(course.notebook()))))
    assert words in prepared.malformed["mini.ipynb"] and not prepared.notebooks


def _ignored_parts_broken(notebook):
    """What editors and tools get wrong in parts of a notebook the grader never reads."""
    cells = notebook["cells"]
    cells[2]["id"] = cells[0]["id"]  # a repeated cell id (copied cells, some editors)
    cells[1]["id"] = "not an id/"  # one nbformat's rule refuses
    cells[0].update(execution_count="7", outputs=[{"output_type": "execute_result", "data": {}}])  # fields missing
    cells[0]["attachments"] = {}
    cells[2]["metadata"] = None
    notebook["metadata"].update(kernelspec={"name": "python3"}, widgets={"broken": 1}, language_info="python")
    return notebook


def test_what_the_grader_never_reads_is_set_right_not_held_against_the_notebook(prepared_for):
    run, course = prepared_for
    clean = run(course.notebook())
    prepared = run(_ignored_parts_broken(json.loads(json.dumps(course.notebook()))))
    assert not prepared.malformed, prepared.malformed
    cells, expected = (json.loads(p.notebooks["mini.ipynb"])["cells"] for p in (prepared, clean))
    assert [c["source"] for c in cells] == [c["source"] for c in expected], "every cell kept, hidden tests back"
    assert len({c["id"] for c in cells}) == len(cells), "ids made unique"
    assert all(c.get("outputs", []) == [] for c in cells)
    assert json.loads(prepared.notebooks["mini.ipynb"])["metadata"]["kernelspec"]["display_name"], "the release's"


def test_a_byte_order_mark_before_the_json_is_not_held_against_the_notebook(prepared_for):
    """Some Windows editors start UTF-8 files with a byte order mark; JSON parsers refuse it, the grader skips it."""
    run, course = prepared_for
    prepared = run(b"\xef\xbb\xbf" + json.dumps(course.notebook()).encode())
    assert not prepared.malformed and "mini.ipynb" in prepared.notebooks, prepared.malformed


def test_half_an_emoji_is_shown_as_a_replacement_character_not_held_against_the_notebook(prepared_for):
    """JSON can hold half of a UTF-16 pair alone (an editor that cut an emoji in two); no UTF-8 file can. Before,
    nbgrader's write failed and the notebook was `malformed` (0 points); a whole emoji was always fine."""
    run, course = prepared_for
    notebook = json.loads(json.dumps(course.notebook()))
    notebook["cells"][0]["source"] = "x = 1  # half \ud83d, whole \ud83d\ude00"
    notebook["metadata"]["note \udfff"] = "key and value \udfff"
    text = json.dumps(notebook)  # ASCII JSON: the halves as escapes
    assert "\\ud83d," in text
    prepared = run(text)
    assert not prepared.malformed, prepared.malformed
    cell = "".join(json.loads(prepared.notebooks["mini.ipynb"])["cells"][0]["source"])
    assert cell == "x = 1  # half \ufffd, whole \U0001f600", cell


@pytest.mark.parametrize("break_cell, words", [
    (lambda cell: cell.update(cell_type="heading"), "cell 2 is not a code, markdown or raw cell ('heading')"),
    (lambda cell: cell.update(source=7), "cell 2 has no source text"),
    (lambda cell: cell["metadata"].update(tags="solution"), "cell 2, metadata.tags: its value is not of type 'array'"),
])
def test_a_cell_that_is_not_one_makes_the_notebook_malformed_and_is_named(prepared_for, break_cell, words):
    run, course = prepared_for
    notebook = json.loads(json.dumps(course.notebook()))
    break_cell(notebook["cells"][1])
    assert run(notebook).malformed["mini.ipynb"] == f"not a valid notebook: {words}"


def _grade_ids(prepared):
    cells = json.loads(prepared.notebooks["mini.ipynb"])["cells"]
    return [cell["metadata"].get("nbgrader", {}).get("grade_id") for cell in cells]


def test_a_copied_graded_cell_is_deduplicated_as_nbgrader_does_and_said(prepared_for):
    run, course = prepared_for
    doubled = copy.deepcopy(json.loads(json.dumps(course.notebook())))
    doubled["cells"].append(copy.deepcopy(doubled["cells"][1]))  # a cell copied in Jupyter keeps its grade id
    doubled["cells"][-1]["id"] = "another"
    prepared = run(doubled)
    assert not prepared.malformed
    ids = _grade_ids(prepared)
    assert ids.count("add_tests") == 1 and ids[-1] == "add_tests", "the last copy is graded, as nbgrader does"
    (line,) = prepared.repairs["mini.ipynb"]
    assert line.startswith("cell 2 repeats grade id 'add_tests'") and "as nbgrader does" in line


def test_a_cell_with_a_grade_id_the_release_lacks_becomes_an_ordinary_cell_and_is_said(prepared_for):
    run, course = prepared_for
    extra = json.loads(json.dumps(course.notebook()))
    extra["cells"].append({**copy.deepcopy(extra["cells"][1]), "id": "extra"})
    extra["cells"][-1]["metadata"]["nbgrader"]["grade_id"] = "bonus_tests"
    prepared = run(extra)
    assert not prepared.malformed and "bonus_tests" not in _grade_ids(prepared)
    assert prepared.repairs["mini.ipynb"] == (f"cell {len(extra['cells'])} carries grade id 'bonus_tests', which the "
                                              "released notebook does not have: graded as an ordinary cell, as "
                                              "nbgrader does",)
    assert run(course.notebook()).repairs == {}


def test_a_missing_notebook_is_listed(prepared_for):
    run, course = prepared_for
    from autograder.course.templates import templates_of

    submission = Submission("ann", {}, "h", "test")
    prepared = prepare(submission, templates_of(course.course, "mini"), assignment="mini", db_url=course.course.db_url)
    assert prepared.missing == ("mini.ipynb",)


@pytest.mark.parametrize("depth", [200, 100_000])
def test_a_notebook_nested_too_deeply_is_malformed_and_stops_nothing(prepared_for, depth):
    run, course = prepared_for
    notebook = json.loads(json.dumps(course.notebook()))
    notebook["metadata"]["deep"] = json.loads("[" * 150 + "]" * 150) if depth < 1000 else None
    text = json.dumps(notebook)
    if depth >= 1000:  # past the JSON parser's own recursion limit
        text = text.replace('"deep": null', '"deep": ' + "[" * depth + "]" * depth)
    prepared = run(text)
    assert "nested more than" in prepared.malformed["mini.ipynb"] and not prepared.notebooks


def test_a_deleted_test_cell_is_put_back_where_it_ran_from_the_gradebook_and_said(prepared_for):
    run, course = prepared_for
    notebook = json.loads(json.dumps(course.notebook()))
    notebook["cells"] = [c for c in notebook["cells"] if c["metadata"]["nbgrader"]["grade_id"] != "add_tests"]
    prepared = run(notebook)
    assert not prepared.malformed
    assert _grade_ids(prepared) == ["add", "add_tests", "work", "after_tests"], "right after the answer it tests"
    cells = json.loads(prepared.notebooks["mini.ipynb"])["cells"]
    assert SECRET in "".join(cells[1]["source"]), "the gradebook's source, hidden tests and all"
    (line,) = prepared.repairs["mini.ipynb"]
    assert line.startswith("graded cell 'add_tests' was missing") and "put back" in line


def test_a_notebook_whose_cells_lost_their_nbgrader_metadata_gets_every_test_cell_back(prepared_for):
    run, course = prepared_for
    notebook = json.loads(json.dumps(course.notebook()))
    for cell in notebook["cells"]:
        del cell["metadata"]["nbgrader"]  # what some editors do to metadata they do not know
    prepared = run(notebook)
    assert not prepared.malformed
    assert _grade_ids(prepared)[-2:] == ["add_tests", "after_tests"], "after the student's code, in release order"
    (line,) = prepared.repairs["mini.ipynb"]
    assert line.startswith("no cell carries nbgrader's metadata") and "the 2 graded cells were put back" in line, \
        "one short line for them all"


def test_the_code_hash_changes_with_the_code_only(prepared_for):
    """The verifier draws a submission's random cases from it: the same code with other outputs, execution counts
    or markdown (or Windows line ends) draws the same cases; changed code draws new ones."""
    run, course = prepared_for
    notebook = json.loads(json.dumps(course.notebook(add="def add(a, b):\n    return a + b")))
    first = run(notebook).code_hash
    rerun = copy.deepcopy(notebook)
    for cell in rerun["cells"]:
        if cell["cell_type"] == "code":
            cell.update(execution_count=7, outputs=[{"output_type": "stream", "name": "stdout", "text": "hi\n"}])
            cell["source"] = "".join(cell["source"]).replace("\n", "\r\n")
    rerun["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "my notes"})
    assert run(rerun).code_hash == first and len(first) == 64
    changed = json.loads(json.dumps(course.notebook(add="def add(a, b):\n    return b + a")))
    assert run(changed).code_hash != first
