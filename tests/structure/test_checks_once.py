"""Arguments are checked once, at the public edge: internals trust their callers.

Every check helper of `tinytorch.core.checks` (and `as_tensor`) is counted while one public call runs
(a GPT's forward and backward with an attention mask, an optimizer step, loading a checkpoint). Within
one call, no helper may see the same argument twice: a second check would mean an inner layer
re-validates what its caller already validated. `as_tensor` of something that is already a Tensor
converts and checks nothing, so it is not counted.
"""

import sys
from collections import Counter

import numpy as np
import pytest

import tinytorch
from tinytorch.core import checks, validation
from tinytorch.core import functions as F
from tinytorch.nn.attention import MultiHeadAttention, scaled_dot_product_attention

HELPERS = {name: getattr(checks, name) for name in vars(checks)
           if name.startswith(("check_", "as_")) and callable(getattr(checks, name))}
HELPERS["as_tensor"] = validation.as_tensor
SCALARS = (bool, int, float, str, type(None), np.generic)


@pytest.fixture
def checked(monkeypatch):
    """A list that receives (helper, argument key, caller) for every check made while the test runs."""
    seen = []

    def counting(name, helper):
        def check(*args, **kwargs):
            value = args[0] if args else next(iter(kwargs.values()), None)
            if not (name == "as_tensor" and isinstance(value, tinytorch.Tensor)):
                label = args[1] if len(args) > 1 and isinstance(args[1], str) else kwargs.get("name", "")
                # Scalars are compared by value and the name they were checked under; anything else by identity.
                key = (type(value).__name__, value, label) if isinstance(value, SCALARS) else id(value)
                caller = sys._getframe(1).f_code
                seen.append((name, key, f"{caller.co_filename.rsplit('tinytorch', 1)[-1]}:{caller.co_name}"))
            return helper(*args, **kwargs)
        return check

    wrapped = {name: counting(name, helper) for name, helper in HELPERS.items()}
    for module_name, module in list(sys.modules.items()):
        if module_name == "tinytorch" or module_name.startswith("tinytorch."):
            for attr, value in list(vars(module).items()):
                for name, helper in HELPERS.items():
                    if value is helper:
                        monkeypatch.setattr(module, attr, wrapped[name])
    return seen


def checked_twice(seen: list) -> list:
    counts = Counter((name, key) for name, key, _ in seen)
    return [(name, [where for n, k, where in seen if (n, k) == (name, key)])
            for (name, key), count in counts.items() if count > 1]


def small_gpt():
    tinytorch.manual_seed(0)
    return tinytorch.GPT(tinytorch.GPTConfig(vocab_size=11, n_embd=8, n_layer=1, n_head=2, block_size=8))


def test_a_gpt_step_checks_each_argument_once(checked):
    model = small_gpt()
    optimizer = tinytorch.AdamW(model.parameters(), lr=1e-3)
    loss_fn = tinytorch.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    ids, targets = rng.integers(0, 11, (2, 8)), rng.integers(0, 11, (2, 8))
    checked.clear()
    loss = loss_fn(model(ids), targets)
    loss.backward()
    optimizer.step()
    assert checked, "the counter saw no check: the helpers were not wrapped"
    assert not checked_twice(checked), checked_twice(checked)


@pytest.mark.parametrize("mask_shape", [(5, 5), (2, 5, 5), (2, 2, 5, 5)])
def test_attention_checks_its_mask_once(checked, mask_shape):
    tinytorch.manual_seed(0)
    attention = MultiHeadAttention(8, 2)
    x = tinytorch.randn(2, 5, 8)
    mask = np.tril(np.ones(mask_shape[-2:], dtype=bool)) * np.ones(mask_shape, dtype=bool)
    for call in (lambda: attention(x, mask=mask).sum().backward(), lambda: attention.attention_weights(x, mask=mask)):
        checked.clear()
        call()
        assert [c[0] for c in checked].count("check_mask") == 1, checked
        assert not checked_twice(checked), checked_twice(checked)


def test_scaled_dot_product_attention_and_linear_check_once(checked):
    q = tinytorch.randn(2, 4, 3, requires_grad=True)
    weight = tinytorch.randn(3, 5, requires_grad=True)
    mask = np.tril(np.ones((4, 4), dtype=bool))
    checked.clear()
    out, _ = scaled_dot_product_attention(q, q, q, mask=mask)
    assert [c[0] for c in checked].count("check_mask") == 1, checked
    layer = tinytorch.Linear(3, 5)
    for call in (lambda: F.linear(out, weight).sum().backward(), lambda: layer(q)):
        checked.clear()
        call()
        assert not checked_twice(checked), checked_twice(checked)


def test_loading_a_checkpoint_checks_each_part_once(checked, tmp_path):
    model = small_gpt()
    optimizer = tinytorch.AdamW(model.parameters(), lr=1e-3)
    schedule = tinytorch.CosineSchedule(max_lr=1e-3, min_lr=1e-4, total_steps=10, warmup_steps=2)
    trainer = tinytorch.Trainer(model, optimizer, tinytorch.CrossEntropyLoss(), schedule=schedule)
    ids = np.random.default_rng(0).integers(0, 11, (2, 9))
    trainer.train_step(ids[:, :-1], ids[:, 1:])
    path = trainer.save_checkpoint(tmp_path / "run.safetensors")
    calls = []
    for target in (optimizer, schedule, trainer, model):  # the validating step of each loader, counted
        for method in ("check_state_dict", "_check_state"):
            if hasattr(type(target), method):
                original = getattr(target, method)
                setattr(target, method, lambda *a, _m=method, _o=original, **k: calls.append(_m) or _o(*a, **k))
    checked.clear()
    trainer.load_checkpoint(path)
    assert Counter(calls) == {"check_state_dict": 2, "_check_state": 1}, calls  # optimizer and schedule, trainer
    assert not checked_twice(checked), checked_twice(checked)
