"""numpy's BLAS threads for tinytorch's own work: chosen by tinytorch, as PyTorch chooses its own, unless you choose.

Why tinytorch decides. OpenBLAS starts one thread per core and, on a machine where another process
holds a core, its threads wait on each other: a tiny training run takes 2x (one busy core) to 7x (a
loaded machine) longer with two threads than with one (BENCHMARKS.md, "Threads"). Users do not read
the paragraph that warns about it, so, like PyTorch, tinytorch owns the choice: one thread for small
work (below `PARALLEL_FLOPS`, where a second thread gains little even on an idle machine and loses
badly the moment another process wakes), more for larger work (two, or one per `FLOPS_PER_THREAD`)
and only as many as there are cores that other processes leave free (measured from /proc/stat,
minus this process's own CPU time).

Where it applies, and why not process-wide. A library must not change process-wide state behind
the user's back, so the choice is scoped: `blas_threads(flops)` wraps tinytorch's heavy work, sets the
chosen count on entry and puts the user's setting back on exit. tinytorch opens such a scope for a
training, evaluation or generation step, and in a loop of your own for each outermost module call
(`model(x)`: `forward_threads`), each `loss.backward()` (`backward_threads`, sized by the last forward)
and each `optimizer.step()` (`step_threads`); a scope opened inside another one changes nothing (one
counter compare), so a module called by a module, or a step inside `Trainer`, costs no more. The thread
library is found once and cached; each scope costs one read and, only when the count differs, two
writes of well under a microsecond each. numpy code of your own, outside those calls, runs exactly
as your environment says.

Your choice wins, in this order: `tinytorch.set_num_threads(n)` sets BLAS to `n` for the whole
process, as `torch.set_num_threads` does (`--threads N` does so for one command); otherwise an
`OPENBLAS_NUM_THREADS`, `OMP_NUM_THREADS` or `MKL_NUM_THREADS` in the environment, or a limit you
set with threadpoolctl, is left alone. Results are bit-for-bit reproducible for a given thread
count (BLAS sums in a different order with more threads, as in PyTorch): small work always runs on
one thread; to reproduce a large run exactly elsewhere, pin the count.
"""

from __future__ import annotations

import contextlib
import os
import time
import weakref

import numpy as np

ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# Floating-point operations per call (6 x parameters x tokens for a training step) from which a second
# thread is used when a core is free. Measured on an idle 2-core machine (BENCHMARKS.md, "Threads"):
# two threads ran the small step (0.7 GFLOP) 1.31x and the medium one (10 GFLOP) 1.29x faster, but
# the tiny one (0.12 GFLOP) only 1.14x, too little to risk 6-20x when another process wakes up.
PARALLEL_FLOPS = 0.5e9
FLOPS_PER_THREAD = 2e9  # beyond two threads (on bigger machines): one more per this much work
RESAMPLE_SECONDS = 1.0  # how often the load of other processes is measured again
FREE_CORE_SLACK = 0.25  # a core counts as free when other processes use less than this share of it
STEP_FLOPS_PER_PARAMETER = 12  # an optimizer step: a dozen element-wise operations per weight (AdamW)


def _env_threads() -> int | None:
    """The thread count an environment variable fixes for numpy's BLAS, if any."""
    for name in ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class CoreMonitor:
    """Cores left free by other processes: all CPUs' busy time from /proc/stat minus this process's own."""

    def __init__(self):
        self.cores, self.all_cores = _usable_cores(), os.cpu_count() or 1
        self.last = self._sample()
        self.other_busy: float | None = None  # cores other processes kept busy over the last interval
        self.free = 0  # cores free for this process (0 until a first interval is measured)

    @staticmethod
    def _sample() -> tuple | None:
        """(monotonic seconds, busy CPU-seconds of the whole machine, CPU-seconds of this process)."""
        try:
            with open("/proc/stat") as f:
                ticks = [int(x) for x in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
        except (OSError, ValueError):
            return None
        own = os.times()
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
        return time.monotonic(), busy, own.user + own.system

    def _update(self) -> None:
        if self.last is None:  # no /proc/stat: the load average, less this process
            self.other_busy = max(0.0, os.getloadavg()[0] - 1.0)
        else:
            elapsed = time.monotonic() - self.last[0]
            if elapsed < RESAMPLE_SECONDS and (self.other_busy is not None or elapsed < 0.1):
                return  # measured recently enough (or too short an interval to measure yet)
            now = self._sample()
            others = (now[1] - self.last[1]) - (now[2] - self.last[2])
            self.other_busy, self.last = max(0.0, others / (now[0] - self.last[0])), now
        self.free = int(min(self.cores, self.all_cores - self.other_busy) + FREE_CORE_SLACK)

    def free_cores(self) -> int:
        """Cores this process may use without waiting on another process (0 until a first interval is measured)."""
        self._update()
        return self.free


class Blas:
    """numpy's BLAS libraries as threadpoolctl finds them (found once: reading or setting then costs < 1 us)."""

    def __init__(self):
        self.libs: list = []
        self.initial: int | None = None
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # without threadpoolctl tinytorch leaves the threads alone
            return
        self.libs = ThreadpoolController().select(user_api="blas").lib_controllers
        self._get, self._set = self._direct_calls()
        self.initial = self.get()  # the count before anyone set one: the library's own default

    def _direct_calls(self) -> tuple:
        """OpenBLAS's own get/set functions, looked up once: a tinytorch call reads the count and may set it
        twice, and threadpoolctl looks the symbol up again at every call (1-3 us against 0.3-0.5 us)."""
        lib = self.libs[0] if len(self.libs) == 1 else None
        lookup = getattr(lib, "_get_symbol", None)
        if lookup is None or lib.internal_api != "openblas" or getattr(lib, "threading_layer", "") == "openmp":
            return None, None  # several libraries, another BLAS, or OpenMP's per-thread counts: threadpoolctl's way
        try:
            return lookup("openblas_get_num_threads"), lookup("openblas_set_num_threads")
        except (AttributeError, OSError):  # pragma: no cover - a threadpoolctl or OpenBLAS without them
            return None, None

    def get(self) -> int | None:
        if self._get is not None:
            return self._get()
        return self.libs[0].get_num_threads() if self.libs else None

    def set(self, threads: int) -> None:
        if self._set is not None:
            self._set(threads)
            return
        for lib in self.libs:
            lib.set_num_threads(threads)


class ThreadPolicy:
    """The process's thread choice: the user's request, else the environment, else a count per call."""

    def __init__(self):
        self.blas = Blas()
        self.env = _env_threads()
        self.requested: int | None = None
        self.in_use: int | None = self.blas.get()  # BLAS threads during the last tinytorch call

        self.monitor = _monitor

    def user_choice(self, current: int | None) -> int | None:
        """The count the user fixed (set_num_threads, the environment, threadpoolctl), or None if tinytorch chooses."""
        if self.requested is not None:
            return self.requested
        if self.env is not None or current != self.blas.initial:
            return current
        return None

    def for_work(self, flops: float) -> int:
        """Threads for one call doing `flops` floating-point operations, when the user has not chosen."""
        if flops < PARALLEL_FLOPS:
            return 1
        wanted = max(2.0, flops / FLOPS_PER_THREAD)
        return max(1, int(min(wanted, self.monitor.free_cores())))


# Started at import (one read of /proc/stat, nothing changed), so that by the first large step there is
# already an interval to judge the other processes' load by; until then large work runs on one thread.
_monitor = CoreMonitor()
_policy: ThreadPolicy | None = None


def policy() -> ThreadPolicy:
    """The process's one ThreadPolicy, made on first use (after numpy has loaded its BLAS)."""
    global _policy
    if _policy is None:
        _policy = ThreadPolicy()
    return _policy


_open_scopes = 0  # blas_threads scopes open now: only the outermost one chooses
_last_forward_flops: float | None = None  # the last outermost module call's work (sizes the backward after it)


def in_tinytorch_work() -> bool:
    """Whether a blas_threads scope is open (then a module called inside it needs no scope of its own)."""
    return _open_scopes > 0


class blas_threads:
    """`with blas_threads(flops):` runs the block on the BLAS threads chosen for that much work, then restores.

    Inside another such scope it changes nothing: the outermost one chose for the whole block."""

    __slots__ = ("flops", "previous")

    def __init__(self, flops: float):
        self.flops = flops
        self.previous = None

    def __enter__(self):
        global _open_scopes
        _open_scopes += 1
        if _open_scopes > 1:
            return self
        p = policy()
        if not p.blas.libs:
            return self
        current = p.blas.get()
        chosen = current if p.user_choice(current) is not None else p.for_work(self.flops)
        if chosen != current:
            p.blas.set(chosen)
            self.previous = current
            current = p.blas.get()
        p.in_use = current
        return self

    def __exit__(self, *exc):
        global _open_scopes
        _open_scopes -= 1
        if self.previous is not None:
            policy().blas.set(self.previous)
            self.previous = None
        return False


_param_counts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def model_flops(model, tokens: int, backward: bool = True) -> float:
    """Approximate floating-point operations of a step over `tokens` tokens: 6 per parameter and token with
    the backward pass, 2 without (the usual estimate; attention's own products are left out)."""
    return (6.0 if backward else 2.0) * _parameter_count(model) * tokens


def _parameter_count(model) -> int:
    """Elements in `model.parameters()`, counted once per model (0 for a callable without parameters)."""
    try:
        return _param_counts[model]
    except (KeyError, TypeError):  # not counted yet, or a model that cannot be weakly referenced
        pass
    count = sum(int(np.size(p.data)) for p in getattr(model, "parameters", tuple)())
    try:
        _param_counts[model] = count
    except TypeError:
        pass
    return count


def _rows(inputs) -> int:
    """Positions a model's weights apply to in one call: every id of an integer batch (B, T), every row
    (all but the last axis) of a float one (..., features)."""
    data = inputs if isinstance(inputs, np.ndarray) else getattr(inputs, "data", inputs)  # a Tensor's array
    if isinstance(data, np.ndarray):
        if data.ndim >= 2 and data.dtype.kind in "fc":
            return data.size // max(1, data.shape[-1])
        return data.size
    try:
        return int(np.size(data))
    except (TypeError, ValueError):  # an input numpy cannot size: count it as one position
        return 1


def model_threads(model, inputs, backward: bool = True) -> blas_threads:
    """The `blas_threads` scope for one step of `model` on the batch `inputs` (ids (B, T), or rows of features)."""
    return blas_threads(model_flops(model, _rows(inputs), backward))


def forward_threads(model, inputs) -> blas_threads:
    """The scope of an outermost module call `model(inputs)` in a loop of your own; the backward that
    follows it is sized from it (twice a forward's work)."""
    global _last_forward_flops
    _last_forward_flops = model_flops(model, _rows(inputs), backward=False)
    return blas_threads(_last_forward_flops)


def backward_threads() -> blas_threads | contextlib.nullcontext:
    """The scope of `loss.backward()`: sized by the last module call, or none (your setting) without one."""
    if _last_forward_flops is None:
        return contextlib.nullcontext()
    return blas_threads(2.0 * _last_forward_flops)


def step_threads(parameters: int) -> blas_threads:
    """The scope of an optimizer step over `parameters` weights (element-wise work: one thread but for huge models)."""
    return blas_threads(STEP_FLOPS_PER_PARAMETER * parameters)


def set_num_threads(threads: int | None) -> None:
    """Run numpy's BLAS on `threads` threads from now on, in the whole process (like torch.set_num_threads).

    `None` hands the choice back to tinytorch and restores BLAS's own default count."""
    p = policy()
    if threads is None:
        p.requested = None
        if p.blas.libs:
            p.blas.set(p.blas.initial)
        return
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"set_num_threads: threads must be an int >= 1 or None, got {threads!r}")
    if threads < 1:
        raise ValueError(f"set_num_threads: threads must be >= 1, got {threads}")
    p.requested = threads
    p.blas.set(threads)
    p.in_use = threads


@contextlib.contextmanager
def num_threads(threads: int | None):
    """`set_num_threads(threads)` for the block, then the previous setting again (None: leave as is)."""
    if threads is None:
        yield
        return
    previous = policy().requested
    set_num_threads(threads)
    try:
        yield
    finally:
        set_num_threads(previous)


def get_num_threads() -> int:
    """Threads tinytorch's large work runs on now: your setting if you made one, else the cores other
    processes leave free (small work always runs on one)."""
    p = policy()
    chosen = p.user_choice(p.blas.get())
    if chosen is not None:
        return chosen
    return max(1, p.monitor.free_cores()) if p.blas.libs else 1


def threads_in_use() -> int | None:
    """BLAS threads (as threadpoolctl reported them) during tinytorch's last step; None without threadpoolctl."""
    return policy().in_use
