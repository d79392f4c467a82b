"""Untrusted files: loading never runs code, and every malformed file is a ValueError naming it."""

import ast
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from safetensors.numpy import save_file

import tinytorch
from tinytorch.training.checkpoint import MAX_HEADER_BYTES, load_checkpoint, save_checkpoint
from tinytorch.nn.layers import Linear
from tinytorch.optim.optimizers import Adam
from tinytorch.text.tokenizer_base import Tokenizer
from tinytorch.training.trainer import Trainer
from tinytorch.nn.losses import MSELoss

PACKAGE = Path(tinytorch.__file__).resolve().parent
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "marshal", "shelve", "joblib"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}


# ----- no code execution anywhere in the package ---------------------------------------------------
def code_execution_uses(source: str) -> list:
    """(line, what) for each import of a pickle-like module, eval/exec/compile/__import__ call,
    np.load/torch.load call or allow_pickle=True in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
            found.append((node.lineno, node.module))
        elif isinstance(node, (ast.Name, ast.Attribute)):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if "pickle" in name.lower():
                found.append((node.lineno, name))
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in FORBIDDEN_CALLS:
                found.append((node.lineno, f.id))
            if isinstance(f, ast.Attribute) and f.attr == "load" and isinstance(f.value, ast.Name) \
                    and f.value.id in ("np", "numpy", "torch"):
                found.append((node.lineno, f"{f.value.id}.load"))
            for kw in node.keywords:
                if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    found.append((node.lineno, "allow_pickle"))
    return found


def test_the_scanner_catches_each_pattern():
    samples = ["import pickle", "from pickle import loads", "import dill as d", "eval('1')", "exec('x=1')",
               "compile('1', 'f', 'eval')", "__import__('os')", "np.load(p)", "x = np.load(p, allow_pickle=True)",
               "torch.load(p)", "f(allow_pickle=True)", "import marshal", "cPickle.loads(b)"]
    for src in samples:
        assert code_execution_uses(src), src
    assert not code_execution_uses("model.eval()\nre.compile('x')\njson.loads(s)\nnp.load_thing = 1")


def test_package_source_has_no_pickle_eval_or_exec():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20 and PACKAGE / "core" / "checkpoint.py" in files
    problems = {str(f.relative_to(PACKAGE)): uses for f in files if (uses := code_execution_uses(f.read_text()))}
    assert problems == {}


# ----- hand-made files -----------------------------------------------------------------------------
def parts(path):
    """(header dict, data bytes) of a safetensors file."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def craft(path, header=None, data=b"", *, header_bytes=None, declared=None):
    """Write 8-byte length + JSON header + data; `declared` overrides the length field."""
    body = header_bytes if header_bytes is not None else json.dumps(header).encode()
    length = len(body) if declared is None else declared
    Path(path).write_bytes(struct.pack("<Q", length) + body + data)
    return path


@pytest.fixture
def good(tmp_path):
    tinytorch.manual_seed(0)
    return save_checkpoint(tmp_path / "good.safetensors", Linear(3, 2), step=3)


def with_blob(header, **changes):
    header = json.loads(json.dumps(header))
    blob = json.loads(header["__metadata__"]["tinytorch"])
    blob.update(changes)
    header["__metadata__"]["tinytorch"] = json.dumps(blob)
    return header


def first_tensor(header):
    return next(k for k in header if k != "__metadata__")


def case_files(good, tmp):
    """name -> (file, text the ValueError must contain) for each malformed file."""
    h, data = parts(good)
    key = first_tensor(h)
    out = {
        "empty": (tmp / "empty", "it is 0 bytes, too short"),
        "header length beyond the file": (craft(tmp / "long", h, data, declared=10 ** 6), "it declares a 1000000-byte header but has only"),
        "huge declared header": (craft(tmp / "huge", h, data, declared=2 ** 62), "-byte header, over the 100000000-byte limit"),
        "header just over the limit": (craft(tmp / "limit", h, data, declared=MAX_HEADER_BYTES + 1),
                                       f"a {MAX_HEADER_BYTES + 1}-byte header, over the"),
        "invalid JSON": (craft(tmp / "json", header_bytes=b"{not json" + b" " * 40, data=data), "not a readable"),
        "JSON that is not an object": (craft(tmp / "list", [1, 2, 3], data), "not a readable"),
        "offsets past the data": (craft(tmp / "off", {**h, key: {**h[key], "data_offsets": [0, 10 ** 9]}}, data),
                                  "not a readable"),
        "overlapping offsets": (craft(tmp / "overlap", {**h, key: {**h[key], "data_offsets": [0, 4]}}, data),
                                "not a readable"),
        "unknown dtype": (craft(tmp / "dtype", {**h, key: {**h[key], "dtype": "Q7"}}, data), "not a readable"),
        "shape disagrees with offsets": (craft(tmp / "shape", {**h, key: {**h[key], "shape": [999, 999]}}, data),
                                         "not a readable"),
        "metadata not JSON": (craft(tmp / "meta", {**h, "__metadata__": {"tinytorch": "{oops"}}, data), "malformed"),
        "metadata deeply nested": (craft(tmp / "deep", {**h, "__metadata__": {"tinytorch": "[" * 50000 + "]" * 50000}}, data),
                                   "malformed"),
        "no tinytorch metadata": (craft(tmp / "nometa", {k: v for k, v in h.items() if k != "__metadata__"}, data),
                                  "not a tinytorch checkpoint"),
        "other format": (craft(tmp / "fmt", with_blob(h, format="evil"), data), "format 'evil'"),
        "future version": (craft(tmp / "ver", with_blob(h, version=99), data), "version 99"),
        "dtypes not a mapping": (craft(tmp / "dts", with_blob(h, dtypes=[1]), data), "malformed dtypes"),
        "RNG state out of range": (craft(tmp / "rng", with_blob(h, rng_state={**json.loads(
            h["__metadata__"]["tinytorch"])["rng_state"], "state": {"state": -1, "inc": 2 ** 200}}), data), "bad RNG state"),
        "step not an int": (craft(tmp / "step", with_blob(h, step="3"), data), "malformed step"),
    }
    (tmp / "empty").write_bytes(b"")
    return out


def test_each_malformed_file_is_a_value_error_naming_it(good, tmp_path):
    for name, (path, text) in case_files(good, tmp_path).items():
        model = Linear(3, 2)
        before = [p.data.copy() for p in model.parameters()]
        with pytest.raises(ValueError) as info:
            load_checkpoint(path, model)
        assert str(path) in str(info.value) and text in str(info.value), (name, str(info.value))
        assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters())), name


def test_wrong_dtypes_and_shapes_are_rejected(good, tmp_path):
    weight = np.zeros((3, 2))
    for dtype in (np.float64, np.int32, np.float16):
        path = tmp_path / f"{np.dtype(dtype).name}.safetensors"
        h, _ = parts(good)
        tensors = {"model.weight": weight.astype(dtype), "model.bias": np.zeros(2, dtype=dtype)}
        blob = with_blob(h, dtypes={k: v.dtype.str for k, v in tensors.items()})["__metadata__"]
        save_file(tensors, str(path), metadata=blob)
        with pytest.raises(ValueError, match=f"has dtype {np.dtype(dtype).name}, expected float32") as info:
            load_checkpoint(path, Linear(3, 2))
        assert str(path) in str(info.value)
    with pytest.raises(ValueError, match=r"has shape \(3, 2\), expected \(4, 2\)") as info:
        load_checkpoint(good, Linear(4, 2))
    assert str(good) in str(info.value)
    # The tensor's dtype disagrees with the dtype the metadata records for it.
    h, data = parts(good)
    path = craft(tmp_path / "lies.safetensors", with_blob(h, dtypes={"model.weight": "<f8", "model.bias": "<f4"}), data)
    with pytest.raises(ValueError, match="metadata records '<f8'"):
        load_checkpoint(path, Linear(3, 2))


def test_every_truncation_is_rejected(good, tmp_path):
    raw = Path(good).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    cuts = sorted(set(range(0, 16)) | set(range(16, len(raw), 5)) | {8 + n - 1, 8 + n, 8 + n + 1, len(raw) - 1})
    path = tmp_path / "cut.safetensors"
    for cut in cuts:
        path.write_bytes(raw[:cut])
        with pytest.raises(ValueError) as info:
            load_checkpoint(path, Linear(3, 2))
        assert str(path) in str(info.value), cut


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)), min_size=1, max_size=4))
def test_random_byte_corruption_is_a_value_error_or_a_valid_load(good, tmp_path, edits):
    raw = bytearray(Path(good).read_bytes())
    (n,) = struct.unpack("<Q", raw[:8])
    for pos, byte in edits:  # mostly the header, where the structure lives
        raw[pos % (8 + n) if pos % 4 else pos % len(raw)] = byte
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(bytes(raw))
    model, opt = Linear(3, 2), None
    try:
        meta = load_checkpoint(path, model)
    except ValueError as exc:
        assert str(path) in str(exc)
    else:
        assert isinstance(meta, dict) and isinstance(meta["step"], int)
        assert all(p.data.shape == s for p, s in zip(model.parameters(), [(3, 2), (2,)]))


def test_trainer_and_tokenizer_reject_malformed_state(tmp_path):
    tinytorch.manual_seed(0)
    model = Linear(3, 2)
    trainer = Trainer(model, Adam(model.parameters()), MSELoss())
    h, data = parts(trainer.save_checkpoint(tmp_path / "t.safetensors"))
    for extra in ("x", [1], 1.5, {"trainer": {"step": -1}}):
        path = craft(tmp_path / "bad.safetensors", with_blob(h, extra=extra), data)
        with pytest.raises(ValueError, match="no valid trainer state") as info:
            trainer.load_checkpoint(path)
        assert str(path) in str(info.value)
    bad_json = tmp_path / "tok.json"
    bad_json.write_text("[" * 100000)
    with pytest.raises(ValueError, match="not valid JSON"):
        Tokenizer.load(bad_json)
    with pytest.raises(ValueError, match="unknown tokenizer type"):
        Tokenizer.from_dict({"type": ["CharTokenizer"], "format_version": 1})


def test_a_binary_or_inconsistent_tokenizer_file_is_a_value_error_naming_it(tmp_path):
    binary = tmp_path / "tok.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match=r"Tokenizer\.load: .*tok\.json is not valid JSON text"):
        Tokenizer.load(binary)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "CharTokenizer", "format_version": 1, "chars": ["a", "a"]}))
    with pytest.raises(ValueError, match=r"Tokenizer\.load: .*bad\.json: CharTokenizer.*duplicate characters"):
        Tokenizer.load(bad)
