"""Where the seizure data comes from: a path, the environment, or the stand-in;
and `fetch`, which downloads the published table and verifies it."""

from __future__ import annotations

import hashlib
import io
import os
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from cnnkit.data.bonn import load_bonn
from cnnkit.data.synthetic import make_synthetic
from cnnkit.data.table import DataFormatError, load_csv

__all__ = ["DATA_ENV", "UCI_URL", "fetch", "load_table"]

DATA_ENV = "CNNKIT_DATA"
UCI_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/00388/data.csv"
EXPECTED_ROWS = 11_500

SYNTHETIC_BANNER = (
    "cnnkit: no seizure data configured: using the SYNTHETIC stand-in (generated, "
    f"not real EEG). Pass a path or set {DATA_ENV} to the UCI CSV or the Bonn zip."
)


def load_table(path=None, *, seed=0, announce=True):
    """Loads the seizure table from a path, else `$CNNKIT_DATA`, else the stand-in.

    Args:
        path: str or Path of a UCI CSV, a Bonn zip, or a folder of the Bonn
            sets; None to look at the environment variable `CNNKIT_DATA`.
        seed: int, seed of the synthetic stand-in when it is used.
        announce: whether to print one line saying the stand-in is used.

    Returns:
        A `SeizureTable`; `table.synthetic` tells whether it is the stand-in.

    Raises:
        FileNotFoundError: if the given (or configured) path does not exist.
        DataFormatError: if the file is not a valid seizure table.
    """
    from_env = not path
    path = path or os.environ.get(DATA_ENV) or None
    if path is None:
        if announce:
            print(SYNTHETIC_BANNER, file=sys.stdout)
        return make_synthetic(seed)
    path = Path(path).expanduser()
    if not path.exists():
        origin = f" (from ${DATA_ENV})" if from_env else ""
        raise FileNotFoundError(f"{path}{origin}: no such data file or folder")
    if path.is_dir() or path.suffix.lower() == ".zip":
        return load_bonn(path)
    return load_csv(path)


def fetch(destination, *, url=UCI_URL, md5=None, timeout=60):
    """Downloads the UCI seizure table and verifies it before keeping it.

    The download goes to a temporary file beside `destination`; it is
    checked (the MD5 when given, and always that it parses as the full
    11,500-row table) and only then renamed into place, so a failed fetch
    never leaves a partial or wrong file behind. A zip answer (the archive's
    newer packaging) is unpacked to its single CSV.

    Args:
        destination: str or Path of the CSV to write.
        url: where to download from.
        md5: expected hex MD5 of the CSV, or None to check its content only.
        timeout: seconds to wait for the server.

    Returns:
        A tuple `(path, md5)` of the file written and its MD5.

    Raises:
        OSError: if the download fails (the message names the URL).
        DataFormatError: if the checksum differs or the content is not the table.
    """
    destination = Path(destination)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            payload = response.read()
    except urllib.error.HTTPError as error:
        raise OSError(f"could not download {url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, TimeoutError) as error:
        raise OSError(f"could not download {url}: {getattr(error, 'reason', error)}") from None
    if zipfile.is_zipfile(io.BytesIO(payload)):
        payload = _single_csv(url, payload)
    digest = hashlib.md5(payload).hexdigest()
    if md5 is not None and digest != md5.lower():
        raise DataFormatError(f"{url}: checksum mismatch: expected md5 {md5}, got {digest}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    partial.write_bytes(payload)
    try:
        table = load_csv(partial)
        if len(table) != EXPECTED_ROWS:
            raise DataFormatError(f"{url}: expected {EXPECTED_ROWS} rows, got {len(table)}")
    except DataFormatError:
        partial.unlink()
        raise
    partial.replace(destination)
    return destination, digest


def _single_csv(url, payload):
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        if len(names) != 1:
            raise DataFormatError(f"{url}: expected one CSV in the zip, found {names}")
        return archive.read(names[0])
