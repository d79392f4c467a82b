"""The built-in adapter for `--impl DIR`: a TinyTorch-layout package `tinytorch/` in DIR.

It uses only the public names of the API contract (`tinytorch.core.tensor.Tensor`,
`tinytorch.core.layers.Linear`, `tinytorch.core.attention.MultiHeadAttention`,
`tinytorch.models.transformer`, `tinytorch.text.embeddings`, `tinytorch.core.losses`,
`tinytorch.core.optimizers`, `tinytorch.text.tokenization`), so a student's repository and
tinytorch itself are driven the same way. Loaded by the grader's worker only.
"""

import importlib
import os

import numpy as np

from tinytorch_grader.protocol import Adapter

UNARY_MODULES = {"gelu": "GELU", "relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}

# The API contract's import paths. Each is imported when a check first needs it, so a missing module
# fails only the checks that use it (a half-finished repository still gets its finished parts graded).
CLASSES = {
    "Tensor": ("tinytorch.core.tensor", "Tensor"), "Linear": ("tinytorch.core.layers", "Linear"),
    "Dropout": ("tinytorch.core.layers", "Dropout"),
    "MultiHeadAttention": ("tinytorch.core.attention", "MultiHeadAttention"),
    "GPT": ("tinytorch.models.transformer", "GPT"), "LayerNorm": ("tinytorch.models.transformer", "LayerNorm"),
    "MLP": ("tinytorch.models.transformer", "MLP"),
    "TransformerBlock": ("tinytorch.models.transformer", "TransformerBlock"),
    "Embedding": ("tinytorch.text.embeddings", "Embedding"),
    "CrossEntropyLoss": ("tinytorch.core.losses", "CrossEntropyLoss"), "Adam": ("tinytorch.core.optimizers", "Adam"),
    "CharTokenizer": ("tinytorch.text.tokenization", "CharTokenizer"),
}


def _grab(module, name):
    """`module.name`, or an ImportError that names both."""
    try:
        return getattr(importlib.import_module(module), name)
    except AttributeError:
        raise ImportError(f"{module} has no {name}") from None
    except Exception as exc:  # a module that fails while importing
        raise ImportError(f"importing {module} failed: {type(exc).__name__}: {exc}") from exc


class TinyTorchLayout(Adapter):
    name = "TinyTorch-layout package"

    def __init__(self, impl_dir=None):
        import tinytorch

        self.package_file = os.path.abspath(tinytorch.__file__)
        if impl_dir and not self.package_file.startswith(os.path.abspath(impl_dir) + os.sep):
            raise ImportError(f"`import tinytorch` found {self.package_file}, not the package in {impl_dir}")
        self._enable_autograd()
        try:
            self._generate = _grab("tinytorch.generation", "generate")
            self.offers_cached_generation = True
        except (ImportError, AttributeError):
            self._generate = None
        self._training = {}

    @staticmethod
    def _enable_autograd():
        """TinyTorch attaches gradients to Tensor operations only once `enable_autograd()` has run."""
        try:
            enable = _grab("tinytorch.core.autograd", "enable_autograd")
        except ImportError:
            return
        try:
            enable(quiet=True)
        except TypeError:
            enable()

    def __getattr__(self, attr):  # called only for names not set yet: the contract's classes, on first use
        if attr not in CLASSES:
            raise AttributeError(attr)
        value = _grab(*CLASSES[attr])
        setattr(self, attr, value)
        return value

    def _is(self, obj, *names):
        """isinstance(obj, any of the contract's classes `names`), False for a class the package lacks."""
        for name in names:
            try:
                if isinstance(obj, getattr(self, name)):
                    return True
            except ImportError:
                continue
        return False

    def describe(self):
        return f"{self.name} at {os.path.dirname(os.path.dirname(self.package_file))}"

    def manual_seed(self, seed):
        np.random.seed(seed)
        try:
            importlib.import_module("tinytorch").manual_seed(seed)
        except (AttributeError, ImportError):
            pass

    # ----- tensors ----------------------------------------------------------------------------
    def tensor(self, array, requires_grad=False):
        return self.Tensor(np.asarray(array), requires_grad=requires_grad)

    def array(self, tensor):
        return np.asarray(tensor.data if hasattr(tensor, "data") else tensor)

    def op(self, name, *ts, **kw):
        a = ts[0]
        simple = {"add": lambda: a + ts[1], "sub": lambda: a - ts[1], "mul": lambda: a * ts[1],
                  "div": lambda: a / ts[1], "matmul": lambda: a.matmul(ts[1]) if hasattr(a, "matmul") else a @ ts[1],
                  "neg": lambda: -a,
                  "pow": lambda: a ** kw["exponent"], "getitem": lambda: a[kw["index"]],
                  "reshape": lambda: a.reshape(kw["shape"]),
                  "transpose": lambda: a.transpose(kw["dim0"], kw["dim1"])}
        if name in simple:
            return simple[name]()
        if name in ("sum", "mean", "max"):
            return getattr(a, name)(axis=kw.get("axis"), keepdims=kw.get("keepdims", False))
        if name in ("softmax", "log_softmax"):
            if hasattr(a, name):
                return getattr(a, name)(kw.get("axis", -1))
            return _grab("tinytorch.core.activations", "Softmax")()(a) if name == "softmax" else \
                _grab("tinytorch.core.losses", "log_softmax")(a, kw.get("axis", -1))
        if hasattr(a, name):
            return getattr(a, name)()
        if name not in UNARY_MODULES:
            raise NotImplementedError(f"Tensor has no {name}() method (the API contract lists it)")
        return _grab("tinytorch.core.activations", UNARY_MODULES[name])()(a)

    def backward(self, tensor, gradient=None):
        tensor.backward() if gradient is None else tensor.backward(np.asarray(gradient, dtype=np.float32))

    def grad(self, tensor):
        g = tensor.grad
        return None if g is None else np.asarray(getattr(g, "data", g))

    def no_grad(self):
        try:
            return _grab("tinytorch.core.autograd", "no_grad")()
        except (ImportError, AttributeError):
            return super().no_grad()

    # ----- components -------------------------------------------------------------------------
    def linear(self, i, o, bias=True):
        return self.Linear(i, o, bias=bias)

    def layer_norm(self, dim):
        return self.LayerNorm(dim)

    def attention(self, embed_dim, num_heads):
        return self.MultiHeadAttention(embed_dim, num_heads)

    def mlp(self, embed_dim, hidden_dim):
        return self.MLP(embed_dim, hidden_dim, dropout_prob=0.0)

    def block(self, embed_dim, num_heads):
        return self.TransformerBlock(embed_dim, num_heads, mlp_ratio=4, dropout_prob=0.0)

    def embedding(self, vocab_size, embed_dim):
        return self.Embedding(vocab_size, embed_dim)

    def dropout(self, p):
        return self.Dropout(p)

    def gpt(self, vocab_size, embed_dim, num_layers, num_heads, max_seq_len):
        return self.GPT(vocab_size, embed_dim, num_layers, num_heads, max_seq_len)

    def call(self, module, x, mask=None):
        if self._is(module, "GPT", "Embedding"):
            return module(self.Tensor(np.asarray(x)))
        if self._is(module, "MultiHeadAttention", "TransformerBlock"):
            m = None if mask is None else self.Tensor(np.asarray(mask, dtype=np.float32))  # 1 = may attend
            return module(x, m)
        if type(module).__name__ == "Dropout" and not hasattr(module, "train"):
            return module(x, training=self._training.get(id(module), True))
        return module(x)

    def parameters(self, module):
        if self._is(module, "GPT"):
            pos = module.position_embedding  # an Embedding, or a PositionalEncoding
            pos = pos.weight if getattr(pos, "weight", None) is not None else pos.position_embeddings
            named = {"token_embedding.weight": module.token_embedding.weight, "position_embedding.weight": pos}
            for i, b in enumerate(module.blocks):
                named.update({f"blocks.{i}.{k}": v for k, v in self.parameters(b).items()})
            named.update({f"ln_f.{k}": v for k, v in self.parameters(module.ln_f).items()})
            named["lm_head.weight"] = module.lm_head.weight
            return named
        parts = {"MultiHeadAttention": ("q_proj", "k_proj", "v_proj", "out_proj"), "MLP": ("linear1", "linear2"),
                 "TransformerBlock": ("ln1", "attention", "ln2", "mlp")}
        for cls, children in parts.items():
            if self._is(module, cls):
                return {f"{c}.{k}": v for c in children for k, v in self.parameters(getattr(module, c)).items()}
        if self._is(module, "LayerNorm"):
            return {"gamma": module.gamma, "beta": module.beta}
        named = {"weight": module.weight}
        if getattr(module, "bias", None) is not None:
            named["bias"] = module.bias
        return named

    def set_parameter(self, tensor, array):
        tensor.data[...] = array

    def train_mode(self, module, training):
        self._training[id(module)] = training
        if hasattr(module, "train") and hasattr(module, "eval"):
            module.train() if training else module.eval()
        elif hasattr(module, "training"):
            module.training = training

    # ----- loss, optimizer, data ----------------------------------------------------------------
    def cross_entropy(self, logits, targets):
        v = logits.shape[-1]
        flat = self.op("reshape", logits, shape=(-1, v)) if len(logits.shape) != 2 else logits
        return self.CrossEntropyLoss()(flat, self.Tensor(np.asarray(targets).reshape(-1)))

    def adam(self, module, lr):
        return self.Adam(module.parameters(), lr=lr)

    def zero_grad(self, optimizer):
        optimizer.zero_grad()

    def step(self, optimizer):
        optimizer.step()

    def tokenizer(self, texts):
        tok = self.CharTokenizer()
        tok.build_vocab(list(texts))
        return tok

    # ----- checkpoints and generation -------------------------------------------------------------
    def save(self, path, model, optimizer):
        _grab("tinytorch.core.training", "save_checkpoint")(path, model, optimizer)

    def load(self, path, model, optimizer):
        _grab("tinytorch.core.training", "load_checkpoint")(path, model, optimizer)

    def generate_cached(self, model, prompt_ids, max_new_tokens):
        return np.asarray(self._generate(model, np.asarray(prompt_ids), max_new_tokens, temperature=0.0,
                                         use_cache=True))


def adapter(impl_dir=None):
    return TinyTorchLayout(impl_dir)
