"""Build the seizure table from the Bonn EEG recordings (Andrzejak et al., 2001).

Five sets of 100 single-channel recordings, 4,097 samples each, one integer
per line. The UCI table cuts each recording into 23 chunks of 178 samples
(samples 0..4093) and labels them by set: S=1, F=2, N=3, O=4, Z=5.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

from cnnkit.data.table import SAMPLES, DataFormatError, SeizureTable

__all__ = ["CHUNKS", "SET_LABELS", "load_bonn"]

CHUNKS = 23
RECORDING_LENGTH = 4097
SET_LABELS = {"S": 1, "F": 2, "N": 3, "O": 4, "Z": 5}
_NAME = re.compile(r"^([SFNOZ])(\d{3})\.txt$", re.IGNORECASE)


def load_bonn(path):
    """Builds the UCI table from the Bonn recordings, as a zip or a folder.

    Files are found by name (`S001.txt` ... `Z100.txt`, any case, in any
    sub-folder); macOS metadata (`__MACOSX`, `._*`) is ignored.

    Args:
        path: str or Path of a zip archive or a folder holding the five sets.

    Returns:
        A `SeizureTable` of 23 rows per recording, ids `X<chunk>.<recording>`
        (e.g. `X21.O080`), sorted by recording then chunk.

    Raises:
        FileNotFoundError: if `path` does not exist.
        DataFormatError: if it is not a zip or folder, a set is missing, or a
            recording is shorter than 4,094 samples or holds a non-number
            (the message names the file and line).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    recordings = dict(sorted(_read_recordings(path).items()))
    missing = [s for s in SET_LABELS if not any(name[0] == s for name in recordings)]
    if missing:
        raise DataFormatError(
            f"{path}: found no recordings of set(s) {', '.join(missing)} "
            "(expected files such as S001.txt ... Z100.txt)"
        )
    usable = CHUNKS * SAMPLES
    signals, labels, ids = [], [], []
    for name, samples in recordings.items():
        signals.append(samples[:usable].reshape(CHUNKS, SAMPLES))
        labels += [SET_LABELS[name[0]]] * CHUNKS
        ids += [f"X{chunk}.{name}" for chunk in range(1, CHUNKS + 1)]
    return SeizureTable(
        np.concatenate(signals).astype(np.float32),
        np.array(labels, dtype=np.int64),
        np.array(ids),
        str(path),
    )


def _read_recordings(path):
    if path.is_dir():
        files = ((p.relative_to(path).as_posix(), p.read_bytes) for p in sorted(path.rglob("*")) if p.is_file())
        return _parse_all(path, files)
    if not zipfile.is_zipfile(path):
        raise DataFormatError(f"{path}: not a zip archive or folder of Bonn recordings")
    with zipfile.ZipFile(path) as archive:
        files = ((n, lambda n=n: archive.read(n)) for n in archive.namelist() if not n.endswith("/"))
        return _parse_all(path, files)


def _parse_all(root, files):
    recordings = {}
    for member, read in files:
        base = member.rsplit("/", 1)[-1]
        match = _NAME.match(base)
        if "__MACOSX" in member or base.startswith("._") or not match:
            continue
        name = match.group(1).upper() + match.group(2)
        recordings[name] = _parse_recording(f"{root}:{member}", read())
    return recordings


def _parse_recording(where, raw):
    lines = [(number, text.strip()) for number, text in
             enumerate(raw.decode("ascii", errors="replace").splitlines(), start=1) if text.strip()]
    try:
        samples = np.array([text for _, text in lines], dtype=np.float64)
    except ValueError:
        for number, text in lines:
            try:
                float(text)
            except ValueError:
                raise DataFormatError(f"{where}, line {number}: not a number: {text!r}") from None
    if samples.size < CHUNKS * SAMPLES:
        raise DataFormatError(
            f"{where}: {samples.size} samples; a recording needs at least {CHUNKS * SAMPLES} "
            f"(expected {RECORDING_LENGTH})"
        )
    return samples
