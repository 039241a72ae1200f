"""The probe: the grader's code that calls a student's definitions.

It runs in two places, always beside student code and never trusted:

- in a probe sandbox (`autograder.sandbox.replay`), a fresh process that
  replays one notebook's code and calls `main` on each graded definition
  the student made, when the replay reaches its test cell: functions, builders, blocks and
  prediction functions are probed there;
- in the notebook's own kernel, after its last cell (`autograder.sandbox.runner`
  runs this file's source there): only `save`, the trained models the
  notebook's cells left in its variables.

`main(request, namespace)` carries out each request of a probe request (see
`autograder.sandbox.contracts.probe_request`) in turn:

- `call`: the student's function on the grader's cases, positionally (as the
  stub declares it), each call under a time limit;
- `build`: a builder's model, built on the given input shape and saved;
- `block`: a block function applied to `keras.Input`s, each model saved;
- `save`: the model a variable holds, saved (the runner asks right after
  the check's test cell, as nbgrader's test sees it);
- `predict`: a prediction function called twice on a model the grader made;
- `answer`: the number a variable holds, and the model a builder makes (saved),
  for the grader to compute the true value from.

`fit_off()` and `fit_on()` switch the training of every Keras model off and
on again: the replay keeps it off (it is for definitions, not weights), the
kernel between the student's cells that lead up to a retrained check's test.

Results go to `.cnnkit-probe/result.json` (rewritten after every request, so
that what was probed before a kernel died still counts) beside the `.keras`
files; the runner reports them on its own standard output.

It imports nothing of the grader (the standard library, NumPy, and Keras
where a request needs it), and nothing it reports is trusted: the grader
compares outputs with references it computes itself, and loads models
without running submission code.
"""

import base64
import collections
import json
import os
import signal
import sys
import zlib

FOLDER = ".cnnkit-probe"
MAX_ITEMS = 1_000_000  # the most items of an iterator a student's function returns that are read


def main(request, namespace, results=None):
    """Carries out a probe request and writes the results.

    Args:
        request: dict with `call_seconds` and `requests` (see
            `autograder.sandbox.contracts.probe_request`).
        namespace: the globals where the student's names live.
        results: the results of earlier requests, updated and written with
            this one's (default: none).

    Returns:
        The results (a dict keyed by request id).
    """
    results = {} if results is None else results
    seconds = request["call_seconds"]
    for item in request["requests"]:
        ACTIONS[item["action"]](item, namespace, results, seconds)
        _write(results)
    _write(results)
    return results


def fit_off(announce=False):
    """Makes `fit` of every Keras model return at once, with a history that holds a NaN per epoch under any name,
    so that a cell that reads it (`history.history["val_accuracy"][-1]`, a plot) goes on to define what comes
    after. Nothing changes if Keras is not loaded or `fit` is already off.

    Args:
        announce: print a line on each skipped `fit` (the kernel's output, which the student reads).
    """
    keras = sys.modules.get("keras")
    if keras is None or "_cnnkit_fit" in vars(keras.Model):
        return

    def fit(self, *args, **kwargs):
        if announce:
            print("(fit skipped while grading: the grader retrains this architecture itself)")
        try:
            epochs = min(max(int(kwargs.get("epochs", args[3] if len(args) > 3 else 1)), 0), 10_000)
        except (TypeError, ValueError, OverflowError):
            epochs = 1
        self.history = keras.callbacks.History()
        self.history.history = collections.defaultdict(lambda: [float("nan")] * epochs)
        return self.history

    keras.Model._cnnkit_fit = vars(keras.Model).get("fit")
    keras.Model.fit = fit


def fit_on():
    """Undoes `fit_off`: Keras models train again."""
    keras = sys.modules.get("keras")
    if keras is None or "_cnnkit_fit" not in vars(keras.Model):
        return
    own = vars(keras.Model)["_cnnkit_fit"]
    del keras.Model._cnnkit_fit
    if own is None:
        del keras.Model.fit
    else:
        keras.Model.fit = own


def _call_cases(item, namespace, results, seconds):
    fn = _function(item, namespace, results)
    if fn is None:
        return
    outputs = []
    for args in item["cases"]:
        if outputs and outputs[-1].get("hung"):
            outputs.append(dict(outputs[-1]))  # a function that hangs once is not waited for again
            continue
        outputs.append(_call(_read(fn), [_decode(a) for a in args], seconds))
    results[item["id"]] = {"outputs": outputs}


def _build(item, namespace, results, seconds):
    fn = _function(item, namespace, results)
    if fn is None:
        return
    results[item["id"]] = _built(fn, item, seconds)


def _built(fn, item, seconds):
    """The model a builder makes, saved: `{"file": name}`, or `{"error": why}`."""
    report = _call(fn, [], seconds)
    if "value" in report:
        try:
            return {"file": _save(report.pop("value"), item["id"], item.get("input_shape"))}
        except BaseException as error:
            return {"error": "the model could not be built or saved: %s: %s" % (type(error).__name__,
                                                                                str(error)[:200])}
    return report


def _build_blocks(item, namespace, results, seconds):
    fn = _function(item, namespace, results)
    if fn is None:
        return
    import keras

    outputs = []
    for index, case in enumerate(item["cases"]):
        def build(case=case):
            inputs = keras.Input(tuple(case["input_shape"]))
            return keras.Model(inputs, fn(inputs, *case["args"]))
        report = _call(build, [], seconds)
        if "value" in report:
            try:
                report["file"] = _save(report.pop("value"), "%s-%d" % (item["id"], index))
            except BaseException as error:
                report = {"error": "the block could not be saved: %s: %s" % (type(error).__name__, str(error)[:200]),
    }
        outputs.append(report)
    results[item["id"]] = {"outputs": outputs}


def _save_variable(item, namespace, results, seconds):
    model = namespace.get(item["variable"])
    if model is None:
        results[item["id"]] = {"missing": "`%s` is not defined" % item["variable"]}
        return
    try:
        results[item["id"]] = {"file": _save(model, item["id"])}
    except BaseException as error:
        results[item["id"]] = {"error": "`%s` could not be saved as a Keras model: %s: %s"
                               % (item["variable"], type(error).__name__, str(error)[:200])}


def _predict(item, namespace, results, seconds):
    fn = _function(item, namespace, results)
    if fn is None:
        return
    import keras

    path = "%s/%s-input.keras" % (FOLDER, item["id"])
    with open(path, "wb") as handle:
        handle.write(base64.b64decode(item["model"]))
    model = keras.saving.load_model(path, compile=False)
    x = _decode(item["x"])
    outputs = []
    for _ in range(2):
        outputs.append(_call(_read(fn), [model, x.copy()], seconds))
    results[item["id"]] = {"outputs": outputs}


def _answer(item, namespace, results, seconds):
    if item["function"] not in namespace:
        results[item["id"]] = {"missing": "`%s` is not defined" % item["function"]}
        return
    read = _call(lambda: _encode(namespace[item["function"]]), [], seconds)  # an object's __array__ may hang
    report = {"value": read.get("value", {"repr": "?", "type": "an object that could not be read"})}
    builder = namespace.get(item["build"])
    built = _built(builder, item, seconds) if callable(builder) else {"error": "`%s` is not defined" % item["build"]}
    report.update({key: built[key] for key in ("file", "error") if key in built})
    results[item["id"]] = report


ACTIONS = {"call": _call_cases, "build": _build, "block": _build_blocks, "save": _save_variable, "predict": _predict,
           "answer": _answer}


class _Stop(BaseException):
    pass


def _stop(*_):
    raise _Stop()


def _call(fn, args, seconds):
    """`fn(*args)` within `seconds`: a dict with `value` or `error`."""
    previous = signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        report = {"value": fn(*args)}
    except _Stop:
        report = {"error": "did not return within %d s (an endless loop?)" % seconds, "hung": True}
    except NotImplementedError:
        report = {"error": "not implemented yet (raises NotImplementedError)"}
    except BaseException as error:
        report = {"error": "raised %s: %s" % (type(error).__name__, str(error)[:200])}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return report


def _read(fn):
    """`fn` whose output comes back encoded, read within the call's time (a generator's items, an `__array__`)."""
    return lambda *args: _encode(_materialised(fn(*args)))


def _materialised(value):
    """An iterator (a generator, `map`, `filter`) or a dict view as the list of its items, at most `MAX_ITEMS`
    (as `cnnkit.checks.functions.call_positionally` reads it in the kernel); anything else as it is."""
    import collections.abc
    import itertools

    if not isinstance(value, (collections.abc.Iterator, collections.abc.KeysView, collections.abc.ValuesView)):
        return value
    items = list(itertools.islice(value, MAX_ITEMS + 1))
    if len(items) > MAX_ITEMS:
        raise ValueError("returned an iterator of more than {:,} items".format(MAX_ITEMS))
    return items


def _function(item, namespace, results):
    """The student's function a request names, or None (recorded as missing)."""
    fn = namespace.get(item["function"])
    if not callable(fn):
        results[item["id"]] = {"missing": "`%s` is not defined" % item["function"]}
        return None
    return fn


def _decode(value):
    import numpy

    if isinstance(value, dict) and "b64" in value:
        raw = zlib.decompress(base64.b64decode(value["b64"]))
        return numpy.frombuffer(raw, dtype=value["dtype"]).reshape(value["shape"]).copy()
    if isinstance(value, dict) and "tuple" in value:
        return tuple(_decode(item) for item in value["tuple"])
    return value


def _encode(value):
    import numpy

    try:
        if value is None:  # (NumPy would read it as NaN)
            return {"repr": "None", "type": "NoneType"}
        if isinstance(value, (set, frozenset)):  # a set of numbers is read as its sorted list
            value = sorted(value)
        array = numpy.asarray(value)
        if array.dtype.kind == "O" or (array.dtype.kind == "f" and array.dtype.itemsize > 8):
            array = array.astype("float64")  # Python numbers, Decimals, long doubles
        if array.dtype.kind in "biuf" and array.size <= 4_000_000:
            array = array.astype(array.dtype.newbyteorder("="), order="C")
            return {"b64": base64.b64encode(zlib.compress(array.tobytes())).decode(),
                    "dtype": array.dtype.str, "shape": list(array.shape)}
    except _Stop:  # read under a time limit (`_answer`): past it, give up
        raise
    except BaseException:
        pass
    try:
        return {"repr": repr(value)[:200], "type": type(value).__name__}
    except _Stop:
        raise
    except BaseException:
        return {"repr": "?", "type": "?"}


def _save(model, key, input_shape=None):
    if input_shape is not None and not getattr(model, "built", True):
        model.build((None,) + tuple(input_shape))
    path = "%s/%s.keras" % (FOLDER, key)
    model.save(path)
    return path.split("/")[-1]


def _write(results):
    """The results so far, replacing the file atomically (a kernel killed later keeps what was probed)."""
    with open(FOLDER + "/result.part", "w") as handle:
        json.dump(results, handle)
    os.replace(FOLDER + "/result.part", FOLDER + "/result.json")
