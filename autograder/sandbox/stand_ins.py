"""Stand-ins, in a NumPy world's replay, for the libraries the notebook's kernel had.

A NumPy exercise is probed where NumPy is the only library (see
`autograder.sandbox.replay`), but its notebook ran where every installed
library could be imported, and students import them freely in the cells that
define their functions: an `import matplotlib.pyplot as plt` above a `def`
would stop that cell here and lose a function the notebook did define. So here
an import of a library the kernel could import gives a stand-in module, and
the cell goes on.

A stand-in is inert while the cells replay: its attributes, calls and items
are more stand-ins and nothing is computed; a loop or a test on one ends its
cell, as the failed import did, so that nothing can spin on it. While a
graded function is probed it fails as a missing module does
(`ModuleNotFoundError: No module named '...'`), imports included: a
function that uses such a library still scores 0 and is flagged, as a
function that imports it does; a function that merely shares a cell with
the import is graded for what it computes.

No stand-in is made for a name the kernel could not import either (its cell
stopped there too), nor for the grader's references and checks, which no
sandbox holds, nor for an import a library makes (an optional dependency of
NumPy's is missing here, as where nothing else is installed). Nothing here
can compute anything: a stand-in holds a name. Only the standard library
and the contracts are imported.
"""

import contextlib
import importlib.abc
import importlib.machinery
import sys
import types

from autograder.sandbox.contracts import GRADER_ONLY

__all__ = ["install", "probing"]

# Hidden in every sandbox, the kernel's included: an import of these failed in the notebook's own run too.
NEVER = tuple(f"cnnkit.{part}" for part in GRADER_ONLY)
_probing = False


def install(names):
    """Makes imports of `names` (top-level modules) give stand-ins where they cannot be found.

    Args:
        names: iterable of str, the top-level modules the notebook's kernel could import.
    """
    sys.meta_path.append(_Finder(frozenset(names)))


@contextlib.contextmanager
def probing():
    """While graded functions run: every stand-in, and every import of one, fails as a missing module."""
    global _probing
    _probing = True
    try:
        yield
    finally:
        _probing = False


def _imported_by_a_cell():
    """Whether the import under way is a cell's own (its code is compiled as `<cell N>` by the replay), not a
    library's: NumPy's optional imports, say, fail here as they would where nothing else is installed."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        frame = frame.f_back
    return frame is not None and frame.f_code.co_filename.startswith("<cell ")


def _missing(name):
    top = name.partition(".")[0]
    return ModuleNotFoundError(f"No module named '{top}'", name=top)


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on `sys.meta_path`: asked only for what no real finder found."""

    def __init__(self, names):
        self.names = names

    def find_spec(self, fullname, path=None, target=None):
        never = any(fullname == name or fullname.startswith(name + ".") for name in NEVER)
        if _probing or never or fullname.partition(".")[0] not in self.names or not _imported_by_a_cell():
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        return _Module(spec.name)

    def exec_module(self, module):
        pass


class _Module(types.ModuleType):
    """A stand-in module: its attributes are stand-ins."""

    def __getattr__(self, name):  # protocols (numpy's, import's) see a plain object, as on a stand-in
        return getattr(_StandIn(self.__name__), name)


class _StandIn:
    """What a stand-in module's attribute, call or item gives: inert in a cell, missing in a graded call."""

    __slots__ = ("_name",)

    def __init__(self, name):
        object.__setattr__(self, "_name", name)

    def _used(self):
        if _probing:
            raise _missing(self._name)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        self._used()
        return _StandIn(f"{self._name}.{name}")

    def __call__(self, *args, **kwargs):
        self._used()
        return _StandIn(f"{self._name}()")

    def __getitem__(self, key):
        self._used()
        return _StandIn(f"{self._name}[]")

    def __setitem__(self, key, value):
        self._used()

    def __setattr__(self, name, value):
        self._used()

    def _no_value(self, *args):  # a loop or a test on it ends the cell, as the failed import did: never a spin
        self._used()
        raise TypeError(f"{self._name} is a stand-in (the library is not importable here): it has no value")

    __iter__ = __len__ = __bool__ = __index__ = __float__ = __int__ = _no_value

    def __enter__(self):
        self._used()
        return self

    def __exit__(self, *exc):
        return False

    def __repr__(self):
        return f"<{self._name}: not importable where NumPy exercises are graded>"
