"""Small MLPs and data for the training, schedule and checkpoint tests."""

import numpy as np

from tinytorch.nn.activations import ReLU
from tinytorch.nn.layers import Dropout, Linear, Module, Sequential
from tinytorch.core.random import get_rng
from tinytorch.core.tensor import Tensor


class MLP(Module):
    """in -> hidden -> ReLU -> (Dropout) -> out."""

    def __init__(self, n_in=3, hidden=8, n_out=1, dropout=0.0):
        super().__init__()
        self.net = Sequential(Linear(n_in, hidden), ReLU(), Dropout(dropout), Linear(hidden, n_out))

    def forward(self, x):
        return self.net(x)


def regression_data(n=64, n_in=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_in)).astype(np.float32)
    w = np.array([[1.5], [-2.0], [0.5]], dtype=np.float32)[:n_in]
    y = (np.sin(x) @ w + 0.3).astype(np.float32)
    return x, y


class Batches:
    """Fixed batches, in order, every pass."""

    def __init__(self, x, y, batch_size):
        self.items = [(Tensor(x[i:i + batch_size]), Tensor(y[i:i + batch_size])) for i in range(0, len(x), batch_size)]

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


class RandomBatches:
    """Endless batches drawn with tinytorch's RNG, so resuming depends on the restored RNG state."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size

    def __iter__(self):
        while True:
            idx = get_rng().integers(0, len(self.x), self.batch_size)
            yield Tensor(self.x[idx]), Tensor(self.y[idx])


def params_snapshot(model):
    return {name: p.data.copy() for name, p in model.named_parameters()}


def optimizer_snapshot(optimizer):
    state = optimizer.state_dict()
    return state["step"], {k: [a.copy() for a in v] for k, v in state["state"].items()}


def assert_same_params(model, snapshot):
    now = params_snapshot(model)
    assert now.keys() == snapshot.keys()
    for name in now:
        assert np.array_equal(now[name], snapshot[name]), f"parameter {name} changed"


def assert_same_optimizer(optimizer, snapshot):
    step, state = optimizer_snapshot(optimizer)
    assert step == snapshot[0]
    assert state.keys() == snapshot[1].keys()
    for key in state:
        for a, b in zip(state[key], snapshot[1][key]):
            assert np.array_equal(a, b), f"optimizer state {key} changed"

