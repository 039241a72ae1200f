"""The UCI Epileptic Seizure Recognition table: what it holds and how it is read.

The published layout is a CSV with a header `,X1,...,X178,y`: an id column
`X<chunk>.<recording>`, 178 EEG samples (one second at 173.61 Hz), and the
label `y` in 1..5 (1 is a seizure). The id column may be missing. Reading is
strict: any deviation is reported with the file, line and column.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["CLASS_NAMES", "DataFormatError", "SAMPLES", "SeizureTable", "load_csv", "write_csv"]

SAMPLES = 178
# UCI labels 1..5 are the Bonn sets E, D, C (intracranial EEG of five epilepsy patients: during seizures, then
# seizure-free intervals within the epileptogenic zone and in the hippocampal formation of the opposite
# hemisphere) and B, A (scalp EEG of five healthy volunteers, eyes closed and open).
CLASS_NAMES = (
    "seizure",
    "epileptogenic zone",
    "opposite hemisphere",
    "eyes closed",
    "eyes open",
)
_ID = re.compile(r"^X(\d+)\.(.+)$")


class DataFormatError(ValueError):
    """A data file does not hold a valid seizure table; the message says where."""


@dataclass(frozen=True, eq=False)
class SeizureTable:
    """Rows of one-second EEG chunks with their labels.

    Attributes:
        signals: float32 array of shape (rows, 178), raw EEG samples.
        labels: int64 array of shape (rows,), UCI labels in 1..5.
        ids: str array of shape (rows,) such as `"X21.O080"`, or None when
            the source had no id column.
        source: where the rows came from, in words.
        synthetic: True for the generated stand-in, never for real data.
    """

    signals: np.ndarray
    labels: np.ndarray
    ids: np.ndarray | None
    source: str
    synthetic: bool = False

    def __len__(self):
        return len(self.labels)

    @property
    def recordings(self):
        """str array naming each row's recording (the id after its first dot), or None."""
        if self.ids is None:
            return None
        return np.array([row_id.split(".", 1)[1] for row_id in self.ids])

    def describe(self):
        """A few lines that say what the table holds and where it came from."""
        counts = np.bincount(self.labels, minlength=6)[1:]
        kind = "SYNTHETIC stand-in (not real EEG)" if self.synthetic else "real EEG"
        recordings = "no ids" if self.ids is None else f"{len(set(self.recordings))} recordings"
        lines = [f"{kind}: {len(self)} rows x {self.signals.shape[1]} samples, {recordings}",
                 f"source: {self.source}"]
        lines += [f"  y={c} {name:<19} {n:>6} rows" for c, (name, n) in
                  enumerate(zip(CLASS_NAMES, counts), start=1)]
        return "\n".join(lines)


def load_csv(path):
    """Reads a seizure table from a CSV in the UCI layout, checking every cell.

    Accepted: a header row (`,X1,...,X178,y` or `X1,...,X178,y`) or none;
    with or without the leading id column; ids in the published style
    (`X21.V1.791`) or ours (`X21.O080`).

    Args:
        path: str or Path of the CSV file.

    Returns:
        A `SeizureTable`, marked synthetic when every id names a stand-in
        recording (`syn...`, as `cnnkit data convert synthetic` writes).

    Raises:
        FileNotFoundError: if `path` does not exist.
        DataFormatError: if the file is empty, not a text CSV, has a row with
            the wrong number of columns, a missing or non-numeric sample, a
            label outside 1..5, or a malformed id. The message gives the
            file, line and column.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such data file")
    rows = _read_rows(path)
    header = rows[0] if not _all_numeric(rows[0]) else None
    body = rows[1:] if header is not None else rows
    first_line = 2 if header is not None else 1
    width = len(rows[0])
    if width not in (SAMPLES + 1, SAMPLES + 2):
        raise DataFormatError(
            f"{path}, line 1: expected {SAMPLES + 1} columns (X1..X{SAMPLES}, y) or "
            f"{SAMPLES + 2} with a leading id column; found {width}"
        )
    has_ids = width == SAMPLES + 2
    if header is not None:
        _check_header(path, header, has_ids)
    if not body:
        raise DataFormatError(f"{path}: has a header but no data rows")
    for offset, row in enumerate(body):
        if len(row) != width:
            raise DataFormatError(
                f"{path}, line {first_line + offset}: expected {width} columns like the "
                f"header, found {len(row)}"
            )
    start = 1 if has_ids else 0
    signals = _numbers(path, body, start, start + SAMPLES, first_line)
    labels = _numbers(path, body, start + SAMPLES, start + SAMPLES + 1, first_line)[:, 0]
    bad = np.flatnonzero((labels != np.round(labels)) | (labels < 1) | (labels > 5))
    if bad.size:
        row = bad[0]
        raise DataFormatError(
            f"{path}, line {first_line + row}, column {width} (y): label must be an "
            f"integer in 1..5; found {body[row][-1]!r}"
        )
    ids = None
    if has_ids:
        ids = np.array([row[0] for row in body])
        for offset, row_id in enumerate(ids):
            if not _ID.match(row_id):
                raise DataFormatError(
                    f"{path}, line {first_line + offset}, column 1 (id): expected an id "
                    f"like 'X21.V1.791' or 'X21.O080' (chunk.recording); found {row_id!r}"
                )
    # The stand-in names its recordings syn<set><number>: keep it labelled as such.
    synthetic = ids is not None and all(row_id.split(".", 1)[1].startswith("syn") for row_id in ids)
    return SeizureTable(signals.astype(np.float32), labels.astype(np.int64), ids, str(path), synthetic)


def write_csv(table, path):
    """Writes a table in the published UCI layout (`,X1,...,X178,y`).

    Args:
        table: a `SeizureTable` with ids.
        path: str or Path of the CSV to write; written whole, then renamed
            into place, so an existing file is never left half-written.

    Returns:
        The Path written.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([""] + [f"X{i}" for i in range(1, SAMPLES + 1)] + ["y"])
        ids = table.ids if table.ids is not None else [f"X{i % 23 + 1}.row{i}" for i in range(len(table))]
        for row_id, signal, label in zip(ids, table.signals, table.labels):
            writer.writerow([row_id] + [f"{v:g}" for v in signal] + [int(label)])
    tmp.replace(path)
    return path


def _read_rows(path):
    raw = path.read_bytes()
    if not raw.strip():
        raise DataFormatError(f"{path}: the file is empty")
    if b"\x00" in raw[:4096]:
        raise DataFormatError(f"{path}: not a CSV text file (it holds binary data)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataFormatError(
            f"{path}: not a CSV text file (byte {error.start} is not UTF-8)"
        ) from None
    try:
        rows = [row for row in csv.reader(text.splitlines()) if row]
    except csv.Error as error:
        raise DataFormatError(f"{path}: not a valid CSV ({error})") from None
    return rows


def _check_header(path, header, has_ids):
    expected = [f"X{i}" for i in range(1, SAMPLES + 1)] + ["y"]
    names = [name.strip() for name in header[1 if has_ids else 0:]]
    for column, (name, want) in enumerate(zip(names, expected), start=2 if has_ids else 1):
        if name != want:
            raise DataFormatError(
                f"{path}, line 1, column {column}: expected header {want!r}, found {name!r}"
            )


def _all_numeric(row):
    try:
        [float(cell) for cell in row[1:]]
    except ValueError:
        return False
    return True


def _numbers(path, body, start, stop, first_line):
    """Columns [start, stop) of the body as floats, or the first bad cell's place."""
    block = [row[start:stop] for row in body]
    try:
        values = np.array(block, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None and np.isfinite(values).all():
        return values
    for offset, cells in enumerate(block):
        for index, cell in enumerate(cells):
            column = start + index + 1
            name = f"X{column - start}" if stop - start == SAMPLES else "y"
            where = f"{path}, line {first_line + offset}, column {column} ({name})"
            if not cell.strip():
                raise DataFormatError(f"{where}: missing value")
            try:
                number = float(cell)
            except ValueError:
                raise DataFormatError(f"{where}: not a number: {cell!r}") from None
            if not np.isfinite(number):
                raise DataFormatError(f"{where}: not a finite number: {cell!r}")
    raise AssertionError("unreachable: a bad cell was expected")  # pragma: no cover
