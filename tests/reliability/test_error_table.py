"""docs/ERRORS.md cannot drift: every table row names a case here, which must raise that error and message."""

import builtins
import re
from pathlib import Path

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.core import functions as F
from tinytorch.core.anomaly import AnomalyError, detect_anomaly
from tinytorch.nn.attention import MultiHeadAttention, scaled_dot_product_attention
from tinytorch.text.bpe import BPETokenizer
from tinytorch.training.checkpoint import load_checkpoint, save_checkpoint
from tinytorch.data.dataloader import DataLoader, PaddedSequenceDataset, TensorDataset, TokenWindowDataset
from tinytorch.nn.embeddings import Embedding
from tinytorch.optim.grad_clip import clip_grad_norm
from tinytorch.nn.layers import Dropout, Linear, Module, ModuleList, Parameter
from tinytorch.nn.losses import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss
from tinytorch.optim.optimizers import SGD, Adam, AdamW
from tinytorch.text.tokenization import CharTokenizer
from tinytorch.text.tokenizer_base import Tokenizer
from tinytorch.training.trainer import NonFiniteLossError, Trainer
from tinytorch.nn.transformer import GPT, LayerNorm
from tinytorch.generation import generate, generate_text

DOC = Path(__file__).resolve().parents[2] / "docs" / "ERRORS.md"
TYPES = {"AnomalyError": AnomalyError, "NonFiniteLossError": NonFiniteLossError}


def ones(*shape):
    return Tensor(np.ones(shape, dtype=np.float32))


def gpt():
    tinytorch.manual_seed(0)
    return GPT(11, embed_dim=8, num_layers=1, num_heads=2, max_seq_len=8)


def char_tok():
    return CharTokenizer().build_vocab("abc")


def linear_params():
    return Linear(3, 2).parameters()


class NoSuper(Module):
    def __init__(self):
        self.w = Parameter(np.ones(2))


def trainer(loss_fn=None):
    model = Linear(3, 1)
    return Trainer(model, SGD(model.parameters(), lr=0.1), loss_fn or MSELoss())


def saved(tmp, model=None, **kwargs):
    return save_checkpoint(tmp / "ok.safetensors", model or Linear(3, 2), **kwargs)


def write(tmp, data: bytes):
    path = tmp / "bad.safetensors"
    path.write_bytes(data)
    return path


def sgd_with_bad_grad(grad=None):
    p = Parameter(np.ones((2, 2)))
    p.grad = np.ones(3) if grad is None else grad
    SGD([p]).step()


def sgd_after_data_reshaped():
    p = Parameter(np.ones((2, 2)))
    opt = SGD([p])
    p.data = np.ones(3)
    p.grad = np.ones(3)
    opt.step()


def adam_load(corrupt):
    opt = Adam(linear_params())
    state = opt.state_dict()
    corrupt(state)
    opt.load_state_dict(state)


def clip(max_norm):
    p = Parameter(np.ones(2))
    p.grad = np.ones(2)
    clip_grad_norm([p], max_norm)


def shifted_loss(out, y):  # (out - y)^2 summed per row: a (N, 1) tensor, not a scalar
    return (out - y) * (out - y)


CASES = {
    # tensors
    "tensor-str-data": lambda tmp: Tensor(["a", "b"]),
    "tensor-int-grad": lambda tmp: Tensor([1, 2], requires_grad=True),
    "tensor-broadcast": lambda tmp: ones(2, 3) + ones(4),
    "tensor-matmul": lambda tmp: ones(2, 3) @ ones(4, 5),
    "tensor-reshape": lambda tmp: ones(6).reshape(4),
    "tensor-axis": lambda tmp: ones(2, 3).sum(axis=4),
    "tensor-backward-nonscalar": lambda tmp: (Tensor([1.0, 2.0], requires_grad=True) * 2).backward(),
    "tensor-backward-nograd": lambda tmp: ones(2).sum().backward(),
    "tensor-backward-shape": lambda tmp: (Tensor([1.0, 2.0], requires_grad=True) * 2).backward(np.ones(3)),
    "seed-not-int": lambda tmp: tinytorch.manual_seed("42"),
    "tensor-requires-grad-str": lambda tmp: Tensor([1.0], requires_grad="yes"),
    "tensor-ragged": lambda tmp: Tensor([[1.0], [1.0, 2.0]]),
    "tensor-axis-float": lambda tmp: ones(2, 3).sum(axis=1.0),
    "tensor-reshape-float": lambda tmp: ones(6).reshape(2.0, 3),
    "tensor-transpose-range": lambda tmp: ones(2, 3).transpose(0, 5),
    "tensor-mask-fraction": lambda tmp: ones(2, 2).masked_fill(np.full((2, 2), 0.5), 0.0),
    # layers
    "linear-features": lambda tmp: Linear(3, 2)(ones(4, 5)),
    "dropout-p": lambda tmp: Dropout(1.0),
    "layernorm-dim": lambda tmp: LayerNorm(4)(ones(2, 5)),
    "embedding-range": lambda tmp: Embedding(5, 3)(np.array([1, 10])),
    "embedding-fraction": lambda tmp: Embedding(5, 3)(np.array([1.5])),
    "state-dict-missing": lambda tmp: Linear(3, 2).load_state_dict({"weight": np.zeros((3, 2))}),
    "state-dict-shape": lambda tmp: Linear(3, 2).load_state_dict({"weight": np.zeros((2, 3)), "bias": np.zeros(2)}),
    "module-no-super": lambda tmp: NoSuper(),
    "modulelist-append": lambda tmp: ModuleList().append("relu"),
    "linear-negative": lambda tmp: Linear(-1, 3),
    "linear-0d": lambda tmp: Linear(3, 2)(Tensor(1.0)),
    "dropout-str": lambda tmp: Dropout("0.5"),
    "layernorm-eps": lambda tmp: LayerNorm(4, eps=-1),
    "layernorm-0d": lambda tmp: LayerNorm(4)(Tensor(1.0)),
    "embedding-huge-id": lambda tmp: Embedding(5, 3)(np.array([1e20])),
    # attention and GPT
    "mha-heads": lambda tmp: MultiHeadAttention(10, 3),
    "mha-input": lambda tmp: MultiHeadAttention(8, 2)(ones(2, 8)),
    "sdpa-shapes": lambda tmp: scaled_dot_product_attention(ones(1, 4, 8), ones(1, 4, 6), ones(1, 4, 8)),
    "sdpa-mask": lambda tmp: scaled_dot_product_attention(ones(1, 4, 8), ones(1, 4, 8), ones(1, 4, 8), mask=np.ones((3, 3))),
    "gpt-heads": lambda tmp: GPT(11, embed_dim=10, num_layers=1, num_heads=3),
    "gpt-token-range": lambda tmp: gpt()(np.array([[1, 2, 41]])),
    "gpt-too-long": lambda tmp: gpt()(np.zeros((1, 9), dtype=np.int64)),
    "gpt-1d": lambda tmp: gpt()(np.array([1, 2, 3])),
    "gpt-float-ids": lambda tmp: gpt()(np.array([[1.0, 2.5]])),
    "gpt-no-tokens": lambda tmp: gpt()(np.zeros((1, 0), dtype=np.int64)),
    "mha-0d": lambda tmp: MultiHeadAttention(8, 2)(Tensor(1.0)),
    "sdpa-0d": lambda tmp: scaled_dot_product_attention(Tensor(1.0), ones(1, 4, 8), ones(1, 4, 8)),
    "mask-posinf": lambda tmp: scaled_dot_product_attention(ones(1, 4, 8), ones(1, 4, 8), ones(1, 4, 8), mask=np.full((4, 4), np.inf)),
    "mask-two": lambda tmp: scaled_dot_product_attention(ones(1, 4, 8), ones(1, 4, 8), ones(1, 4, 8), mask=np.full((4, 4), 2)),
    "mask-nan": lambda tmp: scaled_dot_product_attention(ones(1, 4, 8), ones(1, 4, 8), ones(1, 4, 8), mask=np.full((4, 4), np.nan)),
    "mask-str": lambda tmp: MultiHeadAttention(8, 2)(ones(1, 4, 8), mask="abc"),
    # tokenizers
    "char-encode-type": lambda tmp: char_tok().encode(123),
    "char-decode-range": lambda tmp: char_tok().decode([99]),
    "char-decode-fraction": lambda tmp: char_tok().decode([1.5]),
    "char-empty-vocab": lambda tmp: CharTokenizer().build_vocab(""),
    "char-vocab-entry": lambda tmp: CharTokenizer(["ab"]),
    "bpe-vocab-size": lambda tmp: BPETokenizer(100),
    "bpe-empty-corpus": lambda tmp: BPETokenizer(300).train(""),
    "bpe-decode-range": lambda tmp: BPETokenizer(300).decode([-1]),
    "bpe-surrogate": lambda tmp: BPETokenizer(300).encode("a\ud800"),
    "tokenizer-type": lambda tmp: Tokenizer.from_dict({"type": "WordPiece", "format_version": 1}),
    "tokenizer-json": lambda tmp: (tmp.joinpath("t.json").write_text("{oops"), Tokenizer.load(tmp / "t.json")),
    "char-build-vocab-int": lambda tmp: CharTokenizer().build_vocab(123),
    # data
    "loader-batch-zero": lambda tmp: DataLoader(TensorDataset(np.arange(4)), batch_size=0),
    "loader-batch-float": lambda tmp: DataLoader(TensorDataset(np.arange(4)), batch_size=2.5),
    "dataset-lengths": lambda tmp: TensorDataset(np.zeros(4), np.zeros(5)),
    "window-too-long": lambda tmp: TokenWindowDataset([1, 2, 3], seq_len=3),
    "window-index": lambda tmp: TokenWindowDataset([1, 2, 3, 4], seq_len=2)[5],
    "padded-too-long": lambda tmp: PaddedSequenceDataset([[1, 2, 3, 4, 5]], seq_len=3),
    "loader-none": lambda tmp: DataLoader(None),
    "loader-shuffle-str": lambda tmp: DataLoader(TensorDataset(np.ones((4, 2))), shuffle="no"),
    # losses
    "ce-target-range": lambda tmp: CrossEntropyLoss()(ones(4, 3), np.array([0, 1, 2, 5])),
    "ce-target-shape": lambda tmp: CrossEntropyLoss()(ones(4, 3), np.array([0, 1])),
    "ce-target-fraction": lambda tmp: CrossEntropyLoss()(ones(2, 3), np.array([0.0, 1.5])),
    "ce-reduction": lambda tmp: CrossEntropyLoss(reduction="avg"),
    "mse-shape": lambda tmp: MSELoss()(ones(4, 1), ones(4)),
    "ce-ignore-index": lambda tmp: CrossEntropyLoss(ignore_index="x"),
    "bce-outside": lambda tmp: BinaryCrossEntropyLoss()(np.array([0.5, 1.5]), np.ones(2)),
    # optimizers
    "optim-empty": lambda tmp: SGD([], lr=0.1),
    "optim-lr": lambda tmp: Adam(linear_params(), lr=-1),
    "optim-lr-nan": lambda tmp: Adam(linear_params(), lr=float("nan")),
    "optim-lr-inf": lambda tmp: Adam(linear_params(), lr=float("inf")),
    "optim-lr-str": lambda tmp: SGD(linear_params(), lr="0.1"),
    "optim-lr-bool": lambda tmp: Adam(linear_params(), lr=True),
    "optim-no-grad-param": lambda tmp: SGD([ones(2)]),
    "adam-betas": lambda tmp: Adam(linear_params(), betas=(1.0, 0.999)),
    "adam-betas-three": lambda tmp: Adam(linear_params(), betas=(0.9, 0.99, 0.9)),
    "adam-betas-number": lambda tmp: Adam(linear_params(), betas=0.9),
    "adam-eps": lambda tmp: Adam(linear_params(), eps=-1e-8),
    "adamw-weight-decay": lambda tmp: AdamW(linear_params(), weight_decay=float("inf")),
    "sgd-momentum": lambda tmp: SGD(linear_params(), momentum=-0.5),
    "sgd-nesterov": lambda tmp: SGD(linear_params(), momentum=0.9, nesterov="yes"),
    "sgd-nesterov-momentum": lambda tmp: SGD(linear_params(), nesterov=True),
    "optim-grad-shape": lambda tmp: sgd_with_bad_grad(),
    "optim-grad-type": lambda tmp: sgd_with_bad_grad("x"),
    "optim-data-shape": lambda tmp: sgd_after_data_reshaped(),
    "optim-state-step": lambda tmp: adam_load(lambda s: s.__setitem__("step", -1)),
    "optim-state-lr": lambda tmp: adam_load(lambda s: s["hyperparameters"].__setitem__("lr", float("nan"))),
    "optim-state-betas": lambda tmp: adam_load(lambda s: s["hyperparameters"].__setitem__("betas", 0.9)),
    "optim-state-nan": lambda tmp: adam_load(lambda s: s["state"]["exp_avg"][0].__setitem__(0, np.nan)),
    "clip-max-norm-nan": lambda tmp: clip(float("nan")),
    "clip-max-norm-negative": lambda tmp: clip(-1.0),
    "clip-max-norm-bool": lambda tmp: clip(True),
    # training
    "trainer-accumulation": lambda tmp: Trainer(Linear(3, 1), SGD(linear_params()), MSELoss(), accumulation_steps=0),
    "trainer-fit-both": lambda tmp: trainer().fit([], epochs=1, steps=1),
    "trainer-nan-loss": lambda tmp: trainer().train_step(ones(2, 3), Tensor(np.full((2, 1), np.nan))),
    "trainer-loss-shape": lambda tmp: trainer(shifted_loss).train_step(ones(2, 3), ones(2, 1)),
    "anomaly-forward": lambda tmp: _with_anomaly(lambda: Tensor([-1.0], requires_grad=True).log()),
    # checkpoints
    "ckpt-missing": lambda tmp: load_checkpoint(tmp / "nope.safetensors"),
    "ckpt-empty": lambda tmp: load_checkpoint(write(tmp, b"")),
    "ckpt-header-length": lambda tmp: load_checkpoint(write(tmp, (10 ** 6).to_bytes(8, "little") + b"{}")),
    "ckpt-huge-header": lambda tmp: load_checkpoint(write(tmp, (2 ** 62).to_bytes(8, "little") + b"{}")),
    "ckpt-bad-json": lambda tmp: load_checkpoint(write(tmp, (4).to_bytes(8, "little") + b"{oop")),
    "ckpt-plain-safetensors": lambda tmp: _plain_safetensors(tmp),
    "ckpt-shape": lambda tmp: load_checkpoint(saved(tmp), Linear(4, 2)),
    "ckpt-optimizer-type": lambda tmp: _optimizer_mismatch(tmp),
    "ckpt-unserialisable": lambda tmp: saved(tmp, config={"f": print}),
    # generation
    "gen-temperature": lambda tmp: generate(gpt(), [1, 2], 3, temperature=-1),
    "gen-top-k": lambda tmp: generate(gpt(), [1, 2], 3, top_k=0),
    "gen-top-p": lambda tmp: generate(gpt(), [1, 2], 3, top_p=1.5),
    "gen-prompt-range": lambda tmp: generate(gpt(), [1, 50], 3),
    "gen-empty-prompt": lambda tmp: generate(gpt(), [], 3),
    "gen-max-new": lambda tmp: generate(gpt(), [1, 2], -1),
    "gen-text-empty": lambda tmp: generate_text(gpt(), char_tok(), "", 3),
    "gen-top-k-float": lambda tmp: generate(gpt(), [1, 2], 3, top_k=2.5),
    "gen-temperature-nan": lambda tmp: generate(gpt(), [1, 2], 3, temperature=float("nan")),
    "gen-prompt-huge": lambda tmp: generate(gpt(), np.array([1.0, 1e20]), 3),
}


def _with_anomaly(fn):
    with detect_anomaly(), np.errstate(invalid="ignore"):
        fn()


def _plain_safetensors(tmp):
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(2, dtype=np.float32)}, str(tmp / "plain.safetensors"))
    load_checkpoint(tmp / "plain.safetensors")


def _optimizer_mismatch(tmp):
    model = Linear(3, 2)
    path = saved(tmp, model, optimizer=Adam(model.parameters()))
    load_checkpoint(path, model, SGD(model.parameters()))


# ----- the table -----------------------------------------------------------------------------------
def table_rows() -> list:
    """(case id, exception name, message fragment) for each row of the tables in docs/ERRORS.md."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue  # prose, header or separator row
        case, _bad_input, exc, message = cells
        fragment = re.fullmatch(r"`(.+)`", message)
        assert fragment, f"docs/ERRORS.md: row {case}: the message column must be one code span"
        rows.append((case.strip("`"), exc.strip("`"), fragment.group(1)))
    return rows


ROWS = table_rows()


def test_table_and_cases_match_one_to_one():
    ids = [r[0] for r in ROWS]
    assert len(ids) == len(set(ids)), "duplicate case ids in docs/ERRORS.md"
    assert sorted(ids) == sorted(CASES), set(ids) ^ set(CASES)
    assert len(ROWS) >= 60


@pytest.mark.parametrize("case, exc_name, fragment", ROWS, ids=[r[0] for r in ROWS])
def test_documented_error(tmp_path, case, exc_name, fragment):
    expected = TYPES.get(exc_name) or getattr(builtins, exc_name, None)
    assert isinstance(expected, type) and issubclass(expected, BaseException), exc_name
    with pytest.raises(BaseException) as info:
        CASES[case](tmp_path)
    message = str(info.value)
    assert type(info.value) is expected, f"{case}: raised {type(info.value).__name__}: {message}"
    assert fragment in message, f"{case}: message {message!r} lacks {fragment!r}"
    if case.startswith("ckpt-") and case != "ckpt-unserialisable":
        assert str(tmp_path) in message, f"{case}: the message does not name the file: {message!r}"
