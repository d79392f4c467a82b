"""Checkpoints: one .safetensors file with the model weights, optimizer moments and JSON metadata.

Written atomically (temp file, fsync, rename); validated completely on load before anything changes.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save as _serialize

from .fileio import atomic_write
from .random import get_rng, get_rng_state, set_rng_state

FORMAT_NAME = "tinytorch-checkpoint"
FORMAT_VERSION = 1
METADATA_KEY = "tinytorch"  # the safetensors header metadata entry holding our JSON blob
MAX_HEADER_BYTES = 100_000_000  # refuse bigger JSON headers before reading them (safetensors' own limit)


def _json(value, what: str) -> str:
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"save_checkpoint: {what} is not JSON-serialisable: {exc}") from None


def _tokenizer_dict(tokenizer):
    if tokenizer is None or isinstance(tokenizer, dict):
        return tokenizer
    if hasattr(tokenizer, "to_dict"):
        return tokenizer.to_dict()
    raise TypeError(f"save_checkpoint: tokenizer {type(tokenizer).__name__} has no to_dict() method")


def save_checkpoint(path, model, optimizer=None, *, step: int = 0, config=None, tokenizer=None,
                    schedule=None, extra=None) -> str:
    """Write model (and optimizer, schedule, tokenizer, RNG) state to `path` atomically; returns the path.

    Tensors: `model.<dotted name>` and `optim.<state name>.<param index>`; everything else goes into
    the header metadata as one JSON blob under the key "tinytorch".
    """
    path = os.fspath(path)
    tensors = {f"model.{name}": np.ascontiguousarray(p.data) for name, p in model.named_parameters()}
    blob = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "step": int(step),
        "config": config,
        "tokenizer": _tokenizer_dict(tokenizer),
        "schedule": schedule.state_dict() if schedule is not None else None,
        "rng_state": get_rng_state(),
        "extra": extra,
        "optimizer": None,
        "numpy": {"version": np.__version__, "byteorder": sys.byteorder},
    }
    if optimizer is not None:
        state = optimizer.state_dict()
        for name, arrays in state["state"].items():
            for i, arr in enumerate(arrays):
                tensors[f"optim.{name}.{i}"] = np.ascontiguousarray(arr)
        blob["optimizer"] = {"type": type(optimizer).__name__, "step": int(state["step"]),
                             "hyperparameters": state["hyperparameters"], "state_names": sorted(state["state"]),
                             "num_params": len(optimizer.params)}
    blob["dtypes"] = {key: arr.dtype.str for key, arr in tensors.items()}
    for key in ("config", "tokenizer", "extra", "schedule"):
        _json(blob[key], key)  # name the culprit before anything is written
    data = _serialize(tensors, metadata={METADATA_KEY: _json(blob, "metadata")})

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return atomic_write(path, data)


def _check_header_length(path: str) -> None:
    """The 8-byte little-endian header length must fit the file and the size limit; checked before parsing."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
    unreadable = f"load_checkpoint: '{path}' is not a readable safetensors file (truncated or corrupt?)"
    if len(head) < 8:
        raise ValueError(f"{unreadable}: it is {size} bytes, too short to hold the 8-byte header length")
    length = int.from_bytes(head, "little")
    if length > MAX_HEADER_BYTES:
        raise ValueError(f"{unreadable}: it declares a {length}-byte header, over the {MAX_HEADER_BYTES}-byte limit")
    if 8 + length > size:
        raise ValueError(f"{unreadable}: it declares a {length}-byte header but has only {size} bytes")


def _read(path: str, want_tensors) -> tuple[dict, dict]:
    """(metadata blob, {key: array} for keys where want_tensors(key)) or a ValueError naming the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_checkpoint: no checkpoint file at '{path}'")
    _check_header_length(path)
    try:
        with safe_open(path, framework="numpy") as f:
            header = f.metadata() or {}
            keys = list(f.keys())
            arrays = {key: f.get_tensor(key) for key in keys if want_tensors(key)}
    except Exception as exc:  # safetensors raises its own error type for truncated or malformed files
        raise ValueError(f"load_checkpoint: '{path}' is not a readable safetensors file "
                         f"(truncated or corrupt?): {type(exc).__name__}: {exc}") from None
    if METADATA_KEY not in header:
        raise ValueError(f"load_checkpoint: '{path}' is a safetensors file but not a tinytorch checkpoint "
                         f"(no '{METADATA_KEY}' metadata; found keys {sorted(header)})")
    try:
        blob = json.loads(header[METADATA_KEY])
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise ValueError(f"load_checkpoint: '{path}' has malformed tinytorch metadata: {exc}") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT_NAME:
        found = blob.get("format") if isinstance(blob, dict) else type(blob).__name__
        raise ValueError(f"load_checkpoint: '{path}' has format {found!r}, expected {FORMAT_NAME!r}")
    if blob.get("version") != FORMAT_VERSION:
        raise ValueError(f"load_checkpoint: '{path}' is format version {blob.get('version')!r}; "
                         f"this tinytorch reads version {FORMAT_VERSION}")
    if isinstance(blob.get("step"), bool) or not isinstance(blob.get("step"), int):
        raise ValueError(f"load_checkpoint: '{path}' has a malformed step {blob.get('step')!r}")
    blob["_keys"] = keys
    return blob, arrays


def _is_hyper_value(value) -> bool:
    """A number, a bool, or a list of numbers (Adam's betas)."""
    if isinstance(value, list):
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    return isinstance(value, (int, float, bool))


def _check_arrays(path: str, what: str, found: dict, expected: dict) -> None:
    """found/expected: key -> ndarray / (shape, dtype). Raises one ValueError listing every problem."""
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    problems = []
    if missing:
        problems.append(f"missing keys {missing}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected}")
    for key, arr in found.items():
        if key not in expected:
            continue
        shape, dtype = expected[key]
        if arr.shape != tuple(shape):
            problems.append(f"'{key}' has shape {arr.shape}, expected {tuple(shape)}")
        elif arr.dtype != dtype:
            problems.append(f"'{key}' has dtype {arr.dtype}, expected {np.dtype(dtype)}")
    if problems:
        raise ValueError(f"load_checkpoint: '{path}' does not match the {what}: " + "; ".join(problems))


def load_checkpoint(path, model=None, optimizer=None, schedule=None, *, restore_rng: bool | None = None) -> dict:
    """Validate `path` completely, then restore it into the given model/optimizer/schedule.

    Returns the metadata: format, version, step, config, tokenizer (a dict), schedule, rng_state,
    optimizer (type, step, hyper-parameters), extra, dtypes. The tinytorch RNG is restored when
    `restore_rng` is True, or by default when a model or optimizer is being restored. Any problem is
    a ValueError naming the file, raised before the model, optimizer, schedule or RNG change.
    """
    path = os.fspath(path)
    wanted = tuple(prefix for prefix, obj in (("model.", model), ("optim.", optimizer)) if obj is not None)
    blob, arrays = _read(path, lambda key: key.startswith(wanted))
    keys = blob.pop("_keys")
    foreign = [k for k in keys if not k.startswith(("model.", "optim."))]
    if foreign:
        raise ValueError(f"load_checkpoint: '{path}' holds tensors outside model./optim.: {foreign}")
    recorded = blob.get("dtypes") or {}
    if not isinstance(recorded, dict):
        raise ValueError(f"load_checkpoint: '{path}' has malformed dtypes metadata {recorded!r:.80}")
    for key, arr in arrays.items():
        if recorded.get(key) != arr.dtype.str:
            raise ValueError(f"load_checkpoint: '{path}': tensor '{key}' is {arr.dtype} but the metadata "
                             f"records {recorded.get(key)!r}")

    model_state = {}
    if model is not None:
        model_state = {k[len("model."):]: v for k, v in arrays.items() if k.startswith("model.")}
        expected = {name: (p.shape, p.data.dtype) for name, p in model.named_parameters()}
        _check_arrays(path, f"model {type(model).__name__}", model_state, expected)

    optim_state = None
    if optimizer is not None:
        meta = blob.get("optimizer")
        if not isinstance(meta, dict):
            raise ValueError(f"load_checkpoint: '{path}' holds no optimizer state to load into {type(optimizer).__name__}")
        if meta.get("type") != type(optimizer).__name__:
            raise ValueError(f"load_checkpoint: '{path}' holds {meta.get('type')} state, "
                             f"not {type(optimizer).__name__} state")
        current = optimizer.state_dict()
        expected = {f"optim.{name}.{i}": (arr.shape, arr.dtype)
                    for name, arrs in current["state"].items() for i, arr in enumerate(arrs)}
        found = {k: v for k, v in arrays.items() if k.startswith("optim.")}
        _check_arrays(path, f"optimizer {type(optimizer).__name__}", found, expected)
        hyper = meta.get("hyperparameters")
        if (not isinstance(meta.get("step"), int) or not isinstance(hyper, dict)
                or set(hyper) != set(current["hyperparameters"]) or not all(map(_is_hyper_value, hyper.values()))):
            raise ValueError(f"load_checkpoint: '{path}' has malformed optimizer metadata {meta!r:.200}")
        optim_state = {"step": meta["step"], "hyperparameters": meta["hyperparameters"],
                       "state": {name: [found[f"optim.{name}.{i}"] for i in range(len(arrs))]
                                 for name, arrs in current["state"].items()}}

    if schedule is not None:
        if blob.get("schedule") is None:
            raise ValueError(f"load_checkpoint: '{path}' holds no schedule state")
        validate = getattr(type(schedule), "_validated", None)
        if validate is not None:
            try:
                validate(blob["schedule"])
            except (TypeError, ValueError) as exc:
                raise ValueError(f"load_checkpoint: '{path}' has a bad schedule state: {exc}") from None

    if restore_rng is None:
        restore_rng = model is not None or optimizer is not None
    rng_state = blob.get("rng_state")
    if restore_rng:
        scratch = type(get_rng().bit_generator)()  # try the state on a throwaway generator first
        try:
            if not isinstance(rng_state, dict) or rng_state.get("bit_generator") != type(scratch).__name__:
                raise ValueError(f"not a {type(scratch).__name__} state")
            scratch.state = rng_state
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise ValueError(f"load_checkpoint: '{path}' has a bad RNG state: {exc}") from None

    # Everything checked: apply.
    if model is not None:
        model.load_state_dict(model_state, strict=True)
    if optim_state is not None:
        optimizer.load_state_dict(optim_state)
    if schedule is not None:
        schedule.load_state_dict(blob["schedule"])
    if restore_rng:
        set_rng_state(rng_state)
    return blob

