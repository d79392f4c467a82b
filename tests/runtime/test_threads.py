"""numpy's BLAS threads: tinytorch chooses them per step, the user's choice wins, and the user's setting is restored."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

import tinytorch  # noqa: E402
from tinytorch import GPT, Adam, CrossEntropyLoss, Trainer  # noqa: E402
from tinytorch.core import threads  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def blas_threads_now() -> int:
    return [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"][0]["num_threads"]


class ProbedLoss(CrossEntropyLoss):
    """Cross-entropy that records, at each call, how many threads BLAS is set to (as threadpoolctl reads it)."""

    def __init__(self):
        super().__init__()
        self.seen: list[int] = []

    def __call__(self, *args):
        self.seen.append(blas_threads_now())
        return super().__call__(*args)


def small_trainer():
    tinytorch.manual_seed(0)
    model = GPT(11, 16, 1, 2, 8)
    loss = ProbedLoss()
    ids = np.random.default_rng(0).integers(0, 11, (2, 9))
    return Trainer(model, Adam(model.parameters(), lr=1e-2), loss), loss, ids[:, :-1], ids[:, 1:]


@pytest.fixture
def default_choice():
    """tinytorch's own choice for the test, whatever an earlier test or the environment asked for."""
    policy = threads.policy()
    saved = policy.requested, policy.env
    threads.set_num_threads(None)
    policy.env = None
    yield policy
    policy.env = saved[1]
    threads.set_num_threads(saved[0])


def test_set_num_threads_sets_blas_for_the_process_and_none_hands_it_back(default_choice):
    initial = default_choice.blas.initial
    threads.set_num_threads(3)
    assert blas_threads_now() == 3 and tinytorch.get_num_threads() == 3
    trainer, loss, x, y = small_trainer()
    trainer.train_step(x, y)
    assert loss.seen == [3] and blas_threads_now() == 3  # the user's count, kept after the step
    threads.set_num_threads(None)
    assert blas_threads_now() == initial


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError),
                                        ("2", TypeError)])
def test_set_num_threads_rejects_bad_counts_and_changes_nothing(default_choice, bad, error):
    threads.set_num_threads(2)
    with pytest.raises(error, match=rf"set_num_threads: threads must be .*{bad!r}"):
        threads.set_num_threads(bad)
    assert blas_threads_now() == 2 and tinytorch.get_num_threads() == 2


def test_a_limit_set_with_threadpoolctl_is_left_alone(default_choice):
    trainer, loss, x, y = small_trainer()
    with threadpoolctl.threadpool_limits(limits=default_choice.blas.initial + 1, user_api="blas"):
        trainer.train_step(x, y)
    assert loss.seen == [default_choice.blas.initial + 1]


class FixedMonitor:
    def __init__(self, free: int):
        self.free = free

    def free_cores(self) -> int:
        return self.free


@pytest.mark.parametrize("flops, free, expected", [
    (1.2e8, 8, 1),  # a tiny step: one thread even on an idle 8-core machine
    (0.49e9, 2, 1),  # just below PARALLEL_FLOPS
    (0.7e9, 8, 2),  # a small step: two threads where cores are free
    (0.7e9, 1, 1),  # ... one where another process holds the other core
    (1e10, 8, 5),  # a medium step on a big idle machine: one thread per FLOPS_PER_THREAD
    (1e10, 2, 2),  # ... but no more than the free cores
    (1e12, 0, 1),  # every core busy (or not measured yet): one
])
def test_the_policy_uses_more_threads_only_for_large_work_on_free_cores(default_choice, monkeypatch, flops, free,
                                                                        expected):
    monkeypatch.setattr(default_choice, "monitor", FixedMonitor(free))
    assert default_choice.for_work(flops) == expected


def test_the_step_size_estimate_counts_parameters_and_tokens():
    model = GPT(11, 16, 1, 2, 8)
    count = sum(p.data.size for p in model.parameters())
    assert threads.model_flops(model, 10) == 6 * count * 10
    assert threads.model_flops(model, 10, backward=False) == 2 * count * 10


def test_the_monitor_sees_a_core_kept_busy_by_another_process():
    monitor = threads.CoreMonitor()
    if monitor.last is None:
        pytest.skip("no /proc/stat on this system")
    busy = subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 3\nwhile time.time() < end: pass"])
    try:
        time.sleep(threads.RESAMPLE_SECONDS + 0.3)
        monitor.free_cores()
    finally:
        busy.kill()
        busy.wait()
    assert monitor.other_busy >= 0.6  # the busy child alone is ~1 core; other load only adds to it


PROBE = """
import numpy as np, tinytorch
from tinytorch import GPT, Adam, CrossEntropyLoss, Trainer
from tinytorch.generation import generate
from threadpoolctl import threadpool_info
blas = lambda: [i for i in threadpool_info() if i["user_api"] == "blas"][0]["num_threads"]
before, seen = blas(), []
class ProbedGPT(GPT):
    def forward(self, *args, **kwargs):
        seen.append(blas())
        return super().forward(*args, **kwargs)
model = ProbedGPT(11, 16, 1, 2, 8)
ids = np.zeros((2, 9), dtype=np.int64)
trainer = Trainer(model, Adam(model.parameters()), CrossEntropyLoss())
trainer.train_step(ids[:, :-1], ids[:, 1:])
trainer.eval_step(ids[:, :-1], ids[:, 1:])
generate(model, ids[0, :3], 1)
print(before, *seen, blas())
"""


def run_probe(**env_vars) -> list[int]:
    """In a fresh interpreter with only `env_vars` of the thread variables: BLAS threads before, during a
    train step, an eval step and a generation, and after."""
    env = {k: v for k, v in os.environ.items() if k not in threads.ENV_VARS}
    env.update(env_vars, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return [int(n) for n in done.stdout.split()]


def test_by_default_small_steps_run_on_one_thread_and_numpy_keeps_its_setting():
    before, train, evaluate, generation, after = run_probe()
    if before < 2:
        pytest.skip("BLAS starts with one thread on this machine: nothing to choose")
    assert (train, evaluate, generation) == (1, 1, 1)
    assert after == before  # numpy code outside tinytorch runs as the environment says


def test_an_environment_variable_wins():
    if (os.cpu_count() or 1) < 2:
        pytest.skip("OpenBLAS caps its threads at the core count: one core cannot show the difference")
    assert run_probe(OPENBLAS_NUM_THREADS="2") == [2, 2, 2, 2, 2]  # tinytorch alone would use 1 for this step


def test_num_threads_pins_for_a_block_then_restores_the_previous_choice(default_choice):
    threads.set_num_threads(2)
    with threads.num_threads(3):
        assert blas_threads_now() == 3 and tinytorch.get_num_threads() == 3
    assert blas_threads_now() == 2 and default_choice.requested == 2
    with pytest.raises(ValueError, match="got 0"), threads.num_threads(0):
        pass
    assert blas_threads_now() == 2
