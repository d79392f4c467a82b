"""CosineSchedule: warmup endpoints, cosine midpoint and end, the TinyTorch form, and state round trips."""

import math

import pytest

from tinytorch.optim.schedule import CosineSchedule
from tinytorch.training.trainer import CosineSchedule as ReExported


def test_reexported_from_training():
    assert ReExported is CosineSchedule


def test_warmup_endpoints_and_linear_ramp():
    s = CosineSchedule(max_lr=1e-3, min_lr=1e-5, total_steps=110, warmup_steps=10)
    assert s(0) == pytest.approx(1e-4)  # max_lr / warmup_steps: never a zero learning rate
    assert s(4) == pytest.approx(5e-4)
    assert s(9) == pytest.approx(1e-3)  # warmup ends at max_lr
    assert s(10) == pytest.approx(1e-3)  # cosine phase starts at max_lr
    ramp = [s(i) for i in range(10)]
    assert all(b > a for a, b in zip(ramp, ramp[1:]))


def test_cosine_midpoint_end_and_after():
    s = CosineSchedule(max_lr=0.4, min_lr=0.1, total_steps=110, warmup_steps=10)
    assert s(60) == pytest.approx((0.4 + 0.1) / 2)  # halfway through the decay
    assert s(35) == pytest.approx(0.1 + 0.3 * (1 + math.cos(math.pi / 4)) / 2)
    assert s(110) == pytest.approx(0.1)
    assert s(109) > 0.1
    assert s(10_000) == 0.1
    decay = [s(i) for i in range(10, 111)]
    assert all(b < a for a, b in zip(decay, decay[1:]))


def test_no_warmup_and_default_min_lr():
    s = CosineSchedule(0.01, total_steps=100)
    assert s.min_lr == 0.0
    assert s(0) == pytest.approx(0.01)
    assert s(50) == pytest.approx(0.005)
    assert s(100) == 0.0


def test_tinytorch_signature():
    s = CosineSchedule(max_lr=0.1, min_lr=0.01, total_epochs=100)
    assert s.unit == "epoch" and s.total_epochs == 100
    assert s.get_lr(0) == pytest.approx(0.1)
    assert s.get_lr(50) == pytest.approx(0.055)
    assert s.get_lr(100) == pytest.approx(0.01)
    assert s.get_lr(25) > s.get_lr(50)
    d = CosineSchedule()  # TinyTorch's defaults
    assert (d.max_lr, d.min_lr, d.total_epochs) == (0.1, 0.01, 100)
    assert CosineSchedule(0.1, 0.01, 100).unit == "step"


def test_state_dict_round_trip():
    a = CosineSchedule(max_lr=0.3, min_lr=0.01, total_steps=50, warmup_steps=5)
    b = CosineSchedule(max_lr=1.0, total_steps=7)
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    assert [b(i) for i in range(60)] == [a(i) for i in range(60)]


@pytest.mark.parametrize("kwargs, message", [
    (dict(max_lr=0.1, min_lr=0.2, total_steps=10), "min_lr"),
    (dict(max_lr=0.1, total_steps=0), "total_steps"),
    (dict(max_lr=0.1, total_steps=10, warmup_steps=11), "warmup_steps=11"),
    (dict(max_lr=float("nan"), total_steps=10), "max_lr"),
    (dict(max_lr=0.1, total_steps=10, total_epochs=10), "not both"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CosineSchedule(**kwargs)


def test_bad_state_leaves_schedule_unchanged():
    s = CosineSchedule(max_lr=0.3, total_steps=50)
    before = s.state_dict()
    with pytest.raises(ValueError, match="min_lr"):
        s.load_state_dict(dict(before, min_lr=0.5))
    with pytest.raises(ValueError, match="state keys"):
        s.load_state_dict({"max_lr": 0.1})
    assert s.state_dict() == before


def test_negative_step_is_an_error():
    with pytest.raises(ValueError, match="-1"):
        CosineSchedule(0.1, total_steps=10)(-1)
