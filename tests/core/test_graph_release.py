"""Graphs die with their last use: backward frees what it no longer needs; a second backward needs retain_graph."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.core.anomaly import AnomalyError, detect_anomaly
from tinytorch.nn.layers import Linear
from tinytorch.nn.losses import CrossEntropyLoss, MSELoss
from tinytorch.nn.transformer import GPT


def leaf(shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), requires_grad=True)


def gpt_loss(x=None):
    tinytorch.manual_seed(0)
    model = GPT(11, embed_dim=16, num_layers=2, num_heads=2, max_seq_len=12)
    ids = np.random.default_rng(1).integers(0, 11, (2, 9))
    return model, CrossEntropyLoss()(model(ids[:, :-1]), ids[:, 1:])


GRAPHS = {  # name -> (leaf, loss built from it)
    "mul": lambda x: (x * x).sum(),
    "add only": lambda x: (x + 1.0).sum(),  # PyTorch saves nothing here and would allow a second pass
    "exp-log": lambda x: (x.exp() + 1.0).log().mean(),
    "linear+mse": lambda x: MSELoss()(Linear(3, 2)(x), np.zeros((4, 2), np.float32)),
    "linear+cross-entropy": lambda x: CrossEntropyLoss()(Linear(3, 5)(x), np.array([0, 1, 4, 2])),
    "softmax-getitem": lambda x: x.softmax(-1)[:, 1:].sum(),
    "matmul-transpose": lambda x: (x @ x.T).tanh().sum(),
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_second_backward_raises_naming_retain_graph(name):
    x = leaf((4, 3))
    loss = GRAPHS[name](x)
    loss.backward()
    first = x.grad.copy()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()
    np.testing.assert_array_equal(x.grad, first)  # the refused pass stored nothing


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_retain_graph_keeps_it_for_one_more_pass(name):
    x = leaf((4, 3))
    tinytorch.manual_seed(0)
    loss = GRAPHS[name](x)
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad, 3 * first, rtol=1e-6, atol=1e-7)
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_a_shared_intermediate_is_freed_by_the_first_backward():
    x = leaf((4, 3))
    hidden = (x * x).tanh()
    hidden.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (hidden * 2.0).sum().backward()


def test_second_backward_matches_torch_where_torch_raises():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    t = torch.tensor(data, requires_grad=True)
    t_loss = t.exp().sum()
    t_loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        t_loss.backward()
    x = Tensor(data, requires_grad=True)
    loss = x.exp().sum()
    loss.backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_retain_graph_must_be_a_bool():
    loss = (leaf(3) * 2.0).sum()
    with pytest.raises(TypeError, match="retain_graph"):
        loss.backward(retain_graph="yes")


def _graph_tensors(root) -> list:
    """Every non-leaf tensor the graph behind `root` reaches (before backward)."""
    found, stack, seen = [], [root], set()
    while stack:
        t = stack.pop()
        if id(t) in seen or t._ctx is None:
            continue
        seen.add(id(t))
        found.append(t)
        stack.extend(t._ctx.inputs)
    return found


def test_a_kept_loss_keeps_no_activation_alive():
    model, loss = gpt_loss()
    activations = [weakref.ref(t) for t in _graph_tensors(loss) if t is not loss]
    assert len(activations) > 10
    loss.backward()
    history = [loss]  # the habit: keep the loss tensor, not its float
    gc.collect()
    alive = [r() for r in activations if r() is not None]
    assert alive == [], f"{len(alive)} activations outlive backward, shapes {[a.shape for a in alive[:5]]}"
    assert history[0]._ctx.released and not hasattr(history[0]._ctx, "inputs")
    assert np.isfinite(history[0].item())


def test_kept_losses_do_not_grow_memory_per_step():
    model, _ = gpt_loss()
    ids = np.random.default_rng(1).integers(0, 11, (2, 9))
    loss_fn, history = CrossEntropyLoss(), []

    def step():
        model.zero_grad()
        loss = loss_fn(model(ids[:, :-1]), ids[:, 1:])
        loss.backward()
        history.append(loss)

    step()
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(10):
            step()
        gc.collect()
        per_step = (tracemalloc.get_traced_memory()[0] - before) / 10
    finally:
        tracemalloc.stop()
    activation_bytes = 2 * 8 * 16 * 4 * 10  # far less than one step's activations (one (2, 8, 16) float32 x 10)
    assert per_step < activation_bytes, f"{per_step:.0f} bytes kept per step"


def test_retain_graph_keeps_activations_until_the_loss_goes():
    _, loss = gpt_loss()
    activations = [weakref.ref(t) for t in _graph_tensors(loss) if t is not loss]
    loss.backward(retain_graph=True)
    gc.collect()
    assert all(r() is not None for r in activations)
    del loss
    gc.collect()
    assert all(r() is None for r in activations)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns on the infinities this test makes on purpose
def test_detect_anomaly_still_names_the_op_after_graphs_are_freed():
    x = leaf((3,))
    (x * 2.0).sum().backward()  # a freed graph before
    with detect_anomaly():
        y = Tensor(np.array([-1.0, 4.0, 9.0], np.float32), requires_grad=True)
        with pytest.raises(AnomalyError, match="Sqrt.backward"):
            (y * 0.0).sqrt().sum().backward()  # sqrt(0) has an infinite slope
        assert y.grad is None  # a failed backward stores no gradient
        with pytest.raises(AnomalyError, match="Log.forward"):
            (x * 0.0).log()
        model, loss = gpt_loss()
        loss.backward()  # a finite step passes the checks and frees its graph
        assert all(np.isfinite(p.grad).all() for p in model.parameters())
        with pytest.raises(RuntimeError, match="retain_graph"):
            loss.backward()
