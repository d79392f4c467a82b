"""Parameter groups: weight decay per group (nanoGPT decays matrices only), checked against PyTorch."""

import numpy as np
import pytest

from tinytorch.optim.optimizers import SGD, Adam, AdamW
from tinytorch.core.tensor import Tensor


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True) for shape in ((4, 3), (3,), (3, 2))]


def _grads(params, step):
    rng = np.random.default_rng(100 + step)
    for p in params:
        p.grad = rng.standard_normal(p.shape).astype(np.float32)


def _run(make, steps=5, seed=0):
    params = _params(seed)
    opt = make(params)
    for step in range(steps):
        _grads(params, step)
        opt.step()
    return [p.data.copy() for p in params]


@pytest.mark.parametrize("cls, kwargs", [(AdamW, {"lr": 0.01, "betas": (0.9, 0.99)}), (Adam, {"lr": 0.01}),
                                         (SGD, {"lr": 0.1, "momentum": 0.9})])
def test_groups_match_pytorch(cls, kwargs):
    torch = pytest.importorskip("torch")
    ours = _run(lambda ps: cls([{"params": [ps[0], ps[2]], "weight_decay": 0.1},
                                {"params": [ps[1]], "weight_decay": 0.0}], **kwargs))
    tparams = [torch.nn.Parameter(torch.tensor(p.data)) for p in _params()]
    topt = getattr(torch.optim, cls.__name__)([{"params": [tparams[0], tparams[2]], "weight_decay": 0.1},
                                                {"params": [tparams[1]], "weight_decay": 0.0}], **kwargs)
    for step in range(5):
        rng = np.random.default_rng(100 + step)
        for p in tparams:
            p.grad = torch.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32))
        topt.step()
    # ours holds the parameters in group order: [0, 2, 1]
    for mine, theirs in zip(ours, [tparams[i] for i in (0, 1, 2)]):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_a_group_without_decay_keeps_its_weights_from_shrinking():
    """With zero gradients, AdamW only decays: the decayed group shrinks, the other stays put."""
    params = _params()
    before = [p.data.copy() for p in params]
    opt = AdamW([{"params": [params[0]], "weight_decay": 0.5}, {"params": params[1:], "weight_decay": 0.0}], lr=0.1)
    for p in params:
        p.grad = np.zeros(p.shape, np.float32)
    opt.step()
    np.testing.assert_allclose(params[0].data, before[0] * (1 - 0.1 * 0.5), rtol=1e-6)
    np.testing.assert_array_equal(params[1].data, before[1])
    np.testing.assert_array_equal(params[2].data, before[2])


def test_groups_without_weight_decay_take_the_default():
    grouped = _run(lambda ps: AdamW([{"params": ps[:2]}, {"params": ps[2:]}], lr=0.01, weight_decay=0.2))
    plain = _run(lambda ps: AdamW(ps, lr=0.01, weight_decay=0.2))
    for a, b in zip(grouped, plain):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("groups, error, match", [
    (lambda ps: [{"params": ps, "lr": 0.1}], ValueError, r"group 0 sets \['lr'\]; only 'weight_decay'"),
    (lambda ps: [{"params": ps}, {"params": ps[:1]}], ValueError, "more than one group"),
    (lambda ps: [{"params": ps, "weight_decay": -1.0}], ValueError, "group 0 weight_decay"),
    (lambda ps: [{"weights": ps}], TypeError, "group 0 must be a dict with a 'params' list"),
])
def test_bad_groups_are_clear_errors(groups, error, match):
    with pytest.raises(error, match=match):
        AdamW(groups(_params()), lr=0.01)
