"""Bugs planted in the PyTorch example adapter, one small subclass each (loaded by the grader's worker).

Each mutant changes one method or one module class of `adapters/pytorch_adapter.py`; a hand-written
autograd Function stands in where the bug lives in a backward pass that PyTorch would get right.
"""

import math

import torch

import tinytorch_grader.adapters.pytorch_adapter as pt


def _mutant(base=pt.PyTorchAdapter, **classes):
    return type("Mutant", (base,), classes)


def _sub(cls, **methods):
    return type(cls.__name__, (cls,), methods)


# ----- attention -------------------------------------------------------------------------------
def _mask_inverted(self, scores, allowed):
    return scores if allowed is None else scores.masked_fill(allowed, float("-inf"))  # blocks what may attend


def _mask_off_by_one(self, scores, allowed):
    if allowed is None:
        return scores
    t = scores.shape[-1]
    return scores.masked_fill(~torch.tril(torch.ones(t, t, dtype=torch.bool), diagonal=1), float("-inf"))


def _softmax_no_shift(x, dim=-1):
    e = torch.exp(x)
    return e / e.sum(dim, keepdim=True)


class SoftmaxNoShiftAdapter(pt.PyTorchAdapter):
    attention_class = _sub(pt.Attention, weights=lambda self, s: _softmax_no_shift(s))

    def op(self, name, *ts, **kw):
        if name == "softmax":
            return _softmax_no_shift(ts[0], kw.get("axis", -1))
        if name == "log_softmax":
            return torch.log(_softmax_no_shift(ts[0], kw.get("axis", -1)))
        return super().op(name, *ts, **kw)


def _split_without_transpose(self, x):
    b, t, _ = x.shape
    return x.reshape(b, self.num_heads, t, self.head_dim)  # heads cut across tokens


def _scores_detached(self, q, k):
    return q.detach() @ k.detach().transpose(-2, -1) / math.sqrt(self.head_dim)


# ----- layer norm, GELU, blocks ------------------------------------------------------------------
def _ln_no_division(self, x):
    return (x - x.mean(-1, keepdim=True)) * self.gamma + self.beta


def _ln_std_constant(self, x):  # TinyTorch's own: the std rebuilt from .data, so no gradient through it
    mean = x.mean(-1, keepdim=True)
    std = torch.sqrt(((x - mean) ** 2).mean(-1, keepdim=True) + self.eps).detach()
    return (x - mean) / std * self.gamma + self.beta


def _ln_unbiased(self, x):
    mean = x.mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(x.var(-1, keepdim=True) + self.eps) * self.gamma + self.beta


def _ln_wrong_axis(self, x):
    mean, var = x.mean(0, keepdim=True), x.var(0, keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + self.eps) * self.gamma + self.beta


def gelu_sigmoid(x):
    return x * torch.sigmoid(1.702 * x)


class GeluTanhForwardSigmoidBackward(torch.autograd.Function):
    """Forward: the tanh approximation; backward: the derivative of x*sigmoid(1.702x) (TinyTorch's mix)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return pt.gelu(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(1.702 * x)
        return g * (s + 1.702 * x * s * (1 - s))


def _gelu_adapter(fn):
    class GeluAdapter(pt.PyTorchAdapter):
        mlp_class = _sub(pt.MLP, forward=lambda self, x: self.linear2(fn(self.linear1(x))))

        def op(self, name, *ts, **kw):
            return fn(ts[0]) if name == "gelu" else super().op(name, *ts, **kw)
    return GeluAdapter


def _no_residual(self, x, allowed=None):
    x = self.attention(self.ln1(x), allowed)
    return x + self.mlp(self.ln2(x))


def _post_norm(self, x, allowed=None):
    x = self.ln1(x + self.attention(x, allowed))
    return self.ln2(x + self.mlp(x))


# ----- autograd: broadcasting and repeated indices -----------------------------------------------
class AddFirstRowOnly(torch.autograd.Function):
    """a + b with b broadcast over leading axes; backward hands b the first slice instead of the sum."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a + b

    @staticmethod
    def backward(ctx, g):
        a_shape, b_shape = ctx.shapes
        gb = g
        while gb.dim() > len(b_shape):
            gb = gb[0]
        for i, n in enumerate(b_shape):
            if n == 1 and gb.shape[i] != 1:
                gb = gb.narrow(i, 0, 1)
        ga = g if g.shape == a_shape else g.sum_to_size(a_shape)
        return ga, gb.reshape(b_shape)


class BroadcastNotSummedAdapter(pt.PyTorchAdapter):
    linear_class = _sub(pt.Linear, forward=lambda self, x: x @ self.weight if self.bias is None
                        else AddFirstRowOnly.apply(x @ self.weight, self.bias))

    def op(self, name, *ts, **kw):
        if name == "add" and ts[1].dim() < ts[0].dim():
            return AddFirstRowOnly.apply(*ts)
        return super().op(name, *ts, **kw)


class GatherOverwrite(torch.autograd.Function):
    """rows = table[ids]; backward writes each row's gradient with `=`, so a repeated id keeps only the last."""

    @staticmethod
    def forward(ctx, table, ids):
        ctx.save_for_backward(ids)
        ctx.shape = table.shape
        return table[ids]

    @staticmethod
    def backward(ctx, g):
        (ids,) = ctx.saved_tensors
        grad = torch.zeros(ctx.shape, dtype=g.dtype)
        grad[ids.reshape(-1)] = g.reshape(-1, *ctx.shape[1:])
        return grad, None


class RepeatedIndexAdapter(pt.PyTorchAdapter):
    embedding_class = _sub(pt.Embedding, forward=lambda self, ids: GatherOverwrite.apply(self.weight, ids))

    def op(self, name, *ts, **kw):
        if name == "getitem":
            return GatherOverwrite.apply(ts[0], torch.as_tensor(kw["index"]))
        return super().op(name, *ts, **kw)


# ----- embeddings and GPT -------------------------------------------------------------------------
def _embed_detached(self, ids, start=0):
    return self.token_embedding(ids).detach() + self.position_embedding.weight[start:start + ids.shape[1]]


def _embed_no_positions(self, ids, start=0):
    return self.token_embedding(ids)


# ----- loss, optimizer, dropout, data, checkpoints -----------------------------------------------
class HandAdam:
    """Adam written out by hand; `bias_correction=False` is the bug."""

    def __init__(self, params, lr, bias_correction=True):
        self.params, self.lr, self.t, self.correct = list(params), lr, 0, bias_correction
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            m.mul_(0.9).add_(0.1 * p.grad)
            v.mul_(0.999).add_(0.001 * p.grad ** 2)
            m_hat = m / (1 - 0.9 ** self.t) if self.correct else m
            v_hat = v / (1 - 0.999 ** self.t) if self.correct else v
            p -= self.lr * m_hat / (v_hat.sqrt() + 1e-8)


class AdamNoBiasCorrection(pt.PyTorchAdapter):
    def adam(self, module, lr):
        return HandAdam(module.parameters(), lr, bias_correction=False)


class ZeroGradForgotten(pt.PyTorchAdapter):
    def zero_grad(self, optimizer):
        pass  # gradients pile up across steps


class CrossEntropyReportsZero(pt.PyTorchAdapter):
    def cross_entropy(self, logits, targets):
        loss = super().cross_entropy(logits, targets)
        return loss - loss.detach()  # right gradient, but the value it reports is 0


class CrossEntropyNoShift(pt.PyTorchAdapter):
    def cross_entropy(self, logits, targets):
        flat = logits.reshape(-1, logits.shape[-1])
        t = torch.as_tensor(targets, dtype=torch.long).reshape(-1)
        return (torch.log(torch.exp(flat).sum(-1)) - flat[torch.arange(len(t)), t]).mean()


class CrossEntropySummed(pt.PyTorchAdapter):
    def cross_entropy(self, logits, targets):
        return super().cross_entropy(logits, targets) * targets.size  # sum over tokens, not the mean


class TargetsNotShifted(pt.PyTorchAdapter):
    def lm_targets(self, tokens):
        return tokens[:, :-1], tokens[:, :-1]


class TargetsShiftedWrongWay(pt.PyTorchAdapter):
    def lm_targets(self, tokens):
        return tokens[:, 1:], tokens[:, :-1]


class CheckpointWithoutOptimizer(pt.PyTorchAdapter):
    def save(self, path, model, optimizer):
        pt.save_state(path, model)  # the optimizer's moments and step are lost

    def load(self, path, model, optimizer):
        pt.load_state(path, model)


def _dropout_not_rescaled(self, x):
    return x * (torch.rand_like(x) >= self.p) if self.training and self.p else x


def _dropout_in_eval(self, x):
    return x * (torch.rand_like(x) >= self.p) / (1 - self.p) if self.p else x


MUTANTS = {
    "mask_inverted": _mutant(attention_class=_sub(pt.Attention, mask=_mask_inverted)),
    "mask_ignored": _mutant(attention_class=_sub(pt.Attention, mask=lambda self, s, allowed: s)),
    "mask_off_by_one": _mutant(attention_class=_sub(pt.Attention, mask=_mask_off_by_one)),
    "attention_no_scale": _mutant(attention_class=_sub(pt.Attention, scores=lambda self, q, k: q @ k.transpose(-2, -1))),
    "attention_scale_by_d": _mutant(attention_class=_sub(
        pt.Attention, scores=lambda self, q, k: q @ k.transpose(-2, -1) / self.head_dim)),
    "attention_softmax_over_queries": _mutant(attention_class=_sub(
        pt.Attention, weights=lambda self, s: torch.softmax(s.masked_fill(s == float("-inf"), -1e9), dim=-2))),
    "attention_qk_detached": _mutant(attention_class=_sub(pt.Attention, scores=_scores_detached)),
    "heads_split_without_transpose": _mutant(attention_class=_sub(pt.Attention, split=_split_without_transpose)),
    "softmax_no_max_shift": SoftmaxNoShiftAdapter,
    "layernorm_no_division": _mutant(norm_class=_sub(pt.LayerNorm, forward=_ln_no_division)),
    "layernorm_std_constant": _mutant(norm_class=_sub(pt.LayerNorm, forward=_ln_std_constant)),
    "layernorm_unbiased_variance": _mutant(norm_class=_sub(pt.LayerNorm, forward=_ln_unbiased)),
    "layernorm_wrong_axis": _mutant(norm_class=_sub(pt.LayerNorm, forward=_ln_wrong_axis)),
    "gelu_sigmoid_approximation": _gelu_adapter(gelu_sigmoid),
    "gelu_mixed_approximations": _gelu_adapter(GeluTanhForwardSigmoidBackward.apply),
    "block_no_residual": _mutant(block_class=_sub(pt.Block, forward=_no_residual)),
    "block_post_norm": _mutant(block_class=_sub(pt.Block, forward=_post_norm)),
    "broadcast_grad_not_summed": BroadcastNotSummedAdapter,
    "repeated_index_overwritten": RepeatedIndexAdapter,
    "embedding_detached": _mutant(gpt_class=_sub(pt.GPT, embed=_embed_detached)),
    "positions_not_added": _mutant(gpt_class=_sub(pt.GPT, embed=_embed_no_positions)),
    "kv_cache_positions_restart": _mutant(gpt_class=_sub(pt.GPT, position_for=lambda self, pos: 0)),
    "kv_cache_off_by_one": _mutant(gpt_class=_sub(pt.GPT, position_for=lambda self, pos: pos + 1)),
    "adam_no_bias_correction": AdamNoBiasCorrection,
    "zero_grad_forgotten": ZeroGradForgotten,
    "cross_entropy_reports_zero": CrossEntropyReportsZero,
    "cross_entropy_no_max_shift": CrossEntropyNoShift,
    "cross_entropy_summed": CrossEntropySummed,
    "targets_not_shifted": TargetsNotShifted,
    "targets_shifted_wrong_way": TargetsShiftedWrongWay,
    "checkpoint_without_optimizer": CheckpointWithoutOptimizer,
    "dropout_not_rescaled": _mutant(dropout_class=_sub(pt.Dropout, forward=_dropout_not_rescaled)),
    "dropout_active_in_eval": _mutant(dropout_class=_sub(pt.Dropout, forward=_dropout_in_eval)),
}
