"""Every public function and constructor, called with generated bad arguments, fails cleanly.

The table in `public_api_cases.py` gives each public callable one good call. The sweep then swaps one argument at a time for
values of the wrong type, NaN/inf, negative, zero, empty, 0-d or huge. Values that are wrong for that
argument's kind must raise; other values may be accepted. Whatever is raised must be a ValueError,
TypeError or IndexError (the types PyTorch raises) whose message names the argument or the function
and is not a Python or numpy internal message; the object whose method raised, and the global
random generator, are left exactly as they were.
"""

from __future__ import annotations

import importlib
import inspect
import resource
import signal
from contextlib import contextmanager

import numpy as np
import pytest

import tinytorch as tt
from public_api_cases import CASES, EXTRA, KINDS, MUST_REJECT_ALSO, NAMESPACES, NOT_SWEPT, SAME_CODE_AS, fresh_objects
from tinytorch.core.random import get_rng

ALLOWED = (ValueError, TypeError, IndexError)
INTERNAL = ("object is not iterable", "math domain error", "tuple index out of range", "zero-size array",
            "Partition index", "not supported between instances", "cannot be interpreted as an integer",
            "could not convert", "ufunc", "has no len()", "unhashable", "out of bounds for array",
            "object has no attribute", "setting an array element with a sequence", "division by zero")

HANG_LIMIT_S = 20  # a generous per-call hang limit, not a speed threshold
MEMORY_LIMIT = 3 * 2**30  # address space a probe may add before it counts as an allocation blow-up


def _snapshot(obj) -> list:
    """Everything a failed call must leave alone: the object's arrays and flags, and the global RNG."""
    state = [repr(get_rng().bit_generator.state)]
    if isinstance(obj, tt.Module):
        state += [(k, v.copy()) for k, v in obj.state_dict().items()] + [m.training for m in obj.modules()]
    elif isinstance(obj, tt.Tensor):
        state += [obj.data.copy(), obj.requires_grad, None if obj.grad is None else obj.grad.copy()]
    elif obj is not None:
        state.append(repr(sorted(vars(obj).items(), key=lambda kv: kv[0]))[:10000])
    return state


def _same(a: list, b: list) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if isinstance(x, tuple):
            x, y = x[1], y[1]
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and np.array_equal(x, y, equal_nan=True)):
                return False
        elif x != y:
            return False
    return True


def _probes(label: str):
    """(argument, bad value, must it be rejected) for every swap the sweep makes in case `label`."""
    _, params, _ = CASES[label]
    for name, (good, kind) in params.items():
        reject, accept = KINDS[kind]
        for value in reject + MUST_REJECT_ALSO.get((label, name), []):
            yield name, value, True
        for value in accept + EXTRA:
            yield name, value, False


@contextmanager
def _bounded():
    """Bound one probe's time and memory, so a runaway call is reported instead of taking the machine."""
    def alarm(signum, frame):
        raise TimeoutError(f"still running after {HANG_LIMIT_S} s")

    with open("/proc/self/statm") as statm:
        in_use = int(statm.read().split()[0]) * resource.getpagesize()
    old_limit = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (in_use + MEMORY_LIMIT, old_limit[1]))
    old_handler = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(HANG_LIMIT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old_handler)
        resource.setrlimit(resource.RLIMIT_AS, old_limit)


def sweep(label: str) -> tuple[int, int, list[str]]:
    """Run every probe of one case: (probes, clean errors with nothing changed, failure lines)."""
    call, params, owner = CASES[label]
    good = {name: value for name, (value, _) in params.items()}
    names = {part for part in label.split(".") if part != "forward"} | {SAME_CODE_AS.get(label, label)}
    probes = clean = 0
    failures = []
    call(fresh_objects(), **good)  # the good call works, so every failure below is the bad value's doing
    for name, value, must_reject in _probes(label):
        probes += 1
        objects = fresh_objects()
        before = _snapshot(objects.get(owner))
        shown = f"{label}({name}={value!r:.40})"
        try:
            with _bounded():
                call(objects, **{**good, name: value})
        except ALLOWED as error:
            message = str(error)
            if type(error).__module__ != "builtins":
                failures.append(f"{shown}: raised {type(error).__module__}.{type(error).__name__}: {message}")
            elif name not in message and not any(part in message for part in names):
                failures.append(f"{shown}: message names neither {name!r} nor {label!r}: {message}")
            elif any(phrase in message for phrase in INTERNAL):
                failures.append(f"{shown}: internal message: {message}")
            elif not _same(before, _snapshot(objects.get(owner))):
                failures.append(f"{shown}: raised but changed state first")
            else:
                clean += 1
            continue
        except Exception as error:  # noqa: BLE001 - what the sweep exists to find
            failures.append(f"{shown}: raised {type(error).__name__}: {str(error)[:200]}")
            continue
        if must_reject:
            failures.append(f"{shown}: accepted a bad value")
    return probes, clean, failures


@pytest.mark.parametrize("label", sorted(CASES))
def test_bad_arguments_fail_cleanly(label):
    _, _, failures = sweep(label)
    assert not failures, "\n".join(failures)


def test_every_public_callable_is_swept():
    covered = {label.split(".")[0] for label in CASES} | set(NOT_SWEPT)
    missing = []
    for namespace in NAMESPACES:
        module = importlib.import_module(namespace)
        for name in getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]:
            obj = getattr(module, name)
            if callable(obj) and not inspect.ismodule(obj) and name not in covered:
                missing.append(f"{namespace}.{name}")
    assert not missing, f"public callables with no sweep case: {missing}"


if __name__ == "__main__":  # counts for the notes: python tests/reliability/test_public_api_bad_arguments.py
    totals = [sweep(label) for label in sorted(CASES)]
    print(f"cases {len(totals)}, probes {sum(t[0] for t in totals)}, clean errors with nothing changed "
          f"{sum(t[1] for t in totals)}, failures {sum(len(t[2]) for t in totals)}")
    for t in totals:
        for line in t[2]:
            print(line)
