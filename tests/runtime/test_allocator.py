"""glibc's malloc settings are the program's choice: the library leaves them alone, the CLI sets them.

Observed from outside, in a fresh process: with glibc's defaults a 16 MiB malloc is served by mmap
(mallinfo2().hblks grows); after `keep_freed_memory()` it comes from the heap (32 MiB threshold).
"""

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc"
                                or tuple(map(int, platform.libc_ver()[1].split(".")[:2])) < (2, 33),
                                reason="needs glibc >= 2.33 (mallinfo2)")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROBE = """
import ctypes
libc = ctypes.CDLL(None)
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]

def big_malloc_is_mmapped():
    before = libc.mallinfo2().hblks
    block = libc.malloc(16 << 20)
    mapped = libc.mallinfo2().hblks > before
    libc.free(block)
    return mapped
"""

TRAIN = """
import numpy as np
import tinytorch
from tinytorch.nn.losses import CrossEntropyLoss
from tinytorch.optim.optimizers import Adam
from tinytorch.training.trainer import Trainer
from tinytorch.nn.transformer import GPT
tinytorch.manual_seed(0)
model = GPT(11, 16, 1, 2, 16)
trainer = Trainer(model, Adam(model.parameters(), lr=1e-2), CrossEntropyLoss(), grad_clip_norm=1.0)
ids = np.random.default_rng(0).integers(0, 11, (2, 9))
for _ in range(3):
    trainer.train_step(ids[:, :-1], ids[:, 1:])
"""


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE + code], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_training_with_the_library_keeps_glibc_defaults():
    assert _run(TRAIN + "print(big_malloc_is_mmapped())") == "True"


def test_keep_freed_memory_serves_big_arrays_from_the_heap():
    code = "from tinytorch.core.allocator import keep_freed_memory\nprint(keep_freed_memory(), big_malloc_is_mmapped())"
    assert _run(code) == "True False"


def test_the_cli_applies_it_at_start():
    code = ("from tinytorch.cli import main\nbefore = big_malloc_is_mmapped()\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\nprint(before, big_malloc_is_mmapped())")
    assert _run(code) == "True False"
