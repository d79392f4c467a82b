"""An example adapter: a GPT written in PyTorch, graded by `tinytorch verify --impl pytorch_adapter.py`.

Copy it to grade another framework: replace the torch calls, keep the method names (the protocol is
`tinytorch_grader.protocol.Adapter`, documented in docs/GRADING.md). The model is small on purpose,
each piece a class of its own, so that a single wrong line is easy to plant (the grader's mutation
catalog does exactly that).
"""

import math
import os

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from tinytorch_grader.protocol import Adapter

torch.set_num_threads(1)


class Linear(nn.Module):
    """y = x @ W + b with W stored (in, out), as TinyTorch does."""

    def __init__(self, i, o, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(i, o) * 0.02)
        self.bias = nn.Parameter(torch.zeros(o)) if bias else None

    def forward(self, x):
        y = x @ self.weight
        return y if self.bias is None else y + self.bias


class LayerNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.gamma, self.beta, self.eps = nn.Parameter(torch.ones(dim)), nn.Parameter(torch.zeros(dim)), eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.gamma + self.beta


class Attention(nn.Module):
    """Multi-head self-attention; `allowed` (T, T) bool, True = may attend."""

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, embed_dim // num_heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (Linear(embed_dim, embed_dim) for _ in range(4))

    def split(self, x):  # (B, T, C) -> (B, H, T, hd)
        b, t, _ = x.shape
        return x.reshape(b, t, self.num_heads, self.head_dim).transpose(1, 2)

    def scores(self, q, k):
        return q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # (B, H, T, T)

    def mask(self, scores, allowed):
        return scores if allowed is None else scores.masked_fill(~allowed, float("-inf"))

    def weights(self, scores):
        return torch.softmax(scores, dim=-1)

    def forward(self, x, allowed=None):
        b, t, c = x.shape
        q, k, v = self.split(self.q_proj(x)), self.split(self.k_proj(x)), self.split(self.v_proj(x))
        w = self.weights(self.mask(self.scores(q, k), allowed))
        return self.out_proj((w @ v).transpose(1, 2).reshape(b, t, c))


def gelu(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


class MLP(nn.Module):
    def __init__(self, embed_dim, hidden_dim):
        super().__init__()
        self.linear1, self.linear2 = Linear(embed_dim, hidden_dim), Linear(hidden_dim, embed_dim)

    def forward(self, x):
        return self.linear2(gelu(self.linear1(x)))


class Block(nn.Module):
    attention_class, mlp_class, norm_class = Attention, MLP, LayerNorm

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.ln1, self.ln2 = self.norm_class(embed_dim), self.norm_class(embed_dim)
        self.attention = self.attention_class(embed_dim, num_heads)
        self.mlp = self.mlp_class(embed_dim, 4 * embed_dim)

    def forward(self, x, allowed=None):
        x = x + self.attention(self.ln1(x), allowed)
        return x + self.mlp(self.ln2(x))


class Embedding(nn.Module):
    def __init__(self, n, d):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n, d) * 0.02)

    def forward(self, ids):
        return self.weight[ids]


class GPT(nn.Module):
    block_class, norm_class, embedding_class = Block, LayerNorm, Embedding

    def __init__(self, vocab_size, embed_dim, num_layers, num_heads, max_seq_len):
        super().__init__()
        self.max_seq_len = max_seq_len
        self.token_embedding = self.embedding_class(vocab_size, embed_dim)
        self.position_embedding = self.embedding_class(max_seq_len, embed_dim)
        self.blocks = nn.ModuleList(self.block_class(embed_dim, num_heads) for _ in range(num_layers))
        self.ln_f = self.norm_class(embed_dim)
        self.lm_head = Linear(embed_dim, vocab_size, bias=False)

    def embed(self, ids, start=0):
        return self.token_embedding(ids) + self.position_embedding.weight[start:start + ids.shape[1]]

    def forward(self, ids):
        t = ids.shape[1]
        allowed = torch.tril(torch.ones(t, t, dtype=torch.bool))
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, allowed)
        return self.lm_head(self.ln_f(x))

    @torch.no_grad()
    def generate_cached(self, ids, max_new_tokens):
        """Greedy decoding that keeps each layer's keys and values instead of recomputing them."""
        ids = list(ids)
        cache = [([], []) for _ in self.blocks]  # per layer: keys, values, each a list of (1, H, 1, hd)
        logits = None
        for pos in range(len(ids) + max_new_tokens - 1):
            x = self.embed(torch.tensor([[ids[pos]]]), start=self.position_for(pos))
            for block, (ks, vs) in zip(self.blocks, cache):
                a, h = block.attention, block.ln1(x)
                q, k, v = a.split(a.q_proj(h)), a.split(a.k_proj(h)), a.split(a.v_proj(h))
                ks.append(k), vs.append(v)
                w = a.weights(a.scores(q, torch.cat(ks, 2)))
                x = x + a.out_proj((w @ torch.cat(vs, 2)).transpose(1, 2).reshape(1, 1, -1))
                x = x + block.mlp(block.ln2(x))
            logits = self.lm_head(self.ln_f(x))
            if pos >= len(ids) - 1:
                ids.append(int(logits[0, -1].argmax()))
        return ids

    def position_for(self, pos):
        return pos


class Dropout(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return x * (torch.rand_like(x) >= self.p) / (1 - self.p)


class PyTorchAdapter(Adapter):
    name = "PyTorch (adapters/pytorch_adapter.py)"
    offers_cached_generation = True
    gpt_class, block_class, attention_class, mlp_class, norm_class = GPT, Block, Attention, MLP, LayerNorm
    embedding_class, dropout_class, linear_class = Embedding, Dropout, Linear

    def describe(self):
        return f"{self.name}, torch {torch.__version__}"

    def manual_seed(self, seed):
        np.random.seed(seed)
        torch.manual_seed(seed)

    def tensor(self, array, requires_grad=False):
        a = np.asarray(array)
        t = torch.tensor(a, dtype=torch.float32) if a.dtype.kind == "f" else torch.tensor(a)
        return t.requires_grad_(requires_grad)

    def array(self, tensor):
        return tensor.detach().numpy()

    def op(self, name, *ts, **kw):
        a = ts[0]
        table = {"add": lambda: a + ts[1], "sub": lambda: a - ts[1], "mul": lambda: a * ts[1], "div": lambda: a / ts[1],
                 "matmul": lambda: a @ ts[1], "neg": lambda: -a, "pow": lambda: a ** kw["exponent"],
                 "exp": a.exp, "log": a.log, "sqrt": a.sqrt, "tanh": a.tanh, "sigmoid": a.sigmoid, "relu": a.relu,
                 "gelu": lambda: gelu(a), "reshape": lambda: a.reshape(kw["shape"]),
                 "transpose": lambda: a.transpose(kw["dim0"], kw["dim1"]),
                 "getitem": lambda: a[torch.as_tensor(kw["index"])],
                 "softmax": lambda: torch.softmax(a, kw.get("axis", -1)),
                 "log_softmax": lambda: torch.log_softmax(a, kw.get("axis", -1))}
        if name in table:
            return table[name]()
        axis, keep = kw.get("axis"), kw.get("keepdims", False)
        if axis is None:
            return getattr(a, name)()
        out = getattr(a, name)(dim=axis, keepdim=keep)
        return out.values if name == "max" else out

    def backward(self, tensor, gradient=None):
        tensor.backward(None if gradient is None else torch.as_tensor(np.asarray(gradient), dtype=tensor.dtype))

    def grad(self, tensor):
        return None if tensor.grad is None else tensor.grad.numpy()

    def no_grad(self):
        return torch.no_grad()

    def linear(self, i, o, bias=True):
        return self.linear_class(i, o, bias)

    def layer_norm(self, dim):
        return self.norm_class(dim)

    def attention(self, embed_dim, num_heads):
        return self.attention_class(embed_dim, num_heads)

    def mlp(self, embed_dim, hidden_dim):
        return self.mlp_class(embed_dim, hidden_dim)

    def block(self, embed_dim, num_heads):
        return type("GradedBlock", (self.block_class,), {"attention_class": self.attention_class,
                                                          "mlp_class": self.mlp_class, "norm_class": self.norm_class})(
            embed_dim, num_heads)

    def embedding(self, vocab_size, embed_dim):
        return self.embedding_class(vocab_size, embed_dim)

    def dropout(self, p):
        return self.dropout_class(p)

    def gpt(self, vocab_size, embed_dim, num_layers, num_heads, max_seq_len):
        block = type("GradedBlock", (self.block_class,), {"attention_class": self.attention_class,
                                                           "mlp_class": self.mlp_class, "norm_class": self.norm_class})
        cls = type("GradedGPT", (self.gpt_class,), {"block_class": block, "norm_class": self.norm_class,
                                                     "embedding_class": self.embedding_class})
        return cls(vocab_size, embed_dim, num_layers, num_heads, max_seq_len)

    def call(self, module, x, mask=None):
        if isinstance(module, (GPT, Embedding)):
            return module(torch.as_tensor(np.asarray(x), dtype=torch.long))
        if isinstance(module, (Attention, Block)):
            return module(x, None if mask is None else torch.as_tensor(np.asarray(mask, dtype=bool)))
        return module(x)

    def parameters(self, module):
        return dict(module.named_parameters())

    def set_parameter(self, tensor, array):
        with torch.no_grad():
            tensor.copy_(torch.as_tensor(np.asarray(array), dtype=tensor.dtype))

    def train_mode(self, module, training):
        module.train(training)

    def cross_entropy(self, logits, targets):
        t = torch.as_tensor(np.asarray(targets), dtype=torch.long)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), t.reshape(-1))

    def adam(self, module, lr):
        return torch.optim.Adam(module.parameters(), lr=lr)

    def zero_grad(self, optimizer):
        optimizer.zero_grad()

    def step(self, optimizer):
        optimizer.step()

    def tokenizer(self, texts):
        return CharTokenizer(texts)

    def save(self, path, model, optimizer):
        save_state(path, model, optimizer)

    def load(self, path, model, optimizer):
        load_state(path, model, optimizer)

    def generate_cached(self, model, prompt_ids, max_new_tokens):
        return np.asarray(model.generate_cached([int(i) for i in prompt_ids], max_new_tokens))


def save_state(path, model, optimizer=None):
    """Weights and the optimizer's per-parameter state (Adam's moments and step) in one safetensors file,
    written atomically (no pickle: a checkpoint is data, never code)."""
    tensors = {f"model.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    if optimizer is not None:
        for i, state in optimizer.state_dict()["state"].items():
            tensors.update({f"optim.{i}.{key}": torch.as_tensor(value).contiguous() for key, value in state.items()})
    tmp = f"{path}.tmp"
    save_file(tensors, tmp)
    os.replace(tmp, path)


def load_state(path, model, optimizer=None):
    tensors = load_file(path)
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    if optimizer is not None:
        blob = optimizer.state_dict()  # the fresh optimizer's param groups, with the saved per-parameter state
        blob["state"] = {}
        for name, value in tensors.items():
            if name.startswith("optim."):
                _, index, key = name.split(".", 2)
                blob["state"].setdefault(int(index), {})[key] = value
        optimizer.load_state_dict(blob)


class CharTokenizer:
    """Characters to ids; id 0 is `<UNK>` (and the plan's padding)."""

    def __init__(self, texts):
        self.chars = ["<UNK>"] + sorted(set("".join(texts)))
        self.ids = {c: i for i, c in enumerate(self.chars)}

    @property
    def vocab_size(self):
        return len(self.chars)

    def encode(self, text):
        return [self.ids.get(c, 0) for c in text]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids if i != 0)


def adapter(impl_dir=None):
    return PyTorchAdapter()
