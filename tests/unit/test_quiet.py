"""`cnnkit.quiet.silenced` keeps library noise off a cell: stderr, warnings,
and logging records whose handler holds the stream it was made with."""

import io
import logging
import sys
import warnings

from cnnkit.quiet import silenced


def test_a_logging_handler_made_before_keeps_its_warnings_off_inside_and_gets_them_after():
    stream = io.StringIO()  # as a kernel's handler holds the stderr it was made with
    logger = logging.getLogger("cnnkit-test-library")
    logger.addHandler(logging.StreamHandler(stream))
    try:
        with silenced():
            logger.warning("retracing, inside")
            logger.error("a real error, inside")
        logger.warning("after")
    finally:
        logger.handlers.clear()
    assert stream.getvalue() == "a real error, inside\nafter\n"


def test_stderr_and_warnings_are_dropped_and_restored():
    with silenced():
        print("noise", file=sys.stderr)
        warnings.warn("slow loop")
    assert logging.root.manager.disable == logging.NOTSET
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("after")
    assert [str(w.message) for w in caught] == ["after"]
