"""Keeping library noise off a notebook cell's stderr.

nbgrader scores a test cell 0 when anything reaches stderr, so every check
runs the code it calls (student code, Keras, TensorFlow's C++ logs) inside
`silenced`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import warnings

__all__ = ["silenced"]


@contextlib.contextmanager
def silenced():
    """Keeps stderr and warnings of the code inside from reaching the cell.

    Python-level writes (`sys.stderr`, `warnings`, `logging` records below
    ERROR, whose handlers may hold the stream they were made with, as
    TensorFlow's retracing warnings do in a kernel) and C-level writes to file
    descriptor 2 (TensorFlow's logs) are all dropped, so that a correct
    solution never loses points to a library's warning.
    """
    previous = logging.root.manager.disable
    logging.disable(max(previous, logging.WARNING))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with contextlib.redirect_stderr(io.StringIO()), _fd2_to_tempfile():
                yield
    finally:
        logging.disable(previous)


@contextlib.contextmanager
def _fd2_to_tempfile():
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (some embedded interpreters)
        yield
        return
    try:
        sys.__stderr__ and sys.__stderr__.flush()
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)
