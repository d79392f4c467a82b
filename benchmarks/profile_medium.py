"""Per-op time of one training step, ours and PyTorch's: the medium step (4 layers, 128 dim, batch 16 x
128) by default, or the plan's tiny memorization step (`--workload tiny`).

Ours: cProfile over several steps, grouped by autograd Function (forward and backward apart) plus the
optimizer and clipping (the profiler's cost per Python call inflates the tiny step about threefold, most
where the calls are: read the order, not the sizes); torch's: torch.profiler's self CPU time per
operator. Both at 1 thread.
Run from the repository root: python benchmarks/profile_medium.py [--workload tiny] [--steps N] [--no-torch] [--top K]
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench.common import machine_notes, thread_limit, torch_or_none  # noqa: E402
from tinytorch.bench.workloads import MEDIUM, TINY, torch_step, tinytorch_step  # noqa: E402
from tinytorch.runtime.allocator import keep_freed_memory  # noqa: E402
from tinytorch.core.autograd import Function  # noqa: E402


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _function_methods() -> dict:
    """(file, first line, name) of every Function subclass's forward/backward -> 'Class.method'."""
    names = {}
    for cls in _subclasses(Function):
        for method in ("forward", "backward"):
            code = getattr(cls.__dict__.get(method), "__code__", None)
            if code is not None:
                names[(code.co_filename, code.co_firstlineno, code.co_name)] = f"{cls.__name__}.{method}"
    return names


def ours(work, steps: int, cpu_time: bool = False) -> tuple[dict, float]:
    """{op: total seconds per step} from cProfile's cumulative time, and the profiled step's seconds.

    `cpu_time` times with this thread's CPU clock: steadier than wall time on a busy machine."""
    step = tinytorch_step(work)
    for _ in range(3):
        step()
    profiler = cProfile.Profile(time.thread_time) if cpu_time else cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # key -> (calls, ncalls, tottime, cumtime, callers)
    names = _function_methods()
    per_op = defaultdict(float)
    total = 0.0
    for key, (_, _, _, cumtime, _) in stats.items():
        if key in names:
            per_op[names[key]] += cumtime / steps
        elif key[2] in ("step", "_optimizer_step") and key[0].endswith(("optimizers.py", "trainer.py")):
            per_op[f"{os.path.basename(key[0])}:{key[2]}"] += cumtime / steps
        if key[2] == "<lambda>" and key[0].endswith("workloads.py"):
            total += cumtime / steps
    return dict(per_op), total


def theirs(work, steps: int) -> tuple[dict, float]:
    """{torch operator: self CPU seconds per step} from torch.profiler, and the step's seconds."""
    import torch.profiler

    step = torch_step(work)
    for _ in range(3):
        step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    per_op = {e.key: e.self_cpu_time_total / 1e6 / steps for e in prof.key_averages()}
    return per_op, sum(per_op.values())


def _print(title: str, per_op: dict, total: float, top: int) -> None:
    print(f"\n{title}: {total * 1e3:.1f} ms per profiled step")
    for name, seconds in sorted(per_op.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {seconds * 1e3:8.2f} ms  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("medium", "tiny"), default="medium")
    parser.add_argument("--steps", type=int, default=None, help="profiled steps after 3 warm-up steps "
                        "(default 5 medium, 500 tiny)")
    parser.add_argument("--top", type=int, default=25, help="rows to print per side")
    parser.add_argument("--no-torch", action="store_true", help="skip torch's profile")
    parser.add_argument("--cpu-time", action="store_true", help="time ours by this thread's CPU clock, not wall time")
    args = parser.parse_args()
    for line in machine_notes():
        print(line)
    work = TINY if args.workload == "tiny" else MEDIUM
    steps = args.steps or (500 if work is TINY else 5)
    print(f"\n{work.name} step: {work.describe()}")
    with thread_limit(1):
        per_op, total = ours(work, steps, args.cpu_time)
        clock = "thread CPU time" if args.cpu_time else "wall time"
        _print(f"tinytorch (cProfile cumulative {clock} per Function method; includes profiler overhead)",
               per_op, total, args.top)
        if not args.no_torch and torch_or_none() is not None:
            per_op, total = theirs(work, steps)
            _print("torch eager (torch.profiler self CPU time per operator)", per_op, total, args.top)
    return 0


if __name__ == "__main__":
    keep_freed_memory()  # this script owns its process (tinytorch/core/allocator.py)
    sys.exit(main())
