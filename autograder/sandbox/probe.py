"""The probe: the only code of the grader's that runs in a student's kernel.

After a notebook's cells have run, the runner executes the probe in the same
kernel. It calls the student's functions on the cases the trusted grader
drew (positionally, as the stub declares them; each call under a time limit,
NumPy exercises under a profiler that records which of cnnkit, Keras,
TensorFlow, PyTorch or JAX they entered), builds the student's models and
blocks (a block function applied to a `keras.Input`), saves them and the
trained ones, and writes everything to `.cnnkit-probe/` as JSON and
`.keras` files, which the runner reports on its own standard output (see
`autograder.sandbox.runner`). The report is rewritten after every check, so what
was probed before a kernel died still counts.

Nothing it reports is trusted: the grader compares outputs with references
it computes itself, and loads models without running submission code. A
kernel that tampers with the probe can only lose its own points.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ProbeReport", "decode_value", "encode_value", "probe_source", "read_probe"]

CALL_SECONDS = 20
MAX_RESULT_BYTES = 64 * 1000**2
_DTYPES = {"|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8"}

_SOURCE = r'''
def __cnnkit_probe(spec):
    import base64, gc, json, signal, sys, zlib
    import numpy
    watched = ("cnnkit", "keras", "tensorflow", "torch", "jax")
    namespace = globals()
    results = {}

    def decode(value):
        if isinstance(value, dict) and "b64" in value:
            raw = zlib.decompress(base64.b64decode(value["b64"]))
            return numpy.frombuffer(raw, dtype=value["dtype"]).reshape(value["shape"]).copy()
        return value

    def encode(value):
        try:
            array = numpy.asarray(value)
            if array.dtype.kind == "O" or (array.dtype.kind == "f" and array.dtype.itemsize > 8):
                array = array.astype("float64")  # Python numbers, Decimals, long doubles
            if array.dtype.kind in "biuf" and array.size <= 4_000_000:
                array = array.astype(array.dtype.newbyteorder("="), order="C")
                return {"b64": base64.b64encode(zlib.compress(array.tobytes())).decode(),
                        "dtype": array.dtype.str, "shape": list(array.shape)}
        except BaseException:
            pass
        try:
            return {"repr": repr(value)[:200], "type": type(value).__name__}
        except BaseException:
            return {"repr": "?", "type": "?"}

    class Stop(BaseException):
        pass

    def stop(*_):
        raise Stop()

    def call(fn, args, trace=True):
        seen = set()

        def profile(frame, event, arg):
            if event == "call":
                module = frame.f_globals.get("__name__") or ""
            elif event == "c_call":
                module = getattr(arg, "__module__", None) or ""
            else:
                return
            top = module.split(".")[0]
            if top in watched:
                seen.add(module if top == "cnnkit" else top)

        previous = signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, spec["call_seconds"])
        if trace:  # NumPy exercises only: Keras code runs ten times slower under a profiler
            # No garbage collection while profiling: the collector's callbacks (JAX registers one whenever Keras
            # imports it) would run inside the student's call and read as calls into a framework.
            gc.disable()
            sys.setprofile(profile)
        try:
            value = fn(*args)
            sys.setprofile(None)
            report = {"value": value}
        except Stop:
            report = {"error": "did not return within %d s (an endless loop?)" % spec["call_seconds"]}
        except NotImplementedError:
            report = {"error": "not implemented yet (raises NotImplementedError)"}
        except BaseException as error:
            report = {"error": "raised %s: %s" % (type(error).__name__, str(error)[:200])}
        finally:
            sys.setprofile(None)
            gc.enable()
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        report["calls"] = sorted(seen)
        return report

    def function(name):
        fn = namespace.get(name)
        return fn if callable(fn) else None

    def write():  # after every check: what was probed survives a kernel killed by a later one
        with open(".cnnkit-probe/result.part", "w") as handle:
            json.dump(results, handle)
        import os
        os.replace(".cnnkit-probe/result.part", ".cnnkit-probe/result.json")

    def save(model, key, input_shape=None):
        if input_shape is not None and not getattr(model, "built", True):
            model.build((None,) + tuple(input_shape))
        path = ".cnnkit-probe/%s.keras" % key
        model.save(path)
        return path.split("/")[-1]

    for check in spec.get("functions", []):
        fn = function(check["function"])
        if fn is None:
            results[check["id"]] = {"missing": "`%s` is not defined" % check["function"]}
            continue
        outputs = []
        for args in check["cases"]:
            if outputs and "did not return" in outputs[-1].get("error", ""):
                outputs.append(dict(outputs[-1]))  # a function that hangs once is not waited for again
                continue
            report = call(fn, [decode(a) for a in args])
            if "value" in report:
                report["value"] = encode(report["value"])
            outputs.append(report)
        results[check["id"]] = {"outputs": outputs}
        write()
    for check in spec.get("builders", []):
        fn = function(check["function"])
        if fn is None:
            results[check["id"]] = {"missing": "`%s` is not defined" % check["function"]}
            continue
        report = call(fn, [], trace=False)
        if "value" in report:
            try:
                report["file"] = save(report.pop("value"), check["id"], check.get("input_shape"))
            except BaseException as error:
                report = {"error": "the model could not be built or saved: %s: %s" % (type(error).__name__, str(error)[:200]),
                          "calls": report["calls"]}
        results[check["id"]] = report
        write()
    for check in spec.get("blocks", []):
        fn = function(check["function"])
        if fn is None:
            results[check["id"]] = {"missing": "`%s` is not defined" % check["function"]}
            continue
        import keras
        outputs = []
        for index, case in enumerate(check["cases"]):
            def build(case=case):
                inputs = keras.Input(tuple(case["input_shape"]))
                return keras.Model(inputs, fn(inputs, *case["args"]))
            report = call(build, [], trace=False)
            if "value" in report:
                try:
                    report["file"] = save(report.pop("value"), "%s-%d" % (check["id"], index))
                except BaseException as error:
                    report = {"error": "the block could not be saved: %s: %s" % (type(error).__name__, str(error)[:200]),
                              "calls": report["calls"]}
            outputs.append(report)
        results[check["id"]] = {"outputs": outputs}
        write()
    for check in spec.get("models", []):
        model = namespace.get(check["variable"])
        if model is None:
            results[check["id"]] = {"missing": "`%s` is not defined" % check["variable"]}
            continue
        try:
            results[check["id"]] = {"file": save(model, check["id"])}
        except BaseException as error:
            results[check["id"]] = {"error": "`%s` could not be saved as a Keras model: %s: %s"
                                    % (check["variable"], type(error).__name__, str(error)[:200])}
        write()
    for check in spec.get("predictors", []):
        fn = function(check["function"])
        if fn is None:
            results[check["id"]] = {"missing": "`%s` is not defined" % check["function"]}
            continue
        import keras
        path = ".cnnkit-probe/%s-input.keras" % check["id"]
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(check["model"]))
        model = keras.saving.load_model(path, compile=False)
        x = decode(check["x"])
        outputs = []
        for _ in range(2):
            report = call(fn, [model, x.copy()], trace=False)
            if "value" in report:
                report["value"] = encode(report["value"])
            outputs.append(report)
        results[check["id"]] = {"outputs": outputs}
    write()


__cnnkit_probe(__import__("json").loads(__import__("base64").b64decode("%(spec)s")))
del __cnnkit_probe
'''


def encode_value(value):
    """An argument for the probe: arrays keep their dtype (compressed, base64).

    Args:
        value: a NumPy array, or a JSON-able value (str, int, float).

    Returns:
        A JSON-able value.
    """
    if isinstance(value, np.ndarray):
        array = value.copy(order="C")
        return {"b64": base64.b64encode(zlib.compress(array.tobytes())).decode(), "dtype": array.dtype.str,
                "shape": list(array.shape)}
    if isinstance(value, np.generic):
        return value.item()
    return value


def decode_value(encoded):
    """An output the probe reported, decoded without trusting it.

    Only numeric dtypes are read (never pickles), and the size must match
    the shape.

    Args:
        encoded: a dict with `b64`, `dtype`, `shape`, or with `repr`.

    Returns:
        A NumPy array, or None when the output was not numeric.

    Raises:
        ValueError: if the encoding is malformed.
    """
    if not isinstance(encoded, dict):
        raise ValueError("not an encoded value")
    if "b64" not in encoded:
        return None
    dtype, shape = encoded.get("dtype"), encoded.get("shape")
    if dtype not in _DTYPES or not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError("an output of an unknown dtype or shape")
    raw = zlib.decompressobj().decompress(base64.b64decode(encoded["b64"]), 64 * 1000**2)
    array = np.frombuffer(raw, dtype=np.dtype(dtype))
    if array.size != int(np.prod(shape)):
        raise ValueError("an output whose size does not match its shape")
    return array.reshape(shape)


def probe_source(spec, *, call_seconds=CALL_SECONDS):
    """The probe's source for one notebook.

    Args:
        spec: dict with lists `functions` (id, function, cases: lists of
            encoded arguments), `builders` (id, function, input_shape),
            `blocks` (id, function, cases: input_shape and the arguments
            after the input tensor), `models` (id, variable) and
            `predictors` (id, function, model: base64 of a `.keras` file,
            x: encoded input).

        call_seconds: how long one call may take before it counts as hung.

    Returns:
        Python source, to run in the notebook's kernel.
    """
    payload = base64.b64encode(json.dumps({"call_seconds": max(1, int(call_seconds)), **spec}).encode()).decode()
    return _SOURCE.replace("%(spec)s", payload)


@dataclass(frozen=True)
class ProbeReport:
    """What the probe of one notebook reported (untrusted).

    Attributes:
        results: dict of check id -> the probe's report for it.
        files: dict of file name -> bytes of a model it saved.
        problem: why the report could not be read, or "".
    """

    results: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    problem: str = ""


def read_probe(files):
    """The probe's report, from the files it wrote.

    Args:
        files: dict of file name -> bytes (as `Execution.probes` holds them).

    Returns:
        A `ProbeReport` (empty, with a `problem`, when there is none).
    """
    raw = files.get("result.json")
    if raw is None:
        return ProbeReport(problem="the grader's probe did not report (the kernel died, hung or was tampered with)")
    if len(raw) > MAX_RESULT_BYTES:
        return ProbeReport(problem="the probe's report is too large")
    try:
        results = json.loads(raw)
    except ValueError:
        return ProbeReport(problem="the probe's report is not valid JSON")
    if not isinstance(results, dict):
        return ProbeReport(problem="the probe's report is malformed")
    return ProbeReport(results, {name: content for name, content in files.items() if name.endswith(".keras")})
