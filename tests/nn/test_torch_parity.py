"""The same tiny GPT, MultiHeadAttention and LayerNorm built in torch: equal outputs, losses and gradients."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
pytestmark = pytest.mark.torch

import tinytorch  # noqa: E402
from tinytorch import Tensor  # noqa: E402
from tinytorch.nn.attention import MultiHeadAttention  # noqa: E402
from tinytorch.nn.losses import CrossEntropyLoss  # noqa: E402
from tinytorch.nn.transformer import GPT, LayerNorm  # noqa: E402

from transformer_helpers import randomize, to_float64  # noqa: E402

TOL = dict(rtol=1e-9, atol=1e-11)


def _t(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


class TorchMHA(nn.Module):
    """torch's MultiheadAttention with tinytorch's separate q/k/v projections packed into in_proj."""

    def __init__(self, mha):
        super().__init__()
        c, h = mha.embed_dim, mha.num_heads
        self.h = h
        self.attn = nn.MultiheadAttention(c, h, batch_first=True, dtype=torch.float64)
        with torch.no_grad():  # tinytorch Linear weight is (in, out); torch's is (out, in)
            self.attn.in_proj_weight.copy_(_t(np.concatenate([mha.q_proj.weight.data.T, mha.k_proj.weight.data.T,
                                                              mha.v_proj.weight.data.T])))
            self.attn.in_proj_bias.copy_(_t(np.concatenate([mha.q_proj.bias.data, mha.k_proj.bias.data,
                                                            mha.v_proj.bias.data])))
            self.attn.out_proj.weight.copy_(_t(mha.out_proj.weight.data.T))
            self.attn.out_proj.bias.copy_(_t(mha.out_proj.bias.data))

    def grads(self, c):
        """torch's gradients, in tinytorch's names and layouts."""
        w, b = self.attn.in_proj_weight.grad.numpy(), self.attn.in_proj_bias.grad.numpy()
        out = {}
        for i, name in enumerate(("q_proj", "k_proj", "v_proj")):
            out[f"{name}.weight"] = w[i * c : (i + 1) * c].T
            out[f"{name}.bias"] = b[i * c : (i + 1) * c]
        out["out_proj.weight"] = self.attn.out_proj.weight.grad.numpy().T
        out["out_proj.bias"] = self.attn.out_proj.bias.grad.numpy()
        return out

    def forward(self, x, blocked=None):
        """`blocked` is torch's convention: True = may NOT attend; (T, T) or (B, T, T)."""
        if blocked is not None and blocked.dim() == 3:
            blocked = blocked.repeat_interleave(self.h, dim=0)  # (B * H, T, T), batch-major
        return self.attn(x, x, x, attn_mask=blocked, need_weights=False)[0]


class TorchBlock(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.ln1, self.ln2 = _torch_ln(block.ln1), _torch_ln(block.ln2)
        self.attn = TorchMHA(block.attention)
        self.fc1, self.fc2 = _torch_linear(block.mlp.linear1), _torch_linear(block.mlp.linear2)

    def forward(self, x, blocked):
        x = x + self.attn(self.ln1(x), blocked)
        return x + self.fc2(nn.functional.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


def _torch_ln(ln):
    out = nn.LayerNorm(ln.normalized_shape, eps=ln.eps, dtype=torch.float64)
    with torch.no_grad():
        out.weight.copy_(_t(ln.gamma.data))
        out.bias.copy_(_t(ln.beta.data))
    return out


def _torch_linear(lin):
    out = nn.Linear(lin.in_features, lin.out_features, bias=lin.bias is not None, dtype=torch.float64)
    with torch.no_grad():
        out.weight.copy_(_t(lin.weight.data.T))
        if lin.bias is not None:
            out.bias.copy_(_t(lin.bias.data))
    return out


class TorchGPT(nn.Module):
    def __init__(self, gpt):
        super().__init__()
        self.tok = nn.Embedding.from_pretrained(_t(gpt.token_embedding.weight.data), freeze=False)
        self.pos = nn.Embedding.from_pretrained(_t(gpt.position_embedding.weight.data), freeze=False)
        self.blocks = nn.ModuleList([TorchBlock(b) for b in gpt.blocks])
        self.ln_f = _torch_ln(gpt.ln_f)
        self.lm_head = _torch_linear(gpt.lm_head)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.tok(ids) + self.pos(torch.arange(t))
        blocked = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)  # causal
        for block in self.blocks:
            x = block(x, blocked)
        return self.lm_head(self.ln_f(x))

    def grads(self, gpt):
        """torch's gradients under tinytorch's parameter names, in tinytorch's layouts."""
        out = {"token_embedding.weight": self.tok.weight.grad.numpy(),
               "position_embedding.weight": self.pos.weight.grad.numpy(),
               "ln_f.gamma": self.ln_f.weight.grad.numpy(), "ln_f.beta": self.ln_f.bias.grad.numpy(),
               "lm_head.weight": self.lm_head.weight.grad.numpy().T}
        c = gpt.embed_dim
        for i, block in enumerate(self.blocks):
            p = f"blocks.{i}."
            for ln in ("ln1", "ln2"):
                out[p + ln + ".gamma"] = getattr(block, ln).weight.grad.numpy()
                out[p + ln + ".beta"] = getattr(block, ln).bias.grad.numpy()
            for name, g in block.attn.grads(c).items():
                out[p + "attention." + name] = g
            for name, lin in (("linear1", block.fc1), ("linear2", block.fc2)):
                out[p + f"mlp.{name}.weight"] = lin.weight.grad.numpy().T
                out[p + f"mlp.{name}.bias"] = lin.bias.grad.numpy()
        return out


def _compare_grads(tiny_module, torch_grads):
    names = [name for name, _ in tiny_module.named_parameters()]
    assert sorted(names) == sorted(torch_grads), "parameter sets differ"
    for name, p in tiny_module.named_parameters():
        np.testing.assert_allclose(p.grad, torch_grads[name], **TOL, err_msg=f"gradient of {name}")


@pytest.mark.parametrize("num_layers", [1, 2])
def test_gpt_logits_loss_and_gradients_match_torch(num_layers):
    tinytorch.manual_seed(0)
    gpt = to_float64(randomize(GPT(vocab_size=11, embed_dim=12, num_layers=num_layers, num_heads=3,
                                   max_seq_len=9), seed=num_layers, scale=0.3))
    ref = TorchGPT(gpt)
    rng = np.random.default_rng(1)
    ids, targets = rng.integers(0, 11, (2, 7)), rng.integers(0, 11, (2, 7))

    logits = gpt(ids)
    loss = CrossEntropyLoss()(logits, targets)
    loss.backward()
    ref_logits = ref(torch.tensor(ids))
    ref_loss = nn.functional.cross_entropy(ref_logits.reshape(-1, 11), torch.tensor(targets).reshape(-1))
    ref_loss.backward()

    np.testing.assert_allclose(logits.data, ref_logits.detach().numpy(), **TOL)
    np.testing.assert_allclose(loss.item(), ref_loss.item(), **TOL)
    assert len(gpt.parameters()) == 2 + 16 * num_layers + 3
    _compare_grads(gpt, ref.grads(gpt))


def test_gpt_float32_matches_torch_loosely():
    """The default float32 model agrees with a float64 torch reference to float32 accuracy."""
    tinytorch.manual_seed(3)
    gpt = GPT(vocab_size=11, embed_dim=12, num_layers=2, num_heads=3, max_seq_len=9)
    ref = TorchGPT(gpt)
    ids = np.random.default_rng(3).integers(0, 11, (2, 9))
    np.testing.assert_allclose(gpt(ids).data, ref(torch.tensor(ids)).detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mask_kind", ["none", "(T,T)", "(B,T,T)"])
def test_multi_head_attention_matches_torch(mask_kind):
    tinytorch.manual_seed(4)
    mha = to_float64(randomize(MultiHeadAttention(12, 3), seed=4))
    ref = TorchMHA(mha)
    b, t = 2, 6
    rng = np.random.default_rng(5)
    if mask_kind == "none":
        mask = None
    elif mask_kind == "(T,T)":
        mask = np.tril(np.ones((t, t)))
    else:
        mask = (rng.random((b, t, t)) > 0.5).astype(np.float64)
        mask[..., 0] = 1  # torch gives NaN for a fully blocked row; keep every row attending somewhere
    x_np = rng.standard_normal((b, t, 12))
    x = Tensor(x_np, requires_grad=True, dtype=np.float64)
    x_ref = _t(x_np).requires_grad_(True)
    w = rng.standard_normal((b, t, 12))

    out = mha(x, mask=mask)
    (out * Tensor(w, dtype=np.float64)).sum().backward()
    blocked = None if mask is None else torch.tensor(mask == 0)  # 1 = attend here, True = blocked in torch
    ref_out = ref(x_ref, blocked)
    (ref_out * _t(w)).sum().backward()

    np.testing.assert_allclose(out.data, ref_out.detach().numpy(), **TOL)
    np.testing.assert_allclose(x.grad, x_ref.grad.numpy(), **TOL)
    _compare_grads(mha, ref.grads(12))
    # The inspected attention probabilities are torch's per-head weights.
    _, ref_weights = ref.attn(x_ref, x_ref, x_ref, average_attn_weights=False,
                              attn_mask=None if blocked is None else
                              (blocked if blocked.dim() == 2 else blocked.repeat_interleave(3, dim=0)))
    np.testing.assert_allclose(mha.attention_weights(x, mask=mask), ref_weights.detach().numpy(), **TOL)


def test_layer_norm_matches_torch():
    ln = to_float64(randomize(LayerNorm(10), seed=6))
    ref = _torch_ln(ln)
    x_np = np.random.default_rng(7).standard_normal((3, 4, 10)) * 5 + 2
    w = np.random.default_rng(8).standard_normal((3, 4, 10))
    x = Tensor(x_np, requires_grad=True, dtype=np.float64)
    x_ref = _t(x_np).requires_grad_(True)
    out = ln(x)
    (out * Tensor(w, dtype=np.float64)).sum().backward()
    ref_out = ref(x_ref)
    (ref_out * _t(w)).sum().backward()
    np.testing.assert_allclose(out.data, ref_out.detach().numpy(), **TOL)
    np.testing.assert_allclose(x.grad, x_ref.grad.numpy(), **TOL)
    np.testing.assert_allclose(ln.gamma.grad, ref.weight.grad.numpy(), **TOL)
    np.testing.assert_allclose(ln.beta.grad, ref.bias.grad.numpy(), **TOL)
