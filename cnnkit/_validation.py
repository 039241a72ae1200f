"""Input validation at the public boundary of `cnnkit`.

Every public function validates its arguments here, once, and trusts them
afterwards. Messages name the argument, say what was expected and echo what
was received, because students read them as feedback.
"""

from __future__ import annotations

import numbers

import numpy as np

PADDINGS_2D = ("valid", "same")
PADDINGS_1D = ("valid", "same", "causal")


def check_array(value, *, name, ndim=None, layout=None, finite=True):
    """Converts `value` to a floating NumPy array and checks it.

    Args:
        value: array-like of numbers.
        name: the argument's name, used only in error messages.
        ndim: the required number of dimensions, or None for any.
        layout: words describing the expected axes, e.g.
            "(batch, height, width, channels)", used in the rank message.
        finite: whether NaN and infinity are rejected.

    Returns:
        A NumPy array of dtype float32 when the input was float32 (or
        narrower), else float64.

    Raises:
        TypeError: if `value` does not hold real numbers.
        ValueError: if the rank is wrong, the array is empty, or it holds
            NaN or infinity while `finite` is True.
    """
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise TypeError(
            f"Argument `{name}` must be an array of numbers; it could not be "
            f"converted ({error})."
        ) from None
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise TypeError(
            f"Argument `{name}` must be an array of real numbers; received an "
            f"array of dtype {array.dtype}."
        )
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(
            f"Argument `{name}` must be real; received complex dtype {array.dtype}."
        )
    if ndim is not None and array.ndim != ndim:
        expected = f"a {ndim}-D array" + (f" of shape {layout}" if layout else "")
        raise ValueError(
            f"Argument `{name}` must be {expected}; received shape {array.shape}."
        )
    if array.size == 0:
        raise ValueError(f"Argument `{name}` must not be empty; received shape {array.shape}.")
    if array.dtype in (np.float16, np.float32):
        array = array.astype(np.float32, copy=False)
    else:
        array = array.astype(np.float64, copy=False)
    if finite and not np.isfinite(array).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(
            f"Argument `{name}` must hold finite numbers; received "
            f"{array[where]} at index {where}."
        )
    return array


def check_positive_ints(value, *, name, n):
    """Normalises an int or a tuple of `n` ints, all strictly positive.

    Args:
        value: an int, or a sequence of `n` ints.
        name: the argument's name, used only in error messages.
        n: how many spatial dimensions the tuple covers.

    Returns:
        A tuple of `n` Python ints.

    Raises:
        ValueError: if `value` is not an int or a sequence of `n` ints, or
            any of them is zero or negative.
    """
    items = (value,) * n if _is_int(value) else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    if len(items) != n or not all(_is_int(item) and item > 0 for item in items):
        expected = "a strictly positive integer" + (
            f" or a tuple of {n} of them" if n > 1 else ""
        )
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected {expected}. "
            f"Received {name}={value!r}."
        )
    return tuple(int(item) for item in items)


def check_choice(value, *, allowed, name):
    """Checks a named option (a padding mode, a split, a task) against the allowed names.

    Args:
        value: the option, e.g. "valid"; compared case-insensitively.
        allowed: tuple of allowed lower-case names.
        name: the argument's name, used only in error messages.

    Returns:
        The lower-case name.

    Raises:
        ValueError: if `value` is not one of `allowed`.
    """
    if not isinstance(value, str) or value.lower() not in allowed:
        options = ", ".join(repr(option) for option in allowed)
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one of {options}. "
            f"Received {name}={value!r}."
        )
    return value.lower()


def check_same_length(first, second, *, names):
    """Checks that two arrays (rows and their labels) have as many items.

    Args:
        first, second: array-likes.
        names: pair of the arguments' names, used only in error messages.

    Raises:
        ValueError: if their lengths differ.
    """
    if len(first) != len(second):
        raise ValueError(f"Arguments `{names[0]}` and `{names[1]}` must have as many rows. "
                         f"Received {len(first)} and {len(second)}.")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
