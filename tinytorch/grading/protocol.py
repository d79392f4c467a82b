"""The adapter protocol: the few calls through which the grader drives any implementation.

Subclass `Adapter` and fill in the methods that raise NotImplementedError; the others have
defaults written with the required ones. Arrays cross the boundary as numpy arrays. Parameters are
named canonically (see `parameters`), Linear weights as (in, out). An adapter file given to
`tinytorch verify --impl FILE.py` defines `adapter()` returning an instance (or a module-level
`ADAPTER`). See docs/GRADING.md for the whole contract and adapters/ for two complete examples.
"""

from __future__ import annotations

import contextlib

import numpy as np

# op name -> arity, for `Adapter.op`; keyword arguments in brackets.
OPS = {
    "add": 2, "sub": 2, "mul": 2, "div": 2, "matmul": 2, "neg": 1, "pow": 1,  # pow[exponent]
    "exp": 1, "log": 1, "sqrt": 1, "tanh": 1, "sigmoid": 1, "relu": 1, "gelu": 1,
    "sum": 1, "mean": 1, "max": 1,  # [axis, keepdims]
    "reshape": 1, "transpose": 1,  # reshape[shape]; transpose[dim0, dim1]
    "getitem": 1,  # [index]: an integer array indexing the first axis (ids may repeat)
    "softmax": 1, "log_softmax": 1,  # [axis]
}


class Adapter:
    """What the grader needs from an implementation; one instance per worker process."""

    name = "implementation"
    offers_cached_generation = False

    def describe(self) -> str:
        """One line naming what is graded (shown in the report)."""
        return self.name

    def manual_seed(self, seed: int) -> None:
        """Seed the implementation's random generators (called before every check)."""
        np.random.seed(seed)

    # ----- tensors and autograd ---------------------------------------------------------------
    def tensor(self, array: np.ndarray, requires_grad: bool = False):
        """A tensor holding `array` (float arrays come as float64; store them as you like)."""
        raise NotImplementedError

    def array(self, tensor) -> np.ndarray:
        raise NotImplementedError

    def op(self, name: str, *tensors, **kwargs):
        """Run op `name` of `OPS` on tensors, returning a tensor that carries the gradient."""
        raise NotImplementedError

    def backward(self, tensor, gradient: np.ndarray | None = None) -> None:
        raise NotImplementedError

    def grad(self, tensor) -> np.ndarray | None:
        raise NotImplementedError

    def no_grad(self):
        """A context manager in which no graph is built (default: nothing special)."""
        return contextlib.nullcontext()

    # ----- components: each returns a module object ----------------------------------------------
    def linear(self, in_features: int, out_features: int, bias: bool = True):
        raise NotImplementedError

    def layer_norm(self, dim: int):
        raise NotImplementedError

    def attention(self, embed_dim: int, num_heads: int):
        raise NotImplementedError

    def mlp(self, embed_dim: int, hidden_dim: int):
        raise NotImplementedError

    def block(self, embed_dim: int, num_heads: int):
        raise NotImplementedError

    def embedding(self, vocab_size: int, embed_dim: int):
        raise NotImplementedError

    def dropout(self, p: float):
        raise NotImplementedError

    def gpt(self, vocab_size: int, embed_dim: int, num_layers: int, num_heads: int, max_seq_len: int):
        raise NotImplementedError

    def call(self, module, x, mask: np.ndarray | None = None):
        """module(x): x a tensor, or an integer id array for embeddings and GPTs. `mask` (T, T) bool,
        True = may attend, is given to attention modules and blocks; translate it to your convention."""
        raise NotImplementedError

    def parameters(self, module) -> dict:
        """{canonical name: parameter tensor}: `weight`, `bias` (Linear, weight (in, out)); `gamma`,
        `beta` (LayerNorm); `q_proj.`, `k_proj.`, `v_proj.`, `out_proj.` (attention); `linear1.`,
        `linear2.` (MLP); `ln1.`, `attention.`, `ln2.`, `mlp.` (block); `token_embedding.weight`,
        `position_embedding.weight`, `blocks.{i}.`, `ln_f.`, `lm_head.weight` (GPT)."""
        raise NotImplementedError

    def set_parameter(self, tensor, array: np.ndarray) -> None:
        """Overwrite a parameter's values in place (optimizers built later must see the change)."""
        raise NotImplementedError

    def train_mode(self, module, training: bool) -> None:
        raise NotImplementedError

    # ----- loss, optimizer, data ----------------------------------------------------------------
    def cross_entropy(self, logits, targets: np.ndarray):
        """Mean cross-entropy of logits (..., V) against integer targets (...): a scalar tensor."""
        raise NotImplementedError

    def adam(self, module, lr: float):
        raise NotImplementedError

    def zero_grad(self, optimizer) -> None:
        raise NotImplementedError

    def step(self, optimizer) -> None:
        raise NotImplementedError

    def tokenizer(self, texts: list):
        """A character tokenizer built on `texts`, with `encode(str)`, `decode(ids)`, `vocab_size`;
        id 0 is reserved (the plan pads with it)."""
        raise NotImplementedError

    def lm_targets(self, tokens: np.ndarray):
        """(inputs, targets) of a language-model batch (B, T+1): the targets are the inputs shifted by one."""
        return tokens[:, :-1], tokens[:, 1:]

    # ----- checkpoints and generation -------------------------------------------------------------
    def save(self, path: str, model, optimizer) -> None:
        raise NotImplementedError

    def load(self, path: str, model, optimizer) -> None:
        """Restore model weights and optimizer state (moments, step count) saved by `save`."""
        raise NotImplementedError

    def generate(self, model, prompt_ids: np.ndarray, max_new_tokens: int) -> np.ndarray:
        """Greedy continuation of (T,) ids, recomputing the whole context each step."""
        ids = list(int(i) for i in prompt_ids)
        with self.no_grad():
            for _ in range(max_new_tokens):
                logits = self.array(self.call(model, np.asarray([ids], dtype=np.int64)))
                ids.append(int(np.argmax(logits[0, -1])))
        return np.asarray(ids, dtype=np.int64)

    def generate_cached(self, model, prompt_ids: np.ndarray, max_new_tokens: int) -> np.ndarray:
        """Greedy continuation with a key/value cache; set `offers_cached_generation = True` when offered."""
        raise NotImplementedError

    # ----- conveniences built on the above --------------------------------------------------------
    def get_params(self, module) -> dict:
        return {name: np.asarray(self.array(t), dtype=np.float64) for name, t in self.parameters(module).items()}

    def set_params(self, module, arrays: dict) -> None:
        params = self.parameters(module)
        for name, value in arrays.items():
            self.set_parameter(params[name], np.asarray(value))
