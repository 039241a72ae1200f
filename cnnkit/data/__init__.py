"""Seizure data: the UCI table, the Bonn recordings it was cut from, a
synthetic stand-in, where the data comes from, and splits for training."""

from cnnkit.data.bonn import load_bonn
from cnnkit.data.source import DATA_ENV, UCI_URL, fetch, load_table
from cnnkit.data.splits import Part, Splits, split
from cnnkit.data.synthetic import make_synthetic
from cnnkit.data.table import CLASS_NAMES, DataFormatError, SeizureTable, load_csv, write_csv

__all__ = [
    "CLASS_NAMES",
    "DATA_ENV",
    "DataFormatError",
    "Part",
    "SeizureTable",
    "Splits",
    "UCI_URL",
    "fetch",
    "load_bonn",
    "load_csv",
    "load_table",
    "make_synthetic",
    "split",
    "write_csv",
]
