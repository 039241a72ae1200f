"""Stage 1, collect: find the submissions, read them, hash them.

Two sources:

- nbgrader's layout, `COURSE/submitted/<student>/<assignment>/*.ipynb`;
- a folder or zip as an LMS download gives it, inside any number of wrapper
  folders (`submissions/...`): a folder per student (`<student>/.../*.ipynb`,
  Moodle's `<Full Name>_<id>_assignsubmission_file_/` gives the name), or
  notebooks side by side, named `<student>_<notebook>.ipynb` (Canvas'
  `<login>_<user id>_<file id>_<notebook>.ipynb` gives the login and Canvas'
  user id, a `late` after the login (or a `late_` prefix) marks the
  submission late; Blackboard's
  `<assignment>_<student>_attempt_<date>_<notebook>.ipynb` gives the student;
  Brightspace's `<id>-<user id> - <name> - <date>`, a folder or the start of
  a file's name, gives the name, and of one user's submissions the latest
  copy of each notebook is graded),
  or `<student>.ipynb` when each student hands in one notebook (it is then
  recognised by the graded cells it holds);
  a zip a student handed in is opened (one level deep) and named as a file
  or folder of its place would be.

A resubmission's suffix (Canvas' `-1`, Jupyter's `-Copy1`) is not part of the
name; a notebook renamed by its student is recognised by its graded cells,
in nbgrader's layout too (the file with the notebook's own name wins). Every
file that is not collected gets a line saying why (a PDF, a `.py`, a second
copy), and finding nothing at all is an error that names where it looked.

Nothing is extracted or written: notebooks are read into memory. A student id
or file name that could reach outside its folder (`/`, `..`, a leading dot,
a symbolic link, an absolute path in a zip) is refused, and only that entry.
Zip entries are checked before they are read (declared size, compression
ratio, the archive's total) and read with a bound (a lying size or a bad CRC
refuses that entry); what one entry does never stops the collection. Two
entries that claim the same notebook of the same student are both refused:
no file can take another student's identity.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

__all__ = ["Collection", "Refusal", "Submission", "collect", "content_hash", "safe_name"]

MAX_NOTEBOOK_BYTES = 50 * 1000**2
MAX_TOTAL_BYTES = 4 * 1000**3  # everything a collection reads into memory, together
MAX_RATIO = 200  # a notebook's JSON compresses 5-20 times; far more is a zip bomb
MAX_NESTED_ENTRIES = 10_000  # the most files a zip a student handed in may hold to be opened
MAX_NESTED_LINES = 20  # the most lines about one such zip's other files
MAX_NESTED_BYTES = 500 * 1000**2  # the most notebook bytes such a zip may declare (three notebooks take a few MB)
# Names are people's: letters and digits of any script (José García, 李华), and these marks (O'Brien, a browser's
# " (1)"). A letter or digit first: a name that began with `+`, `-` or `@` would read as a formula in a spreadsheet
# that opens grades.csv. At most 128 characters and 200 bytes of UTF-8 (a file name holds 255).
_PUNCTUATION = frozenset("._@+()', -")
_UNSAFE = "unsafe name (only letters, digits, spaces and ._@+-()', are accepted, a letter or digit first)"
_JUNK = {".ipynb_checkpoints", ".DS_Store", "__MACOSX", ".git", "Thumbs.db"}
_CANVAS = re.compile(r"^(?P<late>late_)?(?P<login>[^_]+)(?P<marked>_late)?_(?P<user>\d+)_\d+$")
_CANVAS_KIND = "Canvas file names (<login>_<id>_<id>_<notebook>)"
_CANVAS_FILE = re.compile(r"^(?P<late>late_)?(?P<login>[^_]+)(?P<marked>_late)?_(?P<user>\d+)_\d+_(?P<rest>.+)$")
_BLACKBOARD = re.compile(r"^.+?_(?P<login>[^_]+)_attempt_[\d-]+$")
_BLACKBOARD_FILE = re.compile(r"^.+?_(?P<login>[^_]+)_attempt_[\d-]+_(?P<rest>.+)$")  # a notebook renamed
_MOODLE = re.compile(r"^(?P<name>.+?)_\d+_assignsubmission_(?:file|onlinetext)_?$")
_MOODLE_FILE = re.compile(r"^(?P<name>.+?)_\d+_assignsubmission_(?:file|onlinetext)_(?P<rest>.*)$")  # no folders
_MOODLE_KIND = "Moodle file names (<name>_<id>_assignsubmission_file_<notebook>)"
# Brightspace (D2L): `<submission id>-<user id> - <First Last> - <date>`, a folder per submission or the start of
# each file's name (`... - <date> - <the student's file name>`); the date holds a year and no hyphen
_BRIGHTSPACE = re.compile(r"^(?P<submission>\d+)-(?P<user>\d+) - (?P<name>.+?) ?- (?P<date>[^-]*\d{4}[^-]*?)"
                          r"(?: - (?P<rest>.+))?$")
_BRIGHTSPACE_DATES = ("%b %d, %Y %I%M %p", "%b %d, %Y %I:%M %p", "%B %d, %Y %I%M %p", "%B %d, %Y %I:%M %p")
_RESUBMITTED = re.compile(r"(?:-\d+|-Copy\d+| \(\d+\))$")  # Canvas' -1, Jupyter's -Copy1, a browser's (1)
_NOT_COLLECTED = ("timestamp.txt",)  # read beside the notebooks, not a file of its own


@dataclass(frozen=True)
class Submission:
    """One student's notebooks, as submitted.

    Attributes:
        student: the student id.
        notebooks: dict of assignment notebook file name -> the file's bytes.
        digest: SHA-256 of the notebooks (names and contents), hex.
        origin: where it was found, for messages.
        submitted_at: when it was submitted (a naive UTC `datetime`): from
            nbgrader's `timestamp.txt`, else the latest time of its files (a
            zip entry's time, read as UTC, or a file's modification time),
            or None when unknown.
        late: True when the LMS marked a file of it late (Canvas' `late`).
        lms_user_id: the LMS's own id of the student when its file names
            carry one (Canvas' user id), else None.
    """

    student: str
    notebooks: dict
    digest: str
    origin: str
    submitted_at: object = None
    late: bool = False
    lms_user_id: str | None = None


@dataclass(frozen=True)
class Refusal:
    """An entry that was not collected, and why (`skipped`: harmless, e.g. a PDF beside the notebooks)."""

    where: str
    reason: str
    verb: str = "refused"

    def line(self):
        return f"{self.verb} {self.where}: {self.reason}"


@dataclass(frozen=True)
class Collection:
    """What stage 1 found.

    Attributes:
        submissions: tuple of `Submission`, sorted by student.
        refused: tuple of `Refusal`.
        ids_from: one line saying how student ids were derived.
    """

    submissions: tuple
    refused: tuple = field(default=())
    ids_from: str = ""


def safe_name(name):
    """Whether `name` may be used as a student id or file name.

    Args:
        name: str.

    Returns:
        True for names of letters and digits of any script (with their
        accents), spaces and `._@+-()'`, that start with a letter or digit,
        hold no `..`, and are at most 128 characters and 200 bytes long.
        Control, formatting (a right-to-left override) and other symbol
        characters are never safe.
    """
    if not name or len(name) > 128 or len(name.encode("utf-8", "surrogatepass")) > 200 or ".." in name:
        return False
    kinds = [unicodedata.category(character)[0] for character in name]
    return kinds[0] in "LN" and all(kind in "LNM" or character in _PUNCTUATION
                                    for kind, character in zip(kinds, name))


def _nfc(name):
    """A name in one Unicode spelling (macOS writes `é` as `e` and an accent): the same student whoever zipped it."""
    return unicodedata.normalize("NFC", name)


def content_hash(notebooks):
    """SHA-256 (hex) of a dict of file name -> bytes, independent of order."""
    digest = hashlib.sha256()
    for name in sorted(notebooks):
        digest.update(name.encode() + b"\0" + hashlib.sha256(notebooks[name]).digest())
    return digest.hexdigest()


def collect(course_root, assignment, expected, submissions=None):
    """Finds every submission of an assignment.

    Args:
        course_root: the course directory (used when `submissions` is None).
        assignment: the assignment id.
        expected: dict of the assignment's notebook file names -> the set of
            grade ids each holds (to recognise a notebook by its cells).
        submissions: a folder or zip from an LMS, or None for nbgrader's
            `submitted/` layout.

    Returns:
        A `Collection`.

    Raises:
        FileNotFoundError: if the folder or zip does not exist, or holds no
            notebook of the assignment (the message names where it looked).
    """
    if submissions is None:
        root = Path(course_root) / "submitted"
        refused = []
        by_student, file_times = _nbgrader_students(_folder_entries(root, refused, depth=3), assignment, expected,
                                                    refused)
        times = {student: _timestamp(root / student / assignment / "timestamp.txt") or file_times.get(student)
                 for student in by_student}
        found = _collection(by_student, refused, f"student ids: folder names under {root}", root, times)
        where = f"{root}/<student>/{assignment}/*.ipynb"
    else:
        path = Path(submissions)
        if not path.exists():
            raise FileNotFoundError(f"no such folder or zip: {path}")
        refused = []
        entries = (_zip_entries(path, refused) if path.is_file() else
                   _folder_entries(path, refused, depth=8, open_zips=True))
        entries = _strip_wrappers(entries, expected)
        by_student, ids_from, named = _assign_students(entries, expected, refused)
        found = _collection(by_student, refused, ids_from, path, named.times, late=named.late, lms=named.lms_ids)
        where = str(path)
    if not found.submissions:
        refusals = f" ({len(found.refused)} file(s) refused or skipped: {found.refused[0].line()}" + \
            (", ..." if len(found.refused) > 1 else "") + ")" if found.refused else ""
        raise FileNotFoundError(f"no notebook of assignment {assignment!r} found in {where}{refusals}")
    return found


def _nbgrader_students(entries, assignment, expected, refused):
    """nbgrader's layout: `<student>/<assignment>/<notebook>`; a renamed notebook is recognised by its cells
    when the student has no file of that name; everything else gets a line."""
    by_student, renamed, times = defaultdict(dict), [], {}
    for parts, read, when in entries:
        where = "/".join(parts)
        if len(parts) != 3 or parts[1] != assignment:
            if len(parts) == 3 or parts[-1].endswith(".ipynb"):
                refused.append(Refusal(where, f"not in a folder of assignment {assignment!r}", "skipped"))
        elif not parts[2].endswith(".ipynb"):
            if parts[2] not in _NOT_COLLECTED:
                refused.append(Refusal(where, _not_a_notebook(parts[2]), "skipped"))
        elif parts[2] in expected:
            by_student[parts[0]][parts[2]] = read
            times[parts[0]] = _latest(times.get(parts[0]), when)
        else:
            renamed.append((parts, read, when))
    for (student, _, name), read, when in renamed:
        notebook = _known_notebook(name, expected, read)
        where = f"{student}/{assignment}/{name}"
        if notebook is None:
            refused.append(Refusal(where, "not one of the assignment's notebooks (its graded cells are not "
                                          "those of any)", "skipped"))
        elif notebook in by_student[student]:
            refused.append(Refusal(where, f"another copy of {notebook}: the file named {notebook} is graded",
                                   "skipped"))
        else:
            by_student[student][notebook] = read
            times[student] = _latest(times.get(student), when)
            refused.append(Refusal(where, f"graded as {notebook} (recognised by its graded cells)", "renamed"))
    return by_student, times


def _latest(first, second):
    return max(filter(None, (first, second)), default=None)


def _not_a_notebook(name):
    kind = Path(name).suffix or "no extension"
    return f"not a notebook ({kind}): only .ipynb files are graded"


def _timestamp(path):
    """nbgrader's submission time from `timestamp.txt` (naive UTC), or None when absent or unreadable."""
    from nbgrader.utils import parse_utc

    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 200:
            return None
        return parse_utc(path.read_text().strip())
    except (OSError, ValueError, OverflowError, UnicodeDecodeError):
        return None


def _collection(by_student, refused, ids_from, origin, times=None, late=(), lms=None):
    found, total = [], 0
    for student in sorted(by_student):
        notebooks = {}
        for name, read in sorted(by_student[student].items()):
            try:
                content = read()
            except Exception as error:  # a bad CRC, a lying size, an unreadable file: this entry's alone
                refused.append(Refusal(f"{student}/{name}", _reason(error)))
                continue
            total += len(content)
            if total > MAX_TOTAL_BYTES:
                refused.append(Refusal(f"{student}/{name}", f"the submissions together are over "
                                                            f"{MAX_TOTAL_BYTES // 1000**3} GB"))
                continue
            notebooks[name] = content
        if notebooks:
            found.append(Submission(student, notebooks, content_hash(notebooks), f"{origin}/{student}",
                                    (times or {}).get(student), student in late, (lms or {}).get(student)))
    return Collection(tuple(found), tuple(refused), ids_from)


def _reason(error):
    """An error reading an entry, in one line."""
    if isinstance(error, (OSError, ValueError)) and not isinstance(error, zipfile.BadZipFile):
        return str(error)
    return f"unreadable ({type(error).__name__}: {str(error)[:160]})"


def _folder_entries(root, refused, depth, open_zips=False):
    """(path parts, reader, file time as naive UTC) of every notebook under `root`, unsafe ones refused; with
    `open_zips`, a zip's notebooks too, as if its name were a folder's."""
    entries = []
    if not root.is_dir():
        return entries

    def walk(folder, parts):
        for child in sorted(folder.iterdir()):
            name = _nfc(child.name)
            where = "/".join(parts + (name,))
            if child.name in _JUNK:
                continue
            if not safe_name(name):
                refused.append(Refusal(where, _UNSAFE))
            elif child.is_symlink():
                refused.append(Refusal(where, "symbolic link"))
            elif child.is_dir() and len(parts) + 1 < depth:
                walk(child, parts + (name,))
            elif child.is_file() and child.suffix == ".ipynb":
                entries.append((parts + (name,), _file_reader(child), _file_time(child)))
            elif open_zips and child.is_file() and child.suffix.lower() == ".zip":
                entries.extend(_nested_entries(lambda path=child: zipfile.ZipFile(path), where, parts + (name,), refused))
            elif child.is_file() and child.name not in _NOT_COLLECTED:
                refused.append(Refusal(where, _not_a_notebook(child.name), "skipped"))
            elif child.is_dir():
                refused.append(Refusal(where, f"folder nested deeper than {depth} levels", "skipped"))

    walk(root, ())
    return entries


def _file_time(path):
    """A file's modification time, as naive UTC (what the gradebook stores)."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).replace(tzinfo=None)
    except (OSError, ValueError, OverflowError):
        return None


def _zip_time(info):
    """A zip entry's time (zips store no time zone: read as UTC), or None when it is not a valid time."""
    try:
        return datetime(*info.date_time)
    except (TypeError, ValueError):
        return None


def _file_reader(path):
    def read():
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"larger than {MAX_NOTEBOOK_BYTES // 1000**2} MB")
        return path.read_bytes()
    return read


def _zip_entries(path, refused):
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path} is not a readable zip: {error}") from None
    return _archive_entries(lambda: archive, path.name, (), refused, open_zips=True)


def _archive_entries(opened, label, prefix, refused, open_zips=False, archive=None):
    """The notebooks of the zip `opened()` returns (`archive`, when already open), their parts after `prefix`;
    with `open_zips`, those of each zip inside it too (a student who zipped the notebooks), one level deep."""
    archive, entries = archive or opened(), []
    for info in archive.infolist():
        name = _nfc(_zip_name(info))
        parts, where = prefix + PurePosixPath(name).parts, f"{label}:{name}"
        if name.startswith("/") or "\\" in name or any(part in ("..", "") for part in name.rstrip("/").split("/")):
            refused.append(Refusal(where, "path reaches outside the zip"))
        elif info.is_dir() or any(part in _JUNK or part.startswith("._") for part in parts):
            continue
        elif stat.S_ISLNK(info.external_attr >> 16):
            refused.append(Refusal(where, "symbolic link"))
        elif not all(safe_name(part) for part in parts):
            refused.append(Refusal(where, _UNSAFE))
        elif name.endswith(".ipynb") or (open_zips and name.lower().endswith(".zip")):
            problem = _zip_problem(info)
            if problem:
                refused.append(Refusal(where, problem))
            elif name.endswith(".ipynb"):
                entries.append((parts, _zip_reader(opened, info), _zip_time(info)))
            else:
                entries += _nested_entries(_nested_zip(opened, info), where, parts, refused)
        elif parts[-1] not in _NOT_COLLECTED:
            refused.append(Refusal(where, _not_a_notebook(parts[-1]), "skipped"))
    return entries


def _nested_entries(opened, where, parts, refused):
    """A student's zip's notebooks (a zip in it is not opened), or a line saying why it cannot be read; at most
    `MAX_NESTED_LINES` lines about its other files, so that no zip floods the run's lines."""
    lines = []
    try:
        archive = opened()
        infos = archive.infolist()
        notebooks = sum(info.file_size for info in infos if info.filename.endswith(".ipynb"))
        if len(infos) > MAX_NESTED_ENTRIES or notebooks > MAX_NESTED_BYTES:
            refused.append(Refusal(where, f"a zip of {len(infos):,} entries and {notebooks / 1000**2:,.0f} MB of "
                                          f"notebooks (more than {MAX_NESTED_ENTRIES:,} or "
                                          f"{MAX_NESTED_BYTES // 1000**2} MB): not opened"))
            return []
        entries = _archive_entries(opened, where, parts, lines, archive=archive)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        refused.append(Refusal(where, f"not a readable zip ({str(error)[:120]})"))
        return []
    refused += lines[:MAX_NESTED_LINES]
    if len(lines) > MAX_NESTED_LINES:
        refused.append(Refusal(where, f"{len(lines) - MAX_NESTED_LINES:,} more of its files not collected", "skipped"))
    return entries


def _nested_zip(opened, info):
    """An opener of the zip stored in entry `info`: read again, with a bound, each time (nothing held)."""
    def open_nested():
        return zipfile.ZipFile(io.BytesIO(_zip_reader(opened, info)()))
    return open_nested


def _zip_name(info):
    """An entry's name: a zip whose tool wrote UTF-8 names without saying so (no flag 0x800) reads, by the zip
    standard, as code page 437 (`JosÃ©`); such names are read as the UTF-8 they are."""
    if info.flag_bits & 0x800 or info.filename.isascii():
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _zip_problem(info):
    """Why a zip entry must not be read at all (from what its header declares), or ""."""
    if info.file_size > MAX_NOTEBOOK_BYTES:
        return f"larger than {MAX_NOTEBOOK_BYTES // 1000**2} MB"
    if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
        return f"compressed {info.file_size / info.compress_size:.0f} to 1 (a zip bomb?)"
    return ""


def _zip_reader(opened, info):
    def read():
        with opened().open(info) as handle:
            content = handle.read(MAX_NOTEBOOK_BYTES + 1)
        if len(content) > MAX_NOTEBOOK_BYTES:  # its header lied about its size
            raise ValueError(f"larger than {MAX_NOTEBOOK_BYTES // 1000**2} MB")
        return content
    return read


def _strip_wrappers(entries, expected):
    """Drops the folders that wrap everything (`submissions/...`, at any depth), but never a student's own
    folder (one that holds the assignment's notebooks under their own names) or zip."""
    while entries and all(len(p) > 1 for p, _, _ in entries) and len({p[0] for p, _, _ in entries}) == 1 \
            and not _zipped(entries[0][0]):
        inner = [(parts[1:], read, when) for parts, read, when in entries]
        if any(len(parts) == 1 and _bare(parts[0]) in expected for parts, _, _ in inner):
            break  # `alice/01_convolution.ipynb`: the folder names the student
        entries = inner
    return entries


def _bare(name):
    """A file name without a resubmission suffix (`01_convolution-1.ipynb` -> `01_convolution.ipynb`)."""
    stem = name[:-len(".ipynb")] if name.endswith(".ipynb") else name
    return _RESUBMITTED.sub("", stem) + ".ipynb"


@dataclass
class _Named:
    """What an LMS download's names say beyond the notebooks: students marked late, each student's latest file
    time, the LMS's own ids."""

    late: set = field(default_factory=set)
    times: dict = field(default_factory=dict)
    lms_ids: dict = field(default_factory=dict)


def _assign_students(entries, expected, refused):
    """(notebooks by student, how ids were read, a `_Named`)."""
    claims = defaultdict(list)  # (student, notebook) -> [(where, read, when, a Brightspace submission or None)]
    kinds, named = set(), _Named()
    stems = sorted((name[:-len(".ipynb")] for name in expected), key=len, reverse=True)
    brightspace = _brightspace_ids(entries)
    for parts, read, when in entries:
        where, submitted = "/".join(parts), None
        if parts in brightspace:
            student, submitted, rest = brightspace[parts]
            notebook = _known_notebook(_bare(parts[-1]) if rest is None else rest, expected, read)
            kinds.add("Brightspace names (<id>-<user id> - <name> - <date>)")
            named.lms_ids[student] = submitted[0]
        elif len(parts) > 1 and _zipped(parts):  # a zip per student: its name names the student, as a file's
            student, _, marked_late, kind, lms_id = _flat_name(parts[0][:-len(".zip")], stems)
            notebook = _known_notebook(_bare(parts[-1]), expected, read)
            kinds.add(f"{kind}, a zip per student")
            if marked_late:
                named.late.add(student)
            if lms_id:
                named.lms_ids[student] = lms_id
        elif len(parts) > 1:  # a folder per student: the folder names the student
            moodle = _MOODLE.match(parts[0])
            student = moodle.group("name").replace(" ", "_") if moodle else parts[0]
            notebook = _known_notebook(_bare(parts[-1]), expected, read)
            kinds.add("Moodle folder names (<name>_<id>_assignsubmission_file_)" if moodle else
                      "folder names (a folder per student)")
        else:
            student, suffix, marked_late, kind, lms_id = _flat_name(_bare(parts[0])[:-len(".ipynb")], stems)
            notebook = suffix + ".ipynb" if suffix else _known_notebook(parts[0], expected, read)
            kinds.add(kind)
            if marked_late:
                named.late.add(student)
            if lms_id:
                named.lms_ids[student] = lms_id
        if not student or not safe_name(student):
            refused.append(Refusal(where, "no usable student id in the name"))
        elif notebook is None:
            refused.append(Refusal(where, "not one of the assignment's notebooks (neither its name nor its graded "
                                          "cells are those of any)", "skipped"))
        else:
            claims[(student, notebook)].append((where, read, when, submitted))
    by_student = defaultdict(dict)
    for (student, notebook), found in claims.items():
        found = _one_of_identical(_latest_submission(found, refused), refused)
        if len(found) == 1:
            by_student[student][notebook] = found[0][1]
            named.times[student] = _latest(named.times.get(student), found[0][2])
            continue
        places = [where for where, _, _, _ in found]
        reason = (f"{len(found):,} files claim {notebook} of student {student} ({', '.join(places[:3])}"
                  f"{f' and {len(found) - 3:,} more' if len(found) > 3 else ''}): all refused, since no file may "
                  "take a student's identity; hand in one")
        refused += [Refusal(where, reason) for where in places] if len(found) <= 3 else \
            [Refusal(f"{places[0]} and {len(found) - 1:,} more", reason)]  # one line, however many
    return by_student, "student ids: " + ("; ".join(sorted(kinds)) or "no notebooks found"), named


def _brightspace_ids(entries):
    """Brightspace's names: `{entry's parts: (student, (user id, order), the notebook's file name in a flat name,
    or None)}`. The student is the name (`Ann_Lee`), with the user id when two users share
    it (`Ann_Lee_640693`); `order` (the date, then the submission id) ranks one user's submissions."""
    found = {}
    for parts, _, _ in entries:
        flat, zipped = len(parts) == 1, _zipped(parts)
        match = _BRIGHTSPACE.match(_bare(parts[0])[:-len(".ipynb")] if flat else parts[0][:-len(".zip")] if zipped
                                   else parts[0])
        if match and (flat or zipped) == bool(match.group("rest")):
            rest = match.group("rest") + ".ipynb" if flat else None
            order = (_brightspace_time(match.group("date")), int(match.group("submission")))
            found[parts] = (match.group("name"), (match.group("user"), order), rest)
    users = defaultdict(set)
    for name, (user, _), _ in found.values():
        users[name].add(user)
    return {key: ((name if len(users[name]) == 1 else f"{name}_{user}").replace(" ", "_"), (user, order), rest)
            for key, (name, (user, order), rest) in found.items()}


def _zipped(parts):
    """Whether an entry's first part is a zip that a student handed in (its notebooks are inside)."""
    return len(parts) > 1 and parts[0].lower().endswith(".zip")


def _brightspace_time(text):
    """The date in a Brightspace name (`Oct 10, 2025 1022 AM`), or `datetime.min` in a format not known here."""
    for form in _BRIGHTSPACE_DATES:
        try:
            return datetime.strptime(text.strip(), form)
        except ValueError:
            continue
    return datetime.min


def _latest_submission(found, refused):
    """The claims on one notebook of one student, with only the latest of one Brightspace user's submissions
    (the LMS names the user; earlier ones get a line); any other claims as they are."""
    submitted = [claim for claim in found if claim[3]]
    if len(submitted) < 2 or len(submitted) != len(found) or len({claim[3][0] for claim in found}) != 1:
        return found
    latest = max(found, key=lambda claim: claim[3][1])
    refused += [Refusal(where, f"an earlier submission of the same student: the latest, {latest[0]}, is graded",
                        "skipped") for where, _, _, _ in found if where != latest[0]]
    return [latest]


def _one_of_identical(found, refused):
    """The claims on one notebook of one student as one claim when they are all the same bytes (a file handed in
    twice: Canvas' `-1` copy, a zip that holds it twice), the latest by time, the others skipped in one line;
    claims that differ (or cannot be read) as they are: no file may take a student's identity."""
    if len(found) < 2:
        return found
    try:
        first = found[0][1]()
        if any(claim[1]() != first for claim in found[1:]):
            return found
    except Exception:  # unreadable: refused with the others, the reason read where it is graded
        return found
    kept = max(found, key=lambda claim: (claim[2] is not None, claim[2] or 0))
    others = [where for where, _, _, _ in found if where != kept[0]]
    refused.append(Refusal(others[0] if len(others) == 1 else f"{others[0]} and {len(others) - 1:,} more",
                           f"the same bytes as {kept[0]}, which is graded", "skipped"))
    return [kept]


def _flat_name(stem, stems):
    """What a file's name says: `(student, the notebook's stem or None, marked late, how the id was read, the
    LMS's own id or None)`;
    `stems` are the assignment's notebook stems, longest first. A name without a notebook's stem is one notebook
    per student (Canvas' name around a notebook the student renamed gives the login all the same)."""
    moodle = _MOODLE_FILE.match(stem)  # Moodle's download without a folder per student
    if moodle:
        rest = moodle.group("rest")
        return moodle.group("name").replace(" ", "_"), rest if rest in stems else None, False, _MOODLE_KIND, None
    suffix = next((s for s in stems if stem.endswith(s) and len(stem) > len(s)), None)
    prefix = stem[:-len(suffix)].rstrip("_- ") if suffix else None
    canvas = _CANVAS.match(prefix) if suffix else _CANVAS_FILE.match(stem)
    if canvas:
        marked = bool(canvas.group("late") or canvas.group("marked"))
        return canvas.group("login"), suffix, marked, _CANVAS_KIND, canvas.group("user")
    blackboard = _BLACKBOARD.match(prefix) if suffix else _BLACKBOARD_FILE.match(stem)
    if blackboard:
        return (blackboard.group("login"), suffix, False,
                "Blackboard file names (<assignment>_<login>_attempt_<date>_<notebook>)", None)
    if suffix:
        return prefix, suffix, False, "file names before the notebook's name (<student>_<notebook>)", None
    return stem, None, False, "file names (one notebook per student, recognised by its graded cells)", None


def _known_notebook(name, expected, read):
    """The assignment notebook a file is: by its name, else by its graded cells."""
    if name in expected:
        return name
    try:
        cells = json.loads(read()).get("cells", [])
        ids = {cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") for cell in cells if isinstance(cell, dict)}
    except Exception:  # unreadable, nested too deeply, not a notebook: not one of the assignment's
        return None
    matches = [notebook for notebook, grade_ids in expected.items() if grade_ids and grade_ids <= ids]
    return matches[0] if len(matches) == 1 else None
