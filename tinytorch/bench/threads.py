"""Wall time of `tinytorch train`, and of a plain training loop a user writes, with tinytorch's own thread
choice against pinned 1 and 2 threads, quiet and with one core kept busy (benchmarks/bench_threads.py)."""

# Each run is a fresh `tinytorch train` process, as a user starts it: the default run has no thread
# variable in its environment, the pinned ones add `--threads N`. Settings alternate within every
# repeat, so a burst of load from elsewhere hits all of them; medians are printed with their ratio.

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from contextlib import contextmanager

from ..runtime.threads import ENV_VARS, CoreMonitor
from .common import median

TEXT_BYTES = 150_000
SETTINGS = {"default": [], "1 thread": ["--threads", "1"], "2 threads": ["--threads", "2"]}
# The child prints the BLAS threads its last training step ran on, as threadpoolctl read them.
CHILD = ("import sys\nfrom tinytorch.cli import main\ncode = main(sys.argv[1:])\n"
         "from tinytorch.core.threads import threads_in_use\nprint('threads in use:', threads_in_use())\n"
         "sys.exit(code)\n")
BUSY_LOOP = "while True:\n    pass\n"
# A user's own loop (no Trainer): forward, cross-entropy, backward, AdamW step, on a preset's model shape.
# argv: preset name, steps, pinned threads (0: none). Pinned runs set the count as a user would, with
# tinytorch.set_num_threads; the default run leaves the choice to tinytorch.
LOOP_CHILD = """
import sys, numpy as np, tinytorch
from tinytorch import GPT, AdamW
from tinytorch.nn import functional as F
from tinytorch.cli.train_settings import PRESETS
from tinytorch.core.threads import threads_in_use
preset, steps, pinned = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if pinned:
    tinytorch.set_num_threads(pinned)
tinytorch.manual_seed(0)
cfg, train = PRESETS[preset].model, PRESETS[preset].train
model = GPT(65, cfg.n_embd, cfg.n_layer, cfg.n_head, cfg.block_size)
optimizer = AdamW(model.parameters(), lr=1e-3)
rng = np.random.default_rng(0)
for _ in range(steps):
    ids = rng.integers(0, 65, (train.batch_size, cfg.block_size + 1))
    logits = model(ids[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, 65), ids[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print('threads in use:', threads_in_use())
"""


def write_text(folder: str, size: int = TEXT_BYTES) -> str:
    """About `size` bytes of Python code (the bundled snippets, repeated) as a training text; returns its path."""
    from ..text.corpus import SNIPPETS

    chunk = "\n\n".join(SNIPPETS) + "\n\n"
    path = os.path.join(folder, "code.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write((chunk * (size // len(chunk) + 1))[:size])
    return path


@contextmanager
def busy_core(active: bool):
    """With `active`, a child process spinning on one core for the duration of the block."""
    child = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if active else None
    try:
        yield
    finally:
        if child is not None:
            child.kill()
            child.wait()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def train_once(data: str, folder: str, size: str, steps: int, extra: list, loop: bool = False
               ) -> tuple[float, float, str, float]:
    """(wall seconds, CPU seconds, threads in use, cores other processes kept busy meanwhile) of one
    `tinytorch train` process, or with `loop` of one plain training loop (LOOP_CHILD)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    out = os.path.join(folder, f"run-{time.monotonic_ns()}.safetensors")
    if loop:
        cmd = [sys.executable, "-c", LOOP_CHILD, size, str(steps), extra[1] if extra else "0"]
    else:
        cmd = [sys.executable, "-c", CHILD, "train", "--data", data, "--size", size, "--steps", str(steps),
               "--out", out, "--no-progress", *extra]
    before, child_before = CoreMonitor._sample(), _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    after, child = CoreMonitor._sample(), _children_cpu() - child_before
    others = ((after[1] - before[1]) - (after[2] - before[2]) - child) / seconds if before and after else float("nan")
    if done.returncode != 0:
        raise RuntimeError(f"bench threads: {' '.join(cmd[3:])} failed: {done.stderr.strip()[-500:]}")
    used = [line.split(":", 1)[1].strip() for line in done.stdout.splitlines() if line.startswith("threads in use:")]
    return seconds, child, (used[-1] if used else "?"), max(0.0, others)


def compare(size: str, steps: int, repeats: int, busy: bool, out=print, loop: bool = False) -> dict:
    """Median wall seconds per setting, and default / best pinned, for one size with or without a busy core
    (`loop`: a plain training loop of the size's model instead of `tinytorch train`)."""
    with tempfile.TemporaryDirectory() as folder, busy_core(busy):
        data = write_text(folder)
        samples = {name: [] for name in SETTINGS}
        used, cpu, others = {}, {name: [] for name in SETTINGS}, {name: [] for name in SETTINGS}
        for _ in range(repeats):
            for name, extra in SETTINGS.items():
                seconds, cpu_seconds, used[name], busy_cores = train_once(data, folder, size, steps, extra, loop)
                samples[name].append(seconds)
                cpu[name].append(cpu_seconds)
                others[name].append(busy_cores)
    medians = {name: median(values) for name, values in samples.items()}
    best = min(medians["1 thread"], medians["2 threads"])
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    where = "one core kept busy by another process" if busy else "no extra load"
    what = (f"a plain loop (forward, backward, AdamW step) of the {size} size, {steps} steps" if loop else
            f"tinytorch train --size {size} --steps {steps} on a {TEXT_BYTES // 1000} KB text")
    out(f"{what}, {where} (median of {repeats}; load average after: {load})")
    for name, seconds in medians.items():
        runs = ", ".join(f"{s:.1f}" for s in samples[name])
        load = ", ".join(f"{c:.1f}" for c in others[name])
        out(f"  {name:9s}: {seconds:6.1f} s  (runs {runs}; CPU {median(cpu[name]):.1f} s; other processes busy "
            f"on {load} cores; BLAS threads in use at the last step: {used[name]})")
    out(f"  default / best pinned: {medians['default'] / best:.2f}")
    return {"medians": medians, "samples": samples, "ratio": medians["default"] / best}


def quiet_step_ms(seconds: float, quiet_below: float = 0.15, out=print) -> dict:
    """Training-step time of the CLI's tiny, small and medium sizes at 1 and 2 threads, in alternation for
    `seconds`, keeping only the samples during which other processes used less than `quiet_below` cores:
    what an idle machine would show, measured on a shared one."""
    from ..cli.train_settings import PRESETS
    from ..runtime.threads import num_threads
    from ..experiments.recipes import PLAN_TRAIN
    from .workloads import Workload, tinytorch_step

    steps, calls = {}, {"tiny": 30, "small": 8, "medium": 2}  # about 0.1-0.4 s per sample
    for name in calls:
        model, train = PRESETS[name].model, PRESETS[name].train
        work = Workload(name, replace(model, vocab_size=65), replace(PLAN_TRAIN, batch_size=train.batch_size))
        steps[name] = tinytorch_step(work)
        steps[name]()
    samples = {(name, t): [] for name in calls for t in (1, 2)}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for (name, threads), kept in samples.items():
            with num_threads(threads):
                before, start = CoreMonitor._sample(), time.perf_counter()
                for _ in range(calls[name]):
                    steps[name]()
                elapsed, after = time.perf_counter() - start, CoreMonitor._sample()
            others = ((after[1] - before[1]) - (after[2] - before[2])) / (after[0] - before[0])
            if others < quiet_below:
                kept.append(elapsed / calls[name] * 1e3)
    out(f"training step of the CLI sizes (char vocabulary 65), samples with other processes below "
        f"{quiet_below} cores, over {seconds:.0f} s:")
    for name in calls:
        one, two = samples[(name, 1)], samples[(name, 2)]
        if one and two:
            out(f"  {name:6s}: 1 thread {median(one):8.2f} ms ({len(one)} samples), 2 threads {median(two):8.2f} ms "
                f"({len(two)} samples): 2 threads {median(one) / median(two):.2f}x as fast")
        else:
            out(f"  {name:6s}: too few quiet samples (1 thread {len(one)}, 2 threads {len(two)})")
    return samples
