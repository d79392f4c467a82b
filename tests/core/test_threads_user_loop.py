"""numpy's BLAS threads in a loop of the user's own (no Trainer): tinytorch chooses them for the outermost
module call, the backward and the optimizer step, restores the user's setting between them, and the
user's own choice (set_num_threads, the environment, threadpoolctl) wins."""

from __future__ import annotations

import numpy as np
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

import tinytorch  # noqa: E402
from tinytorch import AdamW, Linear, Module, Tensor  # noqa: E402
from tinytorch.runtime import threads  # noqa: E402
from tinytorch.core.autograd import Function  # noqa: E402


def blas_now() -> int:
    return [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"][0]["num_threads"]


class Probe(Function):
    """Identity whose forward and backward record the BLAS thread count they run under."""

    seen: dict = {}

    def forward(self, x):
        Probe.seen.setdefault("forward", []).append(blas_now())
        return x

    def backward(self, grad):
        Probe.seen.setdefault("backward", []).append(blas_now())
        return grad


class ProbedNet(Module):
    """Two Linear layers (a module calling modules) with a probe between them."""

    def __init__(self, width: int):
        super().__init__()
        self.first, self.second = Linear(width, width), Linear(width, width)

    def forward(self, x):
        return self.second(Probe.apply(self.first(x)))


class ProbedAdamW(AdamW):
    def _update(self, *args):
        Probe.seen.setdefault("step", []).append(blas_now())
        return super()._update(*args)


class FixedMonitor:
    """A machine where `free` cores are left free by other processes."""

    def __init__(self, free: int):
        self.free = free

    def free_cores(self) -> int:
        return self.free


@pytest.fixture
def machine(monkeypatch):
    """tinytorch's own choice (no user setting) on a machine whose free cores the test sets."""
    policy = threads.policy()
    saved = policy.requested, policy.env
    threads.set_num_threads(None)
    policy.env = None
    Probe.seen = {}

    def with_free_cores(free: int):
        monkeypatch.setattr(policy, "monitor", FixedMonitor(free))
        return policy

    yield with_free_cores
    policy.env = saved[1]
    threads.set_num_threads(saved[0])


def user_loop(width: int = 8, rows: int = 4, steps: int = 2, between=None):
    """A plain training loop: forward, a loss, zero_grad, backward, step; `between()` runs user code mid-step."""
    tinytorch.manual_seed(0)
    model = ProbedNet(width)
    optimizer = ProbedAdamW(model.parameters(), lr=1e-3)
    x = Tensor(np.random.default_rng(0).standard_normal((rows, width)).astype(np.float32))
    for _ in range(steps):
        loss = (model(x) ** 2).mean()
        if between is not None:
            between()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_small_work_in_a_users_loop_runs_on_one_thread_on_a_busy_machine_and_numpy_keeps_the_users_count(machine):
    machine(free=1)
    initial = threads.policy().blas.initial
    outside = []
    user_loop(between=lambda: outside.append(blas_now()))
    assert Probe.seen == {"forward": [1, 1], "backward": [1, 1], "step": [1, 1]}
    assert outside == [initial, initial] and blas_now() == initial  # the user's numpy between and after


@pytest.mark.parametrize("free, expected", [(2, 2), (1, 1), (0, 1)])
def test_large_work_in_a_users_loop_uses_the_cores_other_processes_leave_free(machine, monkeypatch, free, expected):
    machine(free=free)
    # A forward of 2 x 2 x 64 x 64 weights x 512 rows = 8.4 MFLOP counts as large work here.
    monkeypatch.setattr(threads, "PARALLEL_FLOPS", 1e6)
    monkeypatch.setattr(threads, "STEP_FLOPS_PER_PARAMETER", 1e-3)  # the step stays small work
    user_loop(width=64, rows=512)
    assert Probe.seen == {"forward": [expected] * 2, "backward": [expected] * 2, "step": [1, 1]}


def test_the_forward_and_backward_are_sized_by_the_rows_the_weights_apply_to(machine):
    machine(free=2)
    model = ProbedNet(16)
    params = sum(p.data.size for p in model.parameters())
    features = np.zeros((3, 5, 16), np.float32)  # 15 rows of 16 features
    assert threads._rows(features) == 15 and threads._rows(np.zeros((3, 5), np.int64)) == 15  # ids: every one
    with threads.forward_threads(model, Tensor(features)) as scope:
        assert scope.flops == 2 * params * 15
    assert threads.backward_threads().flops == 4 * params * 15


def test_a_module_called_inside_a_chosen_scope_changes_nothing(machine, monkeypatch):
    machine(free=2)
    monkeypatch.setattr(threads, "PARALLEL_FLOPS", 1e6)
    with threads.blas_threads(1e9):  # the outer scope (a Trainer step, say) chose two threads
        user_loop(steps=1)  # tiny work: alone it would run on one
        assert blas_now() == 2
    assert Probe.seen == {"forward": [2], "backward": [2], "step": [2]}
    assert not threads.in_tinytorch_work()


@pytest.mark.parametrize("how", ["set_num_threads", "environment", "threadpoolctl"])
def test_the_users_choice_wins_in_their_own_loop(machine, how):
    machine(free=1)
    chosen = threads.policy().blas.initial + 2
    if how == "set_num_threads":
        threads.set_num_threads(chosen)
        user_loop()
    elif how == "environment":  # as OPENBLAS_NUM_THREADS=chosen read at import, then the library set to it
        threads.policy().env = chosen
        with threadpoolctl.threadpool_limits(limits=chosen, user_api="blas"):
            user_loop()
    else:
        with threadpoolctl.threadpool_limits(limits=chosen, user_api="blas"):
            user_loop()
    assert Probe.seen == {"forward": [chosen] * 2, "backward": [chosen] * 2, "step": [chosen] * 2}


def test_an_error_in_the_forward_puts_the_users_count_back(machine):
    machine(free=1)
    initial = threads.policy().blas.initial

    class Broken(Module):
        def forward(self, x):
            raise RuntimeError("broken forward")

    with pytest.raises(RuntimeError, match="broken forward"):
        Broken()(np.zeros((2, 2), np.float32))
    assert blas_now() == initial and not threads.in_tinytorch_work()
