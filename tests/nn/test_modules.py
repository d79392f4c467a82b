"""Modules: registration order, dotted names, containers, state_dict round trips, train/eval and Dropout."""

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.nn.activations import GELU, ReLU
from tinytorch.nn.layers import Dropout, Layer, Linear, Module, ModuleList, Parameter, Sequential


class Block(Module):
    def __init__(self):
        super().__init__()
        self.proj = Linear(4, 3)
        self.scale = Parameter(np.ones(3, dtype=np.float32))
        self.drop = Dropout(0.5)

    def forward(self, x):
        return self.drop(self.proj(x)) * self.scale


class Net(Module):
    def __init__(self):
        super().__init__()
        self.embed = Parameter(np.zeros((5, 4), dtype=np.float32))
        self.blocks = ModuleList([Block(), Block()])
        self.head = Sequential(Linear(3, 6), ReLU(), Linear(6, 2, bias=False))

    def forward(self, x):
        for block in self.blocks:
            x = block(x)[..., :3] @ np.ones((3, 4), dtype=np.float32)
        return self.head(x[..., :3])


# PyTorch's order: each module's own parameters as assigned, then each sub-module's, depth first
# (so Block's `scale` precedes `proj.*` although `proj` was assigned first).
NAMES = [
    "embed",
    "blocks.0.scale", "blocks.0.proj.weight", "blocks.0.proj.bias",
    "blocks.1.scale", "blocks.1.proj.weight", "blocks.1.proj.bias",
    "head.0.weight", "head.0.bias", "head.2.weight",
]


def test_named_parameters_in_registration_order_with_dotted_names():
    net = Net()
    assert [name for name, _ in net.named_parameters()] == NAMES
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]
    assert list(net.state_dict()) == NAMES
    assert net.head[2].weight.shape == (6, 2) and net.head[2].bias is None
    assert net.num_parameters() == 20 + 2 * (12 + 3 + 3) + (18 + 6) + 12


def test_reassigning_an_attribute_replaces_its_registration():
    layer = Linear(2, 3)
    layer.bias = None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    layer.bias = Parameter(np.zeros(3, dtype=np.float32))
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    del layer.bias
    assert [n for n, _ in layer.named_parameters()] == ["weight"]


def test_shared_parameter_is_listed_once():
    net = Sequential(Linear(3, 3), Linear(3, 3))
    net[1].weight = net[0].weight
    assert len(net.parameters()) == 3
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "1.bias"]


def test_containers_index_iterate_and_run():
    seq = Sequential(Linear(4, 8), GELU(), Linear(8, 2))
    assert len(seq) == 3 and isinstance(seq[1], GELU)
    x = Tensor(np.random.default_rng(0).standard_normal((5, 4)))
    expected = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).data, expected.data)
    assert Sequential([Linear(1, 1), Linear(1, 1)])[1].weight.shape == (1, 1)
    mlist = ModuleList()
    mlist.append(Linear(2, 2)).append(Linear(2, 2))
    assert len(mlist) == 2 and [type(m) for m in mlist] == [Linear, Linear]
    with pytest.raises(TypeError, match="ModuleList: expected a Module, got int"):
        mlist.append(3)
    assert Layer is Module


def test_module_needs_super_init():
    class Broken(Module):
        def __init__(self):
            self.w = Parameter(np.ones(2))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\)"):
        Broken()


def test_state_dict_round_trip():
    tinytorch.manual_seed(0)
    source = Net()
    tinytorch.manual_seed(1)
    target = Net()
    assert not np.array_equal(source.blocks[0].proj.weight.data, target.blocks[0].proj.weight.data)
    state = source.state_dict()
    target.load_state_dict(state)
    for (name, a), (_, b) in zip(source.named_parameters(), target.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    state["embed"][...] = 9.0  # the state dict holds copies
    assert not np.any(source.embed.data == 9.0)
    x = Tensor(np.random.default_rng(2).standard_normal((3, 4)))
    source.eval()
    target.eval()
    np.testing.assert_array_equal(source(x).data, target(x).data)


def test_load_state_dict_accepts_tensors_and_writes_in_place():
    layer = Linear(2, 3)
    weight_array = layer.weight.data
    layer.load_state_dict({"weight": Tensor(np.ones((2, 3))), "bias": np.zeros(3)})
    assert layer.weight.data is weight_array  # views held elsewhere (an optimizer) stay valid
    np.testing.assert_array_equal(layer.weight.data, np.ones((2, 3)))
    assert layer.weight.dtype == np.float32


def snapshot(module):
    return {name: p.data.copy() for name, p in module.named_parameters()}


def assert_untouched(module, before):
    for name, p in module.named_parameters():
        np.testing.assert_array_equal(p.data, before[name], err_msg=name)


@pytest.mark.parametrize("corrupt, match", [
    (lambda sd: sd.pop("blocks.1.scale"), r"missing keys \['blocks.1.scale'\]"),
    (lambda sd: sd.__setitem__("blocks.2.scale", np.ones(3)), r"unexpected keys \['blocks.2.scale'\]"),
    (lambda sd: sd.__setitem__("head.0.bias", np.ones(7)), r"'head.0.bias' has shape \(7,\), the model expects \(6,\)"),
    (lambda sd: sd.__setitem__("blocks.1.proj.weight", np.ones((3, 4))),
     r"'blocks.1.proj.weight' has shape \(3, 4\), the model expects \(4, 3\)"),
], ids=["missing", "unexpected", "misshaped_last", "misshaped_transposed"])
def test_load_state_dict_rejects_bad_keys_and_changes_nothing(corrupt, match):
    net = Net()
    before = snapshot(net)
    state = {name: np.full(value.shape, 5.0) for name, value in before.items()}  # all valid but the corruption
    corrupt(state)
    with pytest.raises(ValueError, match=match):
        net.load_state_dict(state)
    assert_untouched(net, before)


def test_load_state_dict_rejects_integer_arrays_and_changes_nothing():
    net = Net()
    before = snapshot(net)
    state = {name: np.full(value.shape, 5.0) for name, value in before.items()}
    state["head.2.weight"] = np.ones((6, 2), dtype=np.int64)
    with pytest.raises(TypeError, match="'head.2.weight' has dtype int64"):
        net.load_state_dict(state)
    assert_untouched(net, before)


def test_load_state_dict_non_strict_skips_missing_and_unexpected():
    layer = Linear(2, 3)
    before = snapshot(layer)
    layer.load_state_dict({"bias": np.ones(3), "extra": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(layer.weight.data, before["weight"])
    np.testing.assert_array_equal(layer.bias.data, np.ones(3))
    with pytest.raises(ValueError, match=r"'bias' has shape \(2,\)"):
        layer.load_state_dict({"bias": np.ones(2)}, strict=False)


def test_train_eval_reach_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_dropout_is_identity_in_eval_and_scales_in_train():
    drop = Dropout(0.25)
    x = Tensor(np.ones((50, 40)))
    drop.eval()
    assert drop(x) is x
    drop.train()
    tinytorch.manual_seed(0)
    y = drop(x).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    assert 0.70 < kept.mean() < 0.80  # 2000 draws: the kept fraction is 0.75 +- 0.01
    assert drop(x, training=False) is x
    drop.eval()
    assert np.any(drop(x, training=True).data == 0)
    assert Dropout(0.0)(x) is x
    for p in (-0.1, 1.0):
        with pytest.raises(ValueError, match=rf"p must be in \[0, 1\), got {p}"):
            Dropout(p)


def test_dropout_gradient_uses_the_same_mask():
    drop = Dropout(0.5)
    x = Tensor(np.ones((4, 6)), requires_grad=True)
    tinytorch.manual_seed(3)
    y = drop(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)  # survivors scaled by 2, gradient the same


def test_linear_is_x_at_w_plus_b_with_weight_in_out():
    layer = Linear(3, 2)
    assert layer.weight.shape == (3, 2) and layer.bias.shape == (2,)
    assert layer.weight.requires_grad and layer.weight.dtype == np.float32
    bound = 1 / np.sqrt(3)
    assert np.all(np.abs(layer.weight.data) <= bound)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data + layer.bias.data, rtol=1e-6)
    assert layer(Tensor(x)).shape == (4, 2)


def test_module_zero_grad_clears_all():
    net = Net()
    net.eval()
    net(Tensor(np.ones((2, 4)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters() if p is not net.embed)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
