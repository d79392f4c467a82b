"""Checkpoints: one .safetensors file with the model weights, optimizer moments and JSON metadata.

Written atomically (`fileio.atomic_write`). Loading is all or nothing: the whole file is read and
checked (tensors, dtypes, shapes, model config, optimizer, schedule, RNG) before the model,
optimizer, schedule or RNG change; every error names the file and the field, in a bounded message.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
from safetensors.numpy import save as _serialize

from ..nn.config import GPTConfig
from ..runtime.fileio import as_path, atomic_write, short_list
from ..core.random import get_rng, get_rng_state, set_rng_state
from ..runtime.safetensors_file import MAX_HEADER_BYTES, SafetensorsFile  # noqa: F401 (re-exported)
from ..core.validation import check_bool, check_int
from ..text.tokenization import Tokenizer

FORMAT_NAME = "tinytorch-checkpoint"
FORMAT_VERSION = 1
METADATA_KEY = "tinytorch"  # the safetensors header metadata entry holding our JSON blob


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
    the header metadata as one JSON blob under the key "tinytorch". A GPT's `GPTConfig` is stored
    as "model_config", so the file alone can rebuild the model (`tinytorch.load_pretrained`).
    """
    path = as_path(path, "save_checkpoint")
    _check_targets("save_checkpoint", model, optimizer, schedule, need_model=True)
    step = check_int(step, "step", "save_checkpoint", minimum=0)
    tensors = {f"model.{name}": np.ascontiguousarray(p.data) for name, p in model.named_parameters()}
    blob = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "step": step,
        "config": config.to_dict() if isinstance(config, GPTConfig) else config,
        "model_config": model.config.to_dict() if isinstance(getattr(model, "config", None), GPTConfig) else None,
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


def _check_targets(where: str, model, optimizer, schedule, need_model: bool = False) -> None:
    """TypeError naming the argument unless each given object has the state methods a checkpoint uses."""
    for name, obj, method in (("model", model, "named_parameters"), ("optimizer", optimizer, "state_dict"),
                              ("schedule", schedule, "state_dict")):
        if (obj is not None or (name == "model" and need_model)) and not callable(getattr(obj, method, None)):
            raise TypeError(f"{where}: {name} must have a {method}() method, got {obj!r:.60} ({type(obj).__name__})")


def _bad(path: str, what: str) -> ValueError:
    return ValueError(f"load_checkpoint: '{path}' {what}")


def _check_tokenizer(path: str, state) -> None:
    """A tokenizer of a type tinytorch knows must rebuild (bounded work); other dicts belong to the caller."""

    if not isinstance(state, dict):
        raise _bad(path, f"has a malformed tokenizer {state!r:.80} (expected a dict)")
    if isinstance(state.get("type"), str) and state["type"] in Tokenizer.registry:
        try:
            Tokenizer.from_dict(state)
        except (TypeError, ValueError) as exc:
            raise _bad(path, f"has a bad tokenizer: {str(exc):.300}") from None


def _read_blob(header: dict, path: str) -> dict:
    """The tinytorch metadata blob: format, version, step, dtypes, tokenizer and model_config checked."""
    if METADATA_KEY not in header:
        raise _bad(path, f"is a safetensors file but not a tinytorch checkpoint "
                         f"(no '{METADATA_KEY}' metadata; found keys {short_list(sorted(header))})")
    try:
        blob = json.loads(header[METADATA_KEY])
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise _bad(path, f"has malformed tinytorch metadata: {str(exc):.200}") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT_NAME:
        found = blob.get("format") if isinstance(blob, dict) else type(blob).__name__
        raise _bad(path, f"has format {found!r:.80}, expected {FORMAT_NAME!r}")
    if blob.get("version") != FORMAT_VERSION:
        raise _bad(path, f"is format version {blob.get('version')!r:.80}; this tinytorch reads version {FORMAT_VERSION}")
    if isinstance(blob.get("step"), bool) or not isinstance(blob.get("step"), int) or blob["step"] < 0:
        raise _bad(path, f"has a malformed step {blob.get('step')!r:.80} (expected an int >= 0)")
    if not isinstance(blob.get("dtypes") or {}, dict):
        raise _bad(path, f"has malformed dtypes metadata {blob.get('dtypes')!r:.80}")
    if blob.get("tokenizer") is not None:
        _check_tokenizer(path, blob["tokenizer"])
    if blob.get("model_config") is not None:
        blob["model_config"] = GPTConfig.from_dict(blob["model_config"], source=f"load_checkpoint: '{path}' model_config")
    return blob


class CheckpointFile:
    """A checkpoint held open: `meta` checked on opening, `arrays(prefixes)` read later from the same handle.

    Holding one handle means the header and the tensors come from one file even when a writer replaces
    it meanwhile (an atomic rename leaves this handle on the old file). Use as a context manager.
    """

    def __init__(self, path):
        self.path = path = as_path(path, "load_checkpoint")
        try:
            self._file = SafetensorsFile(path, "load_checkpoint")
        except FileNotFoundError:
            raise FileNotFoundError(f"load_checkpoint: no checkpoint file at '{path}'") from None
        except ValueError as exc:
            if str(exc).startswith("load_checkpoint:"):  # not a regular file: the message names it
                raise
            raise _bad(path, f"is not a readable safetensors file (truncated or corrupt?): {exc}") from None
        try:
            self.meta = self._check(self._file)
        except BaseException:
            self._file.close()
            raise

    def _check(self, f: SafetensorsFile) -> dict:
        blob = _read_blob(f.metadata, self.path)
        foreign = [k for k in f.keys() if not k.startswith(("model.", "optim."))]
        if foreign:
            raise _bad(self.path, f"holds tensors outside model./optim.: {short_list(foreign)}")
        blob["shapes"] = {key: f.shape(key) for key in f.keys()}
        return blob

    def arrays(self, prefixes=("model.", "optim.")) -> dict:
        """{key: array} of the tensors whose keys start with one of `prefixes`, dtypes checked."""
        recorded = self.meta.get("dtypes") or {}
        arrays = {}
        for key in self._file.keys():
            if key.startswith(tuple(prefixes or ())):
                arrays[key] = arr = self._file.tensor(key)
                if recorded.get(key) != arr.dtype.str:
                    raise _bad(self.path, f"tensor '{key:.80}' is {arr.dtype} but the metadata records "
                                          f"{recorded.get(key)!r:.40}")
        return arrays

    def close(self) -> None:
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_checkpoint(path, tensors=("model.", "optim.")) -> tuple[dict, dict]:
    """(metadata, {key: array}) of a checkpoint, structure checked, nothing restored.

    Only tensors whose keys start with a prefix in `tensors` are read; with `tensors=()` (or False)
    only the header is (the arrays dict is empty). `metadata["model_config"]` is a validated
    `GPTConfig` (or None); `metadata["shapes"]` maps every tensor key to its shape.
    The file is opened once. Raises FileNotFoundError, OSError or ValueError naming the file.
    """
    with CheckpointFile(path) as f:
        return f.meta, f.arrays(tensors)


def _check_arrays(path: str, what: str, found: dict, expected: dict) -> None:
    """found/expected: key -> ndarray / (shape, dtype). Raises one ValueError listing the problems (at most 5)."""
    problems = []
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    if missing:
        problems.append(f"missing keys {short_list(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {short_list(unexpected)}")
    for key, arr in found.items():
        if key not in expected:
            continue
        shape, dtype = expected[key]
        if arr.shape != tuple(shape):
            problems.append(f"'{key:.80}' has shape {arr.shape}, expected {tuple(shape)}")
        elif arr.dtype != dtype:
            problems.append(f"'{key:.80}' has dtype {arr.dtype}, expected {np.dtype(dtype)}")
    if problems:
        more = f"; and {len(problems) - 5} more problems" if len(problems) > 5 else ""
        raise _bad(path, f"does not match the {what}: " + "; ".join(problems[:5]) + more)


def _optimizer_state(path: str, blob: dict, arrays: dict, optimizer) -> dict:
    """The optimizer state dict the file holds, as `optimizer.check_state_dict` returns it (nothing applied)."""
    name = type(optimizer).__name__
    meta = blob.get("optimizer")
    if not isinstance(meta, dict):
        raise _bad(path, f"holds no optimizer state to load into {name}")
    if meta.get("type") != name:
        raise _bad(path, f"holds {str(meta.get('type'))[:40]} state, not {name} state")
    current = optimizer.state_dict()
    expected = {f"optim.{key}.{i}": (arr.shape, arr.dtype)
                for key, arrs in current["state"].items() for i, arr in enumerate(arrs)}
    found = {k: v for k, v in arrays.items() if k.startswith("optim.")}
    _check_arrays(path, f"optimizer {name}", found, expected)
    state = {"step": meta.get("step"), "hyperparameters": meta.get("hyperparameters"),
             "state": {key: [found[f"optim.{key}.{i}"] for i in range(len(arrs))]
                       for key, arrs in current["state"].items()}}
    try:
        return optimizer.check_state_dict(state)
    except (TypeError, ValueError) as exc:
        raise _bad(path, f"has a bad optimizer state: {str(exc):.300}") from None


def _apply_checked(target, checked, state) -> None:
    """Load a state that has passed its checks: tinytorch's classes take the checked form through
    `_load_checked` without checking it again; an object of the user's own gets `load_state_dict(state)`."""
    if hasattr(target, "_load_checked"):
        target._load_checked(checked)
    else:
        target.load_state_dict(state)


def _check_rng_state(path: str, rng_state) -> None:
    scratch = type(get_rng().bit_generator)()  # try the state on a throwaway generator first
    try:
        if not isinstance(rng_state, dict) or rng_state.get("bit_generator") != type(scratch).__name__:
            raise ValueError(f"not a {type(scratch).__name__} state")
        scratch.state = rng_state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise _bad(path, f"has a bad RNG state: {str(exc):.200}") from None


def load_checkpoint(path, model=None, optimizer=None, schedule=None, *, restore_rng: bool | None = None) -> dict:
    """Validate `path` completely, then restore it into the given model/optimizer/schedule.

    Returns the metadata: format, version, step, config, model_config (a GPTConfig or None), tokenizer
    (a dict), schedule, rng_state, optimizer (type, step, hyper-parameters), extra, dtypes, shapes.
    The tinytorch RNG is restored when `restore_rng` is True, or by default when a model or optimizer
    is being restored. Any problem is a ValueError naming the file and the field, raised before the
    model, optimizer, schedule or RNG change.
    """
    path = as_path(path, "load_checkpoint")
    _check_targets("load_checkpoint", model, optimizer, schedule)
    wanted = tuple(prefix for prefix, obj in (("model.", model), ("optim.", optimizer)) if obj is not None)
    blob, arrays = read_checkpoint(path, tensors=wanted)
    return restore_checkpoint(path, blob, arrays, model, optimizer, schedule, restore_rng=restore_rng)


def restore_checkpoint(path, blob: dict, arrays: dict, model=None, optimizer=None, schedule=None, *,
                       restore_rng: bool | None = None) -> dict:
    """`load_checkpoint` on what `read_checkpoint` returned: check everything, then apply; returns `blob`.

    For callers that read the file once and build from that read (the model's shape from the header,
    then its weights), so nothing comes from a file that was replaced in between.
    """
    _check_targets("load_checkpoint", model, optimizer, schedule)
    model_state = optim_state = None
    if model is not None:
        model_state = {k[len("model."):]: v for k, v in arrays.items() if k.startswith("model.")}
        expected = {name: (p.shape, p.data.dtype) for name, p in model.named_parameters()}
        _check_arrays(path, f"model {type(model).__name__}", model_state, expected)
    if optimizer is not None:
        optim_state = _optimizer_state(path, blob, arrays, optimizer)
    if schedule is not None:
        if blob.get("schedule") is None:
            raise _bad(path, "holds no schedule state")
        check = getattr(schedule, "check_state_dict", None)
        if check is None:
            raise TypeError(f"load_checkpoint: {type(schedule).__name__} has no check_state_dict(state), so its "
                            f"state cannot be checked before loading")
        try:
            schedule_state = check(blob["schedule"])
        except (TypeError, ValueError) as exc:
            raise _bad(path, f"has a bad schedule state: {str(exc):.300}") from None
    if restore_rng is None:
        restore_rng = model is not None or optimizer is not None
    restore_rng = check_bool(restore_rng, "restore_rng", "load_checkpoint")
    if restore_rng:
        _check_rng_state(path, blob.get("rng_state"))

    # Everything checked: apply.
    if model is not None:
        _apply_checked(model, model_state, model_state)
    if optimizer is not None:
        _apply_checked(optimizer, optim_state, optim_state)
    if schedule is not None:
        _apply_checked(schedule, schedule_state, blob["schedule"])
    if restore_rng:
        set_rng_state(blob["rng_state"])
    return blob
