"""Checkpoints: round trip, safetensors compatibility, bit-identical resume, atomic writes."""

import json
import os

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file

import tinytorch
from tinytorch.training import checkpoint as checkpoint_module
from tinytorch.nn.layers import Linear
from tinytorch.nn.losses import MSELoss
from tinytorch.optim.optimizers import SGD, Adam
from tinytorch.core.random import get_rng, get_rng_state
from tinytorch.text.tokenization import BPETokenizer
from tinytorch.training.trainer import CosineSchedule, Trainer, load_checkpoint, save_checkpoint

from training_helpers import MLP, Batches, RandomBatches, assert_same_optimizer, assert_same_params, \
    optimizer_snapshot, params_snapshot, regression_data


class DictTokenizer:
    def to_dict(self):
        return {"type": "char", "chars": ["<UNK>", "a", "b"]}


def trained(seed=0, steps=6, dropout=0.0):
    """A small MLP trained a few steps with Adam and a warmup-cosine schedule."""
    tinytorch.manual_seed(seed)
    model = MLP(dropout=dropout)
    opt = Adam(model.parameters(), lr=0.01)
    sched = CosineSchedule(max_lr=0.01, min_lr=0.001, total_steps=20, warmup_steps=3)
    trainer = Trainer(model, opt, MSELoss(), schedule=sched)
    x, y = regression_data(48)
    trainer.fit(Batches(x, y, 8), steps=steps)
    return model, opt, sched, trainer


def test_round_trip_restores_everything(tmp_path):
    model, opt, sched, _ = trained()
    path = tmp_path / "ckpt.safetensors"
    rng_before = get_rng_state()
    save_checkpoint(path, model, opt, step=6, config={"n_in": 3, "hidden": 8}, tokenizer=DictTokenizer(),
                    schedule=sched, extra={"note": "six steps"})
    expected_draw = get_rng().random(3)

    tinytorch.manual_seed(99)
    model2 = MLP()
    opt2 = Adam(model2.parameters(), lr=0.5)
    sched2 = CosineSchedule(max_lr=1.0, total_steps=3)
    assert not np.array_equal(model2.net[0].weight.data, model.net[0].weight.data)
    meta = load_checkpoint(path, model2, opt2, sched2)

    assert_same_params(model2, params_snapshot(model))
    assert_same_optimizer(opt2, optimizer_snapshot(opt))
    assert opt2.step_count == 6 and opt2.lr == opt.lr and opt2.betas == opt.betas
    assert sched2.state_dict() == sched.state_dict()
    assert np.array_equal(get_rng().random(3), expected_draw)  # RNG restored to the saved state
    assert meta["rng_state"] == rng_before
    assert meta["step"] == 6 and meta["config"] == {"n_in": 3, "hidden": 8}
    assert meta["tokenizer"] == DictTokenizer().to_dict() and meta["extra"] == {"note": "six steps"}
    assert meta["format"] == "tinytorch-checkpoint" and meta["version"] == 1
    assert meta["optimizer"]["type"] == "Adam" and meta["optimizer"]["step"] == 6


def test_metadata_only_load_changes_nothing(tmp_path):
    model, opt, sched, _ = trained()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model, opt, step=3, config={"a": 1})
    state = get_rng_state()
    assert load_checkpoint(path)["config"] == {"a": 1}
    assert get_rng_state() == state


def test_file_is_plain_safetensors(tmp_path):
    model, opt, _, _ = trained()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model, opt, step=6)
    tensors = load_file(str(path))
    names = [n for n, _ in model.named_parameters()]
    assert {k for k in tensors if k.startswith("model.")} == {f"model.{n}" for n in names}
    assert {k for k in tensors if k.startswith("optim.")} == {
        f"optim.{s}.{i}" for s in ("exp_avg", "exp_avg_sq") for i in range(len(names))}
    for n, p in model.named_parameters():
        assert np.array_equal(tensors[f"model.{n}"], p.data) and tensors[f"model.{n}"].dtype == np.float32
    with safe_open(str(path), framework="numpy") as f:
        blob = json.loads(f.metadata()["tinytorch"])
    assert blob["format"] == "tinytorch-checkpoint" and blob["version"] == 1
    assert blob["dtypes"]["model.net.0.weight"] == "<f4"
    with open(path, "rb") as f:
        assert b"pickle" not in f.read()


def test_resume_is_bit_identical(tmp_path):
    x, y = regression_data(48)

    def setup(seed):
        tinytorch.manual_seed(seed)
        model = MLP(dropout=0.2)  # dropout and batch sampling both draw from tinytorch's RNG
        opt = Adam(model.parameters(), lr=0.01)
        sched = CosineSchedule(max_lr=0.01, min_lr=0.001, total_steps=12, warmup_steps=2)
        return Trainer(model, opt, MSELoss(), schedule=sched, grad_clip_norm=1.0, accumulation_steps=2)

    full = setup(7)
    full.fit(RandomBatches(x, y, 8), steps=10)

    first = setup(7)
    first.fit(RandomBatches(x, y, 8), steps=4)
    first.save_checkpoint(tmp_path / "mid.safetensors")
    get_rng().random(17)  # disturb the RNG: the checkpoint must restore it

    resumed = setup(123)
    resumed.load_checkpoint(tmp_path / "mid.safetensors")
    assert resumed.step == 4 and resumed.history["train_loss"] == first.history["train_loss"]
    resumed.fit(RandomBatches(x, y, 8), steps=6)
    assert np.array_equal(np.array(resumed.history["train_loss"]), np.array(full.history["train_loss"]))
    assert resumed.history["learning_rates"] == full.history["learning_rates"]
    for (_, a), (_, b) in zip(resumed.model.named_parameters(), full.model.named_parameters()):
        assert np.array_equal(a.data, b.data)


# ----- bad checkpoints ------------------------------------------------------------------------
def _rewrite(src, dst, tensors=None, blob=None, metadata=None):
    """Copy a checkpoint with its tensors and/or JSON blob edited."""
    with safe_open(str(src), framework="numpy") as f:
        arrays = {k: f.get_tensor(k) for k in f.keys()}
        meta = json.loads(f.metadata()["tinytorch"])
    arrays = tensors(arrays) if tensors else arrays
    meta = blob(meta) if blob else meta
    from safetensors.numpy import save_file
    save_file(arrays, str(dst), metadata=metadata if metadata is not None else {"tinytorch": json.dumps(meta)})


def _truncate(src, dst, keep):
    data = src.read_bytes()
    dst.write_bytes(data[:keep(len(data))])


def _other_model(dst, **kwargs):
    tinytorch.manual_seed(5)
    m = MLP(**kwargs)
    save_checkpoint(dst, m, Adam(m.parameters()))


def _save_linear(dst):
    tinytorch.manual_seed(5)
    m = Linear(3, 1)
    save_checkpoint(dst, m, Adam(m.parameters()))


def _recast(arrays, dtype):
    return {k: v.astype(dtype) for k, v in arrays.items()}


BAD = {
    "missing file": (lambda src, dst: None, "no checkpoint file"),
    "truncated data": (lambda src, dst: _truncate(src, dst, lambda n: n - 100), "truncated or corrupt"),
    "truncated header": (lambda src, dst: _truncate(src, dst, lambda n: 12), "truncated or corrupt"),
    "empty file": (lambda src, dst: dst.write_bytes(b""), "truncated or corrupt"),
    "not safetensors": (lambda src, dst: dst.write_text("hello, this is a text file\n" * 20), "not a readable safetensors"),
    "oversized header": (lambda src, dst: dst.write_bytes((2**40).to_bytes(8, "little") + b"{}"), "not a readable"),
    "foreign, no metadata": (lambda src, dst: _rewrite(src, dst, metadata={}), "not a tinytorch checkpoint"),
    "foreign metadata": (lambda src, dst: _rewrite(src, dst, metadata={"format": "pt"}), "not a tinytorch checkpoint"),
    "malformed json": (lambda src, dst: _rewrite(src, dst, metadata={"tinytorch": "{not json"}), "malformed"),
    "foreign format name": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(b, format="other")), "'other'"),
    "future version": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(b, version=2)), "version 2"),
    "wider model": (lambda src, dst: _other_model(dst, hidden=16), "'net.0.weight' has shape (3, 16)"),
    "other output size": (lambda src, dst: _other_model(dst, n_out=2), "has shape (8, 2)"),
    "other architecture": (lambda src, dst: _save_linear(dst), "missing keys ['net.0.weight'"),
    "missing key": (lambda src, dst: _rewrite(src, dst, tensors=lambda a: {k: v for k, v in a.items()
                                                                          if k != "model.net.3.bias"}), "missing keys"),
    "unexpected key": (lambda src, dst: _rewrite(src, dst, tensors=lambda a: dict(a, **{"model.extra.w": np.zeros(2, np.float32)}),
                                                 blob=lambda b: dict(b, dtypes=dict(b["dtypes"], **{"model.extra.w": "<f4"}))),
                       "unexpected keys"),
    "wrong dtype": (lambda src, dst: _rewrite(src, dst, tensors=lambda a: _recast(a, np.float64),
                                              blob=lambda b: dict(b, dtypes={k: "<f8" for k in b["dtypes"]})),
                    "has dtype float64, expected float32"),
    "dtype disagrees with metadata": (lambda src, dst: _rewrite(src, dst, tensors=lambda a: _recast(a, np.float16)),
                                      "metadata records"),
    "sgd state": (lambda src, dst: save_checkpoint(dst, _sgd_model(), SGD(_sgd_model().parameters(), momentum=0.9)), "SGD state"),
    "no optimizer state": (lambda src, dst: save_checkpoint(dst, _sgd_model()), "no optimizer state"),
    "bad rng state": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(b, rng_state={"bit_generator": "MT19937"})), "RNG"),
    "garbled rng state": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(b, rng_state={"bit_generator": "PCG64", "state": 3})), "RNG"),
    "bad schedule state": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(b, schedule=dict(b["schedule"], min_lr=9.0))), "schedule"),
    "bad hyper-parameter": (lambda src, dst: _hyper(src, dst, lr="fast"), "bad optimizer state"),
    "bad step": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(b, step="six")), "step"),
    "negative trainer step": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(b, step=-1)), "malformed step -1"),
    "negative optimizer step": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(
        b, optimizer=dict(b["optimizer"], step=-1))), "step must be a non-negative int"),
    "lr NaN": (lambda src, dst: _hyper(src, dst, lr=float("nan")), "lr must be a finite number"),
    "lr inf": (lambda src, dst: _hyper(src, dst, lr=float("inf")), "lr must be a finite number"),
    "lr negative": (lambda src, dst: _hyper(src, dst, lr=-1.0), "lr must be >= 0"),
    "lr a list": (lambda src, dst: _hyper(src, dst, lr=[0.1]), "lr must be a real number"),
    "betas a bare number": (lambda src, dst: _hyper(src, dst, betas=0.9), "betas must be a pair"),
    "three betas": (lambda src, dst: _hyper(src, dst, betas=[0.9, 0.99, 0.5]), "betas must be a pair"),
    "eps negative": (lambda src, dst: _hyper(src, dst, eps=-1.0), "eps must be > 0"),
    "moment holds NaN": (lambda src, dst: _rewrite(src, dst, tensors=lambda a: dict(
        a, **{"optim.exp_avg.0": np.full_like(a["optim.exp_avg.0"], np.nan)})), "holds NaN"),
    "malformed model_config": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(
        b, model_config={"vocab_size": 5, "embed_dim": 8, "num_layers": 1, "num_heads": 3})),
        "model_config: GPTConfig: embed_dim 8 is not divisible by num_heads 3"),
    "schedule max_lr NaN": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(
        b, schedule=dict(b["schedule"], max_lr=float("nan")))), "max_lr must be a finite number"),
    "schedule total_steps a string": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(
        b, schedule=dict(b["schedule"], total_steps="20"))), "total_steps must be a positive int"),
    "tokenizer merges out of range": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(b, tokenizer={
        "type": "BPETokenizer", "format_version": 1, "target_vocab_size": 300, "split_pattern": BPE_SPLIT,
        "merges": [[0, 999]]})), "bad tokenizer: BPETokenizer.from_dict: merge 0"),
    "tokenizer not a dict": (lambda src, dst: _rewrite(src, dst, blob=lambda b: dict(b, tokenizer=[1, 2])),
                             "malformed tokenizer"),
}


def _hyper(src, dst, **changes):
    """Copy a checkpoint with optimizer hyper-parameters replaced (as a crafted file would)."""
    def edit(b):
        return dict(b, optimizer=dict(b["optimizer"], hyperparameters=dict(b["optimizer"]["hyperparameters"], **changes)))
    _rewrite(src, dst, blob=edit)


BPE_SPLIT = BPETokenizer().to_dict()["split_pattern"]
_SGD_MODEL = []


def _sgd_model():
    if not _SGD_MODEL:
        tinytorch.manual_seed(11)
        _SGD_MODEL.append(MLP())
    return _SGD_MODEL[0]


@pytest.mark.parametrize("case", list(BAD))
def test_bad_checkpoint_raises_and_changes_nothing(tmp_path, case):
    make_bad, message = BAD[case]
    model, opt, sched, _ = trained(seed=1)
    good = tmp_path / "good.safetensors"
    save_checkpoint(good, model, opt, step=6, schedule=sched)
    bad = tmp_path / "bad.safetensors"
    make_bad(good, bad)

    target, target_opt, _, _ = trained(seed=2, steps=3)
    target_sched = CosineSchedule(max_lr=0.5, total_steps=9)
    params, moments, sched_state = params_snapshot(target), optimizer_snapshot(target_opt), target_sched.state_dict()
    rng_state = get_rng_state()
    with pytest.raises((ValueError, FileNotFoundError)) as info:
        load_checkpoint(bad, target, target_opt, target_sched)
    assert str(bad) in str(info.value)
    assert message in str(info.value)
    assert_same_params(target, params)
    assert_same_optimizer(target_opt, moments)
    assert target_sched.state_dict() == sched_state and get_rng_state() == rng_state


def test_trainer_load_rejects_checkpoint_without_trainer_state(tmp_path):
    model, opt, sched, trainer = trained()
    path = tmp_path / "plain.safetensors"
    save_checkpoint(path, model, opt, schedule=sched)
    before = params_snapshot(model)
    model.net[0].weight.data += 1.0
    changed = params_snapshot(model)
    with pytest.raises(ValueError, match="no valid trainer state"):
        trainer.load_checkpoint(path)
    assert_same_params(model, changed)
    assert not np.array_equal(changed["net.0.weight"], before["net.0.weight"])


# ----- atomic writes --------------------------------------------------------------------------
def _fail(*args, **kwargs):
    raise OSError("simulated failure")


@pytest.mark.parametrize("fail_at", ["replace", "fsync", "write"])
def test_failed_write_keeps_previous_checkpoint(tmp_path, monkeypatch, fail_at):
    model, opt, _, _ = trained()
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model, opt, step=1)
    saved = params_snapshot(model)
    model.net[0].weight.data += 1.0
    if fail_at == "write":
        monkeypatch.setattr(checkpoint_module.os, "fdopen", lambda fd, mode: _FailingFile(fd))
    else:
        monkeypatch.setattr(checkpoint_module.os, fail_at, _fail)
    with pytest.raises(OSError, match="simulated"):
        save_checkpoint(path, model, opt, step=2)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # no temp file left behind
    fresh = MLP()
    meta = load_checkpoint(path, fresh)
    assert meta["step"] == 1
    assert_same_params(fresh, saved)


class _FailingFile:
    """Writes half, then fails: a disk filling up mid-write."""

    def __init__(self, fd):
        self.f = open(fd, "wb", closefd=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def write(self, data):
        self.f.write(b"partial")
        raise OSError("simulated failure: disk full")


def test_unserialisable_metadata_is_an_error_before_writing(tmp_path):
    model, opt, _, _ = trained()
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model, opt, step=1)
    original = path.read_bytes()
    with pytest.raises(TypeError, match="config"):
        save_checkpoint(path, model, opt, config={"bad": object()})
    with pytest.raises(TypeError, match="tokenizer"):
        save_checkpoint(path, model, opt, tokenizer=object())
    assert path.read_bytes() == original and os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_char_tokenizer_travels_with_the_checkpoint(tmp_path):
    tokenization = pytest.importorskip("tinytorch.core.tokenization")
    tok = tokenization.CharTokenizer()
    tok.build_vocab(["hello world", "def f(x): return x"])
    model, opt, _, _ = trained()
    path = tmp_path / "tok.safetensors"
    save_checkpoint(path, model, opt, tokenizer=tok)
    restored = type(tok).from_dict(load_checkpoint(path)["tokenizer"])
    text = "hello f(x)"
    assert restored.encode(text) == tok.encode(text) and restored.decode(tok.encode(text)) == text


def test_bad_arguments_are_named_before_anything_is_written(tmp_path):
    model, opt, _, _ = trained()
    path = tmp_path / "ckpt.safetensors"
    with pytest.raises(TypeError, match="save_checkpoint: model must have a named_parameters"):
        save_checkpoint(path, None)
    with pytest.raises(ValueError, match="save_checkpoint: step must be a non-negative int, got -1"):
        save_checkpoint(path, model, opt, step=-1)  # a file whose step no loader would accept
    with pytest.raises(TypeError, match="save_checkpoint: step must be a non-negative int, got 2.5"):
        save_checkpoint(path, model, step=2.5)
    with pytest.raises(TypeError, match="save_checkpoint: optimizer must have a state_dict"):
        save_checkpoint(path, model, "adam")
    assert os.listdir(tmp_path) == []
    save_checkpoint(path, model, opt)
    with pytest.raises(TypeError, match="load_checkpoint: model must have a named_parameters"):
        load_checkpoint(path, model=3)
    with pytest.raises(TypeError, match="load_checkpoint: schedule must have a state_dict"):
        load_checkpoint(path, model, schedule=object())
    with pytest.raises(TypeError, match="load_checkpoint: restore_rng must be a bool, got 'no'"):
        load_checkpoint(path, model, restore_rng="no")
